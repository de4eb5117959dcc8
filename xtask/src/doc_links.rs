//! Checks that the commands and files the Markdown docs mention still exist.
//!
//! The check reads `README.md` and every `docs/*.md` page and collects three kinds of
//! references from inline code spans and fenced code blocks:
//!
//! - repository paths such as `docs/adding-a-backend.md` or `crates/cli/configs/`, which
//!   must exist relative to the workspace root;
//! - `cargo xtask SUBCOMMAND`, whose subcommand must be one xtask defines;
//! - `median SUBCOMMAND`, whose subcommand must appear in `median --help`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, bail};

/// The xtask subcommands, kept in step with `Task` in `main.rs` by a unit test.
pub const XTASK_COMMANDS: &[&str] = &["bench", "docs", "stat-test"];

/// Top-level folders whose paths the docs may mention.
const PATH_ROOTS: &[&str] = &[
    "crates/", "docs/", "data/", "benches/", "xtask/", ".ci/", "results/",
];

/// Returns the references in `text` that no longer resolve, as human-readable lines.
///
/// `median_commands` lists the subcommands of the `median` binary; `None` skips that check.
pub fn stale_references(
    root: &Path,
    page: &str,
    text: &str,
    median_commands: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut stale = Vec::new();
    for span in code_spans(text) {
        for token in span.split_whitespace() {
            let token = token.trim_matches(|c: char| "`'\",;:()".contains(c));
            if is_repository_path(token) && !root.join(token).exists() {
                stale.push(format!("{page}: path `{token}` does not exist"));
            }
        }
        check_command(
            &span,
            "cargo xtask ",
            XTASK_COMMANDS.iter().copied(),
            page,
            &mut stale,
        );
        if let Some(commands) = median_commands {
            check_command(
                &span,
                "median ",
                commands.iter().map(String::as_str),
                page,
                &mut stale,
            );
        }
    }
    stale
}

/// Records `prefix WORD` occurrences in `span` whose WORD is not among `known`.
fn check_command<'a>(
    span: &str,
    prefix: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    page: &str,
    stale: &mut Vec<String>,
) {
    let mut rest = span;
    while let Some(at) = rest.find(prefix) {
        // Only a command at the start of a line or span, or after a space or `--`.
        let before = &rest[..at];
        let starts_word = before.is_empty() || before.ends_with([' ', '\n', '`', '$']);
        rest = &rest[at + prefix.len()..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !starts_word || word.is_empty() || word.starts_with('-') {
            continue;
        }
        if !known.clone().any(|k| k == word) {
            stale.push(format!("{page}: `{}{word}` is not a known command", prefix));
        }
    }
}

/// Returns true for a token that names a file or folder in the repository.
fn is_repository_path(token: &str) -> bool {
    PATH_ROOTS.iter().any(|root| token.starts_with(root))
        && !token.contains('*')
        && !token.contains('<')
        && !token.contains("**")
        && !token.starts_with("results/")
}

/// Returns the contents of inline code spans and fenced code blocks.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut in_fence = false;
    let mut fence = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_fence {
                spans.push(std::mem::take(&mut fence));
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            fence.push_str(line);
            fence.push('\n');
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let Some(code) = parts.next() {
            spans.push(code.to_owned());
            parts.next();
        }
    }
    spans
}

/// Checks `README.md` and `docs/*.md`, failing with every stale reference listed.
pub fn check(root: &Path, median_commands: Option<&BTreeSet<String>>) -> anyhow::Result<()> {
    let mut pages = vec![root.join("README.md")];
    let docs = root.join("docs");
    for entry in
        std::fs::read_dir(&docs).with_context(|| format!("failed to read {}", docs.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();

    let mut stale = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page)
            .with_context(|| format!("failed to read {}", page.display()))?;
        let name = page
            .strip_prefix(root)
            .unwrap_or(page)
            .display()
            .to_string();
        stale.extend(stale_references(root, &name, &text, median_commands));
    }
    if !stale.is_empty() {
        bail!(
            "the docs mention commands or files that do not exist:\n  {}",
            stale.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_is_reported() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let text = "See `docs/adding-a-backend.md` and `docs/no-such-page.md`.";
        let stale = stale_references(root, "page", text, None);
        assert_eq!(
            stale,
            vec!["page: path `docs/no-such-page.md` does not exist"]
        );
    }

    #[test]
    fn unknown_xtask_command_is_reported() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let text = "```sh\ncargo xtask bench -- --quick\ncargo xtask deploy\n```\n";
        let stale = stale_references(root, "page", text, None);
        assert_eq!(
            stale,
            vec!["page: `cargo xtask deploy` is not a known command"]
        );
    }

    #[test]
    fn unknown_median_command_is_reported() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let known: BTreeSet<String> = ["repro".to_owned()].into();
        let text = "Run `median repro --quick`, then `median plot`.";
        let stale = stale_references(root, "page", text, Some(&known));
        assert_eq!(stale, vec!["page: `median plot` is not a known command"]);
    }

    #[test]
    fn xtask_commands_match_the_parser() {
        use clap::CommandFactory;
        let parsed: Vec<String> = crate::Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        assert_eq!(parsed, XTASK_COMMANDS);
    }
}
