//! Rendering: aligned tables (comfy-table), CSV (csv), JSON (serde_json).

use std::io::Write;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::error::{CliError, Result};

/// A generic table: a header and rows of cells; numbers after the first
/// column are right-aligned.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    /// Title printed above it on a terminal.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
    /// Notes printed under it on a terminal (definitions, fallbacks).
    pub notes: Vec<String>,
}

impl Grid {
    /// Renders as an aligned text table.
    pub fn to_text(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(self.header.iter().map(Cell::new));
        for r in &self.rows {
            t.add_row(r.iter().enumerate().map(|(i, c)| {
                let cell = Cell::new(c);
                if i == 0 {
                    cell
                } else {
                    cell.set_alignment(CellAlignment::Right)
                }
            }));
        }
        let mut s = String::new();
        if !self.title.is_empty() {
            s.push_str(&self.title);
            s.push('\n');
        }
        s.push_str(&t.to_string());
        s.push('\n');
        for n in &self.notes {
            s.push_str(n);
            s.push('\n');
        }
        s
    }

    /// Renders as CSV (header row, then rows).
    ///
    /// # Errors
    ///
    /// Never in practice (writes to memory).
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let e = |e: csv::Error| CliError::Other(format!("csv output: {e}"));
        w.write_record(&self.header).map_err(e)?;
        for r in &self.rows {
            w.write_record(r).map_err(e)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CliError::Other(format!("csv output: {e}")))?;
        String::from_utf8(bytes).map_err(|e| CliError::Other(format!("csv output: {e}")))
    }
}

/// Writes to stdout; a closed pipe ends quietly.
///
/// # Errors
///
/// Other write failures.
pub fn print(s: &str) -> Result<()> {
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Io {
            file: "<stdout>".into(),
            source: e,
        }),
    }
}

/// Prints a value as pretty JSON.
///
/// # Errors
///
/// Write failures.
pub fn print_json<T: Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| CliError::Other(format!("json output: {e}")))?;
    print(&(s + "\n"))
}

/// `1234567.891` -> `1,234,567.89`.
pub fn money(x: f64) -> String {
    let neg = x < 0.0;
    let s = format!("{:.2}", x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}.{frac}", if neg { "-" } else { "" })
}

/// A share as `12.3%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// An optional ratio as a percentage, or `n/a`.
pub fn opt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), pct)
}

/// An optional amount, or `n/a`.
pub fn opt_money(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), money)
}

/// An optional number of days, or `n/a`.
pub fn opt_days(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |d| format!("{d:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1_234_567.891), "1,234,567.89");
        assert_eq!(money(-12.5), "-12.50");
        assert_eq!(money(0.0), "0.00");
    }

    #[test]
    fn csv_quotes_commas() {
        let g = Grid {
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["x,y".into(), "1".into()]],
            ..Grid::default()
        };
        assert_eq!(g.to_csv().unwrap(), "a,b\n\"x,y\",1\n");
    }
}
