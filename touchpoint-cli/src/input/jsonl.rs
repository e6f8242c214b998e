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
    // the calendar date and the time of day, checked by chrono (no division
    // by days since an epoch, which is what `from_timestamp` would cost)
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(mo).ok()?,
        u32::try_from(d).ok()?,
    )?;
    let t = date.and_hms_opt(
        u32::try_from(h).ok()?,
        u32::try_from(mi).ok()?,
        u32::try_from(se).ok()?,
    )?;
    Some(t.and_utc())
}

fn parse_ts<E: serde::de::Error>(s: &str) -> std::result::Result<DateTime<Utc>, E> {
    if let Some(t) = fast_utc(s) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| E::custom(format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// Parses a time straight from the JSON string (borrowed, or the
/// deserializer's scratch buffer when it has escapes): no allocation.
struct TsVisitor;

impl<'de> serde::de::Visitor<'de> for TsVisitor {
    type Value = DateTime<Utc>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<DateTime<Utc>, E> {
        parse_ts(s)
    }
}

/// [`TsVisitor`] under an option (`null` or absent is `None`).
struct OptTsVisitor;

impl<'de> serde::de::Visitor<'de> for OptTsVisitor {
    type Value = Option<DateTime<Utc>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time or null")
    }
    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(TsVisitor).map(Some)
    }
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(TsVisitor)
}

fn opt_rfc3339<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(OptTsVisitor)
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

/// A journey line's fields other than its touches, borrowing its id.
#[derive(Debug)]
pub struct Head<'a> {
    id: Cow<'a, str>,
    converted: bool,
    value: Option<f64>,
    conversion_ts: Option<DateTime<Utc>>,
}

/// A journey line whose touches sit in a buffer reused from line to line
/// (what [`read_into`] interns: no allocation per line once the buffer
/// has grown).
#[derive(Debug)]
pub struct LineJourney<'a, 'b> {
    head: Head<'a>,
    touches: &'b [RawTouch<'a>],
}

impl<'a> Journey for LineJourney<'a, '_> {
    type Touch = RawTouch<'a>;
    fn id(&self) -> &str {
        &self.head.id
    }
    fn touchpoints(&self) -> &[RawTouch<'a>] {
        self.touches
    }
    fn outcome(&self) -> Outcome {
        Outcome {
            converted: self.head.converted,
            value: if self.head.converted {
                self.head.value.unwrap_or(0.0)
            } else {
                0.0
            },
            conversion_ts: self.head.conversion_ts,
        }
    }
}

/// The fields of a journey line.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Id,
    Converted,
    Value,
    ConversionTs,
    Touchpoints,
    #[serde(other)]
    Other,
}

/// A string borrowed from the input when it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                s: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Deserializes a touch array into a reused buffer.
struct TouchesSeed<'b, 'a>(&'b mut Vec<RawTouch<'a>>);

impl<'de> serde::de::DeserializeSeed<'de> for TouchesSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for TouchesSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of touches")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<(), A::Error> {
        while let Some(t) = seq.next_element::<RawTouch<'de>>()? {
            self.0.push(t);
        }
        Ok(())
    }
}

/// Deserializes a journey line, its touches into a reused buffer; the
/// same fields and rules as [`RawJourney`] (whose derive names the field
/// of an error).
struct LineSeed<'b, 'a>(&'b mut Vec<RawTouch<'a>>);

impl<'de> serde::de::DeserializeSeed<'de> for LineSeed<'_, 'de> {
    type Value = Head<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Head<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LineSeed<'_, 'de> {
    type Value = Head<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a journey object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Head<'de>, A::Error> {
        use serde::de::Error as _;
        struct OptTs(Option<DateTime<Utc>>);
        impl<'de> Deserialize<'de> for OptTs {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                opt_rfc3339(d).map(OptTs)
            }
        }
        let mut id: Option<Cow<'de, str>> = None;
        let mut converted: Option<bool> = None;
        let mut value: Option<Option<f64>> = None;
        let mut conversion_ts: Option<Option<DateTime<Utc>>> = None;
        let mut touches = false;
        self.0.clear();
        while let Some(k) = map.next_key::<Field>()? {
            match k {
                Field::Id if id.is_some() => return Err(A::Error::duplicate_field("id")),
                Field::Id => id = Some(map.next_value::<BorrowedStr<'de>>()?.0),
                Field::Converted if converted.is_some() => {
                    return Err(A::Error::duplicate_field("converted"));
                }
                Field::Converted => converted = Some(map.next_value()?),
                Field::Value if value.is_some() => {
                    return Err(A::Error::duplicate_field("value"));
                }
                Field::Value => value = Some(map.next_value()?),
                Field::ConversionTs if conversion_ts.is_some() => {
                    return Err(A::Error::duplicate_field("conversion_ts"));
                }
                Field::ConversionTs => conversion_ts = Some(map.next_value::<OptTs>()?.0),
                Field::Touchpoints if touches => {
                    return Err(A::Error::duplicate_field("touchpoints"));
                }
                Field::Touchpoints => {
                    map.next_value_seed(TouchesSeed(&mut *self.0))?;
                    touches = true;
                }
                Field::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if !touches {
            return Err(A::Error::missing_field("touchpoints"));
        }
        Ok(Head {
            id: id.ok_or_else(|| A::Error::missing_field("id"))?,
            converted: converted.ok_or_else(|| A::Error::missing_field("converted"))?,
            value: value.flatten(),
            conversion_ts: conversion_ts.flatten(),
        })
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
/// `on_bytes` is called with the number of bytes consumed so far (progress).
///
/// # Errors
///
/// A line that is not a journey (file, line and field named); a journey
/// the core refuses.
pub fn read_into(
    file: &str,
    text: &str,
    set: &mut JourneySet,
    on_bytes: impl FnMut(usize),
) -> Result<JsonlCounts> {
    read_with(file, text, on_bytes, |line, j| {
        set.push(j)
            .map_err(|e| CliError::data(file, Some(line), None, e.to_string()))
    })
}

/// Parses every line of `text` and hands each journey to `f` with its
/// line number: the touches sit in one buffer reused from line to line,
/// strings are borrowed from `text` when they have no escapes, and times
/// are parsed in place, so a line costs no allocation once the buffer
/// has grown. A line that fails is parsed again through the derived
/// [`RawJourney`] (and `serde_path_to_error`) to name the field.
///
/// # Errors
///
/// A line that is not a journey; `f`'s errors.
pub fn read_with(
    file: &str,
    text: &str,
    mut on_bytes: impl FnMut(usize),
    mut f: impl FnMut(u64, &LineJourney<'_, '_>) -> Result<()>,
) -> Result<JsonlCounts> {
    let mut counts = JsonlCounts::default();
    let mut consumed = 0usize;
    let mut buf: Vec<RawTouch<'_>> = Vec::new();
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
        let mut de = serde_json::Deserializer::from_str(l);
        let head = match serde::de::DeserializeSeed::deserialize(LineSeed(&mut buf), &mut de)
            .and_then(|h| de.end().map(|()| h))
        {
            Ok(h) => h,
            Err(_) => {
                // the derive path names the field of the error
                let j = parse_line(file, line, l)?;
                buf = j.touchpoints;
                Head {
                    id: j.id,
                    converted: j.converted,
                    value: j.value,
                    conversion_ts: j.conversion_ts,
                }
            }
        };
        if !head.converted && head.value.is_some_and(|v| v != 0.0) {
            counts.values_ignored += 1;
        }
        f(
            line,
            &LineJourney {
                head,
                touches: &buf,
            },
        )?;
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
