//! Tests of configuration parsing and its error messages.

use std::path::Path;

use median_cli::CliError;
use median_cli::config::{Kind, parse};
use median_cli::suite;

const VALID: &str = r#"
name = "tiny"
kind = "online"
seeds = [1, 2]
iterations = 10

[online]
dim = 3
estimators = ["ema", "geometric"]

[[online.noise]]
law = "cauchy"
"#;

fn config_error(text: &str) -> (Option<usize>, String) {
    match parse(text, Path::new("exp.toml")) {
        Err(CliError::Config { path, line, reason }) => {
            assert_eq!(path, Path::new("exp.toml"));
            (line, reason)
        }
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("expected an error for {text}"),
    }
}

#[test]
fn config_valid_file_parses_with_defaults() {
    let config = parse(VALID, Path::new("exp.toml")).unwrap();
    assert_eq!(config.kind, Kind::Online);
    assert_eq!(config.record_every, 1);
    let online = config.online.unwrap();
    assert_eq!(online.scale, 1.0);
    assert_eq!(online.schedule.get_ref(), "inverse-sqrt");
    assert!(!online.averaging);
}

#[test]
fn config_wrong_type_names_line_and_field() {
    let text = VALID.replace("iterations = 10", "iterations = \"ten\"");
    let (line, reason) = config_error(&text);
    assert_eq!(line, Some(5));
    assert!(reason.contains("invalid type"), "{reason}");
    let message = CliError::Config {
        path: "exp.toml".into(),
        line,
        reason,
    }
    .to_string();
    assert!(message.contains("exp.toml, line 5"), "{message}");
}

#[test]
fn config_unknown_field_lists_allowed_fields() {
    let text = VALID.replace("dim = 3", "dim = 3\ndimension = 4");
    let (line, reason) = config_error(&text);
    assert_eq!(line, Some(9));
    assert!(reason.contains("dimension"), "{reason}");
    assert!(reason.contains("estimators"), "{reason}");
}

#[test]
fn config_malformed_toml_names_line() {
    let text = VALID.replace("seeds = [1, 2]", "seeds = [1, 2");
    let (line, _) = config_error(&text);
    assert!(matches!(line, Some(4) | Some(5)), "{line:?}");
}

#[test]
fn config_unknown_rule_lists_known_rules() {
    let text = r#"
name = "byz"
kind = "byzantine"
seeds = [0]
iterations = 5

[byzantine]
datasets = ["breast_cancer"]
workers = 5
fractions = [0.0]
attacks = ["sign-flip"]
rules = ["mean", "kurm"]
step_size = 0.1
"#;
    let (line, reason) = config_error(text);
    assert_eq!(line, Some(12));
    assert!(reason.contains("\"kurm\""), "{reason}");
    for known in ["krum", "coordinate-median", "geometric-median", "bulyan"] {
        assert!(reason.contains(known), "{reason}");
    }
}

#[test]
fn config_unknown_estimator_and_missing_section_are_errors() {
    let text = VALID.replace("\"geometric\"", "\"geometrik\"");
    let (line, reason) = config_error(&text);
    assert_eq!(line, Some(9));
    assert!(reason.contains("running-mean"), "{reason}");

    let without_section = VALID.split("[online]").next().unwrap().to_string();
    let (_, reason) = config_error(&without_section);
    assert!(reason.contains("[online]"), "{reason}");

    let no_seeds = VALID.replace("seeds = [1, 2]", "seeds = []");
    assert!(config_error(&no_seeds).1.contains("seeds"));
}

#[test]
fn config_built_in_suite_parses() {
    let full = suite::built_in(false, 0).unwrap();
    assert_eq!(full.len(), 4);
    let quick = suite::built_in(true, 100).unwrap();
    assert!(
        quick
            .iter()
            .all(|c| c.seeds.len() <= 3 && c.name.ends_with("_quick"))
    );
    assert_eq!(quick[0].seeds[0], full[0].seeds[0] + 100);
}

#[test]
fn config_name_must_be_a_file_stem() {
    for bad in ["../../escape", "", "x/y", ".hidden"] {
        let text = VALID.replace("name = \"tiny\"", &format!("name = {bad:?}"));
        let (_, reason) = config_error(&text);
        assert!(reason.contains("field `name`"), "{bad:?}: {reason}");
    }
}
