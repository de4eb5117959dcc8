//! Tests of the experiment helpers: the reference loss and the best-step selection.

use median_cli::experiments::sgd::best_step_table;
use median_cli::output::{Record, ResultTable};
use median_cli::problems::{AnyProblem, L2, prepare, reference_loss};
use median_sgd::{Dataset, LeastSquares, Problem};

#[test]
fn reference_loss_of_quadratic_is_zero() {
    let prepared = prepare("quadratic", 4, 0.25, 0).unwrap();
    assert_eq!(reference_loss(&prepared.problem, 10).unwrap(), 0.0);
}

#[test]
fn reference_loss_matches_grid_search_in_one_dimension() {
    let data = Dataset::new(vec![1.0, 2.0, -1.0, 0.5], 1, vec![1.5, 3.0, -2.0, 1.0]).unwrap();
    let problem = AnyProblem::LeastSquares(LeastSquares::least_squares(data, L2).unwrap());
    let reference = reference_loss(&problem, 500).unwrap();

    // An independent minimiser: a fine grid over [-5, 5].
    let grid_min = (0..=100_000)
        .map(|i| -5.0 + 1e-4 * f64::from(i))
        .map(|x| problem.loss(&[x]).unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(reference <= grid_min + 1e-9, "{reference} vs {grid_min}");
    assert!(reference >= grid_min - 1e-6, "{reference} vs {grid_min}");
}

#[test]
fn best_step_table_keeps_lowest_median_final_loss() {
    let row = |method: &str, gamma: f64, seed: u64, step: usize, loss: f64| Record {
        setting: "s".to_string(),
        method: method.to_string(),
        seed,
        step,
        values: vec![gamma, loss],
    };
    let table = ResultTable {
        experiment: "t".to_string(),
        metrics: vec!["step_size".to_string(), "loss".to_string()],
        records: vec![
            // gamma 0.1: medians of final losses 2.0; gamma 0.01: 1.0 despite one divergence.
            row("sgd", 0.1, 0, 0, 5.0),
            row("sgd", 0.1, 0, 10, 2.0),
            row("sgd", 0.1, 1, 10, 2.0),
            row("sgd", 0.1, 2, 10, 2.0),
            row("sgd", 0.01, 0, 0, 5.0),
            row("sgd", 0.01, 0, 10, 1.0),
            row("sgd", 0.01, 1, 10, 0.5),
            row("sgd", 0.01, 2, 10, f64::INFINITY),
        ],
    };
    let best = best_step_table(&table);
    assert_eq!(best.records.len(), 4);
    assert!(best.records.iter().all(|r| r.values[0] == 0.01));
}
