//! Touch-level tables (one row per touch) from CSV (the `csv` crate) or
//! Parquet (the `parquet` crate's Arrow reader), grouped into journeys by
//! journey id.
//!
//! Columns are found by name: the `--*-col` flags, else the first default
//! present (GA4/BigQuery exports and UTM-tagged tables work unchanged):
//!
//! | role | defaults, first found wins |
//! |---|---|
//! | journey id | `journey_id`, `user_pseudo_id`, `id` |
//! | channel | `channel`, `default_channel_group`; else `source / medium` from `utm_source`+`utm_medium` or `source`+`medium` |
//! | time | `ts`, `timestamp`, `event_timestamp`, `event_time`: RFC 3339 text, a Parquet timestamp, or an integer epoch (`--ts-unit`; GA4's `event_timestamp` is in microseconds) |
//! | campaign, content | `campaign`/`utm_campaign`, `content`/`utm_content` |
//! | cost, milestone | `cost`, `milestone` |
//! | conversion | `converted` (true/false, 1/0, yes/no), `value`/`conversion_value`/`purchase_revenue`, `conversion_ts` |
//!
//! Rules (each counted in the summary on stderr, none silent):
//! - a journey converts if any of its rows has `converted` true; without a
//!   `converted` column, a row whose value is above zero is a conversion;
//! - its value is the sum of the values on its converting rows, its
//!   conversion time the latest `conversion_ts` (or the time of the latest
//!   converting row);
//! - a row with no channel is not a touch: if it converts it only carries
//!   the conversion ("conversion-only rows"), otherwise it is dropped and
//!   counted;
//! - a row with no journey id is dropped and counted;
//! - a row with a channel and no time is an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

#[cfg(feature = "parquet")]
use arrow_array::cast::AsArray;
#[cfg(feature = "parquet")]
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
#[cfg(feature = "parquet")]
use arrow_array::{Array, ArrayRef, RecordBatch};
#[cfg(feature = "parquet")]
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use touchpoint::{Journey, JourneySet, Milestone, Outcome, Touchpoint};

use crate::cli::{EpochUnit, InputArgs};

#[cfg(feature = "parquet")]
pub mod columnar;
use crate::error::{CliError, Result};

/// A touch owning shared channel names (one allocation per distinct name).
#[derive(Debug, Clone)]
pub struct OwnedTouch {
    channel: Rc<str>,
    ts: DateTime<Utc>,
    campaign: Option<Rc<str>>,
    content: Option<Rc<str>>,
    cost: Option<f64>,
    milestone: Option<Milestone>,
}

impl Touchpoint for OwnedTouch {
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

/// A journey being assembled from rows.
#[derive(Debug, Default)]
pub struct Building {
    id: String,
    touches: Vec<OwnedTouch>,
    converted: bool,
    value: f64,
    conversion_ts: Option<DateTime<Utc>>,
}

impl Journey for Building {
    type Touch = OwnedTouch;
    fn id(&self) -> &str {
        &self.id
    }
    fn touchpoints(&self) -> &[OwnedTouch] {
        &self.touches
    }
    fn outcome(&self) -> Outcome {
        Outcome {
            converted: self.converted,
            value: if self.converted { self.value } else { 0.0 },
            conversion_ts: self.conversion_ts,
        }
    }
}

/// What the touch reader found and what its rules did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TouchCounts {
    /// Rows read.
    pub rows: u64,
    /// Touches kept.
    pub touches: u64,
    /// Rows without a journey id (dropped).
    pub rows_without_journey: u64,
    /// Rows without a channel that carried a conversion.
    pub conversion_only_rows: u64,
    /// Rows without a channel and without a conversion (dropped).
    pub empty_rows_dropped: u64,
    /// Rows of the conversions file.
    pub conversion_file_rows: u64,
    /// Conversions-file rows whose journey had no touch (kept as journeys without touches: their value is unassigned).
    pub conversions_without_touches: u64,
    /// How the channel was found (`channel` or `utm_source / utm_medium`).
    pub channel_from: String,
    /// Journeys passed to a sink (streamed reads), instead of collected.
    pub streamed_journeys: Option<u64>,
}

#[derive(Debug, Clone)]
enum ChannelCol {
    One(usize),
    SourceMedium(usize, usize),
}

#[derive(Debug, Clone)]
struct Columns {
    journey: usize,
    channel: ChannelCol,
    ts: Option<usize>,
    campaign: Option<usize>,
    content: Option<usize>,
    cost: Option<usize>,
    milestone: Option<usize>,
    converted: Option<usize>,
    value: Option<usize>,
    conversion_ts: Option<usize>,
    names: Vec<String>,
}

fn find(
    names: &[String],
    flag: Option<&String>,
    defaults: &[&str],
    file: &str,
    flag_name: &str,
) -> Result<Option<usize>> {
    if let Some(f) = flag {
        return names.iter().position(|n| n == f).map(Some).ok_or_else(|| {
            CliError::data(
                file,
                None,
                Some(f),
                format!(
                    "no such column (given by {flag_name}); the columns are: {}",
                    names.join(", ")
                ),
            )
        });
    }
    Ok(defaults
        .iter()
        .find_map(|d| names.iter().position(|n| n == d)))
}

