//! Reading journey files for the example programs (the format is
//! `docs/FORMAT.md`, also the `touchpoint::format` docs page), and crediting
//! aggregated path rows by weight. The library itself does no I/O; this is
//! the part an embedding program writes.
//!
//! Nothing is dropped or misread silently: every problem is a [`ReadError`]
//! naming the line, the field and the [`Reason`]. The rules (one for every
//! format): duplicate journey ids are rejected; empty (or whitespace-only)
//! channel names are rejected; a `*.paths.csv` row has exactly four fields,
//! counts that fit in `i64` and whose sum does not overflow, and no value
//! without conversions.
//!
//! The tests of this module are `tests/integration/readers.rs`, over the
//! bad-input corpus in `tests/data/bad/`.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;
use touchpoint::Report as ChannelCredits;
use touchpoint::chrono::{DateTime, Utc};
use touchpoint::{
    AttributionModel, Breakdowns, CreditPartial, Currency, JourneySet, Milestone, Report,
    SimpleJourney, SimpleTouch,
};

/// Why a line was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Not valid JSON.
    NotJson(String),
    /// Not a JSON object.
    NotObject,
    /// A required field is absent (or `null`).
    Missing,
    /// The field has the wrong type; what was expected.
    WrongType(&'static str),
    /// A timestamp that is not RFC 3339.
    BadTimestamp(String),
    /// An amount that is not a finite number >= 0 representable in minor units.
    BadAmount(String),
    /// A milestone other than `lead_created`, `opportunity_created`, `closed`.
    BadMilestone(String),
    /// An empty or whitespace-only channel name.
    EmptyChannel,
    /// A journey id already used on `first_line`.
    DuplicateId {
        /// The id.
        id: String,
        /// Where it was first used.
        first_line: usize,
    },
    /// A paths row without exactly four comma-separated fields.
    Columns {
        /// Fields found.
        found: usize,
    },
    /// A count that is not an integer from 0 to `i64::MAX`.
    BadCount(String),
    /// `total_conversions + total_null` overflows.
    CountOverflow,
    /// A positive value with 0 conversions: it would belong to no journey.
    ValueWithoutConversions,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotJson(e) => write!(f, "not valid JSON: {e}"),
            Reason::NotObject => write!(f, "expected a JSON object"),
            Reason::Missing => write!(f, "missing"),
            Reason::WrongType(t) => write!(f, "expected {t}"),
            Reason::BadTimestamp(e) => write!(f, "not an RFC 3339 timestamp: {e}"),
            Reason::BadAmount(v) => write!(
                f,
                "{v} is not a finite amount >= 0 (at most 2^53 minor units)"
            ),
            Reason::BadMilestone(v) => write!(
                f,
                "{v:?} is not lead_created, opportunity_created or closed"
            ),
            Reason::EmptyChannel => write!(f, "empty channel name"),
            Reason::DuplicateId { id, first_line } => {
                write!(
                    f,
                    "duplicate journey id {id:?} (first on line {first_line})"
                )
            }
            Reason::Columns { found } => write!(
                f,
                "expected 4 comma-separated fields (path,total_conversions,total_conversion_value,total_null), found {found}"
            ),
            Reason::BadCount(v) => write!(f, "{v:?} is not a count from 0 to 2^63 - 1"),
            Reason::CountOverflow => write!(f, "total_conversions + total_null overflows"),
            Reason::ValueWithoutConversions => {
                write!(f, "a value with 0 conversions belongs to no journey")
            }
        }
    }
}

/// A rejected line: where, which field, why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    /// 1-based line number.
    pub line: usize,
    /// The field (`id`, `touchpoints[2].channel`, `total_null`, ...), empty
    /// for the whole line.
    pub field: String,
    /// What is wrong.
    pub reason: Reason,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "line {}: {}", self.line, self.reason)
        } else {
            write!(
                f,
                "line {}: field `{}`: {}",
                self.line, self.field, self.reason
            )
        }
    }
}

