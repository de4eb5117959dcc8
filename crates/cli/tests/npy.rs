//! Tests of the `.npy` reader and writer on files built byte by byte.

use median_cli::npy::{MAX_ELEMENTS, encode_npy, parse_npy};

/// Builds a `.npy` file of format `major.0` with header dictionary `dict` and raw `data`.
fn npy_bytes(major: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    let length_field = if major == 1 { 2 } else { 4 };
    let unpadded = 6 + 2 + length_field + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn npy_reads_float64_c_order_v1() {
    let bytes = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
        &f64_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    let m = parse_npy(&bytes).unwrap();
    assert_eq!((m.rows, m.cols), (2, 3));
    assert_eq!(m.row(0), &[1.0, 2.0, 3.0]);
    assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
}

#[test]
fn npy_reads_float32_fortran_order_v2() {
    // Column-major storage of [[1, 2, 3], [4, 5, 6]] is 1, 4, 2, 5, 3, 6.
    let bytes = npy_bytes(
        2,
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
        &f32_bytes(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]),
    );
    let m = parse_npy(&bytes).unwrap();
    assert_eq!((m.rows, m.cols), (2, 3));
    assert_eq!(m.row(0), &[1.0, 2.0, 3.0]);
    assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
}

#[test]
fn npy_reads_float32_values_exactly() {
    let bytes = npy_bytes(
        3,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
        &f32_bytes(&[0.1, -2.5]),
    );
    let m = parse_npy(&bytes).unwrap();
    assert_eq!(m.data, vec![f64::from(0.1f32), -2.5]);
}

#[test]
fn npy_reads_one_dimensional_array_as_one_row() {
    let bytes = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
        &f64_bytes(&[7.0, 8.0, 9.0]),
    );
    let m = parse_npy(&bytes).unwrap();
    assert_eq!((m.rows, m.cols), (1, 3));
}

#[test]
fn npy_rejects_huge_shape_before_allocating() {
    // 1e12 x 1e12 elements in a file of a few bytes: rejected from the header alone.
    let bytes = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }",
        &f64_bytes(&[1.0]),
    );
    let err = parse_npy(&bytes).unwrap_err();
    assert!(err.contains("1000000000000"), "{err}");
    assert!(err.contains("limit") || err.contains("overflows"), "{err}");
}

#[test]
fn npy_rejects_shape_larger_than_file() {
    let bytes = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000), }",
        &f64_bytes(&[1.0, 2.0]),
    );
    const { assert!(1000 * 1000 < MAX_ELEMENTS) };
    let err = parse_npy(&bytes).unwrap_err();
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn npy_rejects_truncated_file() {
    let full = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
        &f64_bytes(&[1.0, 2.0, 3.0, 4.0]),
    );
    let cut = &full[..full.len() - 3];
    assert!(parse_npy(cut).unwrap_err().contains("truncated"));
    assert!(parse_npy(&full[..8]).is_err());
    assert!(parse_npy(&full[..20]).unwrap_err().contains("past the end"));
}

#[test]
fn npy_rejects_bad_magic_version_and_dtype() {
    assert!(
        parse_npy(b"NUMPY\x01\x00\x00\x00")
            .unwrap_err()
            .contains("magic")
    );
    let v9 = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
        &f64_bytes(&[1.0]),
    );
    let mut v9 = v9;
    v9[6] = 9;
    assert!(parse_npy(&v9).unwrap_err().contains("version 9.0"));
    let big_endian = npy_bytes(
        1,
        "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
        &f64_bytes(&[1.0]),
    );
    assert!(
        parse_npy(&big_endian).unwrap_err().contains("'>f8'")
            || parse_npy(&big_endian).unwrap_err().contains(">f8")
    );
    let ints = npy_bytes(
        1,
        "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
        &f64_bytes(&[1.0]),
    );
    assert!(parse_npy(&ints).unwrap_err().contains("<i8"));
    let cube = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }",
        &f64_bytes(&[1.0]),
    );
    assert!(parse_npy(&cube).unwrap_err().contains("3 dimensions"));
}

#[test]
fn npy_encode_round_trips() {
    let data = [1.5, -2.0, 3.25, 1e300, -0.0, 6.0];
    let bytes = encode_npy(2, 3, &data);
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_end = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    assert_eq!(header_end % 64, 0);
    let m = parse_npy(&bytes).unwrap();
    assert_eq!((m.rows, m.cols), (2, 3));
    assert_eq!(m.data, data.to_vec());
}
