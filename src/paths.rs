//! What the path-based fitted models (Markov, Shapley) share, so that
//! neither imports the other: local interning of channel names, the one
//! `observe_*` front end (a user journey, a [`JourneySet`], an aggregated
//! path, Arrow-layout columns), path validation, and the per-touch weights
//! of a fitted model's [`AttributionModel`](crate::AttributionModel) impl.
//!
//! A fit keeps its own channel ids ([`LocalNames`]): partials built on
//! different data know different channels and are remapped by name only on
//! `merge` and in serialization, never per touch. A [`JourneySet`]'s catalog
//! is mapped to local ids once per set ([`LocalNames::map_catalog`]); a
//! user journey's names are looked up in a [`NameTable`] (names of up to
//! 16 bytes, no hashing of the bytes) before a word-hash map (no sorting or
//! string comparison per touch).

use std::collections::HashMap;

use crate::credit::names::NameTable;
use crate::credit::{CONVERSION_UNITS, Report, apportion_weighted};
use crate::dataset::{ChannelId, JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::hash::WordBuild;
use crate::journey::Journey;
use crate::model::Weights;
use crate::money::{Currency, MAX_MINOR};
use crate::touchpoint::Touchpoint;

/// Adds one group of path outcomes into another: conversions,
/// non-converting journeys (nulls) and the conversions' value in minor
/// units, each checked (the merge of Markov's totals and of Shapley's
/// coalition cells).
///
/// # Errors
///
/// [`Error::Overflow`] naming the sum that overflowed.
pub(crate) fn add_outcomes(
    (conversions, nulls, value_minor): (&mut u64, &mut u64, &mut i128),
    add: (u64, u64, i128),
) -> Result<()> {
    let ov = |what| Error::Overflow { what };
    *conversions = conversions
        .checked_add(add.0)
        .ok_or_else(|| ov("conversion count"))?;
    *nulls = nulls.checked_add(add.1).ok_or_else(|| ov("null count"))?;
    *value_minor = value_minor
        .checked_add(add.2)
        .ok_or_else(|| ov("total value"))?;
    Ok(())
}

/// Channel names of one fit, in first-seen order, with their local ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalNames {
    names: Vec<String>,
    index: HashMap<String, u32, WordBuild>,
    /// The same ids for names of up to 16 bytes, looked up without
    /// hashing the bytes or comparing strings (see [`NameTable`]).
    fast: NameTable,
    limit: usize,
    what: &'static str,
}

impl LocalNames {
    /// At most `limit` names; `what` names them in [`Error::TooLarge`].
    pub(crate) fn new(limit: usize, what: &'static str) -> LocalNames {
        LocalNames {
            names: Vec::new(),
            index: HashMap::default(),
            fast: NameTable::default(),
            limit,
            what,
        }
    }

    /// The names, by local id.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The local id of `name`, if known.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.fast
            .get(name)
            .or_else(|| self.index.get(name).copied())
    }

    /// The local id of `name`, interning it if new.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] past the limit.
    #[inline(always)]
    pub(crate) fn intern(&mut self, name: &str) -> Result<u32> {
        // the cached lookup inlined, the rest out of line
        match self.fast.get(name) {
            Some(i) => Ok(i),
            None => self.intern_slow(name),
        }
    }

    /// Interns `names` in order into `ids` (cleared first): the observe
    /// front end of a view or an aggregated path. Stops at the first
    /// error; the names before it stay interned.
    ///
    /// # Errors
    ///
    /// As [`intern`](Self::intern).
    pub(crate) fn intern_into<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
        ids: &mut Vec<u32>,
    ) -> Result<()> {
        ids.clear();
        for name in names {
            ids.push(self.intern(name)?);
        }
        Ok(())
    }

    /// [`intern`](Self::intern) of a name the cache does not hold.
    #[inline(never)]
    fn intern_slow(&mut self, name: &str) -> Result<u32> {
        match self.index.get(name) {
            Some(&i) => Ok(i),
            None => self.insert(name),
        }
    }

    fn insert(&mut self, name: &str) -> Result<u32> {
        if self.names.len() >= self.limit {
            return Err(Error::TooLarge {
                what: self.what,
                found: self.names.len() + 1,
                limit: self.limit,
            });
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        self.fast.insert(name, i);
        Ok(i)
    }

    /// Local ids of every channel of `set`'s catalog, by catalog id (the
    /// once-per-set lookup of the batch path).
    ///
    /// # Errors
    ///
    /// As [`intern`](Self::intern).
    pub(crate) fn map_catalog(&mut self, set: &JourneySet, out: &mut Vec<u32>) -> Result<()> {
        out.clear();
        for name in set.catalog().channels.iter() {
            out.push(self.intern(name)?);
        }
        Ok(())
    }

    /// Approximate heap bytes.
    pub(crate) fn size_bytes(&self) -> usize {
        self.names
            .iter()
            .map(|n| n.capacity() * 2 + 64)
            .sum::<usize>()
            + self.fast.size_bytes()
    }
}