impl Columns {
    fn resolve(names: Vec<String>, a: &InputArgs, file: &str) -> Result<Columns> {
        let req = |o: Option<usize>, role: &str, flag: &str, defaults: &[&str]| {
            o.ok_or_else(|| {
                CliError::data(
                    file,
                    Some(1),
                    None,
                    format!(
                        "no {role} column: name it with {flag} (looked for {}; the columns are: {})",
                        defaults.join(", "),
                        names.join(", ")
                    ),
                )
            })
        };
        const J: [&str; 3] = ["journey_id", "user_pseudo_id", "id"];
        let journey = req(
            find(&names, a.journey_col.as_ref(), &J, file, "--journey-col")?,
            "journey id",
            "--journey-col",
            &J,
        )?;
        let channel = match find(
            &names,
            a.channel_col.as_ref(),
            &["channel", "default_channel_group"],
            file,
            "--channel-col",
        )? {
            Some(c) => ChannelCol::One(c),
            None => {
                let src = find(
                    &names,
                    a.source_col.as_ref(),
                    &["utm_source", "source"],
                    file,
                    "--source-col",
                )?;
                let med = find(
                    &names,
                    a.medium_col.as_ref(),
                    &["utm_medium", "medium"],
                    file,
                    "--medium-col",
                )?;
                match (src, med) {
                    (Some(s), Some(m)) => ChannelCol::SourceMedium(s, m),
                    _ => {
                        return Err(CliError::data(
                            file,
                            Some(1),
                            None,
                            format!(
                                "no channel column: name it with --channel-col, or --source-col and --medium-col (looked for channel, default_channel_group, utm_source+utm_medium, source+medium; the columns are: {})",
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        const T: [&str; 4] = ["ts", "timestamp", "event_timestamp", "event_time"];
        let ts = Some(req(
            find(&names, a.ts_col.as_ref(), &T, file, "--ts-col")?,
            "timestamp",
            "--ts-col",
            &T,
        )?);
        Ok(Columns {
            journey,
            channel,
            ts,
            campaign: find(
                &names,
                a.campaign_col.as_ref(),
                &["campaign", "utm_campaign"],
                file,
                "--campaign-col",
            )?,
            content: find(
                &names,
                a.content_col.as_ref(),
                &["content", "utm_content"],
                file,
                "--content-col",
            )?,
            cost: find(&names, a.cost_col.as_ref(), &["cost"], file, "--cost-col")?,
            milestone: find(
                &names,
                a.milestone_col.as_ref(),
                &["milestone"],
                file,
                "--milestone-col",
            )?,
            converted: find(
                &names,
                a.converted_col.as_ref(),
                &["converted"],
                file,
                "--converted-col",
            )?,
            value: find(
                &names,
                a.value_col.as_ref(),
                &["value", "conversion_value", "purchase_revenue"],
                file,
                "--value-col",
            )?,
            conversion_ts: find(
                &names,
                a.conversion_ts_col.as_ref(),
                &["conversion_ts"],
                file,
                "--conversion-ts-col",
            )?,
            names,
        })
    }

    fn channel_from(&self) -> String {
        match self.channel {
            ChannelCol::One(c) => self.names[c].clone(),
            ChannelCol::SourceMedium(s, m) => format!("{} / {}", self.names[s], self.names[m]),
        }
    }
}

/// A timestamp cell.
#[derive(Debug, Clone, Copy)]
enum TsCell<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Micros(i64),
}

/// A number cell.
#[derive(Debug, Clone, Copy)]
enum NumCell<'a> {
    Null,
    Text(&'a str),
    Num(f64),
}

/// A flag cell.
#[derive(Debug, Clone, Copy)]
enum FlagCell<'a> {
    Null,
    Text(&'a str),
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Bool(bool),
}

struct Row<'a> {
    journey: Option<&'a str>,
    channel: Option<Cow<'a, str>>,
    ts: TsCell<'a>,
    campaign: Option<&'a str>,
    content: Option<&'a str>,
    cost: NumCell<'a>,
    milestone: Option<&'a str>,
    converted: FlagCell<'a>,
    value: NumCell<'a>,
    conversion_ts: TsCell<'a>,
}

/// Groups rows into journeys.
/// Receives each journey of a touch table as soon as its rows end (rows of
/// a journey contiguous), instead of collecting them all.
pub type Sink<'f> = Box<dyn FnMut(&Building) -> Result<()> + 'f>;

/// The error text that tells the caller a streamed table was not grouped
/// by journey (it then reads the table again, collecting every journey).
pub const NOT_CONTIGUOUS: &str = "rows of a journey are not contiguous";

struct StreamState<'f> {
    sink: Sink<'f>,
    current: Building,
    has: bool,
    /// Hashes of the journey ids already passed to the sink (a collision
    /// only makes the caller fall back to the collecting path).
    seen: std::collections::HashSet<u64, BuildHasherDefault<IdHasher>>,
    journeys: u64,
}

impl StreamState<'_> {
    fn flush(&mut self) -> Result<()> {
        if self.has {
            (self.sink)(&self.current)?;
            self.journeys += 1;
            self.has = false;
        }
        Ok(())
    }
}

/// FNV-1a: a fast, fixed (seedless) hash of short names and ids; used for
/// the names table and the set of streamed journey ids (where a collision
/// only costs a fallback to the collecting path). No result depends on it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Passes a `u64` that is already a hash through.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

fn id_hash(id: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(id.as_bytes());
    // spread the bits for the table's low-bit indexing
    h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

struct Grouper<'f> {
    stream: Option<StreamState<'f>>,
    file: &'f str,
    unit: EpochUnit,
    cols: Columns,
    journeys: IndexMap<String, Building>,
    names: HashMap<String, Rc<str>, BuildHasherDefault<Fnv>>,
    counts: TouchCounts,
    /// Index of the journey of the previous row.
    last: usize,
}

fn epoch_to_ts(v: i64, unit: EpochUnit) -> Option<DateTime<Utc>> {
    let a = v.unsigned_abs();
    let unit = match unit {
        EpochUnit::Auto if a >= 100_000_000_000_000_000 => EpochUnit::Ns,
        EpochUnit::Auto if a >= 100_000_000_000_000 => EpochUnit::Us,
        EpochUnit::Auto if a >= 100_000_000_000 => EpochUnit::Ms,
        EpochUnit::Auto => EpochUnit::S,
        u => u,
    };
    match unit {
        EpochUnit::S => DateTime::from_timestamp(v, 0),
        EpochUnit::Ms => DateTime::from_timestamp_millis(v),
        EpochUnit::Us => DateTime::from_timestamp_micros(v),
        _ => Some(DateTime::from_timestamp_nanos(v)),
    }
}

impl<'f> Grouper<'f> {
    fn intern(&mut self, s: &str) -> Rc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Rc<str> = Rc::from(s);
        self.names.insert(s.to_owned(), a.clone());
        a
    }

    fn col(&self, c: Option<usize>) -> Option<String> {
        c.map(|c| self.cols.names[c].clone())
    }

    fn ts(&self, cell: TsCell<'_>, row: u64, col: Option<usize>) -> Result<Option<DateTime<Utc>>> {
        let bad = |m: String| CliError::data(self.file, Some(row), self.col(col).as_deref(), m);
        Ok(match cell {
            TsCell::Null => None,
            TsCell::Text(s) if s.trim().is_empty() => None,
            TsCell::Text(s) => {
                let s = s.trim();
                if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                    Some(t.to_utc())
                } else if let Ok(v) = s.parse::<i64>() {
                    Some(
                        epoch_to_ts(v, self.unit)
                            .ok_or_else(|| bad(format!("{v} is out of range as a time")))?,
                    )
                } else {
                    return Err(bad(format!(
                        "{s:?} is neither an RFC 3339 time nor an integer epoch"
                    )));
                }
            }
            TsCell::Int(v) => Some(
                epoch_to_ts(v, self.unit)
                    .ok_or_else(|| bad(format!("{v} is out of range as a time")))?,
            ),
            TsCell::Micros(v) => Some(
                DateTime::from_timestamp_micros(v)
                    .ok_or_else(|| bad(format!("{v} is out of range as a time")))?,
            ),
        })
    }

    fn num(&self, cell: NumCell<'_>, row: u64, col: Option<usize>) -> Result<Option<f64>> {
        let x = match cell {
            NumCell::Null => return Ok(None),
            NumCell::Text(s) if s.trim().is_empty() => return Ok(None),
            NumCell::Text(s) => s.trim().parse::<f64>().map_err(|_| {
                CliError::data(
                    self.file,
                    Some(row),
                    self.col(col).as_deref(),
                    format!("{s:?} is not a number"),
                )
            })?,
            NumCell::Num(x) => x,
        };
        if !(x.is_finite() && x >= 0.0) {
            return Err(CliError::data(
                self.file,
                Some(row),
                self.col(col).as_deref(),
                format!("{x} is not a finite amount >= 0"),
            ));
        }
        Ok(Some(x))
    }

    fn flag(&self, cell: FlagCell<'_>, row: u64) -> Result<Option<bool>> {
        Ok(match cell {
            FlagCell::Null => None,
            FlagCell::Bool(b) => Some(b),
            FlagCell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "" => None,
                "true" | "1" | "yes" | "t" | "y" => Some(true),
                "false" | "0" | "no" | "f" | "n" => Some(false),
                other => {
                    return Err(CliError::data(
                        self.file,
                        Some(row),
                        self.col(self.cols.converted).as_deref(),
                        format!("{other:?} is not true/false, 1/0 or yes/no"),
                    ));
                }
            },
        })
    }

