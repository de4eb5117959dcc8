//! Datasets: loaders for CSV (header row, chosen target column) and LIBSVM text files,
//! a seeded train/test split, and standardisation fitted on the training split.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::CliError;
use crate::csv::parse_numeric_csv;

/// A supervised dataset with named features, stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledData {
    /// The feature names (`x1, x2, ...` for LIBSVM files).
    pub feature_names: Vec<String>,
    /// The row-major `rows x num_features` feature matrix.
    pub features: Vec<f64>,
    /// One target per row.
    pub targets: Vec<f64>,
}

impl LabeledData {
    /// Returns the number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Returns `true` if there is no sample.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Returns the number of features.
    pub fn num_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Returns the features of sample `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.len()`.
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.num_features();
        &self.features[i * p..(i + 1) * p]
    }

    /// Returns the number of classes `max(target) + 1` for integer labels.
    pub fn num_classes(&self) -> usize {
        self.targets.iter().fold(0.0f64, |a, &t| a.max(t)) as usize + 1
    }

    /// Converts into the optimizer crate's dataset type.
    ///
    /// # Errors
    ///
    /// [`CliError::Sgd`] if the data are empty or hold a non-finite value.
    pub fn to_dataset(&self) -> Result<median_sgd::Dataset<f64>, CliError> {
        Ok(median_sgd::Dataset::new(
            self.features.clone(),
            self.num_features(),
            self.targets.clone(),
        )?)
    }

    /// Returns the samples at `indices`, in that order.
    fn select(&self, indices: &[usize]) -> Self {
        let mut features = Vec::with_capacity(indices.len() * self.num_features());
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        Self {
            feature_names: self.feature_names.clone(),
            features,
            targets: indices.iter().map(|&i| self.targets[i]).collect(),
        }
    }
}

/// Loads a CSV file with a header row; `target` names the target column (default: the
/// last column) and every other column is a feature.
///
/// # Errors
///
/// [`CliError::Io`], [`CliError::Parse`] for a malformed line (naming it) or a file without
/// a header row, and [`CliError::UnknownName`] for a target column not in the header.
pub fn load_csv(path: &Path, target: Option<&str>) -> Result<LabeledData, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let csv = parse_numeric_csv(&text, path)?;
    let Some(header) = csv.header else {
        return Err(CliError::Parse {
            format: "CSV",
            path: path.to_path_buf(),
            line: 1,
            reason: "a dataset needs a header row naming the columns".to_string(),
        });
    };
    let target_column = match target {
        None => header.len() - 1,
        Some(name) => {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| CliError::UnknownName {
                    kind: "target column",
                    name: name.to_string(),
                    known: header.clone(),
                })?
        }
    };

    let matrix = csv.matrix;
    let mut features = Vec::with_capacity(matrix.rows * (matrix.cols - 1));
    let mut targets = Vec::with_capacity(matrix.rows);
    for i in 0..matrix.rows {
        for (j, &v) in matrix.row(i).iter().enumerate() {
            if j == target_column {
                targets.push(v);
            } else {
                features.push(v);
            }
        }
    }
    let feature_names = header
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != target_column)
        .map(|(_, h)| h.clone())
        .collect();
    Ok(LabeledData {
        feature_names,
        features,
        targets,
    })
}

/// Loads a LIBSVM (svmlight) text file: `label index:value index:value ...` per line,
/// 1-based increasing indices, missing entries zero; `#` starts a comment.
///
/// The feature count is `num_features` if given, or else the largest index seen.
///
/// # Errors
///
/// [`CliError::Io`], and [`CliError::Parse`] naming the line for a bad label or value, an
/// index of 0, a non-increasing index, an index above `num_features`, or a file with no
/// sample.
pub fn load_libsvm(path: &Path, num_features: Option<usize>) -> Result<LabeledData, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    parse_libsvm(&text, path, num_features)
}

/// Parses the text of a LIBSVM file; `path` only labels errors. See [`load_libsvm`].
///
/// # Errors
///
/// As [`load_libsvm`].
pub fn parse_libsvm(
    text: &str,
    path: &Path,
    num_features: Option<usize>,
) -> Result<LabeledData, CliError> {
    let error = |line: usize, reason: String| CliError::Parse {
        format: "LIBSVM",
        path: path.to_path_buf(),
        line,
        reason,
    };

    // First pass: sparse rows and the largest index.
    let mut sparse: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut targets = Vec::new();
    let mut max_index = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut tokens = content.split_whitespace();
        let label_text = tokens.next().unwrap_or("");
        let label: f64 = label_text
            .parse()
            .map_err(|_| error(line, format!("label {label_text:?} is not a number")))?;
        let mut entries = Vec::new();
        let mut previous = 0usize;
        for token in tokens {
            let (i, v) = token
                .split_once(':')
                .ok_or_else(|| error(line, format!("entry {token:?} is not index:value")))?;
            let i: usize = i
                .parse()
                .map_err(|_| error(line, format!("index {i:?} is not a positive integer")))?;
            if i == 0 {
                return Err(error(
                    line,
                    "index 0 found; LIBSVM indices start at 1".to_string(),
                ));
            }
            if i <= previous {
                return Err(error(
                    line,
                    format!("index {i} follows index {previous}; indices must increase"),
                ));
            }
            let v: f64 = v
                .parse()
                .map_err(|_| error(line, format!("value {v:?} of index {i} is not a number")))?;
            previous = i;
            entries.push((i, v));
        }
        max_index = max_index.max(previous);
        sparse.push(entries);
        targets.push(label);
    }
    if targets.is_empty() {
        return Err(error(
            text.lines().count().max(1),
            "no sample found".to_string(),
        ));
    }

    let p = match num_features {
        Some(p) if p < max_index => {
            return Err(error(
                1,
                format!("index {max_index} exceeds the declared feature count {p}"),
            ));
        }
        Some(p) => p,
        None => max_index,
    };
    let mut features = vec![0.0; targets.len() * p];
    for (row, entries) in sparse.iter().enumerate() {
        for &(i, v) in entries {
            features[row * p + i - 1] = v;
        }
    }
    Ok(LabeledData {
        feature_names: (1..=p).map(|i| format!("x{i}")).collect(),
        features,
        targets,
    })
}

