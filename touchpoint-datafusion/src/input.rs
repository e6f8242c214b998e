//! Reading Arrow arrays into the core's column layout without copying a
//! string per touch: dictionary-encoded channels are read through their
//! codes (only the dictionary entries a batch uses are passed on), plain
//! string channels are interned per batch by reference.

use std::collections::HashMap;

use datafusion_common::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, GenericListArray, Int64Array,
    OffsetSizeTrait,
};
use datafusion_common::arrow::datatypes::{
    DataType, Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use datafusion_common::{DataFusionError, Result, exec_err};

use datafusion_common::arrow::buffer::NullBuffer;
use touchpoint::Milestone;

use crate::core::{Columns, Currency, to_minor};
use crate::spec::Kind;

/// Whether `t` is a type the channels (or path) argument accepts: a `LIST`
/// or `LARGE_LIST` of strings (`Utf8`, `LargeUtf8`, `Utf8View`) or of
/// dictionary-encoded strings.
pub(crate) fn is_channel_list(t: &DataType) -> bool {
    let item = match t {
        DataType::List(f) | DataType::LargeList(f) => f.data_type(),
        _ => return false,
    };
    is_string(item) || matches!(item, DataType::Dictionary(_, v) if is_string(v))
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether `t` is a type the timestamps argument accepts: a list of
/// timestamps (any unit) or of `Int64` Unix milliseconds.
pub(crate) fn is_timestamp_list(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) => {
            matches!(f.data_type(), DataType::Timestamp(_, _) | DataType::Int64)
        }
        _ => false,
    }
}

/// A string array of any of Arrow's three layouts.
enum Strs<'a> {
    Utf8(&'a datafusion_common::arrow::array::StringArray),
    Large(&'a datafusion_common::arrow::array::LargeStringArray),
    View(&'a datafusion_common::arrow::array::StringViewArray),
}

impl<'a> Strs<'a> {
    fn of(a: &'a dyn Array) -> Option<Strs<'a>> {
        match a.data_type() {
            DataType::Utf8 => Some(Strs::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Strs::Large(a.as_string::<i64>())),
            DataType::Utf8View => Some(Strs::View(a.as_string_view())),
            _ => None,
        }
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// The per-row ranges of a list array (rows `0..len`), as `usize` pairs
/// into its values array, and the values array. A null row is an error.
pub(crate) fn list_ranges<'a>(
    kind: Kind,
    what: &str,
    a: &'a ArrayRef,
) -> Result<(Vec<(usize, usize)>, &'a ArrayRef)> {
    let (ranges, values) = list_ranges_opt(kind, what, a)?;
    let ranges = ranges
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.ok_or_else(|| {
                DataFusionError::Execution(format!("tp_{kind}: the {what} list of row {i} is NULL"))
            })
        })
        .collect::<Result<_>>()?;
    Ok((ranges, values))
}

/// As [`list_ranges`], a NULL row as `None`.
#[allow(clippy::type_complexity)]
pub(crate) fn list_ranges_opt<'a>(
    kind: Kind,
    what: &str,
    a: &'a ArrayRef,
) -> Result<(Vec<Option<(usize, usize)>>, &'a ArrayRef)> {
    fn go<O: OffsetSizeTrait>(l: &GenericListArray<O>) -> Vec<Option<(usize, usize)>> {
        let offs = l.value_offsets();
        (0..l.len())
            .map(|i| (!l.is_null(i)).then(|| (offs[i].as_usize(), offs[i + 1].as_usize())))
            .collect()
    }
    match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            Ok((go(l), l.values()))
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            Ok((go(l), l.values()))
        }
        t => exec_err!("tp_{kind}: the {what} argument must be a LIST, got {t}"),
    }
}

/// Channel codes per touch (in row order) and the names they index, with
/// only the names the batch uses.
fn channel_codes<'a>(
    kind: Kind,
    ranges: &[(usize, usize)],
    values: &'a ArrayRef,
) -> Result<(Vec<u32>, Vec<&'a str>)> {
    name_codes(kind, "channel", ranges, values, false)
}

/// A code per list item meaning "no name" (a NULL item of an optional list).
pub(crate) const NONE: u32 = u32::MAX;