    fn milestone(&self, cell: Option<&str>, row: u64) -> Result<Option<Milestone>> {
        Ok(match cell.map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some("lead_created") => Some(Milestone::LeadCreated),
            Some("opportunity_created") => Some(Milestone::OpportunityCreated),
            Some("closed") => Some(Milestone::Closed),
            Some(m) => {
                return Err(CliError::data(
                    self.file,
                    Some(row),
                    self.col(self.cols.milestone).as_deref(),
                    format!("{m:?}: expected lead_created, opportunity_created or closed"),
                ));
            }
        })
    }

    fn add(&mut self, row: u64, r: Row<'_>) -> Result<()> {
        self.counts.rows += 1;
        let Some(jid) = r.journey.filter(|s| !s.trim().is_empty()) else {
            self.counts.rows_without_journey += 1;
            return Ok(());
        };
        let value = self.num(r.value, row, self.cols.value)?;
        let converted = match self.cols.converted {
            Some(_) => self.flag(r.converted, row)?.unwrap_or(false),
            None => value.is_some_and(|v| v > 0.0),
        };
        let conv_ts = self.ts(r.conversion_ts, row, self.cols.conversion_ts)?;
        let channel = r.channel.filter(|c| !c.trim().is_empty());
        let ts = self.ts(r.ts, row, self.cols.ts)?;
        let touch = match channel {
            Some(c) => {
                let ts = ts.ok_or_else(|| {
                    CliError::data(
                        self.file,
                        Some(row),
                        self.col(self.cols.ts).as_deref(),
                        "a touch needs a time",
                    )
                })?;
                let milestone = self.milestone(r.milestone, row)?;
                let cost = self.num(r.cost, row, self.cols.cost)?;
                let channel = self.intern(c.trim());
                let campaign = r.campaign.filter(|s| !s.is_empty()).map(|s| self.intern(s));
                let content = r.content.filter(|s| !s.is_empty()).map(|s| self.intern(s));
                Some(OwnedTouch {
                    channel,
                    ts,
                    campaign,
                    content,
                    cost,
                    milestone,
                })
            }
            None if converted => {
                self.counts.conversion_only_rows += 1;
                None
            }
            None => {
                self.counts.empty_rows_dropped += 1;
                return Ok(());
            }
        };
        let b: &mut Building = if let Some(st) = self.stream.as_mut() {
            if !st.has || st.current.id != jid {
                st.flush()?;
                if !st.seen.insert(id_hash(jid)) {
                    return Err(CliError::Other(NOT_CONTIGUOUS.into()));
                }
                let c = &mut st.current;
                c.id.clear();
                c.id.push_str(jid);
                c.touches.clear();
                c.converted = false;
                c.value = 0.0;
                c.conversion_ts = None;
                st.has = true;
            }
            &mut st.current
        } else {
            // rows of one journey are usually contiguous: skip the hash lookup
            let k = if self.last < self.journeys.len() && self.journeys[self.last].id == jid {
                self.last
            } else {
                match self.journeys.get_index_of(jid) {
                    Some(k) => k,
                    None => {
                        self.journeys
                            .insert_full(
                                jid.to_owned(),
                                Building {
                                    id: jid.to_owned(),
                                    touches: Vec::with_capacity(4),
                                    ..Building::default()
                                },
                            )
                            .0
                    }
                }
            };
            self.last = k;
            &mut self.journeys[k]
        };
        if let Some(t) = touch {
            b.touches.push(t);
            self.counts.touches += 1;
        }
        if converted {
            b.converted = true;
            b.value += value.unwrap_or(0.0);
            let at = conv_ts.or(ts);
            if at > b.conversion_ts {
                b.conversion_ts = at;
            }
        }
        Ok(())
    }
}

