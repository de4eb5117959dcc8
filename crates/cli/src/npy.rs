//! A reader and writer for NumPy `.npy` files holding a 2-D (or 1-D) float array.
//!
//! Supported: format versions 1.0, 2.0 and 3.0; little-endian `float32` (`<f4`) and
//! `float64` (`<f8`) data, in C (row-major) or Fortran (column-major) order. The declared
//! shape is checked against the file size and against [`MAX_ELEMENTS`] before any data
//! buffer is allocated, so a hostile header cannot request an arbitrary amount of memory.
//!
//! # References
//!
//! The format is described in NumPy's `numpy.lib.format` documentation (NEP 1).

use std::path::Path;

use crate::CliError;

/// The magic string that opens every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest number of elements accepted (2^28, i.e. 2 GiB of `float64`).
pub const MAX_ELEMENTS: u64 = 1 << 28;

/// The largest header length accepted, in bytes.
const MAX_HEADER: usize = 1 << 20;

/// A dense matrix read from a file, stored row-major as `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The number of rows.
    pub rows: usize,
    /// The number of columns.
    pub cols: usize,
    /// The `rows * cols` values, row after row.
    pub data: Vec<f64>,
}

impl Matrix {
    /// Returns row `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.rows`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// The element type of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn size(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// The parsed header dictionary.
#[derive(Debug)]
struct Header {
    dtype: Dtype,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// Reads a `.npy` file holding a 2-D array (rows = gradients) or a 1-D array (one row).
///
/// # Errors
///
/// [`CliError::Io`] if the file cannot be read. [`CliError::Npy`] for a bad magic string
/// or version, an unsupported dtype (anything but `<f4` and `<f8`), or a shape of more
/// than two dimensions. Also [`CliError::Npy`] for a shape whose data exceed the file size
/// or [`MAX_ELEMENTS`], which includes a truncated data section.
pub fn read_npy(path: &Path) -> Result<Matrix, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    parse_npy(&bytes).map_err(|reason| CliError::Npy {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses the bytes of a `.npy` file; see [`read_npy`].
///
/// # Errors
///
/// A message saying what is wrong, as in [`read_npy`].
pub fn parse_npy(bytes: &[u8]) -> Result<Matrix, String> {
    let (header, data_start) = parse_preamble(bytes)?;

    // The shape is checked against limits and the file size before allocating.
    let (rows, cols) = match header.shape.as_slice() {
        [] => (1, 1),
        [n] => (1, *n),
        [r, c] => (*r, *c),
        more => {
            return Err(format!(
                "shape has {} dimensions; only 1-D and 2-D arrays are supported",
                more.len()
            ));
        }
    };
    let elements = rows
        .checked_mul(cols)
        .ok_or_else(|| format!("shape {:?} overflows the element count", header.shape))?;
    if elements > MAX_ELEMENTS {
        return Err(format!(
            "shape {:?} declares {elements} elements, more than the limit of {MAX_ELEMENTS}",
            header.shape
        ));
    }
    let needed = elements * header.dtype.size();
    let available = (bytes.len() - data_start) as u64;
    if needed > available {
        return Err(format!(
            "shape {:?} needs {needed} data bytes but the file holds {available} after the header (truncated file?)",
            header.shape
        ));
    }

    let rows = rows as usize;
    let cols = cols as usize;
    let payload = &bytes[data_start..data_start + needed as usize];
    let values: Vec<f64> = match header.dtype {
        Dtype::F32 => payload
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::F64 => payload
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
    };
    let data = if header.fortran_order && rows > 1 && cols > 1 {
        transpose_from_column_major(&values, rows, cols)
    } else {
        values
    };
    Ok(Matrix { rows, cols, data })
}

/// Writes `data` (row-major, `rows x cols`) as a little-endian `float64` `.npy` file,
/// version 1.0, C order. A single row is written as a 1-D array.
///
/// # Errors
///
/// [`CliError::Io`] if the file cannot be written.
pub fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<(), CliError> {
    std::fs::write(path, encode_npy(rows, cols, data)).map_err(|e| CliError::io(path, e))
}

/// Encodes a row-major `float64` matrix as the bytes of a version 1.0 `.npy` file.
///
/// # Panics
///
/// Panics if `data.len() != rows * cols`.
pub fn encode_npy(rows: usize, cols: usize, data: &[f64]) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols, "data length must be rows * cols");
    let shape = if rows == 1 {
        format!("({cols},)")
    } else {
        format!("({rows}, {cols})")
    };
    let mut dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");

    // The preamble (magic, version, length, dict, newline) is padded to a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    dict.push_str(&" ".repeat(padding));
    dict.push('\n');

    let mut out = Vec::with_capacity(unpadded + padding + data.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Parses magic, version, header length and header dictionary; returns the header and the
/// offset of the data section.
fn parse_preamble(bytes: &[u8]) -> Result<(Header, usize), String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("missing the \\x93NUMPY magic string; not a .npy file".to_string());
    }
    let major = bytes[6];
    let minor = bytes[7];
    let (header_len, start): (usize, usize) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("file ends inside the header length field".to_string());
            }
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        _ => {
            return Err(format!(
                "format version {major}.{minor} is not supported; expected 1.0, 2.0 or 3.0"
            ));
        }
    };
    if header_len > MAX_HEADER {
        return Err(format!(
            "header length {header_len} exceeds the limit of {MAX_HEADER} bytes"
        ));
    }
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| format!("header of {header_len} bytes runs past the end of the file"))?;
    let text = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| "header is not valid UTF-8 (or Latin-1 ASCII)".to_string())?;
    Ok((parse_header_dict(text)?, end))
}

/// Parses the Python-literal header dictionary, such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_header_dict(text: &str) -> Result<Header, String> {
    let descr = dict_value(text, "descr")?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let dtype = match descr {
        "<f8" | "f8" | "float64" => Dtype::F64,
        "<f4" | "f4" | "float32" => Dtype::F32,
        other => {
            return Err(format!(
                "dtype {other:?} is not supported; expected little-endian float32 ('<f4') or float64 ('<f8')"
            ));
        }
    };
    let fortran_order = match dict_value(text, "fortran_order")?.trim() {
        "True" => true,
        "False" => false,
        other => {
            return Err(format!(
                "fortran_order is {other:?}; expected True or False"
            ));
        }
    };
    let shape_text = dict_value(text, "shape")?;
    let inner = shape_text
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("shape {shape_text:?} is not a tuple"))?;
    let mut shape = Vec::new();
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let part = part.trim_end_matches('L');
        shape.push(
            part.parse::<u64>()
                .map_err(|_| format!("shape entry {part:?} is not a non-negative integer"))?,
        );
    }
    Ok(Header {
        dtype,
        fortran_order,
        shape,
    })
}

/// Returns the text of the value of `key` in the header dictionary, up to the next
/// top-level comma or closing brace.
fn dict_value<'a>(text: &'a str, key: &str) -> Result<&'a str, String> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let position = quoted
        .iter()
        .find_map(|q| text.find(q.as_str()).map(|p| p + q.len()))
        .ok_or_else(|| format!("header has no {key:?} key"))?;
    let rest = text[position..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| format!("header key {key:?} is not followed by ':'"))?;
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Ok(&rest[..i]),
            _ => {}
        }
    }
    Err(format!("header value of {key:?} is not terminated"))
}

/// Converts column-major values to row-major.
fn transpose_from_column_major(values: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows * cols];
    for j in 0..cols {
        for i in 0..rows {
            out[i * cols + j] = values[j * rows + i];
        }
    }
    out
}