impl std::error::Error for ReadError {}

fn err(line: usize, field: impl Into<String>, reason: Reason) -> ReadError {
    ReadError {
        line,
        field: field.into(),
        reason,
    }
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn required<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
    line: usize,
    path: &str,
) -> Result<&'a Value, ReadError> {
    field(obj, name).ok_or_else(|| err(line, path, Reason::Missing))
}

fn ts(v: &Value, line: usize, path: &str) -> Result<DateTime<Utc>, ReadError> {
    let s = v
        .as_str()
        .ok_or_else(|| err(line, path, Reason::WrongType("an RFC 3339 string")))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| err(line, path, Reason::BadTimestamp(format!("{e}: {s:?}"))))
}

fn string<'a>(v: &'a Value, line: usize, path: &str) -> Result<&'a str, ReadError> {
    v.as_str()
        .ok_or_else(|| err(line, path, Reason::WrongType("a string")))
}

/// A finite amount >= 0 that converts exactly to minor units of `currency`.
fn amount(v: &Value, line: usize, path: &str, currency: Currency) -> Result<f64, ReadError> {
    let x = v
        .as_f64()
        .ok_or_else(|| err(line, path, Reason::WrongType("a number")))?;
    match currency.to_minor(x) {
        Ok(Some(_)) => Ok(x),
        _ => Err(err(line, path, Reason::BadAmount(v.to_string()))),
    }
}

/// Parses one line of the JSON-lines format (`line` is 1-based, for
/// messages), amounts checked against the default currency (2 decimals).
///
/// # Errors
///
/// A [`ReadError`] naming the line and the field.
pub fn parse_journey(text: &str, line: usize) -> Result<SimpleJourney, ReadError> {
    let currency = Currency::default();
    let v: Value =
        serde_json::from_str(text).map_err(|e| err(line, "", Reason::NotJson(e.to_string())))?;
    let obj = v
        .as_object()
        .ok_or_else(|| err(line, "", Reason::NotObject))?;
    let id = string(required(obj, "id", line, "id")?, line, "id")?.to_owned();
    let converted = required(obj, "converted", line, "converted")?
        .as_bool()
        .ok_or_else(|| err(line, "converted", Reason::WrongType("true or false")))?;
    let value = match field(obj, "value") {
        Some(v) => amount(v, line, "value", currency)?,
        None => 0.0,
    };
    let conversion_ts = match field(obj, "conversion_ts") {
        Some(v) => Some(ts(v, line, "conversion_ts")?),
        None => None,
    };
    let touches = required(obj, "touchpoints", line, "touchpoints")?
        .as_array()
        .ok_or_else(|| err(line, "touchpoints", Reason::WrongType("an array")))?;
    let mut j = SimpleJourney::new(id);
    j.converted = converted;
    j.value = if converted { value } else { 0.0 };
    j.conversion_ts = conversion_ts;
    for (i, t) in touches.iter().enumerate() {
        let p = |f: &str| format!("touchpoints[{i}].{f}");
        let o = t.as_object().ok_or_else(|| {
            err(
                line,
                format!("touchpoints[{i}]"),
                Reason::WrongType("an object"),
            )
        })?;
        let channel = string(
            required(o, "channel", line, &p("channel"))?,
            line,
            &p("channel"),
        )?;
        if channel.trim().is_empty() {
            return Err(err(line, p("channel"), Reason::EmptyChannel));
        }
        let at = ts(required(o, "ts", line, &p("ts"))?, line, &p("ts"))?;
        let mut touch = SimpleTouch::new(channel, at);
        if let Some(v) = field(o, "campaign") {
            touch.campaign = Some(string(v, line, &p("campaign"))?.into());
        }
        if let Some(v) = field(o, "content") {
            touch.content = Some(string(v, line, &p("content"))?.into());
        }
        if let Some(v) = field(o, "cost") {
            touch.cost = Some(amount(v, line, &p("cost"), currency)?);
        }
        if let Some(v) = field(o, "milestone") {
            touch.milestone = Some(match v.as_str() {
                Some("lead_created") => Milestone::LeadCreated,
                Some("opportunity_created") => Milestone::OpportunityCreated,
                Some("closed") => Milestone::Closed,
                _ => {
                    return Err(err(
                        line,
                        p("milestone"),
                        Reason::BadMilestone(v.to_string()),
                    ));
                }
            });
        }
        j.touchpoints.push(touch);
    }
    Ok(j)
}

