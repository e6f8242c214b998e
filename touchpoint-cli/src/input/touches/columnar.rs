//! The columnar Parquet path: record batches straight into a coded sink.
//!
//! The row path ([`super::read_parquet`]) turns every cell into a string or
//! a `DateTime` and every journey into an owned [`Building`]. This path
//! works on the columns instead:
//!
//! - channel, campaign and content are read as dictionaries (the Parquet
//!   dictionary pages kept as Arrow dictionary arrays); each dictionary
//!   value is mapped to the sink's code once per batch, when first used, and
//!   each row only indexes that map;
//! - times are integer arrays (microseconds), turned into milliseconds by
//!   a division, with the range check of `DateTime::from_timestamp_micros`;
//! - journey boundaries are found by comparing the id column's bytes with
//!   the current journey's id; a journey seen twice (rows not contiguous)
//!   stops the read with [`NOT_CONTIGUOUS`], and the caller collects;
//! - each journey is handed to the sink as codes
//!   ([`touchpoint::CreditPartial::observe_coded`]).
//!
//! Row groups are split into as many contiguous ranges as there are
//! workers, one thread each. A journey whose rows straddle two ranges is
//! set aside by both workers as a *fragment* (its rows, in order) and
//! joined and credited once by the caller, so every journey is credited
//! exactly as the row path credits it: same rows, same order, same sums
//! (the partials' integer sums do not depend on the order of merging).
//!
//! The rules are the row path's, row by row (see the module
//! documentation of [`super`]), and so are the error messages.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::rc::Rc;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, PrimitiveArray, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, Utc};
use touchpoint::{CodedTouch, Milestone, Outcome};

use super::{
    Building, ChannelCol, FlagCell, Grouper, IdHasher, NOT_CONTIGUOUS, NumCell, OwnedTouch,
    TouchCounts, TsCol, cast, id_hash, str_cell, ts_cell, ts_col,
};
use crate::error::{CliError, Result};

/// Where the columnar reader puts journeys: a sink that hands out codes
/// for names and credits journeys given by codes (the CLI's is a
/// `CreditPartial`, see `engine::attribute_streamed`).
pub trait CodedSink: Send {
    /// The code of a channel name.
    ///
    /// # Errors
    ///
    /// Too many names.
    fn channel_code(&mut self, name: &str) -> Result<u32>;
    /// The code of a campaign name.
    ///
    /// # Errors
    ///
    /// Too many names.
    fn campaign_code(&mut self, name: &str) -> Result<u32>;
    /// The code of a content name.
    ///
    /// # Errors
    ///
    /// Too many names.
    fn content_code(&mut self, name: &str) -> Result<u32>;
    /// One journey, by codes.
    ///
    /// # Errors
    ///
    /// The core refuses the journey.
    fn journey(&mut self, id: &str, outcome: &Outcome, touches: &[CodedTouch]) -> Result<()>;
    /// One journey by names (a journey joined from two ranges' fragments).
    ///
    /// # Errors
    ///
    /// The core refuses the journey.
    fn named(&mut self, journey: &Building) -> Result<()>;
}

/// Not yet mapped (a dictionary value not used so far in this batch).
const UNMAPPED: u32 = u32::MAX;
/// Mapped to "no name" (null or empty).
const NO_NAME: u32 = u32::MAX - 1;

/// A name column as dictionary keys and a per-batch map from dictionary
/// value to the sink's code.
struct Coded {
    keys: Int32Array,
    values: ArrayRef,
    map: Vec<u32>,
    /// Channel names are trimmed; campaigns and contents are not.
    trim: bool,
}

#[derive(Clone, Copy)]
enum Dim {
    Channel,
    Campaign,
    Content,
}

impl Coded {
    fn new(file: &str, name: &str, a: &ArrayRef, trim: bool) -> Result<Coded> {
        let want = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let a = if a.data_type() == &want {
            a.clone()
        } else {
            cast(file, name, a, &want)?
        };
        let d = a.as_dictionary::<Int32Type>();
        Ok(Coded {
            keys: d.keys().clone(),
            values: d.values().clone(),
            map: vec![UNMAPPED; d.values().len()],
            trim,
        })
    }