fn opt(rec: &csv::StringRecord, c: Option<usize>) -> Option<&str> {
    c.and_then(|c| rec.get(c))
}

fn combine<'a>(src: Option<&'a str>, med: Option<&'a str>) -> Option<Cow<'a, str>> {
    let s = src.map(str::trim).filter(|s| !s.is_empty());
    let m = med.map(str::trim).filter(|s| !s.is_empty());
    match (s, m) {
        (None, None) => None,
        (s, m) => Some(Cow::Owned(format!(
            "{} / {}",
            s.unwrap_or("(none)"),
            m.unwrap_or("(none)")
        ))),
    }
}

fn csv_row<'a>(rec: &'a csv::StringRecord, cols: &Columns) -> Row<'a> {
    let text_ts = |c: Option<usize>| opt(rec, c).map_or(TsCell::Null, TsCell::Text);
    let text_num = |c: Option<usize>| opt(rec, c).map_or(NumCell::Null, NumCell::Text);
    Row {
        journey: rec.get(cols.journey),
        channel: match cols.channel {
            ChannelCol::One(c) => rec.get(c).map(Cow::Borrowed),
            ChannelCol::SourceMedium(s, m) => combine(rec.get(s), rec.get(m)),
        },
        ts: text_ts(cols.ts),
        campaign: opt(rec, cols.campaign),
        content: opt(rec, cols.content),
        cost: text_num(cols.cost),
        milestone: opt(rec, cols.milestone),
        converted: opt(rec, cols.converted).map_or(FlagCell::Null, FlagCell::Text),
        value: text_num(cols.value),
        conversion_ts: text_ts(cols.conversion_ts),
    }
}

fn csv_err(file: &str, e: &csv::Error) -> CliError {
    CliError::data(file, e.position().map(|p| p.line()), None, e.to_string())
}

/// Reads a touch-level CSV into a grouper.
fn read_csv_rows(g: &mut Grouper<'_>, data: &[u8], on_bytes: &mut dyn FnMut(usize)) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let mut rec = csv::StringRecord::new();
    let cols = g.cols.clone();
    let file = g.file;
    let mut n = 0u64;
    while rdr.read_record(&mut rec).map_err(|e| csv_err(file, &e))? {
        let line = rec.position().map_or(0, |p| p.line());
        g.add(line, csv_row(&rec, &cols))?;
        n += 1;
        if n % 65_536 == 0 {
            on_bytes(rec.position().map_or(0, |p| p.byte() as usize));
        }
    }
    on_bytes(data.len());
    Ok(())
}

