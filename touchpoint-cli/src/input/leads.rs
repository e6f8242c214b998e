//! Leads files for the funnel and ROI commands.
//!
//! Two layouts:
//!
//! - **JSON lines**: one lead per line, the core's `Lead` serde form
//!   (`{"id", "owner", "account", "segment", "amount", "entries": [{"stage",
//!   "at", "reason"}], "touches": [{"channel", "ts", "campaign", "content"}]}`),
//!   as `touchpoint simulate --leads` writes it.
//! - **CSV**, one row per event of a lead, header
//!   `lead_id,at,stage,reason,channel,campaign,content,account,segment,owner,amount`:
//!   a row with `stage` is a stage entry (`inquiry`, `mql`, `sal`, `sql`,
//!   `opportunity`, `closed_won`, `closed_lost`, `disqualified`, `recycled`,
//!   optional `reason`); a row with `channel` is a touch (optional campaign,
//!   content); `account`, `segment`, `owner` (`marketing`/`sales`) and
//!   `amount` may be given on any row of the lead (the last non-empty wins).
//!   Only `lead_id` and `at` are required columns. See `data/leads.csv`.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use touchpoint::SimpleTouch;
use touchpoint::funnel::{Lead, Owner};

use crate::error::{CliError, Result};

/// Reads leads from a CSV or JSON-lines text (`is_csv` chooses).
pub fn read(file: &str, data: &[u8], is_csv: bool) -> Result<Vec<Lead>> {
    if is_csv {
        read_csv(file, data)
    } else {
        read_jsonl(file, data)
    }
}

fn read_jsonl(file: &str, data: &[u8]) -> Result<Vec<Lead>> {
    let text = std::str::from_utf8(data)
        .map_err(|e| CliError::data(file, None, None, format!("not UTF-8: {e}")))?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(l);
        let lead: Lead = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.to_string();
            let msg = msg
                .rfind(" at line ")
                .map_or(msg.clone(), |k| msg[..k].to_owned());
            CliError::data(
                file,
                Some(i as u64 + 1),
                (path != ".").then_some(path.as_str()),
                msg,
            )
        })?;
        out.push(lead);
    }
    Ok(out)
}

#[derive(Default)]
struct Acc {
    owner: Option<Owner>,
    account: Option<String>,
    segment: Option<String>,
    amount: Option<f64>,
    stages: Vec<(String, DateTime<Utc>, Option<String>)>,
    touches: Vec<SimpleTouch>,
}

fn read_csv(file: &str, data: &[u8]) -> Result<Vec<Lead>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(data);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| CliError::data(file, Some(1), None, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let need = |n: &str| {
        col(n).ok_or_else(|| {
            CliError::data(
                file,
                Some(1),
                Some(n),
                format!("missing column; the columns are: {}", headers.join(", ")),
            )
        })
    };
    let (id_c, at_c) = (need("lead_id")?, need("at")?);
    let [
        stage_c,
        reason_c,
        ch_c,
        camp_c,
        cont_c,
        acct_c,
        seg_c,
        own_c,
        amt_c,
    ] = [
        "stage", "reason", "channel", "campaign", "content", "account", "segment", "owner",
        "amount",
    ]
    .map(col);
    let mut leads: IndexMap<String, Acc> = IndexMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            CliError::data(file, e.position().map(|p| p.line()), None, e.to_string())
        })?;
        let line = rec.position().map(|p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let id = get(Some(id_c))
            .ok_or_else(|| CliError::data(file, line, Some("lead_id"), "missing lead id"))?;
        let at_s = get(Some(at_c))
            .ok_or_else(|| CliError::data(file, line, Some("at"), "missing time"))?;
        let at = DateTime::parse_from_rfc3339(at_s)
            .map(|t| t.to_utc())
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(at_s, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            })
            .map_err(|_| {
                CliError::data(
                    file,
                    line,
                    Some("at"),
                    format!("{at_s:?} is not an RFC 3339 time or a YYYY-MM-DD date"),
                )
            })?;
        let a = leads.entry(id.to_owned()).or_default();
        if let Some(o) = get(own_c) {
            a.owner = Some(match o {
                "marketing" => Owner::Marketing,
                "sales" => Owner::Sales,
                _ => {
                    return Err(CliError::data(
                        file,
                        line,
                        Some("owner"),
                        format!("{o:?}: expected marketing or sales"),
                    ));
                }
            });
        }
        if let Some(s) = get(acct_c) {
            a.account = Some(s.to_owned());
        }
        if let Some(s) = get(seg_c) {
            a.segment = Some(s.to_owned());
        }
        if let Some(s) = get(amt_c) {
            let x: f64 = s.parse().map_err(|_| {
                CliError::data(file, line, Some("amount"), format!("{s:?} is not a number"))
            })?;
            if !(x.is_finite() && x >= 0.0) {
                return Err(CliError::data(
                    file,
                    line,
                    Some("amount"),
                    format!("{x} is not a finite amount >= 0"),
                ));
            }
            a.amount = Some(x);
        }
        let stage = get(stage_c);
        let channel = get(ch_c);
        if stage.is_none() && channel.is_none() {
            return Err(CliError::data(
                file,
                line,
                None,
                "a row needs a stage or a channel",
            ));
        }
        if let Some(s) = stage {
            a.stages
                .push((s.to_owned(), at, get(reason_c).map(str::to_owned)));
        }
        if let Some(c) = channel {
            let mut t = SimpleTouch::new(c, at);
            if let Some(x) = get(camp_c) {
                t = t.campaign(x);
            }
            if let Some(x) = get(cont_c) {
                t = t.content(x);
            }
            a.touches.push(t);
        }
    }
    Ok(leads
        .into_iter()
        .map(|(id, a)| {
            let mut l = Lead::new(id).with_owner(a.owner.unwrap_or_default());
            if let Some(x) = a.account {
                l = l.with_account(x);
            }
            if let Some(x) = a.segment {
                l = l.with_segment(x);
            }
            if let Some(x) = a.amount {
                l = l.with_amount(x);
            }
            for t in a.touches {
                l = l.touch(t);
            }
            for (s, at, reason) in a.stages {
                l = match reason {
                    Some(r) => l.stage_with_reason(s, at, r),
                    None => l.stage(s, at),
                };
            }
            l
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_leads() {
        let text =
            b"lead_id,at,stage,reason,channel,campaign,content,account,segment,owner,amount\n\
l1,2025-01-02,,,webinar,q1,,acme,smb,,\n\
l1,2025-01-02,inquiry,,,,,,,,\n\
l1,2025-01-05,mql,,,,,,,,\n\
l2,2025-01-03T10:00:00Z,inquiry,,sdr,,,,,sales,\n\
l2,2025-01-09,disqualified,no budget,,,,,,,\n";
        let leads = read("l.csv", text, true).unwrap();
        assert_eq!(leads.len(), 2);
        assert_eq!(leads[0].entries().len(), 2);
        assert_eq!(leads[0].touches()[0].channel, "webinar");
        assert_eq!(leads[0].segment(), Some("smb"));
        assert_eq!(leads[1].owner(), Owner::Sales);
        assert_eq!(leads[1].entries()[1].reason.as_deref(), Some("no budget"));
    }

    #[test]
    fn bad_owner_names_row_and_column() {
        let text = b"lead_id,at,stage,owner\nl1,2025-01-02,inquiry,ceo\n";
        let e = read("l.csv", text, true).unwrap_err().to_string();
        assert_eq!(
            e,
            "l.csv: line 2: column `owner`: \"ceo\": expected marketing or sales"
        );
    }
}