/// Parses a whole JSON-lines text; blank lines are skipped. Returns each
/// journey with its line number.
///
/// # Errors
///
/// The first line's [`ReadError`], including a duplicate journey id
/// ([`Reason::DuplicateId`]: the policy is to reject, see the module docs).
pub fn parse_journeys_with_lines(text: &str) -> Result<Vec<(usize, SimpleJourney)>, ReadError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let j = parse_journey(l, line)?;
        if let Some(&first_line) = seen.get(&j.id) {
            return Err(err(
                line,
                "id",
                Reason::DuplicateId {
                    id: j.id.clone(),
                    first_line,
                },
            ));
        }
        seen.insert(j.id.clone(), line);
        out.push((line, j));
    }
    Ok(out)
}

/// [`parse_journeys_with_lines`] without the line numbers.
///
/// # Errors
///
/// As [`parse_journeys_with_lines`].
pub fn parse_journeys(text: &str) -> Result<Vec<SimpleJourney>, ReadError> {
    Ok(parse_journeys_with_lines(text)?
        .into_iter()
        .map(|(_, j)| j)
        .collect())
}

/// Interns parsed journeys, naming the line of a journey the library
/// rejects.
///
/// # Errors
///
/// The library's error, prefixed with the line.
pub fn journey_set(journeys: &[(usize, SimpleJourney)]) -> Result<JourneySet, String> {
    let mut set = JourneySet::new();
    for (line, j) in journeys {
        set.push(j).map_err(|e| format!("line {line}: {e}"))?;
    }
    Ok(set)
}

/// One row of a `*.paths.csv` file.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    /// 1-based line number.
    pub line: usize,
    /// The channel sequence.
    pub path: Vec<String>,
    /// Converting journeys with this path.
    pub conversions: u64,
    /// Their total value, minor units.
    pub value_minor: i64,
    /// Non-converting journeys with this path.
    pub nulls: u64,
}

fn count(s: &str, line: usize, name: &str) -> Result<u64, ReadError> {
    let s = s.trim();
    match s.parse::<u64>() {
        Ok(n) if i64::try_from(n).is_ok() => Ok(n),
        _ => Err(err(line, name, Reason::BadCount(s.to_owned()))),
    }
}

/// Parses a `*.paths.csv` text
/// (`path,total_conversions,total_conversion_value,total_null`; the header
/// line is optional; blank lines are skipped), values in `currency`.
///
/// # Errors
///
/// The first row's [`ReadError`]: wrong number of fields, an empty channel
/// name, a count out of range or overflowing, a bad value, a value with 0
/// conversions.
pub fn parse_paths(text: &str, currency: Currency) -> Result<Vec<PathRow>, ReadError> {
    let mut rows = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() || (line == 1 && l.starts_with("path,")) {
            continue;
        }
        let cols: Vec<&str> = l.split(',').collect();
        if cols.len() != 4 {
            return Err(err(line, "", Reason::Columns { found: cols.len() }));
        }
        let path: Vec<String> = cols[0].split('>').map(|s| s.trim().to_owned()).collect();
        if path.iter().any(String::is_empty) {
            return Err(err(line, "path", Reason::EmptyChannel));
        }
        let conversions = count(cols[1], line, "total_conversions")?;
        let v = cols[2].trim();
        let value_minor = v
            .parse::<f64>()
            .ok()
            .and_then(|x| currency.to_minor(x).ok().flatten())
            .ok_or_else(|| {
                err(
                    line,
                    "total_conversion_value",
                    Reason::BadAmount(v.to_owned()),
                )
            })?;
        let nulls = count(cols[3], line, "total_null")?;
        if conversions
            .checked_add(nulls)
            .is_none_or(|n| i64::try_from(n).is_err())
        {
            return Err(err(line, "total_null", Reason::CountOverflow));
        }
        if conversions == 0 && value_minor != 0 {
            return Err(err(
                line,
                "total_conversion_value",
                Reason::ValueWithoutConversions,
            ));
        }
        rows.push(PathRow {
            line,
            path,
            conversions,
            value_minor,
            nulls,
        });
    }
    Ok(rows)
}

