//! Aggregated paths CSV (`path,total_conversions,total_conversion_value,total_null`,
//! the channel sequence joined by ` > `), read with the `csv` crate.

use crate::error::{CliError, Result};

/// One row of a paths file.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    /// The channel sequence.
    pub path: Vec<String>,
    /// Converting journeys with this path.
    pub conversions: u64,
    /// Their total value.
    pub value: f64,
    /// Non-converting journeys with this path.
    pub nulls: u64,
}

const COLUMNS: [&str; 4] = [
    "path",
    "total_conversions",
    "total_conversion_value",
    "total_null",
];

/// Reads a paths CSV from `data`; errors name the file, the line and the column.
pub fn read(file: &str, data: &[u8]) -> Result<Vec<PathRow>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let headers = rdr
        .headers()
        .map_err(|e| CliError::data(file, Some(1), None, e.to_string()))?
        .clone();
    let mut idx = [0usize; 4];
    for (k, name) in COLUMNS.iter().enumerate() {
        idx[k] = headers
            .iter()
            .position(|h| h.trim() == *name)
            .ok_or_else(|| {
                CliError::data(
                    file,
                    Some(1),
                    Some(name),
                    format!(
                        "missing column (the header must name {})",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line());
            CliError::data(file, line, None, e.to_string())
        })?;
        let line = rec.position().map(|p| p.line());
        let get = |k: usize| rec.get(idx[k]).unwrap_or("").trim();
        let path: Vec<String> = get(0)
            .split('>')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if path.is_empty() {
            return Err(CliError::data(file, line, Some("path"), "empty path"));
        }
        let int = |k: usize| -> Result<u64> {
            get(k).parse::<u64>().map_err(|_| {
                CliError::data(
                    file,
                    line,
                    Some(COLUMNS[k]),
                    format!("{:?} is not a whole number >= 0", get(k)),
                )
            })
        };
        let conversions = int(1)?;
        let nulls = int(3)?;
        let value: f64 = get(2).parse().map_err(|_| {
            CliError::data(
                file,
                line,
                Some(COLUMNS[2]),
                format!("{:?} is not a number", get(2)),
            )
        })?;
        if !(value.is_finite() && value >= 0.0) {
            return Err(CliError::data(
                file,
                line,
                Some(COLUMNS[2]),
                format!("{value} is not a finite amount >= 0"),
            ));
        }
        rows.push(PathRow {
            path,
            conversions,
            value,
            nulls,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_bad_cells() {
        let ok =
            b"path,total_conversions,total_conversion_value,total_null\na > b,2,10.5,3\nc,0,0,4\n";
        let rows = read("p.csv", ok).unwrap();
        assert_eq!(rows[0].path, ["a", "b"]);
        assert_eq!(
            (rows[0].conversions, rows[0].value, rows[0].nulls),
            (2, 10.5, 3)
        );
        let bad = b"path,total_conversions,total_conversion_value,total_null\na,1,1,0\nb,x,1,0\n";
        let e = read("p.csv", bad).unwrap_err().to_string();
        assert_eq!(
            e,
            "p.csv: line 3: column `total_conversions`: \"x\" is not a whole number >= 0"
        );
    }
}
