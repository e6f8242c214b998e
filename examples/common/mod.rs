//! Reading the JSON-lines journey format (`../shared/FORMAT.md`) for the
//! example programs. The library itself does no I/O; this is the part an
//! embedding program writes. Every error names the line and the field.

#![allow(dead_code)]

use serde_json::Value;
use touchpoint::{Milestone, SimpleJourney, SimpleTouch};

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn ts(v: &Value, line: usize, path: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("line {line}: field `{path}`: expected an RFC 3339 string"))?;
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| format!("line {line}: field `{path}`: {e}: {s:?}"))
}

fn string(v: &Value, line: usize, path: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("line {line}: field `{path}`: expected a string"))
}

fn amount(v: &Value, line: usize, path: &str) -> Result<f64, String> {
    let x = v
        .as_f64()
        .ok_or_else(|| format!("line {line}: field `{path}`: expected a number"))?;
    if !(x.is_finite() && x >= 0.0) {
        return Err(format!(
            "line {line}: field `{path}`: {x} is not a finite amount >= 0"
        ));
    }
    Ok(x)
}

/// Parses one line of the JSON-lines format (`line` is 1-based, for messages).
pub fn parse_journey(text: &str, line: usize) -> Result<SimpleJourney, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("line {line}: not valid JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| format!("line {line}: expected a JSON object"))?;
    let id = string(
        field(obj, "id").ok_or_else(|| format!("line {line}: missing field `id`"))?,
        line,
        "id",
    )?;
    let converted = field(obj, "converted")
        .ok_or_else(|| format!("line {line}: missing field `converted`"))?
        .as_bool()
        .ok_or_else(|| format!("line {line}: field `converted`: expected true or false"))?;
    let value = match field(obj, "value") {
        Some(v) => amount(v, line, "value")?,
        None => 0.0,
    };
    let conversion_ts = match field(obj, "conversion_ts") {
        Some(v) => Some(ts(v, line, "conversion_ts")?),
        None => None,
    };
    let touches = field(obj, "touchpoints")
        .ok_or_else(|| format!("line {line}: missing field `touchpoints`"))?
        .as_array()
        .ok_or_else(|| format!("line {line}: field `touchpoints`: expected an array"))?;
    let mut j = SimpleJourney::new(id);
    j.converted = converted;
    j.value = if converted { value } else { 0.0 };
    j.conversion_ts = conversion_ts;
    for (i, t) in touches.iter().enumerate() {
        let p = |f: &str| format!("touchpoints[{i}].{f}");
        let o = t
            .as_object()
            .ok_or_else(|| format!("line {line}: field `touchpoints[{i}]`: expected an object"))?;
        let channel = string(
            field(o, "channel")
                .ok_or_else(|| format!("line {line}: missing field `{}`", p("channel")))?,
            line,
            &p("channel"),
        )?;
        let at = ts(
            field(o, "ts").ok_or_else(|| format!("line {line}: missing field `{}`", p("ts")))?,
            line,
            &p("ts"),
        )?;
        let mut touch = SimpleTouch::new(channel, at);
        if let Some(v) = field(o, "campaign") {
            touch.campaign = Some(string(v, line, &p("campaign"))?);
        }
        if let Some(v) = field(o, "content") {
            touch.content = Some(string(v, line, &p("content"))?);
        }
        if let Some(v) = field(o, "cost") {
            touch.cost = Some(amount(v, line, &p("cost"))?);
        }
        if let Some(v) = field(o, "milestone") {
            touch.milestone = Some(match v.as_str() {
                Some("lead_created") => Milestone::LeadCreated,
                Some("opportunity_created") => Milestone::OpportunityCreated,
                Some("closed") => Milestone::Closed,
                _ => {
                    return Err(format!(
                        "line {line}: field `{}`: expected lead_created, opportunity_created or closed",
                        p("milestone")
                    ));
                }
            });
        }
        j.touchpoints.push(touch);
    }
    Ok(j)
}

/// Parses a whole JSON-lines text; blank lines are skipped.
pub fn parse_journeys(text: &str) -> Result<Vec<SimpleJourney>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_journey(l, i + 1))
        .collect()
}

/// One row of a `*.paths.csv` file.
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

/// Parses a `*.paths.csv` text: `path,total_conversions,total_conversion_value,total_null`.
pub fn parse_paths(text: &str) -> Result<Vec<PathRow>, String> {
    let mut rows = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() || (line == 1 && l.starts_with("path,")) {
            continue;
        }
        let cols: Vec<&str> = l.rsplitn(4, ',').collect();
        if cols.len() != 4 {
            return Err(format!("line {line}: expected 4 comma-separated fields"));
        }
        let (nulls, value, conversions, path) = (cols[0], cols[1], cols[2], cols[3]);
        let path: Vec<String> = path.split('>').map(|s| s.trim().to_owned()).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("line {line}: field `path`: empty channel name"));
        }
        let conversions = conversions
            .trim()
            .parse()
            .map_err(|e| format!("line {line}: field `total_conversions`: {e}"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|e| format!("line {line}: field `total_conversion_value`: {e}"))?;
        if !(value.is_finite() && value >= 0.0) {
            return Err(format!(
                "line {line}: field `total_conversion_value`: {value} is not a finite amount >= 0"
            ));
        }
        let nulls = nulls
            .trim()
            .parse()
            .map_err(|e| format!("line {line}: field `total_null`: {e}"))?;
        rows.push(PathRow {
            path,
            conversions,
            value,
            nulls,
        });
    }
    Ok(rows)
}