/// Codes per list item (in row order) into the names the batch uses, for
/// plain or dictionary-encoded strings; `nullable` lets a NULL item be
/// [`NONE`] (else it is an error). An empty name is an error.
pub(crate) fn name_codes<'a>(
    kind: Kind,
    what: &str,
    ranges: &[(usize, usize)],
    values: &'a ArrayRef,
    nullable: bool,
) -> Result<(Vec<u32>, Vec<&'a str>)> {
    let touches: usize = ranges.iter().map(|(a, b)| b - a).sum();
    let mut codes = Vec::with_capacity(touches);
    let mut names: Vec<&'a str> = Vec::new();
    let null =
        |row: usize| DataFusionError::Execution(format!("tp_{kind}: a NULL {what} in row {row}"));
    let empty = |row: usize| {
        DataFusionError::Execution(format!("tp_{kind}: an empty {what} name in row {row}"))
    };
    let too_many =
        || DataFusionError::Execution(format!("tp_{kind}: too many distinct {what} names"));
    if let Some(dict) = values.as_any_dictionary_opt() {
        let Some(strs) = Strs::of(dict.values().as_ref()) else {
            return exec_err!(
                "tp_{kind}: dictionary {what}s must have string values, got {}",
                dict.values().data_type()
            );
        };
        let keys = dict.keys();
        let norm = dict.normalized_keys();
        // dictionary entry -> dense code among the entries this batch uses
        // (NONE - 1: not seen yet; NONE: a NULL entry)
        const UNSEEN: u32 = NONE - 1;
        let mut remap = vec![UNSEEN; dict.values().len()];
        for (row, &(a, b)) in ranges.iter().enumerate() {
            for (t, &k) in norm.iter().enumerate().take(b).skip(a) {
                if keys.is_null(t) {
                    if nullable {
                        codes.push(NONE);
                        continue;
                    }
                    return Err(null(row));
                }
                let slot = remap.get_mut(k).ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "tp_{kind}: a dictionary key out of range in row {row}"
                    ))
                })?;
                if *slot == UNSEEN {
                    *slot = match strs.get(k) {
                        None if nullable => NONE,
                        None => return Err(null(row)),
                        Some("") => return Err(empty(row)),
                        Some(name) => {
                            let code = u32::try_from(names.len())
                                .ok()
                                .filter(|&c| c < UNSEEN)
                                .ok_or_else(too_many)?;
                            names.push(name);
                            code
                        }
                    };
                }
                codes.push(*slot);
            }
        }
    } else if let Some(strs) = Strs::of(values.as_ref()) {
        let mut ix: HashMap<&'a str, u32> = HashMap::new();
        for (row, &(a, b)) in ranges.iter().enumerate() {
            for t in a..b {
                let name = match strs.get(t) {
                    None if nullable => {
                        codes.push(NONE);
                        continue;
                    }
                    None => return Err(null(row)),
                    Some("") => return Err(empty(row)),
                    Some(name) => name,
                };
                let next = u32::try_from(names.len())
                    .ok()
                    .filter(|&c| c < NONE - 1)
                    .ok_or_else(too_many)?;
                let code = *ix.entry(name).or_insert_with(|| {
                    names.push(name);
                    next
                });
                codes.push(code);
            }
        }
    } else {
        return exec_err!(
            "tp_{kind}: {what}s must be strings or dictionary-encoded strings, got {}",
            values.data_type()
        );
    }
    Ok((codes, names))
}

