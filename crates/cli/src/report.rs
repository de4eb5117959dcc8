//! The markdown report: for each claim, whether the results support it, computed by a
//! function that compares numbers from the result tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::Kind;
use crate::experiments::ExperimentOutput;
use crate::experiments::byzantine::final_accuracy;
use crate::experiments::sgd::best_step_table;
use crate::output::{ResultTable, percentile};

/// The outcome of checking one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every comparison the claim makes holds.
    Supported,
    /// At least one comparison fails.
    NotSupported,
    /// The results lack the settings or methods the claim needs.
    Inconclusive,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not supported",
            Verdict::Inconclusive => "inconclusive (missing data)",
        }
    }
}

/// One checked claim with the numbers behind the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimCheck {
    /// The claim, in words.
    pub claim: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One line per comparison.
    pub evidence: Vec<String>,
}

/// The factor by which one error must exceed another to count as "much larger".
pub const MUCH_LARGER: f64 = 3.0;

/// The largest ratio between errors that still counts as "comparable".
pub const COMPARABLE: f64 = 3.0;

/// Returns the median over seeds of metric `metric` at the last step, by `(setting, method)`.
pub fn final_medians(table: &ResultTable, metric: usize) -> BTreeMap<(String, String), f64> {
    let last = table.records.iter().map(|r| r.step).max().unwrap_or(0);
    let mut groups: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for r in table.records.iter().filter(|r| r.step == last) {
        groups
            .entry((r.setting.clone(), r.method.clone()))
            .or_default()
            .push(r.values[metric]);
    }
    groups
        .into_iter()
        .map(|(k, mut v)| (k, percentile(&mut v, 0.5)))
        .collect()
}

fn verdict_of(checks: &[bool]) -> Verdict {
    if checks.is_empty() {
        Verdict::Inconclusive
    } else if checks.iter().all(|&c| c) {
        Verdict::Supported
    } else {
        Verdict::NotSupported
    }
}

/// Online estimation, heavy tails: for every stable law with `alpha < 2`, the final error
/// of the EMA (E1) and of the running mean is at least [`MUCH_LARGER`] times that of E2 and
/// E3.
pub fn check_online_heavy_tails(table: &ResultTable) -> ClaimCheck {
    let finals = final_medians(table, 0);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for setting in settings(&finals) {
        let Some(alpha) = stable_alpha(&setting) else {
            continue;
        };
        if alpha >= 2.0 {
            continue;
        }
        let get = |m: &str| finals.get(&(setting.clone(), m.to_string())).copied();
        let means: Vec<f64> = ["E1-ema", "running-mean"]
            .iter()
            .filter_map(|m| get(m))
            .collect();
        let medians: Vec<f64> = ["E2-geometric", "E3-coordinate"]
            .iter()
            .filter_map(|m| get(m))
            .collect();
        if means.is_empty() || medians.is_empty() {
            continue;
        }
        let smallest_mean = means.iter().copied().fold(f64::INFINITY, f64::min);
        let largest_median = medians.iter().copied().fold(0.0, f64::max);
        let ratio = smallest_mean / largest_median;
        checks.push(ratio >= MUCH_LARGER);
        evidence.push(format!(
            "{setting}: min(mean-type error) = {smallest_mean:.3e}, max(E2, E3 error) = {largest_median:.3e}, ratio {ratio:.1} (needs >= {MUCH_LARGER})"
        ));
    }
    ClaimCheck {
        claim: "Online estimation, alpha-stable noise with alpha < 2: the final error of the mean and the EMA (E1) is much larger than that of E2 and E3".to_string(),
        verdict: verdict_of(&checks),
        evidence,
    }
}

/// Online estimation, Gaussian case: at `alpha = 2` the final errors of all estimators are
/// within a factor [`COMPARABLE`] of each other.
pub fn check_online_gaussian(table: &ResultTable) -> ClaimCheck {
    let finals = final_medians(table, 0);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for setting in settings(&finals) {
        if stable_alpha(&setting) != Some(2.0) {
            continue;
        }
        let values: Vec<(String, f64)> = finals
            .iter()
            .filter(|((s, _), _)| *s == setting)
            .map(|((_, m), v)| (m.clone(), *v))
            .collect();
        let low = values.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
        let high = values.iter().map(|v| v.1).fold(0.0, f64::max);
        let ratio = high / low;
        checks.push(ratio <= COMPARABLE);
        let listed: Vec<String> = values.iter().map(|(m, v)| format!("{m} {v:.3e}")).collect();
        evidence.push(format!(
            "{setting}: {}; max/min ratio {ratio:.2} (needs <= {COMPARABLE})",
            listed.join(", ")
        ));
    }
    ClaimCheck {
        claim:
            "Online estimation, alpha = 2 (Gaussian): all estimators reach comparable final errors"
                .to_string(),
        verdict: verdict_of(&checks),
        evidence,
    }
}

