//! Tests of the CSV and LIBSVM loaders, the split and the standardisation, on small files
//! written here and on the shipped datasets.

use std::path::{Path, PathBuf};

use median_cli::CliError;
use median_cli::csv::parse_numeric_csv;
use median_cli::data::{Standardizer, load_csv, load_shipped, parse_libsvm, train_test_split};

/// Creates an empty folder under the system temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("median-cli-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn csv_detects_header_and_reads_rows() {
    let csv = parse_numeric_csv("a,b\n1,2\n\n3,4.5\n", Path::new("t.csv")).unwrap();
    assert_eq!(csv.header, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!((csv.matrix.rows, csv.matrix.cols), (2, 2));
    assert_eq!(csv.matrix.data, vec![1.0, 2.0, 3.0, 4.5]);
    let plain = parse_numeric_csv("1,2\n3,4\n", Path::new("t.csv")).unwrap();
    assert_eq!(plain.header, None);
    assert_eq!(plain.matrix.rows, 2);
}

#[test]
fn csv_wrong_field_count_names_line() {
    let err = parse_numeric_csv("a,b\n1,2\n3,4,5\n", Path::new("t.csv")).unwrap_err();
    match err {
        CliError::Parse { line, reason, .. } => {
            assert_eq!(line, 3);
            assert!(reason.contains("3 fields"), "{reason}");
        }
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn csv_bad_number_names_line_and_field() {
    let err = parse_numeric_csv("1,2\n3,x4\n", Path::new("t.csv")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CliError::Parse { line: 2, .. }), "{text}");
    assert!(text.contains("\"x4\""), "{text}");
    assert!(parse_numeric_csv("a,b\n", Path::new("t.csv")).is_err());
}

#[test]
fn csv_dataset_uses_chosen_target_column() {
    let dir = temp_dir("target");
    let path = dir.join("small.csv");
    std::fs::write(&path, "x,y,label\n1,10,0\n2,20,1\n3,30,0\n").unwrap();
    let last = load_csv(&path, None).unwrap();
    assert_eq!(last.feature_names, vec!["x", "y"]);
    assert_eq!(last.targets, vec![0.0, 1.0, 0.0]);
    assert_eq!(last.row(1), &[2.0, 20.0]);
    let middle = load_csv(&path, Some("y")).unwrap();
    assert_eq!(middle.feature_names, vec!["x", "label"]);
    assert_eq!(middle.targets, vec![10.0, 20.0, 30.0]);
    assert!(matches!(
        load_csv(&path, Some("z")),
        Err(CliError::UnknownName { .. })
    ));
    std::fs::write(&path, "1,2\n3,4\n").unwrap();
    assert!(matches!(
        load_csv(&path, None),
        Err(CliError::Parse { line: 1, .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn libsvm_reads_sparse_rows() {
    let text = "1 1:0.5 3:2\n# comment\n-1 2:1.5 # trailing\n0\n";
    let data = parse_libsvm(text, Path::new("t.svm"), None).unwrap();
    assert_eq!(data.num_features(), 3);
    assert_eq!(data.targets, vec![1.0, -1.0, 0.0]);
    assert_eq!(data.row(0), &[0.5, 0.0, 2.0]);
    assert_eq!(data.row(1), &[0.0, 1.5, 0.0]);
    assert_eq!(data.row(2), &[0.0, 0.0, 0.0]);
    let wide = parse_libsvm(text, Path::new("t.svm"), Some(5)).unwrap();
    assert_eq!(wide.num_features(), 5);
}

#[test]
fn libsvm_rejects_malformed_lines() {
    let cases = [
        ("1 0:1.0\n", 1, "index 0"),
        ("1 1:1\n1 2:abc\n", 2, "\"abc\""),
        ("x 1:1\n", 1, "label"),
        ("1 2:1 1:1\n", 1, "increase"),
        ("1 1-1\n", 1, "index:value"),
    ];
    for (text, expected_line, fragment) in cases {
        let err = parse_libsvm(text, Path::new("t.svm"), None).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CliError::Parse { line, .. } if line == expected_line),
            "{text:?}: {message}"
        );
        assert!(message.contains(fragment), "{text:?}: {message}");
    }
    assert!(parse_libsvm("1 4:1\n", Path::new("t.svm"), Some(3)).is_err());
    assert!(parse_libsvm("# only a comment\n", Path::new("t.svm"), None).is_err());
}

#[test]
fn shipped_datasets_have_expected_shapes() {
    for (name, rows, features) in [
        ("breast_cancer", 569, 30),
        ("digits", 1797, 64),
        ("diabetes", 442, 10),
        ("wine", 178, 13),
    ] {
        let data = load_shipped(name).unwrap();
        assert_eq!(data.len(), rows, "{name}");
        assert_eq!(data.num_features(), features, "{name}");
    }
    assert_eq!(load_shipped("digits").unwrap().num_classes(), 10);
    assert!(matches!(
        load_shipped("iris"),
        Err(CliError::UnknownName { .. })
    ));
}

#[test]
fn split_is_seeded_and_partitions_samples() {
    let data = load_shipped("wine").unwrap();
    let (train, test) = train_test_split(&data, 0.25, 7).unwrap();
    assert_eq!(test.len(), 45); // round(0.25 * 178) = 44.5 -> 45 (round half away from zero)
    assert_eq!(train.len() + test.len(), 178);
    let (train2, _) = train_test_split(&data, 0.25, 7).unwrap();
    assert_eq!(train, train2);
    let (train3, _) = train_test_split(&data, 0.25, 8).unwrap();
    assert_ne!(train, train3);

    // Every sample lands in exactly one part: the multisets of the first feature agree.
    let mut all: Vec<f64> = (0..data.len()).map(|i| data.row(i)[0]).collect();
    let mut parts: Vec<f64> = (0..train.len())
        .map(|i| train.row(i)[0])
        .chain((0..test.len()).map(|i| test.row(i)[0]))
        .collect();
    all.sort_by(f64::total_cmp);
    parts.sort_by(f64::total_cmp);
    assert_eq!(all, parts);
    assert!(train_test_split(&data, 1.0, 0).is_err());
    assert!(train_test_split(&data, 0.0, 0).is_err());
}

#[test]
fn standardizer_uses_training_statistics() {
    let dir = temp_dir("standardize");
    let path = dir.join("s.csv");
    // Column b is constant: it is centred to 0 and not scaled.
    std::fs::write(&path, "a,b,t\n1,5,0\n3,5,1\n").unwrap();
    let mut train = load_csv(&path, None).unwrap();
    std::fs::write(&path, "a,b,t\n5,7,0\n").unwrap();
    let mut test = load_csv(&path, None).unwrap();
    let s = Standardizer::fit(&train);
    assert_eq!(s.means, vec![2.0, 5.0]);
    assert_eq!(s.scales, vec![1.0, 1.0]);
    s.apply(&mut train);
    s.apply(&mut test);
    assert_eq!(train.features, vec![-1.0, 0.0, 1.0, 0.0]);
    assert_eq!(test.features, vec![3.0, 2.0]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn standardized_shipped_training_split_has_unit_variance() {
    let (train, _) = median_cli::data::prepare_shipped("breast_cancer", 0.25, 0).unwrap();
    let n = train.len() as f64;
    for j in 0..train.num_features() {
        let column: Vec<f64> = (0..train.len()).map(|i| train.row(i)[j]).collect();
        let mean = column.iter().sum::<f64>() / n;
        let variance = column.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        assert!(mean.abs() < 1e-12, "column {j}: mean {mean}");
        assert!(
            (variance - 1.0).abs() < 1e-9,
            "column {j}: variance {variance}"
        );
    }
}

#[test]
fn numeric_csv_rejects_mixed_first_record() {
    let path = std::path::Path::new("mixed.csv");
    let error = parse_numeric_csv("100,x\n1,0\n0,1\n", path).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("line 1"), "{message}");
    assert!(message.contains("\"x\""), "{message}");

    let parsed = parse_numeric_csv("a,b\n1,0\n0,1\n", path).unwrap();
    assert_eq!(parsed.header, Some(vec!["a".to_string(), "b".to_string()]));
}