/// Codes of an optional list column aligned with the channels: row `i`
/// must have as many items as `chan_ranges[i]` has touches, or be NULL
/// (every touch without a name). Items may be NULL ([`NONE`]).
pub(crate) fn aligned_codes<'a>(
    kind: Kind,
    what: &str,
    chan_ranges: &[(usize, usize)],
    a: &'a ArrayRef,
    parent: Option<&NullBuffer>,
) -> Result<(Vec<u32>, Vec<&'a str>)> {
    let (mut ranges, values) = list_ranges_opt(kind, what, a)?;
    if let Some(p) = parent {
        for (i, r) in ranges.iter_mut().enumerate() {
            if p.is_null(i) {
                *r = None;
            }
        }
    }
    if ranges.len() != chan_ranges.len() {
        return exec_err!(
            "tp_{kind}: {} {what} lists for {} rows",
            ranges.len(),
            chan_ranges.len()
        );
    }
    let mut present = Vec::with_capacity(ranges.len());
    for (row, (r, &(ca, cb))) in ranges.iter().zip(chan_ranges).enumerate() {
        if let Some((a, b)) = *r {
            if b - a != cb - ca {
                return exec_err!(
                    "tp_{kind}: row {row} has {} touches but {} {what}s",
                    cb - ca,
                    b - a
                );
            }
            present.push((a, b));
        } else {
            present.push((0, 0));
        }
    }
    let (codes, names) = name_codes(kind, what, &present, values, true)?;
    if ranges.iter().all(Option::is_some) {
        return Ok((codes, names));
    }
    let mut out = Vec::with_capacity(chan_ranges.iter().map(|(a, b)| b - a).sum());
    let mut at = 0;
    for (r, &(ca, cb)) in ranges.iter().zip(chan_ranges) {
        let n = cb - ca;
        if r.is_some() {
            out.extend_from_slice(&codes[at..at + n]);
            at += n;
        } else {
            out.extend(std::iter::repeat_n(NONE, n));
        }
    }
    Ok((out, names))
}

/// Offsets starting at 0 for `ranges`, as the core's `i32` offsets.
fn offsets(kind: Kind, ranges: &[(usize, usize)]) -> Result<Vec<i32>> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    out.push(0i32);
    let mut at = 0usize;
    for (a, b) in ranges {
        at += b - a;
        out.push(i32::try_from(at).map_err(|_| {
            DataFusionError::Execution(format!(
                "tp_{kind}: more than 2^31 touches in one batch; use smaller batches"
            ))
        })?);
    }
    Ok(out)
}

/// The raw values of a timestamp array (any unit, or `Int64` Unix ms) and
/// the divisor to milliseconds (`-1`: seconds, multiply by 1000).
#[allow(clippy::type_complexity)]
pub(crate) fn raw_times(
    kind: Kind,
    what: &str,
    values: &ArrayRef,
) -> Result<(Vec<Option<i64>>, i64)> {
    Ok(match values.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => (
            values
                .as_primitive::<TimestampSecondType>()
                .iter()
                .collect(),
            -1,
        ),
        DataType::Timestamp(TimeUnit::Millisecond, _) => (
            values
                .as_primitive::<TimestampMillisecondType>()
                .iter()
                .collect(),
            1,
        ),
        DataType::Timestamp(TimeUnit::Microsecond, _) => (
            values
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .collect(),
            1_000,
        ),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => (
            values
                .as_primitive::<TimestampNanosecondType>()
                .iter()
                .collect(),
            1_000_000,
        ),
        DataType::Int64 => (values.as_primitive::<Int64Type>().iter().collect(), 1),
        t => {
            return exec_err!("tp_{kind}: {what} must be TIMESTAMP or Int64 milliseconds, got {t}");
        }
    })
}

/// One raw time value in Unix milliseconds (floor, as the core's
/// `timestamp_millis`).
pub(crate) fn to_ms(kind: Kind, what: &str, v: i64, per_ms: i64, row: usize) -> Result<i64> {
    if per_ms < 0 {
        v.checked_mul(1000).ok_or_else(|| {
            DataFusionError::Execution(format!("tp_{kind}: {what} out of range in row {row}"))
        })
    } else {
        Ok(v.div_euclid(per_ms))
    }
}

/// Whether `t` is a type the conversion-time field accepts: a timestamp
/// (any unit) or `Int64` Unix milliseconds.
pub(crate) fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, _) | DataType::Int64)
}

