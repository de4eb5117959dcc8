//! The built-in experiment suite: the configurations under `configs/`, compiled in, and
//! the reduced `--quick` variants.

use std::path::Path;

use crate::CliError;
use crate::config::{self, ExperimentConfig};

/// The built-in configurations: file name and TOML text.
pub const BUILT_IN: [(&str, &str); 4] = [
    (
        "configs/p1_online.toml",
        include_str!("../configs/p1_online.toml"),
    ),
    (
        "configs/p2_sgd.toml",
        include_str!("../configs/p2_sgd.toml"),
    ),
    (
        "configs/p4_byzantine.toml",
        include_str!("../configs/p4_byzantine.toml"),
    ),
    ("configs/p5_dp.toml", include_str!("../configs/p5_dp.toml")),
];

/// Parses the built-in configurations, reduced by [`quick`] when `quick` is set, with every
/// seed shifted by `seed_offset`.
///
/// # Errors
///
/// [`CliError::Config`] if a built-in file does not parse (a bug in this crate).
pub fn built_in(quick_mode: bool, seed_offset: u64) -> Result<Vec<ExperimentConfig>, CliError> {
    let mut configs = Vec::new();
    for (name, text) in BUILT_IN {
        let mut config = config::parse(text, Path::new(name))?;
        if quick_mode {
            quick(&mut config);
        }
        for seed in &mut config.seeds {
            *seed = seed.wrapping_add(seed_offset);
        }
        configs.push(config);
    }
    Ok(configs)
}

/// Reduces a configuration for `--quick`: 3 seeds, fewer iterations, and for the
/// optimization experiments fewer step sizes and settings.
pub fn quick(config: &mut ExperimentConfig) {
    config.seeds.truncate(3);
    config.name.push_str("_quick");
    if let Some(online) = &mut config.online {
        config.iterations = config.iterations.min(5000);
        config.record_every = config.record_every.min(100);
        online.dim = online.dim.min(10);
    }
    if let Some(sgd) = &mut config.sgd {
        config.iterations = config.iterations.min(300);
        config.record_every = 10;
        sgd.step_sizes.retain(|&g| [0.003, 0.03, 0.1].contains(&g));
    }
    if let Some(dp) = &mut config.dp {
        config.iterations = config.iterations.min(200);
        dp.noise_multipliers.retain(|&s| [1.0].contains(&s));
    }
    if let Some(byz) = &mut config.byzantine {
        config.iterations = config.iterations.min(150);
        config.record_every = 50;
        byz.fractions.retain(|&f| [0.0, 0.2, 0.4].contains(&f));
        byz.attacks
            .retain(|a| ["sign-flip", "alie", "large-norm"].contains(&a.get_ref().as_str()));
        byz.rules.retain(|r| {
            ["mean", "coordinate-median", "geometric-median", "krum"]
                .contains(&r.get_ref().as_str())
        });
    }
}