/// The outcome of one journey, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) converted: bool,
    pub(crate) value_minor: i64,
}

/// Scratch buffers of [`read_journey`], kept by a fit between calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct JourneyScratch {
    pub(crate) ids: Vec<u32>,
    order: Vec<(i64, u32)>,
}

impl JourneyScratch {
    pub(crate) fn size_bytes(&self) -> usize {
        self.ids.capacity() * 4 + self.order.capacity() * 16
    }
}

/// The front end of every `observe(journey)` of a path-based fit: validates
/// one journey of the caller's type exactly as
/// [`JourneySet::push`](crate::JourneySet::push) does (value, costs), puts
/// its channels' local ids in time order (stable) into `scratch.ids`, and
/// returns its outcome. No `JourneySet` is built and no name is copied
/// unless new.
///
/// # Errors
///
/// [`Error::InvalidValue`], [`Error::InvalidCost`] as `push`;
/// [`Error::TooLarge`] past the fit's channel limit.
#[inline]
pub(crate) fn read_journey<J: Journey + ?Sized>(
    journey: &J,
    currency: Currency,
    names: &mut LocalNames,
    scratch: &mut JourneyScratch,
) -> Result<Outcome> {
    let outcome = journey.outcome();
    // most journeys do not convert: their value is 0 with no call
    let value_minor = if outcome.converted {
        outcome.value_minor(journey.id(), currency)?
    } else {
        0
    };
    let touches = journey.touchpoints();
    // One pass over the touches: costs checked, names looked up, order
    // checked. Comparing `DateTime`s is enough: in time order they are in
    // millisecond order too (the key `JourneySet::push` sorts by), and if
    // they are not, the stable sort by milliseconds below decides.
    let ids = &mut scratch.ids;
    ids.clear();
    let mut sorted = true;
    let mut interned = Ok(());
    let mut last = None;
    for (i, t) in touches.iter().enumerate() {
        if let Some(c) = t.cost() {
            if currency.to_minor(c)?.is_none() {
                return Err(Error::InvalidCost {
                    journey: journey.id().to_owned(),
                    touch: i,
                    cost: c,
                });
            }
        }
        let ts = t.timestamp();
        if let Some(prev) = last {
            sorted &= ts >= prev;
        }
        last = Some(ts);
        // a name past the fit's limit is reported after every cost is
        // checked, as `push` then `observe` did
        if interned.is_ok() {
            match names.intern(t.channel()) {
                Ok(id) => ids.push(id),
                Err(e) => interned = Err(e),
            }
        }
    }
    interned?;
    if !sorted {
        let order = &mut scratch.order;
        order.clear();
        order.extend(touches.iter().enumerate().map(|(i, t)| {
            (
                t.timestamp().timestamp_millis(),
                u32::try_from(i).unwrap_or(u32::MAX),
            )
        }));
        order.sort_by_key(|&(ts, _)| ts); // stable, as push
        ids.clear();
        for &(_, i) in order.iter() {
            ids.push(names.intern(touches[i as usize].channel())?);
        }
    }
    Ok(Outcome {
        converted: outcome.converted,
        value_minor,
    })
}