    /// The code of row `i` (`None`: null or empty).
    #[inline]
    fn get<S: CodedSink + ?Sized>(
        &mut self,
        i: usize,
        sink: &mut S,
        dim: Dim,
        rev: &mut Vec<String>,
    ) -> Result<Option<u32>> {
        if self.keys.is_null(i) {
            return Ok(None);
        }
        let k = self.keys.value(i) as usize;
        let mut c = self.map.get(k).copied().unwrap_or(NO_NAME);
        if c == UNMAPPED {
            c = NO_NAME;
            let vals = self.values.as_string::<i32>();
            if vals.is_valid(k) {
                let mut s = vals.value(k);
                if self.trim {
                    s = s.trim();
                }
                if !s.is_empty() {
                    c = match dim {
                        Dim::Channel => sink.channel_code(s)?,
                        Dim::Campaign => sink.campaign_code(s)?,
                        Dim::Content => sink.content_code(s)?,
                    };
                    let k = c as usize;
                    if rev.len() <= k {
                        rev.resize(k + 1, String::new());
                    }
                    if rev[k].is_empty() {
                        rev[k] = s.to_owned();
                    }
                }
            }
            self.map[k] = c;
        }
        Ok((c != NO_NAME).then_some(c))
    }
}

/// `a == b`, without a call into `memcmp` for the usual short id.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        // two overlapping words cover the id
        let w = |s: &[u8], i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&s[i..i + 8]);
            u64::from_ne_bytes(x)
        };
        return w(a, 0) == w(b, 0) && w(a, n - 8) == w(b, n - 8);
    }
    a == b
}

/// Whether `s` is empty or only whitespace (`str::trim` is empty), with a
/// fast answer for the usual id that starts with a visible ASCII byte.
#[inline]
fn blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(b) if b.is_ascii_graphic() => false,
        Some(_) => s.trim().is_empty(),
    }
}