/// Returns `alpha` from a setting label such as `stable(alpha=1.5)`.
fn stable_alpha(setting: &str) -> Option<f64> {
    let rest = setting.strip_prefix("stable(alpha=")?;
    rest.split([',', ')']).next()?.parse().ok()
}

fn settings<V>(finals: &BTreeMap<(String, String), V>) -> Vec<String> {
    let mut out: Vec<String> = finals.keys().map(|(s, _)| s.clone()).collect();
    out.dedup();
    out
}

/// SGD under Cauchy noise: in every Cauchy setting, plain SGD at its best step diverges or
/// stalls, and every Sample Median GD method with `n >= 5` converges.
///
/// "Stalls" means a final suboptimality `f - f_ref` above half the initial one (or
/// infinite). "Converges" means a final suboptimality below 20 % of the initial one.
pub fn check_sgd_cauchy(table: &ResultTable) -> ClaimCheck {
    let best = best_step_table(table);
    let finals = final_medians(&best, 1);
    let initial = initial_medians(&best, 1);
    let mut evidence = vec![
        "thresholds: \"stalls\" means a final f - f_ref above 50 % of the start (or not \
         finite); \"converges\" means a final f - f_ref below 20 % of the start; each value is \
         the median over seeds at the method's best step"
            .to_string(),
    ];
    let mut checks = Vec::new();
    for setting in settings(&finals) {
        if !setting.contains("cauchy") {
            continue;
        }
        let in_setting: Vec<(&String, f64)> = finals
            .iter()
            .filter(|((s, _), _)| *s == setting)
            .map(|((_, m), v)| (m, *v))
            .collect();
        let start = initial.get(&setting).copied().unwrap_or(f64::NAN);
        let progress = |value: f64| (start - value) / start;
        for (method, value) in &in_setting {
            if method.as_str() == "sgd" {
                let stalls = !value.is_finite() || progress(*value) < 0.5;
                checks.push(stalls);
                evidence.push(format!(
                    "{setting}: sgd final f - f_ref {value:.3e} (start {start:.3e}): {}",
                    if stalls {
                        "diverges or stalls"
                    } else {
                        "converges"
                    }
                ));
            }
            if samples_of(method).is_some_and(|n| n >= 5 && method.starts_with("sample-median-gd"))
            {
                let converges = value.is_finite() && progress(*value) >= 0.8;
                checks.push(converges);
                evidence.push(format!(
                    "{setting}: {method} final f - f_ref {value:.3e} (start {start:.3e}): {}",
                    if converges {
                        "converges"
                    } else {
                        "does not converge"
                    }
                ));
            }
        }
    }
    ClaimCheck {
        claim: "Optimization with Cauchy state-dependent noise: mean SGD diverges or stalls, Sample Median GD with n >= 5 converges".to_string(),
        verdict: verdict_of(&checks),
        evidence,
    }
}

/// Returns `n` from a method label such as `sample-median-gd(coordinate-median,n=5)`.
fn samples_of(method: &str) -> Option<usize> {
    let rest = method.split("n=").nth(1)?;
    rest.split([',', ')', ']']).next()?.parse().ok()
}

/// Returns the median over seeds and methods of metric `metric` at step 0, by setting.
fn initial_medians(table: &ResultTable, metric: usize) -> BTreeMap<String, f64> {
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in table.records.iter().filter(|r| r.step == 0) {
        groups
            .entry(r.setting.clone())
            .or_default()
            .push(r.values[metric]);
    }
    groups
        .into_iter()
        .map(|(k, mut v)| (k, percentile(&mut v, 0.5)))
        .collect()
}