/// Timestamps per touch in Unix milliseconds (floor, as the core's
/// `timestamp_millis`), checked to match the channels row by row and to be
/// in time order within each row.
fn timestamps(kind: Kind, chan_ranges: &[(usize, usize)], a: &ArrayRef) -> Result<Vec<i64>> {
    let (ranges, values) = list_ranges(kind, "timestamps", a)?;
    let (raw, per_ms) = raw_times(kind, "timestamps", values)?;
    let mut out = Vec::with_capacity(chan_ranges.iter().map(|(a, b)| b - a).sum());
    for (row, (&(ca, cb), &(a, b))) in chan_ranges.iter().zip(&ranges).enumerate() {
        if cb - ca != b - a {
            return exec_err!(
                "tp_{kind}: row {row} has {} channels but {} timestamps",
                cb - ca,
                b - a
            );
        }
        let mut prev = i64::MIN;
        for (t, v) in raw[a..b].iter().enumerate() {
            let Some(v) = *v else {
                return exec_err!("tp_{kind}: a NULL timestamp in row {row} (touch {t})");
            };
            let ms = to_ms(kind, "timestamp", v, per_ms, row)?;
            if ms < prev {
                return exec_err!(
                    "tp_{kind}: timestamps out of order in row {row} (touch {t} is earlier than touch {}); build rows with array_agg(... ORDER BY ts)",
                    t - 1
                );
            }
            prev = ms;
            out.push(ms);
        }
    }
    Ok(out)
}

/// The type of one field of an extras struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// A list of names, plain or dictionary-encoded strings.
    NameList,
    /// A list of timestamps (any unit) or of Int64 Unix ms.
    TimeList,
    /// A timestamp (any unit) or Int64 Unix ms.
    Time,
    /// A string.
    Name,
}