/// The error of a journey set (or view) whose currency is not the fit's.
pub(crate) fn check_currency(found: Currency, expected: Currency) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::param(
            "currency",
            format!("{} decimals", found.decimals()),
            "the currency of the fit's configuration",
        ))
    }
}

/// Checks an aggregated path row: value in `0..=MAX_MINOR`, none without a
/// conversion, no empty channel name.
pub(crate) fn validate_path<S: AsRef<str>>(
    path: &[S],
    conversions: u64,
    value_minor: i64,
) -> Result<()> {
    let label = || {
        path.iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(" > ")
    };
    if !(0..=MAX_MINOR).contains(&value_minor) || (conversions == 0 && value_minor != 0) {
        return Err(Error::InvalidValue {
            journey: label(),
            #[expect(clippy::cast_precision_loss, reason = "message")]
            value: value_minor as f64,
        });
    }
    if path.iter().any(|c| c.as_ref().is_empty()) {
        return Err(Error::InvalidJourney {
            journey: label(),
            reason: "empty channel name in path".into(),
        });
    }
    Ok(())
}

/// Checks the names of Arrow-layout columns and maps them to local ids.
///
/// # Errors
///
/// [`Error::InvalidParameter`] for an empty name; as
/// [`LocalNames::intern`].
pub(crate) fn map_column_names(names: &[&str], local: &mut LocalNames) -> Result<Vec<u32>> {
    let mut map = Vec::with_capacity(names.len());
    for name in names {
        if name.is_empty() {
            return Err(Error::param("names", "\"\"", "non-empty channel names"));
        }
        map.push(local.intern(name)?);
    }
    Ok(map)
}

/// Validates Arrow-layout journey columns and calls `f(codes, converted,
/// value)` per journey.
pub(crate) fn walk_columns(
    offsets: &[i32],
    codes: &[u32],
    names: usize,
    converted: &[bool],
    values_minor: &[i64],
    mut f: impl FnMut(&[u32], bool, i64) -> Result<()>,
) -> Result<()> {
    let n = converted.len();
    if offsets.len() != n + 1 || values_minor.len() != n {
        return Err(Error::param(
            "offsets",
            offsets.len(),
            "journeys + 1 offsets and one value per journey",
        ));
    }
    if let Some(&c) = codes.iter().find(|&&c| c as usize >= names) {
        return Err(Error::param("codes", c, "indices into names"));
    }
    for i in 0..n {
        let (a, b) = (offsets[i], offsets[i + 1]);
        let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
            return Err(Error::param("offsets", a.min(b), "non-negative offsets"));
        };
        if a > b || b > codes.len() {
            return Err(Error::param(
                "offsets",
                b,
                "non-decreasing offsets within codes",
            ));
        }
        let v = if converted[i] { values_minor[i] } else { 0 };
        if !(0..=MAX_MINOR).contains(&v) {
            return Err(Error::InvalidValue {
                journey: format!("#{i}"),
                #[expect(clippy::cast_precision_loss, reason = "message")]
                value: v as f64,
            });
        }
        f(&codes[a..b], converted[i], v)?;
    }
    Ok(())
}

/// Journeys up to this length count occurrences on the stack.
const SMALL: usize = 32;