/// Byzantine workers: at the largest fraction tried, under every attack, the better of the
/// coordinate and geometric medians either stays within 0.05 of the attack-free accuracy of
/// the mean or beats the mean by at least 0.05.
pub fn check_byzantine(table: &ResultTable) -> ClaimCheck {
    let finals = final_accuracy(table);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    let mut by_setting: BTreeMap<String, BTreeMap<String, BTreeMap<u64, f64>>> = BTreeMap::new();
    for ((setting, rule), fractions) in finals {
        for (bits, mut values) in fractions {
            by_setting
                .entry(setting.clone())
                .or_default()
                .entry(rule.clone())
                .or_default()
                .insert(bits, percentile(&mut values, 0.5));
        }
    }
    for (setting, rules) in &by_setting {
        let Some(mean) = rules.get("mean") else {
            continue;
        };
        let Some(&clean) = mean.get(&0.0f64.to_bits()) else {
            continue;
        };
        let Some((&top_bits, &mean_top)) = mean
            .iter()
            .max_by(|a, b| f64::from_bits(*a.0).total_cmp(&f64::from_bits(*b.0)))
        else {
            continue;
        };
        let fraction = f64::from_bits(top_bits);
        if fraction == 0.0 {
            continue;
        }
        let robust = ["coordinate-median", "geometric-median"]
            .iter()
            .filter_map(|r| {
                rules
                    .get(*r)
                    .and_then(|m| m.get(&top_bits))
                    .map(|v| (*r, *v))
            })
            .fold(None, |best: Option<(&str, f64)>, x| match best {
                Some(b) if b.1 >= x.1 => Some(b),
                _ => Some(x),
            });
        let Some((rule, accuracy)) = robust else {
            continue;
        };
        let holds = accuracy >= mean_top + 0.05 || accuracy >= clean - 0.05;
        checks.push(holds);
        evidence.push(format!(
            "{setting}, fraction {fraction}: {rule} {accuracy:.3}, mean {mean_top:.3}, attack-free mean {clean:.3}"
        ));
    }
    ClaimCheck {
        claim: "Byzantine workers: at the largest Byzantine fraction, under every attack, a median rule stays within 0.05 of the attack-free test accuracy or beats the mean by at least 0.05".to_string(),
        verdict: verdict_of(&checks),
        evidence,
    }
}

/// The accuracy margin within which two DP methods count as equally accurate.
pub const DP_MARGIN: f64 = 0.02;

/// DP-SGD: at every noise multiplier (hence at the same privacy cost), clipping around the
/// tracked median reaches a final test accuracy no more than [`DP_MARGIN`] below that of
/// clipping around zero.
pub fn check_dp(table: &ResultTable) -> ClaimCheck {
    let finals = final_medians(table, 0);
    let epsilons = final_medians(table, 2);
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for setting in settings(&finals) {
        let get = |m: &str| finals.get(&(setting.clone(), m.to_string())).copied();
        let (Some(zero), Some(tracked)) = (get("zero-anchor"), get("tracked-anchor")) else {
            continue;
        };
        let epsilon = epsilons
            .get(&(setting.clone(), "zero-anchor".to_string()))
            .copied()
            .unwrap_or(f64::NAN);
        checks.push(tracked >= zero - DP_MARGIN);
        evidence.push(format!(
            "{setting} (epsilon {epsilon:.2}): tracked anchor {tracked:.3}, zero anchor {zero:.3}"
        ));
    }
    ClaimCheck {
        claim: format!(
            "DP-SGD: at the same privacy cost, clipping around the tracked median is at most {DP_MARGIN} less accurate than clipping around zero"
        ),
        verdict: verdict_of(&checks),
        evidence,
    }
}

/// Returns the claims that apply to one experiment's results.
pub fn check_claims(output: &ExperimentOutput) -> Vec<ClaimCheck> {
    match output.kind {
        Kind::Online => vec![
            check_online_heavy_tails(&output.table),
            check_online_gaussian(&output.table),
        ],
        Kind::Sgd => vec![check_sgd_cauchy(&output.table)],
        Kind::Byzantine => vec![check_byzantine(&output.table)],
        Kind::Dp => vec![check_dp(&output.table)],
    }
}

/// Renders the markdown report of a suite run.
pub fn render(outputs: &[ExperimentOutput], quick: bool) -> String {
    let mut text = String::from("# Experiment report\n\n");
    let _ = writeln!(
        text,
        "Settings: {}. Every verdict below is computed from the result tables by the `median_cli::report` functions; the thresholds are stated with each claim.\n",
        if quick {
            "quick (`--quick`: fewer seeds, iterations and settings)"
        } else {
            "full"
        }
    );
    for output in outputs {
        let _ = writeln!(text, "## {}\n", output.table.experiment);
        let _ = writeln!(text, "Files:");
        for file in &output.files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = writeln!(text, "- `{name}`");
        }
        text.push('\n');
        for claim in check_claims(output) {
            let _ = writeln!(text, "### Claim: {}\n", claim.claim);
            let _ = writeln!(text, "**Verdict: {}.**\n", claim.verdict.text());
            for line in &claim.evidence {
                let _ = writeln!(text, "- {line}");
            }
            text.push('\n');
        }
    }
    text
}
