//! A reader for numeric CSV files: comma-separated numbers, one record per line.
//!
//! Fields are separated by commas and trimmed. Blank lines and lines starting with `#` are
//! skipped. The first record is a header exactly when none of its fields parses as a number;
//! a first record that mixes numbers and other text is an error, so a malformed data row is
//! never dropped as a header. Every record must have the same number of fields as the first. Quoted
//! fields are not supported (surrounding double quotes of a header name are removed).

use std::path::Path;

use crate::CliError;
use crate::npy::Matrix;

/// A parsed numeric CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericCsv {
    /// The column names, if the file opens with a header.
    pub header: Option<Vec<String>>,
    /// The values, one row per record.
    pub matrix: Matrix,
}

/// Reads a numeric CSV file.
///
/// # Errors
///
/// [`CliError::Io`] if the file cannot be read, and [`CliError::Parse`] naming the line
/// for a record with the wrong number of fields, a field that is not a number, or a file
/// with no data record.
pub fn read_numeric_csv(path: &Path) -> Result<NumericCsv, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    parse_numeric_csv(&text, path)
}

/// Parses the text of a numeric CSV file; `path` only labels errors.
///
/// # Errors
///
/// As [`read_numeric_csv`].
pub fn parse_numeric_csv(text: &str, path: &Path) -> Result<NumericCsv, CliError> {
    let error = |line: usize, reason: String| CliError::Parse {
        format: "CSV",
        path: path.to_path_buf(),
        line,
        reason,
    };

    let mut header = None;
    let mut cols = None;
    let mut rows = 0usize;
    let mut data = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(',').map(str::trim).collect();

        // The first record fixes the field count; it is a header if no field is a number.
        let Some(expected) = cols else {
            cols = Some(fields.len());
            if fields.iter().all(|f| f.parse::<f64>().is_err()) {
                header = Some(
                    fields
                        .iter()
                        .map(|f| f.trim_matches('"').to_string())
                        .collect(),
                );
                continue;
            }
            push_fields(&fields, line, &mut data).map_err(|r| error(line, r))?;
            rows += 1;
            continue;
        };
        if fields.len() != expected {
            return Err(error(
                line,
                format!(
                    "found {} fields, expected {expected} like the first record",
                    fields.len()
                ),
            ));
        }
        push_fields(&fields, line, &mut data).map_err(|r| error(line, r))?;
        rows += 1;
    }

    if rows == 0 {
        return Err(error(
            text.lines().count().max(1),
            "no data record found".to_string(),
        ));
    }
    Ok(NumericCsv {
        header,
        matrix: Matrix {
            rows,
            cols: cols.unwrap_or(0),
            data,
        },
    })
}

/// Parses every field as `f64` and appends it to `data`.
fn push_fields(fields: &[&str], _line: usize, data: &mut Vec<f64>) -> Result<(), String> {
    for (column, field) in fields.iter().enumerate() {
        let value: f64 = field
            .parse()
            .map_err(|_| format!("field {} is {field:?}, not a number", column + 1))?;
        data.push(value);
    }
    Ok(())
}

/// Formats one row of values as a CSV line (shortest round-trip representation).
pub fn format_row(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v}"))
        .collect::<Vec<_>>()
        .join(",")
}