/// Exact credit per channel: conversion units (10⁻⁹ conversion) and minor
/// units, with the input's totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// The model's name.
    pub model: String,
    /// Whether every channel on a journey gets full credit (participation):
    /// lines do not sum to the totals.
    pub full_credit: bool,
    /// Journeys read, converted or not.
    pub journeys: u128,
    /// Converted journeys.
    pub conversions: u128,
    /// Their value, minor units.
    pub value_minor: i128,
    /// Per channel: (conversion units, minor units), by name.
    pub channels: BTreeMap<String, (u128, i128)>,
    /// Converting journeys with no touch: (conversion units, minor units).
    pub unassigned: (u128, i128),
}

/// Conversion units per conversion (10⁹).
pub const UNITS: u128 = touchpoint::CONVERSION_UNITS as u128;

impl Tally {
    /// From a per-journey report.
    pub fn from_report(r: &Report) -> Tally {
        let un = r.channels().unassigned();
        Tally {
            model: r.model().to_owned(),
            full_credit: r.is_full_credit(),
            journeys: u128::from(r.journeys()),
            conversions: u128::from(r.conversions()),
            value_minor: r.value_minor(),
            channels: r
                .channels()
                .lines()
                .iter()
                .map(|c| (c.name().to_owned(), (c.conversion_units(), c.value_minor())))
                .collect(),
            unassigned: (un.conversion_units(), un.value_minor()),
        }
    }

    /// A fitted model's channel-level credit (Markov, Shapley), with the
    /// input's totals: converting journeys with no touch are `unassigned`.
    pub fn from_channel_credits(
        c: &ChannelCredits,
        journeys: u128,
        conversions: u128,
        value_minor: i128,
    ) -> Tally {
        let un = c.channels().unassigned();
        Tally {
            model: c.model().to_owned(),
            full_credit: false,
            journeys,
            conversions,
            value_minor,
            channels: c
                .channels()
                .lines()
                .iter()
                .map(|l| (l.name().to_owned(), (l.conversion_units(), l.value_minor())))
                .collect(),
            unassigned: (un.conversion_units(), un.value_minor()),
        }
    }

    /// Whether the lines plus unassigned equal the totals exactly (always
    /// true of share-based models; participation is exempt).
    pub fn reconciles(&self) -> bool {
        if self.full_credit {
            return true;
        }
        let units: u128 = self.channels.values().map(|c| c.0).sum::<u128>() + self.unassigned.0;
        let value: i128 = self.channels.values().map(|c| c.1).sum::<i128>() + self.unassigned.1;
        units == self.conversions * UNITS && value == self.value_minor
    }
}

/// The journeys one path row stands for, as at most two distinct converting
/// journeys (the row's value split equally to the cent: `value % n` of them
/// get one cent more) and one non-converting journey, each with its count.
fn row_groups(row: &PathRow) -> [(u64, i64, bool); 3] {
    let n = row.conversions;
    let (base, extra) = if n == 0 {
        (0, 0)
    } else {
        // value_minor >= 0 and n <= i64::MAX
        let n = n as i64;
        (row.value_minor / n, (row.value_minor % n) as u64)
    };
    [
        (extra, base + 1, true),
        (n - extra, base, true),
        (row.nulls, 0, false),
    ]
}