fn csv_headers(file: &str, data: &[u8]) -> Result<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(data);
    Ok(rdr
        .headers()
        .map_err(|e| csv_err(file, &e))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect())
}

/// Journeys read from a touch table, with the reader's counts.
#[derive(Debug)]
pub struct TouchTable {
    /// Journeys in order of first appearance.
    pub journeys: Vec<Building>,
    /// What the rules did.
    pub counts: TouchCounts,
}

impl TouchTable {
    /// Interns the journeys into a set.
    ///
    /// # Errors
    ///
    /// A journey the core refuses (its message names the journey).
    pub fn into_set(self, file: &str) -> Result<(JourneySet, TouchCounts)> {
        let mut set = JourneySet::new();
        for j in &self.journeys {
            set.push(j)
                .map_err(|e| CliError::data(file, None, None, e.to_string()))?;
        }
        Ok((set, self.counts))
    }
}

/// Reads a touch-level CSV.
pub fn read_csv(
    file: &str,
    data: &[u8],
    args: &InputArgs,
    on_bytes: &mut dyn FnMut(usize),
    sink: Option<Sink<'_>>,
) -> Result<TouchTable> {
    let cols = Columns::resolve(csv_headers(file, data)?, args, file)?;
    let mut g = Grouper {
        stream: sink.map(|sink| StreamState {
            sink,
            current: Building::default(),
            has: false,
            seen: std::collections::HashSet::default(),
            journeys: 0,
        }),
        file,
        unit: args.ts_unit,
        counts: TouchCounts {
            channel_from: cols.channel_from(),
            ..TouchCounts::default()
        },
        cols,
        journeys: IndexMap::new(),
        names: HashMap::default(),
        last: usize::MAX,
    };
    read_csv_rows(&mut g, data, on_bytes)?;
    if let Some(st) = g.stream.as_mut() {
        st.flush()?;
        g.counts.streamed_journeys = Some(st.journeys);
    }
    Ok(TouchTable {
        journeys: g.journeys.into_values().collect(),
        counts: g.counts,
    })
}

#[cfg(feature = "parquet")]
fn cast(file: &str, name: &str, a: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    arrow_cast::cast(a, to).map_err(|e| {
        CliError::data(
            file,
            None,
            Some(name),
            format!("cannot read a {} column as {to}: {e}", a.data_type()),
        )
    })
}

#[cfg(feature = "parquet")]
enum TsCol {
    Micros(ArrayRef),
    Int(ArrayRef),
    Text(ArrayRef),
}

#[cfg(feature = "parquet")]
fn ts_col(file: &str, name: &str, a: &ArrayRef) -> Result<TsCol> {
    Ok(match a.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => TsCol::Micros(cast(
            file,
            name,
            a,
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )?),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => TsCol::Int(cast(file, name, a, &DataType::Int64)?),
        _ => TsCol::Text(cast(file, name, a, &DataType::Utf8)?),
    })
}

#[cfg(feature = "parquet")]
fn ts_cell(c: &TsCol, i: usize) -> TsCell<'_> {
    match c {
        TsCol::Micros(a) if a.is_valid(i) => {
            TsCell::Micros(a.as_primitive::<TimestampMicrosecondType>().value(i))
        }
        TsCol::Int(a) if a.is_valid(i) => TsCell::Int(a.as_primitive::<Int64Type>().value(i)),
        TsCol::Text(a) if a.is_valid(i) => TsCell::Text(a.as_string::<i32>().value(i)),
        _ => TsCell::Null,
    }
}

#[cfg(feature = "parquet")]
fn str_cell(a: Option<&ArrayRef>, i: usize) -> Option<&str> {
    a.filter(|a| a.is_valid(i))
        .map(|a| a.as_string::<i32>().value(i))
}

#[cfg(feature = "parquet")]
fn num_cell(a: Option<&ArrayRef>, i: usize) -> NumCell<'_> {
    match a {
        Some(a) if a.is_valid(i) => NumCell::Num(a.as_primitive::<Float64Type>().value(i)),
        _ => NumCell::Null,
    }
}