/// Fills `out` with `weight(channel) / occurrences(channel)` per touch, or
/// equal weights when all are zero (or not finite).
///
/// `weight` is called once per *distinct* channel of the journey, with its
/// catalog id; occurrences are counted by sorting the ids (O(n log n), on
/// the stack up to 32 touches), never by comparing names. The sum is taken
/// in touch order, so the weights are the same bits as a per-touch count.
pub(crate) fn per_channel_weights(
    journey: &JourneyView<'_>,
    out: &mut Weights,
    mut weight: impl FnMut(ChannelId) -> f64,
) {
    let ch = journey.channels();
    let n = ch.len();
    let mut small = [(0u32, 0u32); SMALL];
    let mut large = Vec::new();
    let pairs: &mut [(u32, u32)] = if n <= SMALL {
        &mut small[..n]
    } else {
        large.resize(n, (0, 0));
        &mut large
    };
    for (i, (p, c)) in pairs.iter_mut().zip(ch).enumerate() {
        *p = (c.0, u32::try_from(i).unwrap_or(u32::MAX));
    }
    pairs.sort_unstable();
    let w = out.weighted();
    w.clear();
    w.resize(n, 0.0);
    let mut g = 0;
    while g < n {
        let id = pairs[g].0;
        let mut e = g + 1;
        while e < n && pairs[e].0 == id {
            e += 1;
        }
        #[expect(clippy::cast_precision_loss, reason = "journey lengths are small")]
        let occ = (e - g) as f64;
        let x = weight(ChannelId(id)) / occ;
        let x = if x.is_finite() && x > 0.0 { x } else { 0.0 };
        for &(_, i) in &pairs[g..e] {
            w[i as usize] = x;
        }
        g = e;
    }
    let mut sum = 0.0;
    for &x in w.iter() {
        sum += x;
    }
    if sum <= 0.0 {
        out.equal();
    }
}

/// The integer totals a channel-level report of a fitted model states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FitTotals {
    /// Journeys observed, with or without touches.
    pub(crate) journeys: u64,
    /// Converted journeys with at least one touch (shared among channels).
    pub(crate) conversions: u64,
    /// Their value, minor units.
    pub(crate) value_minor: i128,
    /// Converted journeys with no touch (unassigned).
    pub(crate) empty_conversions: u64,
    /// Their value, minor units.
    pub(crate) empty_value_minor: i128,
}

/// The [`Report`] of a fitted model whose lines are already apportioned in
/// integers (`units[i]`, `values[i]` for `channels[i]`, summing to the
/// totals of journeys with touches). Converting journeys with no touch are
/// the channel breakdown's unassigned line and count in the report's totals,
/// as in every rule-based report.
///
/// # Errors
///
/// [`Error::Overflow`] if a total does not fit; [`Error::InvalidParameter`]
/// for a negative amount (only a hand-edited partial can carry one).
pub(crate) fn units_report(
    model: &str,
    currency: Currency,
    channels: &[String],
    units: &[i64],
    values: &[i64],
    t: &FitTotals,
) -> Result<Report> {
    let overflow = || Error::Overflow {
        what: "attributed totals",
    };
    let negative = |v: i128| Error::param("value_minor", v, "amounts >= 0 minor units");
    let mut lines = Vec::with_capacity(channels.len());
    for ((c, &u), &v) in channels.iter().zip(units).zip(values) {
        let u = u128::try_from(u).map_err(|_| negative(i128::from(u)))?;
        lines.push((c.clone(), u, i128::from(v)));
    }
    if t.empty_value_minor < 0 {
        return Err(negative(t.empty_value_minor));
    }
    let conversions = t
        .conversions
        .checked_add(t.empty_conversions)
        .ok_or_else(overflow)?;
    let value = t
        .value_minor
        .checked_add(t.empty_value_minor)
        .ok_or_else(overflow)?;
    Ok(Report::from_channel_totals(
        model.to_owned(),
        currency,
        (t.journeys, conversions, value),
        lines,
        (
            u128::from(t.empty_conversions) * u128::from(CONVERSION_UNITS),
            t.empty_value_minor,
        ),
    ))
}