impl FieldType {
    fn accepts(self, t: &DataType) -> bool {
        match self {
            FieldType::NameList => is_channel_list(t),
            FieldType::TimeList => is_timestamp_list(t),
            FieldType::Time => is_time(t),
            FieldType::Name => {
                is_string(t) || matches!(t, DataType::Dictionary(_, v) if is_string(v))
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FieldType::NameList => "a LIST of VARCHAR",
            FieldType::TimeList => "a LIST of TIMESTAMP",
            FieldType::Time => "a TIMESTAMP (or BIGINT Unix milliseconds)",
            FieldType::Name => "a VARCHAR",
        }
    }
}

/// The fields of the journey form's extras struct: lists aligned with the
/// channels, and the conversion time.
pub(crate) const JOURNEY_EXTRAS: &[(&str, FieldType)] = &[
    ("campaigns", FieldType::NameList),
    ("contents", FieldType::NameList),
    ("milestones", FieldType::NameList),
    ("conversion_ts", FieldType::Time),
];

/// Checks an extras argument's type against `allowed`: a STRUCT whose
/// fields are a subset of `allowed` (any order), each of its type. Returns
/// the field names given.
pub(crate) fn check_extras(
    who: &str,
    t: &DataType,
    allowed: &[(&str, FieldType)],
) -> Result<Vec<String>> {
    let known = || {
        allowed
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let DataType::Struct(fields) = t else {
        return datafusion_common::plan_err!(
            "{who}: the argument after the spec must be a STRUCT of optional fields ({}), e.g. named_struct('campaigns', campaigns); got {t}",
            known()
        );
    };
    let mut out = Vec::new();
    for f in fields {
        let Some((_, ft)) = allowed.iter().find(|(n, _)| *n == f.name()) else {
            return datafusion_common::plan_err!(
                "{who}: unknown field '{}' in the extras struct (known: {})",
                f.name(),
                known()
            );
        };
        if !ft.accepts(f.data_type()) && f.data_type() != &DataType::Null {
            return datafusion_common::plan_err!(
                "{who}: extras field '{}' must be {}, got {}",
                f.name(),
                ft.describe(),
                f.data_type()
            );
        }
        out.push(f.name().clone());
    }
    Ok(out)
}

/// The field `name` of the extras struct, if given and not of type NULL,
/// with the struct's own row nulls (a NULL struct row: every field NULL).
fn extras_field<'a>(
    extras: Option<&'a ArrayRef>,
    name: &str,
) -> Option<(&'a ArrayRef, Option<&'a NullBuffer>)> {
    let s = extras?.as_struct_opt()?;
    let col = s.column_by_name(name)?;
    (col.data_type() != &DataType::Null).then(|| (col, s.nulls()))
}

/// A touch's milestone from its name.
fn milestone_of(name: &str) -> Option<Milestone> {
    [
        Milestone::LeadCreated,
        Milestone::OpportunityCreated,
        Milestone::Closed,
    ]
    .into_iter()
    .find(|m| m.as_str() == name)
}

/// Owned per-batch columns (codes and numbers; names borrowed from Arrow).
#[derive(Debug)]
pub(crate) struct JourneyBatch<'a> {
    offsets: Vec<i32>,
    codes: Vec<u32>,
    names: Vec<&'a str>,
    ts_ms: Vec<i64>,
    converted: Vec<bool>,
    values: Vec<f64>,
    values_minor: Vec<i64>,
    campaigns: (Vec<u32>, Vec<&'a str>),
    contents: (Vec<u32>, Vec<&'a str>),
    milestones: Vec<Option<Milestone>>,
    conversion_ts: Vec<Option<i64>>,
}

impl<'a> JourneyBatch<'a> {
    /// Reads the journey form: `channels, timestamps, converted, value`,
    /// and the optional fields of `extras` (a STRUCT, checked by
    /// [`check_extras`] against [`JOURNEY_EXTRAS`]).
    pub(crate) fn read(
        kind: Kind,
        currency: Currency,
        args: &'a [ArrayRef],
        extras: Option<&'a ArrayRef>,
    ) -> Result<Self> {
        let (ranges, chan_values) = list_ranges(kind, "channels", &args[0])?;
        let (codes, names) = channel_codes(kind, &ranges, chan_values)?;
        let ts_ms = timestamps(kind, &ranges, &args[1])?;
        let conv: &BooleanArray = args[2].as_boolean_opt().ok_or_else(|| {
            DataFusionError::Execution(format!(
                "tp_{kind}: converted must be BOOLEAN, got {}",
                args[2].data_type()
            ))
        })?;
        let vals: &Float64Array = args[3]
            .as_primitive_opt::<datafusion_common::arrow::datatypes::Float64Type>()
            .ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "tp_{kind}: value must be DOUBLE, got {}",
                    args[3].data_type()
                ))
            })?;
        let n = ranges.len();
        let mut converted = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        let mut values_minor = Vec::with_capacity(n);
        for row in 0..n {
            if conv.is_null(row) {
                return exec_err!("tp_{kind}: converted is NULL in row {row}");
            }
            let c = conv.value(row);
            let v = if vals.is_null(row) {
                if c {
                    return exec_err!(
                        "tp_{kind}: a converted journey has a NULL value in row {row}"
                    );
                }
                0.0
            } else {
                vals.value(row)
            };
            let minor = to_minor(currency, v).ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "tp_{kind}: value {v} in row {row} is negative, not finite or too large"
                ))
            })?;
            converted.push(c);
            values.push(if c { v } else { 0.0 });
            values_minor.push(if c { minor } else { 0 });
        }
        let mut batch = JourneyBatch {
            offsets: offsets(kind, &ranges)?,
            codes,
            names,
            ts_ms,
            converted,
            values,
            values_minor,
            campaigns: (Vec::new(), Vec::new()),
            contents: (Vec::new(), Vec::new()),
            milestones: Vec::new(),
            conversion_ts: Vec::new(),
        };
        batch.read_extras(kind, &ranges, extras)?;
        Ok(batch)
    }

    fn read_extras(
        &mut self,
        kind: Kind,
        ranges: &[(usize, usize)],
        extras: Option<&'a ArrayRef>,
    ) -> Result<()> {
        if let Some((col, parent)) = extras_field(extras, "campaigns") {
            self.campaigns = aligned_codes(kind, "campaign", ranges, col, parent)?;
        }
        if let Some((col, parent)) = extras_field(extras, "contents") {
            self.contents = aligned_codes(kind, "content", ranges, col, parent)?;
        }
        if let Some((col, parent)) = extras_field(extras, "milestones") {
            let (codes, names) = aligned_codes(kind, "milestone", ranges, col, parent)?;
            let known: Vec<Option<Milestone>> = names.iter().map(|n| milestone_of(n)).collect();
            self.milestones.reserve(codes.len());
            let mut at = 0;
            for (row, &(a, b)) in ranges.iter().enumerate() {
                let row_codes = &codes[at..at + (b - a)];
                at += b - a;
                for &c in row_codes {
                    if c == NONE {
                        self.milestones.push(None);
                        continue;
                    }
                    let Some(m) = known[c as usize] else {
                        return exec_err!(
                            "tp_{kind}: unknown milestone '{}' in row {row} (known: lead_created, opportunity_created, closed)",
                            names[c as usize]
                        );
                    };
                    self.milestones.push(Some(m));
                }
            }
        }
        if let Some((col, parent)) = extras_field(extras, "conversion_ts") {
            let (raw, per_ms) = raw_times(kind, "conversion_ts", col)?;
            if raw.len() != ranges.len() {
                return exec_err!(
                    "tp_{kind}: {} conversion times for {} rows",
                    raw.len(),
                    ranges.len()
                );
            }
            self.conversion_ts = raw
                .iter()
                .enumerate()
                .map(|(row, v)| match v {
                    Some(v) if parent.is_none_or(|p| p.is_valid(row)) => {
                        to_ms(kind, "conversion_ts", *v, per_ms, row).map(Some)
                    }
                    _ => Ok(None),
                })
                .collect::<Result<_>>()?;
        }
        Ok(())
    }

    /// The batch as the core's column slices.
    pub(crate) fn columns(&self) -> Columns<'_> {
        Columns {
            offsets: &self.offsets,
            codes: &self.codes,
            names: &self.names,
            ts_ms: &self.ts_ms,
            converted: &self.converted,
            values: &self.values,
            values_minor: &self.values_minor,
            campaign_codes: &self.campaigns.0,
            campaign_names: &self.campaigns.1,
            content_codes: &self.contents.0,
            content_names: &self.contents.1,
            milestones: &self.milestones,
            conversion_ts: &self.conversion_ts,
        }
    }
}

