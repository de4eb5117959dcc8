//! Reading and writing `.npy` files (NumPy format version 1.0) of `f64` and `f32` arrays,
//! for the comparison with the Python peers.

use std::io::{self, Read, Write};
use std::path::Path;

/// The magic string that opens every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// A C-order array read from a `.npy` file, converted to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The shape, outermost axis first.
    pub shape: Vec<usize>,
    /// The values in C (row-major) order.
    pub values: Vec<f64>,
}

/// Writes `values` with `shape` as a little-endian `f64` `.npy` file.
///
/// # Errors
///
/// An I/O error from creating or writing the file, or [`io::ErrorKind::InvalidInput`] when
/// the shape does not match the number of values.
pub fn write_f64(path: &Path, shape: &[usize], values: &[f64]) -> io::Result<()> {
    if shape.iter().product::<usize>() != values.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("shape {shape:?} does not hold {} values", values.len()),
        ));
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    // The magic, version and length take 10 bytes; pad so that the data starts at a
    // multiple of 64 bytes, with the header ending in a newline.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');

    let mut file = io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(MAGIC)?;
    file.write_all(&[1, 0])?;
    let header_len = u16::try_from(header.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "npy header too long"))?;
    file.write_all(&header_len.to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    for v in values {
        file.write_all(&v.to_le_bytes())?;
    }
    file.flush()
}

/// Reads a C-order little-endian `f64` or `f32` `.npy` file (format version 1, 2 or 3).
///
/// # Errors
///
/// An I/O error from reading, or [`io::ErrorKind::InvalidData`] for a file that is not such
/// an array.
pub fn read(path: &Path) -> io::Result<Array> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(invalid(format!("{} is not an npy file", path.display())));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        version => return Err(invalid(format!("unsupported npy version {version}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(String::from_utf8_lossy)
        .ok_or_else(|| invalid("truncated npy header".to_owned()))?;
    if header.contains("'fortran_order': True") {
        return Err(invalid("Fortran-order arrays are not supported".to_owned()));
    }
    let width = if header.contains("'<f8'") {
        8
    } else if header.contains("'<f4'") {
        4
    } else {
        return Err(invalid(format!("unsupported dtype in header {header}")));
    };
    let shape = parse_shape(&header).ok_or_else(|| invalid(format!("no shape in {header}")))?;

    let data = &bytes[start + header_len..];
    let count: usize = shape.iter().product();
    if data.len() != count * width {
        return Err(invalid(format!(
            "expected {count} values of {width} bytes, found {} bytes",
            data.len()
        )));
    }
    let values = data
        .chunks_exact(width)
        .map(|b| match width {
            8 => f64::from_le_bytes(b.try_into().expect("chunks of 8 bytes")),
            _ => f64::from(f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes"))),
        })
        .collect();
    Ok(Array { shape, values })
}

/// Returns the tuple after `'shape':` in an npy header.
fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let after = &header[header.find("'shape':")? + "'shape':".len()..];
    let open = after.find('(')?;
    let close = after.find(')')?;
    after[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_keeps_shape_and_bits() {
        let path = std::env::temp_dir().join(format!("median-npy-{}.npy", std::process::id()));
        let values = [1.5, -0.0, f64::MAX, 1e-300, 3.0, 4.0];
        write_f64(&path, &[2, 3], &values).unwrap();
        let array = read(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(array.shape, vec![2, 3]);
        let bits: Vec<u64> = array.values.iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, expected);
    }

    #[test]
    fn npy_header_is_padded_to_64_bytes() {
        let path = std::env::temp_dir().join(format!("median-npy-pad-{}.npy", std::process::id()));
        write_f64(&path, &[3], &[1.0, 2.0, 3.0]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!((bytes.len() - 24) % 64, 0);
        assert_eq!(bytes[(bytes.len() - 24) - 1], b'\n');
    }

    #[test]
    fn npy_shape_parses_one_and_two_axes() {
        assert_eq!(parse_shape("{'shape': (5,), }"), Some(vec![5]));
        assert_eq!(
            parse_shape("{'shape': (64, 100000), }"),
            Some(vec![64, 100_000])
        );
    }
}