/// One journey of a path row: touches one day apart from the epoch.
pub fn row_journey(row: &PathRow, id: &str, value_minor: i64, converted: bool) -> SimpleJourney {
    let day = |k: usize| DateTime::from_timestamp(86_400 * k as i64, 0).unwrap_or_default();
    let mut j = SimpleJourney::new(id);
    j.touchpoints = row
        .path
        .iter()
        .enumerate()
        .map(|(k, c)| SimpleTouch::new(c.as_str(), day(k)))
        .collect();
    if converted {
        j = j.converted(Currency::default().to_major(value_minor));
    }
    j
}

/// Representative journeys of path rows with their line and count, for fits that
/// take frequency weights (at most three journeys per row).
pub fn row_representatives(rows: &[PathRow]) -> Vec<(usize, SimpleJourney, u64)> {
    let mut out = Vec::new();
    for row in rows {
        for (k, (count, value, converted)) in row_groups(row).into_iter().enumerate() {
            if count > 0 {
                out.push((
                    row.line,
                    row_journey(row, &format!("row{}-{k}", row.line), value, converted),
                    count,
                ));
            }
        }
    }
    out
}

/// The converting journeys of path rows, interned once: at most two
/// distinct journeys per row (the row's value split equally to the cent:
/// `value % n` of its journeys get one cent more), each with how many
/// journeys it stands for, and the rows' totals. Built while reading the
/// file (it does not depend on the model), so that crediting is one tight
/// pass over the distinct journeys, whatever the model.
///
/// Journeys that did not convert earn no credit and are left out of the
/// set (they are counted in the totals): a channel that appears only on
/// them has no line, as before.
#[derive(Debug, Clone)]
pub struct PathJourneys {
    /// The distinct converting journeys, touches one day apart from the
    /// epoch, each named after its row's line (`line 7`).
    pub set: JourneySet,
    /// How many journeys each journey of `set` stands for.
    pub counts: Vec<u64>,
    /// Journeys of the rows, converted or not.
    pub journeys: u128,
    /// Converted journeys.
    pub conversions: u128,
    /// Their value, minor units.
    pub value_minor: i128,
}

/// Interns the converting journeys of `rows` (see [`PathJourneys`]).
///
/// # Errors
///
/// The library's error for a journey it rejects, naming the row's line.
pub fn path_journeys(rows: &[PathRow]) -> Result<PathJourneys, String> {
    let mut p = PathJourneys {
        set: JourneySet::new(),
        counts: Vec::new(),
        journeys: 0,
        conversions: 0,
        value_minor: 0,
    };
    for row in rows {
        p.journeys += u128::from(row.conversions) + u128::from(row.nulls);
        p.conversions += u128::from(row.conversions);
        p.value_minor += i128::from(row.value_minor);
        for (count, value, converted) in row_groups(row) {
            if count == 0 || !converted {
                continue;
            }
            let j = row_journey(row, &format!("line {}", row.line), value, true);
            p.set
                .push(&j)
                .map_err(|e| format!("line {}: {e}", row.line))?;
            p.counts.push(count);
        }
    }
    Ok(p)
}

/// Credits aggregated path rows **by weight**: [`path_journeys`], then
/// [`credit_path_journeys`].
///
/// # Errors
///
/// As both.
pub fn credit_paths<M: AttributionModel + ?Sized>(
    model: &M,
    rows: &[PathRow],
) -> Result<Tally, String> {
    credit_path_journeys(model, &path_journeys(rows)?)
}