/// One row of the aggregated path form.
#[derive(Debug)]
pub(crate) struct PathRow<'a> {
    pub path: Vec<&'a str>,
    pub conversions: u64,
    pub value_minor: i64,
    pub nulls: u64,
}

/// Reads the path form: `path, conversions, value, nulls`.
pub(crate) fn read_paths<'a>(
    kind: Kind,
    currency: Currency,
    args: &'a [ArrayRef],
) -> Result<Vec<PathRow<'a>>> {
    let (ranges, chan_values) = list_ranges(kind, "path", &args[0])?;
    let (codes, names) = channel_codes(kind, &ranges, chan_values)?;
    let ints = |i: usize, what: &str| -> Result<&'a Int64Array> {
        args[i].as_primitive_opt::<Int64Type>().ok_or_else(|| {
            DataFusionError::Execution(format!(
                "tp_{kind}: {what} must be BIGINT, got {}",
                args[i].data_type()
            ))
        })
    };
    let conv = ints(1, "conversions")?;
    let nulls = ints(3, "nulls")?;
    let vals = args[2]
        .as_primitive_opt::<datafusion_common::arrow::datatypes::Float64Type>()
        .ok_or_else(|| {
            DataFusionError::Execution(format!(
                "tp_{kind}: value must be DOUBLE, got {}",
                args[2].data_type()
            ))
        })?;
    let mut out = Vec::with_capacity(ranges.len());
    let mut at = 0usize;
    for (row, &(a, b)) in ranges.iter().enumerate() {
        let count = |arr: &Int64Array, what: &str| -> Result<u64> {
            if arr.is_null(row) {
                return exec_err!("tp_{kind}: {what} is NULL in row {row}");
            }
            u64::try_from(arr.value(row)).map_err(|_| {
                DataFusionError::Execution(format!(
                    "tp_{kind}: {what} is negative ({}) in row {row}",
                    arr.value(row)
                ))
            })
        };
        let conversions = count(conv, "conversions")?;
        let n = count(nulls, "nulls")?;
        let v = if vals.is_null(row) {
            0.0
        } else {
            vals.value(row)
        };
        let value_minor = to_minor(currency, v).ok_or_else(|| {
            DataFusionError::Execution(format!(
                "tp_{kind}: value {v} in row {row} is negative, not finite or too large"
            ))
        })?;
        let len = b - a;
        let path = codes[at..at + len]
            .iter()
            .map(|&c| names[c as usize])
            .collect();
        at += len;
        out.push(PathRow {
            path,
            conversions,
            value_minor,
            nulls: n,
        });
    }
    Ok(out)
}
