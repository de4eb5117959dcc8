//! The robustness table of the aggregation rules: written to `docs/robustness.md`.

use std::path::{Path, PathBuf};

/// Writes the robustness table into `docs_dir` and returns the file's path.
pub fn generate(docs_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = docs_dir.join("robustness.md");
    // TODO: generate the table from every rule, attack and admissible f.
    std::fs::write(&path, "# Robustness of the aggregation rules\n")?;
    Ok(path)
}
