//! Spend files for ROI: CSV with header `channel,campaign,period,amount`
//! (`campaign` may be empty; `period` is free text such as `2025-01`), or
//! JSON lines with the same fields. Amounts in major units. See
//! `data/spend.csv`.

use serde::Deserialize;
use touchpoint::roi::Spend;

use crate::error::{CliError, Result};

#[derive(Debug, Deserialize)]
struct Line {
    channel: String,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    period: Option<String>,
    amount: f64,
}

/// Reads a spend file; errors name file, line and column.
pub fn read(file: &str, data: &[u8], is_csv: bool) -> Result<Spend> {
    let mut spend = Spend::new();
    let mut add = |line: u64, l: Line| -> Result<()> {
        let campaign = l
            .campaign
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let period = l
            .period
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("all");
        spend
            .add(l.channel.trim(), campaign, period, l.amount)
            .map_err(|e| CliError::data(file, Some(line), Some("amount"), e.to_string()))
    };
    if is_csv {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(data);
        let headers = rdr
            .headers()
            .map_err(|e| CliError::data(file, Some(1), None, e.to_string()))?
            .clone();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                CliError::data(file, e.position().map(|p| p.line()), None, e.to_string())
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            let l: Line = rec
                .deserialize(Some(&headers))
                .map_err(|e| match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => {
                        let col = err
                            .field()
                            .and_then(|f| headers.get(f as usize))
                            .map(str::to_owned);
                        CliError::data(file, Some(line), col.as_deref(), err.kind().to_string())
                    }
                    _ => CliError::data(file, Some(line), None, e.to_string()),
                })?;
            add(line, l)?;
        }
    } else {
        let text = std::str::from_utf8(data)
            .map_err(|e| CliError::data(file, None, None, format!("not UTF-8: {e}")))?;
        for (i, t) in text.lines().enumerate() {
            if t.trim().is_empty() {
                continue;
            }
            let mut de = serde_json::Deserializer::from_str(t);
            let l: Line = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                CliError::data(
                    file,
                    Some(i as u64 + 1),
                    (path != ".").then_some(path.as_str()),
                    e.into_inner().to_string(),
                )
            })?;
            add(i as u64 + 1, l)?;
        }
    }
    Ok(spend)
}