#[cfg(feature = "parquet")]
fn batch(g: &mut Grouper<'_>, b: &RecordBatch, first_row: u64) -> Result<()> {
    let file = g.file;
    let cols = g.cols.clone();
    let name = |c: usize| cols.names[c].as_str();
    let s = |c: Option<usize>| -> Result<Option<ArrayRef>> {
        c.map(|c| cast(file, name(c), b.column(c), &DataType::Utf8))
            .transpose()
    };
    let f = |c: Option<usize>| -> Result<Option<ArrayRef>> {
        c.map(|c| cast(file, name(c), b.column(c), &DataType::Float64))
            .transpose()
    };
    let journey = cast(
        file,
        name(cols.journey),
        b.column(cols.journey),
        &DataType::Utf8,
    )?;
    let (ch, src, med) = match cols.channel {
        ChannelCol::One(c) => (s(Some(c))?, None, None),
        ChannelCol::SourceMedium(x, y) => (None, s(Some(x))?, s(Some(y))?),
    };
    let ts = cols
        .ts
        .map(|c| ts_col(file, name(c), b.column(c)))
        .transpose()?;
    let cts = cols
        .conversion_ts
        .map(|c| ts_col(file, name(c), b.column(c)))
        .transpose()?;
    let campaign = s(cols.campaign)?;
    let content = s(cols.content)?;
    let milestone = s(cols.milestone)?;
    let cost = f(cols.cost)?;
    let value = f(cols.value)?;
    let converted = match cols.converted {
        None => None,
        Some(c) => Some(match b.column(c).data_type() {
            DataType::Boolean => b.column(c).clone(),
            _ => cast(file, name(c), b.column(c), &DataType::Utf8)?,
        }),
    };
    for i in 0..b.num_rows() {
        let row = Row {
            journey: str_cell(Some(&journey), i),
            channel: match (&ch, &src) {
                (Some(c), _) => str_cell(Some(c), i).map(Cow::Borrowed),
                _ => combine(str_cell(src.as_ref(), i), str_cell(med.as_ref(), i)),
            },
            ts: ts.as_ref().map_or(TsCell::Null, |t| ts_cell(t, i)),
            campaign: str_cell(campaign.as_ref(), i),
            content: str_cell(content.as_ref(), i),
            cost: num_cell(cost.as_ref(), i),
            milestone: str_cell(milestone.as_ref(), i),
            converted: match &converted {
                Some(a) if a.is_valid(i) => match a.data_type() {
                    DataType::Boolean => FlagCell::Bool(a.as_boolean().value(i)),
                    _ => FlagCell::Text(a.as_string::<i32>().value(i)),
                },
                _ => FlagCell::Null,
            },
            value: num_cell(value.as_ref(), i),
            conversion_ts: cts.as_ref().map_or(TsCell::Null, |t| ts_cell(t, i)),
        };
        g.add(first_row + i as u64, row)?;
    }
    Ok(())
}

#[cfg(feature = "parquet")]
/// Reads a touch-level Parquet file (rows are numbered from 1 over the file).
pub fn read_parquet(
    file: &str,
    data: bytes::Bytes,
    args: &InputArgs,
    on_rows: &mut dyn FnMut(u64, u64),
    sink: Option<Sink<'_>>,
) -> Result<TouchTable> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let perr = |e: &dyn std::fmt::Display| {
        CliError::data(
            file,
            None,
            None,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| perr(&e))?;
    let total = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let cols = Columns::resolve(names, args, file)?;
    let (used, local) = cols.projected();
    let mask =
        parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), used.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| perr(&e))?;
    let mut g = Grouper {
        stream: sink.map(|sink| StreamState {
            sink,
            current: Building::default(),
            has: false,
            seen: std::collections::HashSet::default(),
            journeys: 0,
        }),
        file,
        unit: args.ts_unit,
        counts: TouchCounts {
            channel_from: cols.channel_from(),
            ..TouchCounts::default()
        },
        cols: local,
        journeys: IndexMap::new(),
        names: HashMap::default(),
        last: usize::MAX,
    };
    let mut row = 1u64;
    for b in reader {
        let b = b.map_err(|e| {
            CliError::data(file, Some(row), None, format!("Parquet read failed: {e}"))
        })?;
        batch(&mut g, &b, row)?;
        row += b.num_rows() as u64;
        on_rows(row - 1, total);
    }
    if let Some(st) = g.stream.as_mut() {
        st.flush()?;
        g.counts.streamed_journeys = Some(st.journeys);
    }
    Ok(TouchTable {
        journeys: g.journeys.into_values().collect(),
        counts: g.counts,
    })
}

#[cfg(feature = "parquet")]
impl Columns {
    /// The file columns used, sorted, and these columns renumbered for a
    /// batch that holds only them (a projection keeps file order).
    fn projected(&self) -> (Vec<usize>, Columns) {
        let cols = self;
        let mut used: Vec<usize> = vec![cols.journey];
        match cols.channel {
            ChannelCol::One(c) => used.push(c),
            ChannelCol::SourceMedium(a, b) => used.extend([a, b]),
        }
        used.extend(
            [
                cols.ts,
                cols.campaign,
                cols.content,
                cols.cost,
                cols.milestone,
                cols.converted,
                cols.value,
                cols.conversion_ts,
            ]
            .into_iter()
            .flatten(),
        );
        used.sort_unstable();
        used.dedup();
        let pos = |c: usize| used.iter().position(|&u| u == c).unwrap_or(0);
        let remap = |c: Option<usize>| c.map(pos);
        let mut names = vec![String::new(); used.len()];
        for (k, &u) in used.iter().enumerate() {
            names[k].clone_from(&cols.names[u]);
        }
        let local = Columns {
            journey: pos(cols.journey),
            channel: match cols.channel {
                ChannelCol::One(c) => ChannelCol::One(pos(c)),
                ChannelCol::SourceMedium(a, b) => ChannelCol::SourceMedium(pos(a), pos(b)),
            },
            ts: remap(cols.ts),
            campaign: remap(cols.campaign),
            content: remap(cols.content),
            cost: remap(cols.cost),
            milestone: remap(cols.milestone),
            converted: remap(cols.converted),
            value: remap(cols.value),
            conversion_ts: remap(cols.conversion_ts),
            names,
        };
        (used, local)
    }
}