/// Splits `data` into a training and a test part after a seeded shuffle; the test part
/// has `round(test_fraction * n)` samples, at least one of each part when `n >= 2`.
///
/// # Errors
///
/// [`CliError::InvalidParameter`] unless `0 < test_fraction < 1` and `n >= 2`.
pub fn train_test_split(
    data: &LabeledData,
    test_fraction: f64,
    seed: u64,
) -> Result<(LabeledData, LabeledData), CliError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(CliError::InvalidParameter {
            name: "test_fraction".to_string(),
            value: test_fraction.to_string(),
            expected: "must be in (0, 1)".to_string(),
        });
    }
    let n = data.len();
    if n < 2 {
        return Err(CliError::InvalidParameter {
            name: "samples".to_string(),
            value: n.to_string(),
            expected: "a split needs at least 2 samples".to_string(),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let test = ((test_fraction * n as f64).round() as usize).clamp(1, n - 1);
    Ok((data.select(&order[test..]), data.select(&order[..test])))
}

/// Per-column centring and scaling `x -> (x - mean) / std`, fitted on one split.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// The column means.
    pub means: Vec<f64>,
    /// The column scales: the population standard deviation, or 1 for a constant column
    /// (which is then only centred, to 0).
    pub scales: Vec<f64>,
}

impl Standardizer {
    /// Computes column means and standard deviations of `data` (the training split).
    pub fn fit(data: &LabeledData) -> Self {
        let p = data.num_features();
        let n = data.len().max(1) as f64;
        let mut means = vec![0.0; p];
        for i in 0..data.len() {
            for (m, &x) in means.iter_mut().zip(data.row(i)) {
                *m += x / n;
            }
        }
        let mut variances = vec![0.0; p];
        for i in 0..data.len() {
            for ((v, &m), &x) in variances.iter_mut().zip(&means).zip(data.row(i)) {
                *v += (x - m) * (x - m) / n;
            }
        }
        let scales = variances
            .iter()
            .map(|&v| if v > 0.0 { v.sqrt() } else { 1.0 })
            .collect();
        Self { means, scales }
    }

    /// Standardises every row of `data` in place with the fitted statistics.
    ///
    /// # Panics
    ///
    /// Panics if `data` has a different feature count than the data fitted.
    pub fn apply(&self, data: &mut LabeledData) {
        let p = data.num_features();
        assert_eq!(
            p,
            self.means.len(),
            "feature count differs from the fitted data"
        );
        for row in data.features.chunks_exact_mut(p) {
            for ((x, &m), &s) in row.iter_mut().zip(&self.means).zip(&self.scales) {
                *x = (*x - m) / s;
            }
        }
    }
}

/// The datasets shipped in the repository's `data/` folder.
pub const SHIPPED_DATASETS: [&str; 4] = ["breast_cancer", "diabetes", "digits", "wine"];

/// Returns the folder of the shipped datasets: `$MEDIAN_DATA_DIR` if set, else `./data` if
/// it contains `digits.csv`, else the repository's `data/` folder as seen at
/// compile time.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MEDIAN_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("data");
    if local.join("digits.csv").is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

/// Loads a shipped dataset by name (target: the last column).
///
/// # Errors
///
/// [`CliError::UnknownName`] for a name not in [`SHIPPED_DATASETS`], and the errors of
/// [`load_csv`].
pub fn load_shipped(name: &str) -> Result<LabeledData, CliError> {
    if !SHIPPED_DATASETS.contains(&name) {
        return Err(CliError::UnknownName {
            kind: "dataset",
            name: name.to_string(),
            known: SHIPPED_DATASETS.iter().map(|s| s.to_string()).collect(),
        });
    }
    load_csv(&data_dir().join(format!("{name}.csv")), None)
}

/// Loads a shipped dataset, splits it and standardises both parts with the training
/// statistics.
///
/// # Errors
///
/// As [`load_shipped`] and [`train_test_split`].
pub fn prepare_shipped(
    name: &str,
    test_fraction: f64,
    seed: u64,
) -> Result<(LabeledData, LabeledData), CliError> {
    let data = load_shipped(name)?;
    let (mut train, mut test) = train_test_split(&data, test_fraction, seed)?;
    let standardizer = Standardizer::fit(&train);
    standardizer.apply(&mut train);
    standardizer.apply(&mut test);
    Ok((train, test))
}