/// The [`Report`] of a fitted model that shares the totals of journeys with
/// touches among channels in proportion to `weights` (one per channel,
/// names sorted): largest remainder in units of 10⁻⁹ conversion and in
/// minor units, ties to the channel first by name, so
/// `Σ lines + unassigned == totals` exactly.
///
/// # Errors
///
/// [`Error::InsufficientData`] if the weights are not finite, `>= 0`, with
/// a positive sum; as [`units_report`].
pub(crate) fn share_report(
    model: &str,
    currency: Currency,
    channels: &[String],
    weights: &[f64],
    t: &FitTotals,
) -> Result<Report> {
    let sum: f64 = weights.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) || weights.iter().any(|w| w.is_nan() || *w < 0.0) {
        return Err(Error::InsufficientData {
            reason: format!("{model}: channel weights sum to {sum}, nothing to share by"),
        });
    }
    let overflow = || Error::Overflow {
        what: "attributed totals",
    };
    let units_total = i64::try_from(t.conversions)
        .ok()
        .and_then(|c| c.checked_mul(i64::try_from(CONVERSION_UNITS).ok()?))
        .ok_or_else(overflow)?;
    let value_total = i64::try_from(t.value_minor).map_err(|_| overflow())?;
    if value_total < 0 {
        return Err(Error::param(
            "value_minor",
            value_total,
            "a total value >= 0 minor units",
        ));
    }
    let mut units = vec![0; weights.len()];
    let mut values = vec![0; weights.len()];
    let mut scratch = Vec::new();
    apportion_weighted(units_total, weights, sum, &mut units, &mut scratch);
    apportion_weighted(value_total, weights, sum, &mut values, &mut scratch);
    units_report(model, currency, channels, &units, &values, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SimpleJourney, SimpleTouch};

    #[test]
    fn weights_split_by_occurrence() {
        let t = "2024-01-01T00:00:00Z".parse().unwrap();
        let j = SimpleJourney::new("j")
            .touch(SimpleTouch::new("a", t))
            .touch(SimpleTouch::new("b", t))
            .touch(SimpleTouch::new("a", t))
            .converted(1.0);
        let set = JourneySet::from_journeys([&j]).unwrap();
        let v = set.get(0).unwrap();
        let mut out = Weights::new();
        let mut calls = 0;
        per_channel_weights(&v, &mut out, |c| {
            calls += 1;
            if set.catalog().channel_name(c) == "a" {
                3.0
            } else {
                1.0
            }
        });
        assert_eq!(calls, 2);
        assert_eq!(out.shares(3), vec![1.5 / 4.0, 1.0 / 4.0, 1.5 / 4.0]);
        per_channel_weights(&v, &mut out, |_| 0.0);
        assert_eq!(out.shares(3), vec![1.0 / 3.0; 3]);
    }

    #[test]
    fn read_journey_sorts_stably_and_validates() {
        let t0 = "2024-01-01T00:00:00Z".parse().unwrap();
        let t1 = "2024-01-02T00:00:00Z".parse().unwrap();
        let j = SimpleJourney::new("j")
            .touch(SimpleTouch::new("late", t1))
            .touch(SimpleTouch::new("x", t0))
            .touch(SimpleTouch::new("y", t0))
            .converted(2.5);
        let mut names = LocalNames::new(10, "channels");
        let mut s = JourneyScratch::default();
        let o = read_journey(&j, Currency::default(), &mut names, &mut s).unwrap();
        assert_eq!(
            o,
            Outcome {
                converted: true,
                value_minor: 250
            }
        );
        let got: Vec<&str> = s
            .ids
            .iter()
            .map(|&i| names.names()[i as usize].as_str())
            .collect();
        assert_eq!(got, ["x", "y", "late"]);
        let bad = SimpleJourney::new("b").converted(-1.0);
        assert!(matches!(
            read_journey(&bad, Currency::default(), &mut names, &mut s),
            Err(Error::InvalidValue { .. })
        ));
        let mut one = LocalNames::new(1, "channels");
        assert!(matches!(
            read_journey(&j, Currency::default(), &mut one, &mut s),
            Err(Error::TooLarge { .. })
        ));
    }
}
