//! The crate's JSON-lines journeys, read with serde derive on borrowed data
//! (no `serde_json::Value`, no copy of a string that has no escapes): each
//! line becomes a [`RawJourney`] that implements the core's `Journey` trait
//! and is interned straight into a `JourneySet`.
//!
//! On a bad line the line is parsed a second time through
//! `serde_path_to_error` to name the field (`touchpoints[2].ts`); the fast
//! path pays nothing for that.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use touchpoint::{Journey, JourneySet, Milestone, Outcome, Touchpoint};

use crate::error::{CliError, Result};

/// One journey line, borrowing its strings from the input text.
#[derive(Debug, Deserialize)]
pub struct RawJourney<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    converted: bool,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default, deserialize_with = "opt_rfc3339")]
    conversion_ts: Option<DateTime<Utc>>,
    #[serde(borrow)]
    touchpoints: Vec<RawTouch<'a>>,
}

/// One touch of a [`RawJourney`].
#[derive(Debug, Deserialize)]
pub struct RawTouch<'a> {
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(deserialize_with = "rfc3339")]
    ts: DateTime<Utc>,
    #[serde(default, borrow)]
    campaign: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default)]
    cost: Option<f64>,
    #[serde(default)]
    milestone: Option<Milestone>,
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The common exact form `YYYY-MM-DDTHH:MM:SSZ`, parsed without chrono's
/// general parser; anything else (fractions, offsets, bad fields) returns
/// `None` and goes through chrono.
fn fast_utc(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || d < 1
        || d > mdays[(mo - 1) as usize]
        || h > 23
        || mi > 59
        || se > 59
    {
        return None;
    }
    DateTime::from_timestamp(
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se,
        0,
    )
}

fn parse_ts<E: serde::de::Error>(s: &str) -> std::result::Result<DateTime<Utc>, E> {
    if let Some(t) = fast_utc(s) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| E::custom(format!("{s:?} is not an RFC 3339 time: {e}")))
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<DateTime<Utc>, D::Error> {
    let s: Cow<'de, str> = Deserialize::deserialize(d)?;
    parse_ts(&s)
}

fn opt_rfc3339<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    let s: Option<Cow<'de, str>> = Deserialize::deserialize(d)?;
    s.map(|s| parse_ts(&s)).transpose()
}

impl Touchpoint for RawTouch<'_> {
    fn channel(&self) -> &str {
        &self.channel
    }
    fn timestamp(&self) -> DateTime<Utc> {
        self.ts
    }
    fn campaign(&self) -> Option<&str> {
        self.campaign.as_deref()
    }
    fn content(&self) -> Option<&str> {
        self.content.as_deref()
    }
    fn cost(&self) -> Option<f64> {
        self.cost
    }
    fn milestone(&self) -> Option<Milestone> {
        self.milestone
    }
}

impl<'a> Journey for RawJourney<'a> {
    type Touch = RawTouch<'a>;
    fn id(&self) -> &str {
        &self.id
    }
    fn touchpoints(&self) -> &[RawTouch<'a>] {
        &self.touchpoints
    }
    fn outcome(&self) -> Outcome {
        Outcome {
            converted: self.converted,
            value: if self.converted {
                self.value.unwrap_or(0.0)
            } else {
                0.0
            },
            conversion_ts: self.conversion_ts,
        }
    }
}

/// What reading a JSON-lines text found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JsonlCounts {
    /// Journey lines read.
    pub journeys: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Non-converted journeys that carried a value (the value is ignored, as the format says).
    pub values_ignored: u64,
}

/// Parses one line; on error, names the field and the column.
pub fn parse_line<'a>(file: &str, line: u64, text: &'a str) -> Result<RawJourney<'a>> {
    match serde_json::from_str::<RawJourney<'a>>(text) {
        Ok(j) => Ok(j),
        Err(e) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let field = match serde_path_to_error::deserialize::<_, RawJourney<'_>>(&mut de) {
                Err(pe) => {
                    let p = pe.path().to_string();
                    (p != ".").then_some(p)
                }
                Ok(_) => None,
            };
            let msg = strip_position(&e.to_string());
            Err(CliError::data(
                file,
                Some(line),
                field.as_deref(),
                format!("{msg} (character {})", e.column()),
            ))
        }
    }
}