/// Credits the distinct journeys of path rows **by weight**: each is
/// credited once and its credit multiplied by its count
/// ([`CreditPartial::observe_set_counted_with`]). Exactly the result of
/// expanding every row into its journeys, in time independent of the
/// counts (a count of 2^62 costs what a count of 1 costs). Totals are the
/// rows' totals; the input's currency is the default (2 decimals).
///
/// This is the one function every rule-based (or fitted per-journey) model
/// goes through on paths. It does not use `CreditPartial::observe_path`,
/// which splits a row's whole value once over the path (conserving it, but
/// a touch may differ by a cent from the sum of per-journey splits): this
/// example's output is the expanded journeys' credit, to the cent.
///
/// Only the channel breakdown is computed (paths name no campaign or
/// content); every channel on a converting path has a line, credited or
/// not.
///
/// # Errors
///
/// The model's errors (naming the journey, `line N`, of the row).
pub fn credit_path_journeys<M: AttributionModel + ?Sized>(
    model: &M,
    paths: &PathJourneys,
) -> Result<Tally, String> {
    let config = CreditPartial::with_currency(model, Currency::default())
        .config()
        .clone()
        .with_breakdowns(Breakdowns::CHANNELS);
    let mut partial = CreditPartial::new(config);
    partial
        .observe_set_counted_with(model, &paths.set, &paths.counts)
        .map_err(|e| e.to_string())?;
    let report = partial.finish();
    Ok(Tally {
        journeys: paths.journeys,
        conversions: paths.conversions,
        value_minor: paths.value_minor,
        ..Tally::from_report(&report)
    })
}

/// What one journey looks like to the fallback notes: its channels, whether
/// a touch carries a milestone, whether it converted and has a conversion
/// time.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    /// Channel names in time order.
    pub channels: &'a [String],
    /// Some touch carries a milestone.
    pub has_milestone: bool,
    /// It converted.
    pub converted: bool,
    /// It has a conversion time.
    pub has_conversion_ts: bool,
    /// How many journeys it stands for.
    pub count: u64,
}

/// Every fallback `model` takes on these journeys, as sentences for the
/// output (`direct`: the channels last non-direct skips).
pub fn fallback_notes<'a>(
    model: &str,
    direct: &[String],
    journeys: impl IntoIterator<Item = Shape<'a>>,
) -> Vec<String> {
    let (mut converted, mut no_milestone, mut all_direct, mut no_ts) = (0u128, 0u128, 0u128, 0u128);
    for s in journeys {
        if !s.converted || s.channels.is_empty() {
            continue;
        }
        let n = u128::from(s.count);
        converted += n;
        if !s.has_milestone {
            no_milestone += n;
        }
        if s.channels.iter().all(|c| direct.contains(c)) {
            all_direct += n;
        }
        if !s.has_conversion_ts {
            no_ts += n;
        }
    }
    let mut notes = Vec::new();
    match model {
        "w_shaped" | "full_path" if no_milestone > 0 => notes.push(format!(
            "{no_milestone} of {converted} converting journeys with touches carry no milestone: \
             {model} gives them 90% to the first touch and 10% to the others, \
             so w_shaped and full_path credit them identically"
        )),
        "last_non_direct" if all_direct > 0 => notes.push(format!(
            "{all_direct} of {converted} converting journeys with touches are all direct ({}): \
             last_non_direct falls back to their last touch",
            direct.join(", ")
        )),
        "time_decay" if no_ts > 0 => notes.push(format!(
            "{no_ts} of {converted} converting journeys with touches have no conversion time: \
             time_decay measures age back from their last touch"
        )),
        "participation" => notes.push(
            "participation gives every channel on a journey full credit: \
             channel lines do not sum to the totals"
                .to_owned(),
        ),
        _ => {}
    }
    notes
}

/// A ratio for display: `n/a` when the denominator is zero.
pub fn ratio(num: f64, den: f64, decimals: usize) -> String {
    if den == 0.0 {
        "n/a".to_owned()
    } else {
        format!("{:.decimals$}", num / den)
    }
}