#[cfg(feature = "parquet")]
/// How many threads the columnar Parquet path uses: `TOUCHPOINT_THREADS`
/// if set (at least 1), else the machine's available parallelism.
pub fn threads() -> usize {
    std::env::var("TOUCHPOINT_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1)
}

#[cfg(feature = "parquet")]
/// Reads a touch-level Parquet file by columns into coded sinks, one per
/// worker (see [`columnar`]): `Ok(None)` when the columnar path does not
/// apply (the channel is built from source and medium); an error whose
/// text is [`NOT_CONTIGUOUS`] when the rows of a journey are not
/// contiguous. The sinks come back in row-group order; joined journeys
/// (cut by a range boundary) are credited into the first.
///
/// # Errors
///
/// As [`read_parquet`]; the sinks' errors.
pub fn read_parquet_columnar<S: columnar::CodedSink>(
    file: &str,
    source: columnar::Source,
    args: &InputArgs,
    threads: usize,
    make_sink: &(dyn Fn() -> S + Sync),
    on_rows: &mut dyn FnMut(u64, u64),
) -> Result<Option<(Vec<S>, TouchCounts)>> {
    use parquet::arrow::arrow_reader::ArrowReaderMetadata;
    let perr = |e: &dyn std::fmt::Display| {
        CliError::data(
            file,
            None,
            None,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let meta = match &source {
        columnar::Source::File(p) => {
            let f = std::fs::File::open(p).map_err(|e| CliError::Io {
                file: file.to_owned(),
                source: e,
            })?;
            ArrowReaderMetadata::load(&f, Default::default())
        }
        columnar::Source::Bytes(b) => ArrowReaderMetadata::load(b, Default::default()),
    }
    .map_err(|e| perr(&e))?;
    let total = meta.metadata().file_metadata().num_rows().max(0) as u64;
    let names: Vec<String> = meta
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let cols = Columns::resolve(names, args, file)?;
    let ChannelCol::One(ch) = cols.channel else {
        return Ok(None);
    };
    let (used, local) = cols.projected();
    let dict: Vec<usize> = [Some(ch), cols.campaign, cols.content]
        .into_iter()
        .flatten()
        .collect();
    let options = columnar::dictionary_hints(meta.schema(), &dict);
    let hinted =
        ArrowReaderMetadata::try_new(meta.metadata().clone(), options).map_err(|e| perr(&e))?;
    let mask = parquet::arrow::ProjectionMask::roots(
        meta.metadata().file_metadata().schema_descr(),
        used.iter().copied(),
    );
    let row_groups: Vec<(usize, u64)> = meta
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .map(|(i, g)| (i, g.num_rows().max(0) as u64))
        .collect();
    let plan = columnar::Plan {
        source,
        meta: hinted,
        mask,
        row_groups,
    };
    // contiguous ranges of row groups, balanced by rows
    let k = threads.clamp(1, plan.row_groups.len().max(1));
    let mut bounds = vec![0usize];
    let mut acc = 0u64;
    for (i, g) in plan.row_groups.iter().enumerate() {
        acc += g.1;
        let want = (total.max(1) * bounds.len() as u64).div_ceil(k as u64);
        if acc >= want && bounds.len() < k && i + 1 < plan.row_groups.len() {
            bounds.push(i + 1);
        }
    }
    bounds.push(plan.row_groups.len());
    let grouper = || Grouper {
        stream: None,
        file,
        unit: args.ts_unit,
        cols: local.clone(),
        journeys: IndexMap::new(),
        names: HashMap::default(),
        last: usize::MAX,
        counts: TouchCounts::default(),
    };
    on_rows(0, total);
    let parts = std::thread::scope(|scope| -> Result<Vec<columnar::Part<S>>> {
        let handles: Vec<_> = bounds
            .windows(2)
            .skip(1)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let plan = &plan;
                let grouper = &grouper;
                scope.spawn(move || {
                    columnar::read_range(grouper(), plan, a..b, make_sink(), &mut |_| {})
                })
            })
            .collect();
        let mut done = 0u64;
        let first = columnar::read_range(
            grouper(),
            &plan,
            bounds[0]..bounds[1],
            make_sink(),
            &mut |n| {
                done += n;
                on_rows(done, total);
            },
        );
        let mut parts = vec![first?];
        for h in handles {
            parts.push(
                h.join()
                    .map_err(|_| CliError::Other("a reader thread panicked".into()))??,
            );
        }
        Ok(parts)
    })?;
    on_rows(total, total);
    let (sinks, mut counts) = columnar::join(parts)?;
    counts.channel_from = cols.channel_from();
    Ok(Some((sinks, counts)))
}

/// One row of a conversions file: line, journey id, value, time.
type ConversionRow = (u64, String, Option<f64>, Option<DateTime<Utc>>);

/// Applies a conversions file (CSV, or JSON lines with the same field
/// names) to a touch table: each row marks its journey converted, adds its
/// value and keeps the latest conversion time. Journeys that appear only in
/// the conversions file become journeys without touches (their value is
/// unassigned) and are counted.
pub fn apply_conversions(
    table: &mut TouchTable,
    file: &str,
    data: &[u8],
    args: &InputArgs,
) -> Result<()> {
    let is_json = file.ends_with(".jsonl") || file.ends_with(".json") || file.ends_with(".ndjson");
    let mut rows: Vec<ConversionRow> = Vec::new();
    let jcol = args.journey_col.clone();
    let vcol = args.value_col.clone();
    let tcol = args.conversion_ts_col.clone();
    let pick =
        |names: &[String], flag: &Option<String>, defaults: &[&str]| -> Result<Option<usize>> {
            find(names, flag.as_ref(), defaults, file, "a --*-col flag")
        };
    let g = Grouper {
        stream: None,
        file,
        unit: args.ts_unit,
        cols: Columns {
            journey: 0,
            channel: ChannelCol::One(0),
            ts: None,
            campaign: None,
            content: None,
            cost: None,
            milestone: None,
            converted: None,
            value: Some(1),
            conversion_ts: Some(2),
            names: vec!["journey".into(), "value".into(), "conversion_ts".into()],
        },
        journeys: IndexMap::new(),
        names: HashMap::default(),
        last: usize::MAX,
        counts: TouchCounts::default(),
    };
    const J: [&str; 3] = ["journey_id", "user_pseudo_id", "id"];
    const V: [&str; 3] = ["value", "conversion_value", "purchase_revenue"];
    const T: [&str; 2] = ["conversion_ts", "ts"];
    if is_json {
        let text = std::str::from_utf8(data)
            .map_err(|e| CliError::data(file, None, None, format!("not UTF-8: {e}")))?;
        for (i, l) in text.lines().enumerate() {
            let line = i as u64 + 1;
            if l.trim().is_empty() {
                continue;
            }
            let m: HashMap<String, serde_json::Value> = serde_json::from_str(l).map_err(|e| {
                CliError::data(file, Some(line), None, format!("not a JSON object: {e}"))
            })?;
            let names: Vec<String> = m.keys().cloned().collect();
            let key = |flag: &Option<String>, d: &[&str]| -> Result<Option<&serde_json::Value>> {
                Ok(pick(&names, flag, d)?
                    .map(|k| &m[&names[k]])
                    .filter(|v| !v.is_null()))
            };
            let id = match key(&jcol, &J)? {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(CliError::data(
                        file,
                        Some(line),
                        Some("journey_id"),
                        "missing journey id",
                    ));
                }
            };
            let v = match key(&vcol, &V)? {
                None => None,
                Some(x) => Some(x.as_f64().ok_or_else(|| {
                    CliError::data(file, Some(line), Some("value"), "not a number")
                })?),
            };
            let v = g.num(v.map_or(NumCell::Null, NumCell::Num), line, Some(1))?;
            let t = match key(&tcol, &T)? {
                None => None,
                Some(serde_json::Value::String(s)) => g.ts(TsCell::Text(s), line, Some(2))?,
                Some(serde_json::Value::Number(n)) => {
                    g.ts(TsCell::Int(n.as_i64().unwrap_or(i64::MAX)), line, Some(2))?
                }
                Some(_) => {
                    return Err(CliError::data(
                        file,
                        Some(line),
                        Some("conversion_ts"),
                        "not a time",
                    ));
                }
            };
            rows.push((line, id, v, t));
        }
    } else {
        let names = csv_headers(file, data)?;
        let j = pick(&names, &jcol, &J)?.ok_or_else(|| {
            CliError::data(
                file,
                Some(1),
                None,
                format!(
                    "no journey id column (looked for {}; name it with --journey-col)",
                    J.join(", ")
                ),
            )
        })?;
        let v = pick(&names, &vcol, &V)?;
        let t = pick(&names, &tcol, &T)?;
        let mut rdr = csv::ReaderBuilder::new().from_reader(data);
        for rec in rdr.records() {
            let rec = rec.map_err(|e| csv_err(file, &e))?;
            let line = rec.position().map_or(0, |p| p.line());
            let id = rec.get(j).unwrap_or("").trim().to_owned();
            if id.is_empty() {
                return Err(CliError::data(
                    file,
                    Some(line),
                    Some(&names[j]),
                    "missing journey id",
                ));
            }
            let mut gg = Grouper {
                stream: None,
                cols: g.cols.clone(),
                journeys: IndexMap::new(),
                names: HashMap::default(),
                last: usize::MAX,
                counts: TouchCounts::default(),
                ..g
            };
            gg.cols.names = vec![
                names[j].clone(),
                v.map_or("value".into(), |v| names[v].clone()),
                t.map_or("conversion_ts".into(), |t| names[t].clone()),
            ];
            let val = gg.num(
                opt(&rec, v).map_or(NumCell::Null, NumCell::Text),
                line,
                Some(1),
            )?;
            let at = gg.ts(
                opt(&rec, t).map_or(TsCell::Null, TsCell::Text),
                line,
                Some(2),
            )?;
            rows.push((line, id, val, at));
        }
    }
    let mut index: HashMap<String, usize> = table
        .journeys
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.clone(), i))
        .collect();
    for (_, id, v, t) in rows {
        table.counts.conversion_file_rows += 1;
        let k = match index.get(&id) {
            Some(&k) => k,
            None => {
                table.counts.conversions_without_touches += 1;
                table.journeys.push(Building {
                    id: id.clone(),
                    ..Building::default()
                });
                index.insert(id, table.journeys.len() - 1);
                table.journeys.len() - 1
            }
        };
        let b = &mut table.journeys[k];
        b.converted = true;
        b.value += v.unwrap_or(0.0);
        if t > b.conversion_ts {
            b.conversion_ts = t;
        }
    }
    Ok(())
}