/// serde_json appends " at line L column C"; the caller states the position itself.
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

/// Reads every line of `text` into `set`, naming file and line on error.
/// `on_line` is called with the number of bytes consumed so far (progress).
pub fn read_into(
    file: &str,
    text: &str,
    set: &mut JourneySet,
    mut on_bytes: impl FnMut(usize),
) -> Result<JsonlCounts> {
    let mut counts = JsonlCounts::default();
    let mut consumed = 0usize;
    for (i, l) in text.split('\n').enumerate() {
        consumed += l.len() + 1;
        if i % 65_536 == 0 {
            on_bytes(consumed.min(text.len()));
        }
        let line = i as u64 + 1;
        let l = l.strip_suffix('\r').unwrap_or(l);
        if l.trim().is_empty() {
            counts.blank_lines += 1;
            continue;
        }
        let j = parse_line(file, line, l)?;
        if !j.converted && j.value.is_some_and(|v| v != 0.0) {
            counts.values_ignored += 1;
        }
        set.push(&j)
            .map_err(|e| CliError::data(file, Some(line), None, e.to_string()))?;
        counts.journeys += 1;
    }
    // a final newline leaves one empty piece that is not a blank line of the file
    if text.ends_with('\n') {
        counts.blank_lines -= 1;
    }
    on_bytes(text.len());
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_journey_in_place() {
        let text = r#"{"id":"j1","converted":true,"value":12.5,"touchpoints":[{"channel":"email","ts":"2024-01-01T00:00:00Z","campaign":"c"},{"channel":"direct","ts":"2024-01-02T00:00:00Z","milestone":"lead_created"}]}"#;
        let j = parse_line("f", 1, text).unwrap();
        assert!(matches!(j.id, Cow::Borrowed("j1")));
        assert_eq!(j.touchpoints().len(), 2);
        assert_eq!(j.touchpoints()[1].milestone(), Some(Milestone::LeadCreated));
        assert_eq!(j.outcome().value, 12.5);
    }

    #[test]
    fn fast_timestamps_agree_with_chrono() {
        for t in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2000-03-01T12:34:56Z",
            "1900-02-28T00:00:01Z",
            "2025-12-31T09:15:00Z",
        ] {
            let chrono = DateTime::parse_from_rfc3339(t).unwrap().to_utc();
            assert_eq!(fast_utc(t), Some(chrono), "{t}");
        }
        for t in [
            "2025-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00+01:00",
            "2025-01-01 00:00:00Z",
        ] {
            assert_eq!(fast_utc(t), None, "{t}");
        }
    }

    #[test]
    fn names_the_field_of_a_bad_timestamp() {
        let text = r#"{"id":"j1","converted":false,"touchpoints":[{"channel":"email","ts":"2024-01-01T00:00:00Z"},{"channel":"direct","ts":"yesterday"}]}"#;
        let e = parse_line("f.jsonl", 7, text).unwrap_err().to_string();
        assert!(
            e.starts_with("f.jsonl: line 7: column `touchpoints[1].ts`: "),
            "{e}"
        );
        assert!(e.contains("not an RFC 3339 time"), "{e}");
    }

    #[test]
    fn counts_blank_lines_and_ignored_values() {
        let text = "{\"id\":\"a\",\"converted\":false,\"value\":3,\"touchpoints\":[]}\n\n{\"id\":\"b\",\"converted\":true,\"touchpoints\":[]}\n";
        let mut set = JourneySet::new();
        let c = read_into("f", text, &mut set, |_| {}).unwrap();
        assert_eq!(
            c,
            JsonlCounts {
                journeys: 2,
                blank_lines: 1,
                values_ignored: 1
            }
        );
        assert_eq!(set.len(), 2);
    }
}
