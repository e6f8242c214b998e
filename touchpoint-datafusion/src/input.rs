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
fn list_ranges<'a>(
    kind: Kind,
    what: &str,
    a: &'a ArrayRef,
) -> Result<(Vec<(usize, usize)>, &'a ArrayRef)> {
    fn go<O: OffsetSizeTrait>(
        kind: Kind,
        what: &str,
        l: &GenericListArray<O>,
    ) -> Result<Vec<(usize, usize)>> {
        let offs = l.value_offsets();
        let mut out = Vec::with_capacity(l.len());
        for i in 0..l.len() {
            if l.is_null(i) {
                return exec_err!("tp_{kind}: the {what} list of row {i} is NULL");
            }
            out.push((offs[i].as_usize(), offs[i + 1].as_usize()));
        }
        Ok(out)
    }
    match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            Ok((go(kind, what, l)?, l.values()))
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            Ok((go(kind, what, l)?, l.values()))
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
    let touches: usize = ranges.iter().map(|(a, b)| b - a).sum();
    let mut codes = Vec::with_capacity(touches);
    let mut names: Vec<&'a str> = Vec::new();
    let null =
        |row: usize| DataFusionError::Execution(format!("tp_{kind}: a NULL channel in row {row}"));
    let empty = |row: usize| {
        DataFusionError::Execution(format!("tp_{kind}: an empty channel name in row {row}"))
    };
    if let Some(dict) = values.as_any_dictionary_opt() {
        let Some(strs) = Strs::of(dict.values().as_ref()) else {
            return exec_err!(
                "tp_{kind}: dictionary channels must have string values, got {}",
                dict.values().data_type()
            );
        };
        let keys = dict.keys();
        let norm = dict.normalized_keys();
        // dictionary entry -> dense code among the entries this batch uses
        let mut remap = vec![u32::MAX; dict.values().len()];
        for (row, &(a, b)) in ranges.iter().enumerate() {
            for (t, &k) in norm.iter().enumerate().take(b).skip(a) {
                if keys.is_null(t) {
                    return Err(null(row));
                }
                let slot = remap.get_mut(k).ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "tp_{kind}: a dictionary key out of range in row {row}"
                    ))
                })?;
                if *slot == u32::MAX {
                    let name = strs.get(k).ok_or_else(|| null(row))?;
                    if name.is_empty() {
                        return Err(empty(row));
                    }
                    *slot = u32::try_from(names.len()).map_err(|_| {
                        DataFusionError::Execution(format!("tp_{kind}: too many channels"))
                    })?;
                    names.push(name);
                }
                codes.push(*slot);
            }
        }
    } else if let Some(strs) = Strs::of(values.as_ref()) {
        let mut ix: HashMap<&'a str, u32> = HashMap::new();
        for (row, &(a, b)) in ranges.iter().enumerate() {
            for t in a..b {
                let name = strs.get(t).ok_or_else(|| null(row))?;
                if name.is_empty() {
                    return Err(empty(row));
                }
                let next = u32::try_from(names.len()).map_err(|_| {
                    DataFusionError::Execution(format!("tp_{kind}: too many channels"))
                })?;
                let code = *ix.entry(name).or_insert_with(|| {
                    names.push(name);
                    next
                });
                codes.push(code);
            }
        }
    } else {
        return exec_err!(
            "tp_{kind}: channels must be strings or dictionary-encoded strings, got {}",
            values.data_type()
        );
    }
    Ok((codes, names))
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

/// Timestamps per touch in Unix milliseconds (floor, as the core's
/// `timestamp_millis`), checked to match the channels row by row and to be
/// in time order within each row.
fn timestamps(kind: Kind, chan_ranges: &[(usize, usize)], a: &ArrayRef) -> Result<Vec<i64>> {
    let (ranges, values) = list_ranges(kind, "timestamps", a)?;
    let (raw, per_ms): (Vec<Option<i64>>, i64) = match values.data_type() {
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
            return exec_err!(
                "tp_{kind}: timestamps must be TIMESTAMP or Int64 milliseconds, got {t}"
            );
        }
    };
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
            let ms = if per_ms < 0 {
                v.checked_mul(1000).ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "tp_{kind}: timestamp out of range in row {row}"
                    ))
                })?
            } else {
                v.div_euclid(per_ms)
            };
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
}

impl<'a> JourneyBatch<'a> {
    /// Reads the journey form: `channels, timestamps, converted, value`.
    pub(crate) fn read(kind: Kind, currency: Currency, args: &'a [ArrayRef]) -> Result<Self> {
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
        Ok(JourneyBatch {
            offsets: offsets(kind, &ranges)?,
            codes,
            names,
            ts_ms,
            converted,
            values,
            values_minor,
        })
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