/// The journey id column, as text.
enum Ids {
    Utf8(StringArray),
    Large(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
}

impl Ids {
    fn new(file: &str, name: &str, a: &ArrayRef) -> Result<Ids> {
        Ok(match a.data_type() {
            DataType::Utf8 => Ids::Utf8(a.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Ids::Large(a.as_string::<i64>().clone()),
            DataType::Utf8View => Ids::View(a.as_string_view().clone()),
            _ => Ids::Utf8(
                cast(file, name, a, &DataType::Utf8)?
                    .as_string::<i32>()
                    .clone(),
            ),
        })
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Ids::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Ids::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Ids::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// A touch time: microseconds (the fast path) or a parsed time.
#[derive(Clone, Copy)]
enum At {
    Micros(i64),
    Time(DateTime<Utc>),
}

impl At {
    #[inline(always)]
    fn millis(self) -> i64 {
        match self {
            At::Micros(v) => v.div_euclid(1000),
            At::Time(t) => t.timestamp_millis(),
        }
    }
    fn time(self) -> Option<DateTime<Utc>> {
        match self {
            At::Micros(v) => DateTime::from_timestamp_micros(v),
            At::Time(t) => Some(t),
        }
    }
}

/// The time column: microseconds, or cells parsed as the row path does.
enum Times {
    Micros(PrimitiveArray<TimestampMicrosecondType>),
    Cells(TsCol),
}

/// The range of `DateTime::from_timestamp_micros`.
fn micros_range() -> (i64, i64) {
    (
        DateTime::<Utc>::MIN_UTC.timestamp_micros(),
        DateTime::<Utc>::MAX_UTC.timestamp_micros(),
    )
}

/// A touch kept by name (in a fragment).
#[derive(Debug, Clone)]
struct FragTouch {
    channel: String,
    ts_millis: i64,
    campaign: Option<String>,
    content: Option<String>,
    cost: Option<f64>,
    milestone: Option<Milestone>,
}

impl FragTouch {
    fn owned(&self) -> OwnedTouch {
        OwnedTouch {
            channel: Rc::from(self.channel.as_str()),
            ts: DateTime::from_timestamp_millis(self.ts_millis).unwrap_or_default(),
            campaign: self.campaign.as_deref().map(Rc::from),
            content: self.content.as_deref().map(Rc::from),
            cost: self.cost,
            milestone: self.milestone,
        }
    }
}

/// One row of a head fragment, kept by name: its touch and its conversion.
#[derive(Debug, Clone)]
struct FragRow {
    touch: Option<FragTouch>,
    converted: bool,
    value: Option<f64>,
    at: Option<DateTime<Utc>>,
}

/// The first journey of a range that does not start the file: its rows,
/// in order (the journey may have begun in the previous range).
#[derive(Debug, Clone)]
struct Head {
    id: String,
    rows: Vec<FragRow>,
}

/// The last journey of a range that does not end the file, as read so
/// far (it may go on in the next range).
#[derive(Debug, Clone)]
struct Tail {
    id: String,
    touches: Vec<FragTouch>,
    converted: bool,
    value: f64,
    conversion_ts: Option<DateTime<Utc>>,
}

impl Tail {
    fn building(&self) -> Building {
        Building {
            id: self.id.clone(),
            touches: self.touches.iter().map(FragTouch::owned).collect(),
            converted: self.converted,
            value: self.value,
            conversion_ts: self.conversion_ts,
        }
    }
}

impl Head {
    /// Applies the rows, in order, to a journey (the row path's rules).
    fn apply(&self, b: &mut Building) {
        for r in &self.rows {
            if let Some(t) = &r.touch {
                b.touches.push(t.owned());
            }
            if r.converted {
                b.converted = true;
                b.value += r.value.unwrap_or(0.0);
                if r.at > b.conversion_ts {
                    b.conversion_ts = r.at;
                }
            }
        }
    }
}

type IdSet = HashSet<u64, BuildHasherDefault<IdHasher>>;

/// The journey ids a worker has started, to tell contiguous rows from a
/// journey seen twice. While the ids come in increasing order (by bytes,
/// or by length then bytes, as `j9` < `j10`), no id can repeat and only
/// their hashes are appended to a list; the first id out of order turns
/// the list into a hash set, and every later id is looked up there.
#[derive(Default)]
struct Seen {
    /// Increasing so far by bytes.
    bytes: bool,
    /// Increasing so far by length, then bytes.
    len_bytes: bool,
    started: bool,
    first: String,
    last: String,
    hashes: Vec<u64>,
    set: Option<IdSet>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            bytes: true,
            len_bytes: true,
            ..Seen::default()
        }
    }

    /// Records `id`; false if it may have been seen before (a repeat, or a
    /// hash collision: both send the caller to the collecting path).
    fn insert(&mut self, id: &str) -> bool {
        let h = id_hash(id);
        if let Some(set) = self.set.as_mut() {
            self.last.clear();
            self.last.push_str(id);
            return set.insert(h);
        }
        if self.started {
            let (a, b) = (self.last.as_bytes(), id.as_bytes());
            if self.len_bytes {
                self.len_bytes = a.len() < b.len() || (a.len() == b.len() && a < b);
            }
            if self.bytes {
                self.bytes = a < b;
            }
        } else {
            self.started = true;
            self.first.push_str(id);
        }
        self.last.clear();
        self.last.push_str(id);
        if self.bytes || self.len_bytes {
            self.hashes.push(h);
            return true;
        }
        let mut set = IdSet::with_capacity_and_hasher(self.hashes.len() * 2, Default::default());
        for &x in &self.hashes {
            if !set.insert(x) {
                return false;
            }
        }
        self.hashes = Vec::new();
        let fresh = set.insert(h);
        self.set = Some(set);
        fresh
    }

    /// Every hash recorded.
    fn hashes(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match &self.set {
            Some(s) => Box::new(s.iter().copied()),
            None => Box::new(self.hashes.iter().copied()),
        }
    }
}

/// What one worker returns.
pub(super) struct Part<S> {
    pub(crate) sink: S,
    pub(crate) counts: TouchCounts,
    seen: Seen,
    /// The rows of its first journey, when the range does not start the file.
    head: Option<Head>,
    /// Its last journey, when the range does not end the file and that
    /// journey is not the first.
    tail: Option<Tail>,
    journeys: u64,
}

/// The state of the journey being read.
struct Current {
    id: String,
    has: bool,
    touches: Vec<CodedTouch>,
    converted: bool,
    value: f64,
    conversion_ts: Option<DateTime<Utc>>,
    /// Set while the journey is a head (rows kept by name).
    frag: Option<Head>,
}

struct Worker<S> {
    /// Names by code (channel, campaign, content), for fragments.
    rev: [Vec<String>; 3],
    sink: S,
    counts: TouchCounts,
    seen: Seen,
    cur: Current,
    /// Whether the next journey started is the range's first (a head
    /// fragment unless the range starts the file).
    first_journey: bool,
    starts_file: bool,
    head: Option<Head>,
    journeys: u64,
    range: (i64, i64),
}

impl<S: CodedSink> Worker<S> {
    /// Ends the current journey: credited, or kept as the head fragment.
    fn flush(&mut self) -> Result<()> {
        if !self.cur.has {
            return Ok(());
        }
        self.cur.has = false;
        if let Some(f) = self.cur.frag.take() {
            self.head = Some(f);
            return Ok(());
        }
        let outcome = Outcome {
            converted: self.cur.converted,
            value: if self.cur.converted {
                self.cur.value
            } else {
                0.0
            },
            conversion_ts: self.cur.conversion_ts,
        };
        self.sink
            .journey(&self.cur.id, &outcome, &self.cur.touches)?;
        self.journeys += 1;
        Ok(())
    }

    fn start(&mut self, jid: &str) -> Result<()> {
        self.flush()?;
        if !self.seen.insert(jid) {
            return Err(CliError::Other(NOT_CONTIGUOUS.into()));
        }
        let c = &mut self.cur;
        c.id.clear();
        c.id.push_str(jid);
        c.touches.clear();
        c.converted = false;
        c.value = 0.0;
        c.conversion_ts = None;
        c.has = true;
        if self.first_journey && !self.starts_file {
            c.frag = Some(Head {
                id: jid.to_owned(),
                rows: Vec::new(),
            });
        }
        self.first_journey = false;
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn batch(&mut self, g: &Grouper<'_>, b: &RecordBatch, first_row: u64) -> Result<()> {
        let file = g.file;
        let cols = &g.cols;
        let name = |c: usize| cols.names[c].as_str();
        let ids = Ids::new(file, name(cols.journey), b.column(cols.journey))?;
        let ChannelCol::One(chc) = cols.channel else {
            return Err(CliError::Other(
                "the columnar path needs one channel column".into(),
            ));
        };
        let mut channel = Coded::new(file, name(chc), b.column(chc), true)?;
        let mut campaign = cols
            .campaign
            .map(|c| Coded::new(file, name(c), b.column(c), false))
            .transpose()?;
        let mut content = cols
            .content
            .map(|c| Coded::new(file, name(c), b.column(c), false))
            .transpose()?;
        let ts_name = cols.ts.map(name).unwrap_or_default();
        let times = match cols.ts {
            None => None,
            // microseconds in any time zone: the values as they are
            Some(c)
                if matches!(
                    b.column(c).data_type(),
                    DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, _)
                ) =>
            {
                Some(Times::Micros(
                    b.column(c)
                        .as_primitive::<TimestampMicrosecondType>()
                        .clone(),
                ))
            }
            Some(c) => Some(match ts_col(file, name(c), b.column(c))? {
                TsCol::Micros(a) => {
                    Times::Micros(a.as_primitive::<TimestampMicrosecondType>().clone())
                }
                other => Times::Cells(other),
            }),
        };
        let cts = cols
            .conversion_ts
            .map(|c| ts_col(file, name(c), b.column(c)))
            .transpose()?;
        let f64col = |c: Option<usize>| -> Result<Option<Float64Array>> {
            c.map(|c| {
                cast(file, name(c), b.column(c), &DataType::Float64)
                    .map(|a| a.as_primitive::<Float64Type>().clone())
            })
            .transpose()
        };
        let value = f64col(cols.value)?;
        let cost = f64col(cols.cost)?;
        let milestone = cols
            .milestone
            .map(|c| cast(file, name(c), b.column(c), &DataType::Utf8))
            .transpose()?;
        enum Flags {
            Bool(BooleanArray),
            Text(ArrayRef),
        }
        let converted = match cols.converted {
            None => None,
            Some(c) => Some(match b.column(c).data_type() {
                DataType::Boolean => Flags::Bool(b.column(c).as_boolean().clone()),
                _ => Flags::Text(cast(file, name(c), b.column(c), &DataType::Utf8)?),
            }),
        };
        let (lo, hi) = self.range;
        for i in 0..b.num_rows() {
            let row = first_row + i as u64;
            self.counts.rows += 1;
            let id = ids.get(i);
            // the current journey's id is known not to be blank
            let same = self.cur.has
                && id.is_some_and(|s| same_bytes(s.as_bytes(), self.cur.id.as_bytes()));
            let Some(jid) = id.filter(|s| same || !blank(s)) else {
                self.counts.rows_without_journey += 1;
                continue;
            };
            let v = match &value {
                Some(a) if a.is_valid(i) => g.num(NumCell::Num(a.value(i)), row, cols.value)?,
                _ => None,
            };
            let conv = match &converted {
                Some(Flags::Bool(a)) => a.is_valid(i) && a.value(i),
                Some(Flags::Text(a)) => {
                    let cell = if a.is_valid(i) {
                        FlagCell::Text(a.as_string::<i32>().value(i))
                    } else {
                        FlagCell::Null
                    };
                    g.flag(cell, row)?.unwrap_or(false)
                }
                None => v.is_some_and(|v| v > 0.0),
            };
            let conv_ts = match &cts {
                Some(t) => g.ts(ts_cell(t, i), row, cols.conversion_ts)?,
                None => None,
            };
            let ch = channel.get(i, &mut self.sink, Dim::Channel, &mut self.rev[0])?;
            let at = match &times {
                None => None,
                Some(Times::Micros(a)) => {
                    if a.is_valid(i) {
                        let us = a.value(i);
                        if us < lo || us > hi {
                            return Err(CliError::data(
                                file,
                                Some(row),
                                Some(ts_name),
                                format!("{us} is out of range as a time"),
                            ));
                        }
                        Some(At::Micros(us))
                    } else {
                        None
                    }
                }
                Some(Times::Cells(t)) => g.ts(ts_cell(t, i), row, cols.ts)?.map(At::Time),
            };
            let touch = match ch {
                Some(ch) => {
                    let Some(at) = at else {
                        return Err(CliError::data(
                            file,
                            Some(row),
                            cols.ts.map(name),
                            "a touch needs a time",
                        ));
                    };
                    let ms = match &milestone {
                        Some(m) => g.milestone(str_cell(Some(m), i), row)?,
                        None => None,
                    };
                    let cost = match &cost {
                        Some(a) if a.is_valid(i) => {
                            g.num(NumCell::Num(a.value(i)), row, cols.cost)?
                        }
                        _ => None,
                    };
                    let cp = match campaign.as_mut() {
                        Some(c) => c.get(i, &mut self.sink, Dim::Campaign, &mut self.rev[1])?,
                        None => None,
                    };
                    let ct = match content.as_mut() {
                        Some(c) => c.get(i, &mut self.sink, Dim::Content, &mut self.rev[2])?,
                        None => None,
                    };
                    let mut touch = CodedTouch::new(ch, at.millis());
                    (touch.campaign, touch.content) = (cp, ct);
                    (touch.cost, touch.milestone) = (cost, ms);
                    Some((touch, at))
                }
                None if conv => {
                    self.counts.conversion_only_rows += 1;
                    None
                }
                None => {
                    self.counts.empty_rows_dropped += 1;
                    continue;
                }
            };
            if !same {
                self.start(jid)?;
            }
            let when = if conv {
                conv_ts.or_else(|| touch.and_then(|(_, a)| a.time()))
            } else {
                None
            };
            if let Some(f) = self.cur.frag.as_mut() {
                f.rows.push(FragRow {
                    touch: touch.map(|(t, _)| by_name(&self.rev, &t)),
                    converted: conv,
                    value: v,
                    at: when,
                });
            }
            let c = &mut self.cur;
            if let Some((t, _)) = touch {
                c.touches.push(t);
                self.counts.touches += 1;
            }
            if conv {
                c.converted = true;
                c.value += v.unwrap_or(0.0);
                if when > c.conversion_ts {
                    c.conversion_ts = when;
                }
            }
        }
        Ok(())
    }
}

/// Where the Parquet bytes come from: a file on disk (each worker opens
/// its own handle and reads only the column chunks of its row groups) or
/// bytes in memory (standard input).
#[derive(Debug, Clone)]
pub enum Source {
    /// A file, by path.
    File(std::path::PathBuf),
    /// The whole file in memory.
    Bytes(bytes::Bytes),
}

/// A reader over some row groups of the file, with the projection and the
/// dictionary hints of the columnar path.
pub(super) struct Plan {
    pub(super) source: Source,
    pub(super) meta: parquet::arrow::arrow_reader::ArrowReaderMetadata,
    pub(super) mask: parquet::arrow::ProjectionMask,
    pub(super) row_groups: Vec<(usize, u64)>,
}

impl Plan {
    /// A record batch reader over row groups `groups`.
    fn reader(
        &self,
        groups: Vec<usize>,
    ) -> parquet::errors::Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder as B;
        match &self.source {
            Source::File(p) => {
                let f = std::fs::File::open(p)?;
                B::new_with_metadata(f, self.meta.clone())
                    .with_projection(self.mask.clone())
                    .with_row_groups(groups)
                    .with_batch_size(65_536)
                    .build()
            }
            Source::Bytes(b) => B::new_with_metadata(b.clone(), self.meta.clone())
                .with_projection(self.mask.clone())
                .with_row_groups(groups)
                .with_batch_size(65_536)
                .build(),
        }
    }
}

/// The reader options that read `dict` columns (file indices) as
/// dictionaries of text, when they are text.
pub(super) fn dictionary_hints(
    schema: &Schema,
    dict: &[usize],
) -> parquet::arrow::arrow_reader::ArrowReaderOptions {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(k, f)| {
            if dict.contains(&k) && f.data_type() == &DataType::Utf8 {
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    parquet::arrow::arrow_reader::ArrowReaderOptions::new().with_schema(Arc::new(
        Schema::new_with_metadata(fields, schema.metadata().clone()),
    ))
}

/// Reads row groups `groups` (indices into `plan.row_groups`) into `sink`.
pub(super) fn read_range<'g, S: CodedSink>(
    g: Grouper<'g>,
    plan: &Plan,
    groups: std::ops::Range<usize>,
    sink: S,
    on_rows: &mut dyn FnMut(u64),
) -> Result<Part<S>> {
    let file: &str = g.file;
    let perr = |e: &dyn std::fmt::Display| {
        CliError::data(
            file,
            None,
            None,
            format!("not a readable Parquet file: {e}"),
        )
    };
    let starts_file = groups.start == 0;
    let ends_file = groups.end == plan.row_groups.len();
    let mut row = plan.row_groups[..groups.start]
        .iter()
        .map(|r| r.1)
        .sum::<u64>()
        + 1;
    let mut w = Worker {
        rev: Default::default(),
        sink,
        counts: TouchCounts::default(),
        seen: Seen::new(),
        cur: Current {
            id: String::new(),
            has: false,
            touches: Vec::with_capacity(64),
            converted: false,
            value: 0.0,
            conversion_ts: None,
            frag: None,
        },
        first_journey: true,
        starts_file,
        head: None,
        journeys: 0,
        range: micros_range(),
    };
    if !groups.is_empty() {
        let reader = plan
            .reader(
                plan.row_groups[groups.clone()]
                    .iter()
                    .map(|r| r.0)
                    .collect(),
            )
            .map_err(|e| perr(&e))?;
        for b in reader {
            let b = b.map_err(|e| {
                CliError::data(file, Some(row), None, format!("Parquet read failed: {e}"))
            })?;
            w.batch(&g, &b, row)?;
            row += b.num_rows() as u64;
            on_rows(b.num_rows() as u64);
        }
    }
    // the last journey: a tail unless the range ends the file
    let mut tail = None;
    if w.cur.has {
        if ends_file {
            w.flush()?;
        } else if w.cur.frag.is_some() {
            // the range's only journey: its head
            w.cur.has = false;
            w.head = w.cur.frag.take();
        } else {
            let c = &w.cur;
            tail = Some(Tail {
                id: c.id.clone(),
                touches: c.touches.iter().map(|t| by_name(&w.rev, t)).collect(),
                converted: c.converted,
                value: c.value,
                conversion_ts: c.conversion_ts,
            });
            w.cur.has = false;
        }
    }
    Ok(Part {
        sink: w.sink,
        counts: w.counts,
        seen: w.seen,
        head: w.head,
        tail,
        journeys: w.journeys,
    })
}

/// A coded touch by name.
fn by_name(rev: &[Vec<String>; 3], t: &CodedTouch) -> FragTouch {
    let name = |d: usize, c: u32| rev[d].get(c as usize).cloned().unwrap_or_default();
    FragTouch {
        channel: name(0, t.channel),
        ts_millis: t.ts_millis,
        campaign: t.campaign.map(|c| name(1, c)),
        content: t.content.map(|c| name(2, c)),
        cost: t.cost,
        milestone: t.milestone,
    }
}

/// Joins the workers' parts in range order: heads and tails that belong to
/// one journey are joined and credited once into the first part's sink;
/// every sink is returned, in range order, with the summed counts.
///
/// # Errors
///
/// [`NOT_CONTIGUOUS`] when a journey id appears in two parts other than
/// across a boundary; the sink's errors.
pub(super) fn join<S: CodedSink>(parts: Vec<Part<S>>) -> Result<(Vec<S>, TouchCounts)> {
    let mut counts = TouchCounts::default();
    let mut journeys = 0u64;
    let mut collisions = 0usize;
    let mut joins = 0usize;
    // ids increasing across the parts (under one order, ties only where
    // a journey is joined): no id repeats, no set needed
    let started: Vec<&Seen> = parts
        .iter()
        .map(|p| &p.seen)
        .filter(|s| s.started)
        .collect();
    let ordered = |by_len: bool| {
        started
            .iter()
            .all(|s| if by_len { s.len_bytes } else { s.bytes })
            && started.windows(2).all(|w| {
                let (a, b) = (w[0].last.as_bytes(), w[1].first.as_bytes());
                if by_len {
                    (a.len(), a) <= (b.len(), b)
                } else {
                    a <= b
                }
            })
    };
    let exact = ordered(false) || ordered(true);
    let mut union = IdSet::default();
    if !exact {
        for p in &parts {
            for h in p.seen.hashes() {
                collisions += usize::from(!union.insert(h));
            }
        }
    }
    let mut open: Option<Building> = None;
    let mut done: Vec<Building> = Vec::new();
    let mut sinks = Vec::with_capacity(parts.len());
    for p in parts {
        let c = &p.counts;
        counts.rows += c.rows;
        counts.touches += c.touches;
        counts.rows_without_journey += c.rows_without_journey;
        counts.conversion_only_rows += c.conversion_only_rows;
        counts.empty_rows_dropped += c.empty_rows_dropped;
        journeys += p.journeys;
        if let Some(h) = &p.head {
            match open.as_mut() {
                Some(b) if b.id == h.id => joins += 1,
                _ => {
                    done.extend(open.take());
                    open = Some(Building {
                        id: h.id.clone(),
                        ..Building::default()
                    });
                }
            }
            if let Some(b) = open.as_mut() {
                h.apply(b);
            }
        }
        // a part with more than its head closes the open journey
        if p.tail.is_some() || p.journeys > 0 {
            done.extend(open.take());
        }
        if let Some(t) = &p.tail {
            open = Some(t.building());
        }
        sinks.push(p.sink);
    }
    done.extend(open.take());
    if !exact && collisions != joins {
        return Err(CliError::Other(NOT_CONTIGUOUS.into()));
    }
    if let Some(first) = sinks.first_mut() {
        for b in &done {
            first.named(b)?;
        }
    }
    counts.streamed_journeys = Some(journeys + done.len() as u64);
    Ok((sinks, counts))
}
