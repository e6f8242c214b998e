//! Durations: exact integer sums and a fixed-bucket histogram (one bucket
//! per whole day) for the median and p90.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Milliseconds per day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Days below this are counted in a dense vector (grown on demand), later
/// days in a sorted map. The split is an implementation detail: equality,
/// serialization and results see one list of day buckets.
const DENSE_DAYS: usize = 512;

/// Counts and sums of durations, bucketed by whole day (`floor(ms / 1 day)`).
/// Each bucket keeps its count and the exact sum of its durations.
#[derive(Debug, Clone, Default)]
pub(crate) struct DurationHist {
    count: u64,
    sum_ms: u128,
    dense: Vec<(u64, u128)>,
    sparse: BTreeMap<u32, (u64, u128)>,
}

/// The serialized form: non-empty day buckets, sorted.
#[derive(Serialize, Deserialize)]
struct HistWire {
    count: u64,
    sum_ms: u128,
    buckets: BTreeMap<u32, (u64, u128)>,
}

impl PartialEq for DurationHist {
    fn eq(&self, o: &DurationHist) -> bool {
        self.count == o.count && self.sum_ms == o.sum_ms && self.buckets().eq(o.buckets())
    }
}
impl Eq for DurationHist {}

impl Serialize for DurationHist {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        HistWire {
            count: self.count,
            sum_ms: self.sum_ms,
            buckets: self.buckets().collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DurationHist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = HistWire::deserialize(d)?;
        let mut h = DurationHist {
            count: w.count,
            sum_ms: w.sum_ms,
            ..DurationHist::default()
        };
        for (k, v) in w.buckets {
            *h.slot(k) = v;
        }
        Ok(h)
    }
}

impl DurationHist {
    /// Non-empty buckets, sorted by day.
    fn buckets(&self) -> impl Iterator<Item = (u32, (u64, u128))> + '_ {
        #[expect(clippy::cast_possible_truncation, reason = "below DENSE_DAYS")]
        self.dense
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(i, b)| (i as u32, *b))
            .chain(self.sparse.iter().map(|(k, v)| (*k, *v)))
    }

    #[inline]
    fn slot(&mut self, day: u32) -> &mut (u64, u128) {
        let i = day as usize;
        if i < DENSE_DAYS {
            if i >= self.dense.len() {
                self.dense.resize(i + 1, (0, 0));
            }
            &mut self.dense[i]
        } else {
            self.sparse.entry(day).or_insert((0, 0))
        }
    }

    /// Records one duration (negative durations are clamped to 0; the
    /// normalization never produces them).
    #[inline]
    pub(crate) fn record(&mut self, ms: i64) {
        let ms = ms.max(0);
        let ums = ms.unsigned_abs();
        self.count += 1;
        self.sum_ms += u128::from(ums);
        let day = u32::try_from(ms / DAY_MS).unwrap_or(u32::MAX);
        let b = self.slot(day);
        b.0 += 1;
        b.1 += u128::from(ums);
    }

    /// Whether a deserialized histogram is consistent with `records`
    /// observations: at most one duration each, bucket counts summing to
    /// the count, and every sum at most `count` durations of `i64::MAX` ms.
    /// Then [`record`](Self::record) cannot overflow while the owning
    /// slice's record count does not.
    pub(crate) fn fits(&self, records: u64) -> bool {
        let most = |c: u64| u128::from(c) << 63;
        let mut total: u64 = 0;
        for (_, (c, s)) in self.buckets() {
            match total.checked_add(c) {
                Some(t) if s <= most(c) => total = t,
                _ => return false,
            }
        }
        total == self.count && self.count <= records && self.sum_ms <= most(self.count)
    }

    pub(crate) fn merge(&mut self, other: &DurationHist) -> Result<()> {
        let of = || Error::Overflow { what: "durations" };
        self.count = self.count.checked_add(other.count).ok_or_else(of)?;
        self.sum_ms = self.sum_ms.checked_add(other.sum_ms).ok_or_else(of)?;
        for (k, (c, s)) in other.buckets() {
            let b = self.slot(k);
            b.0 = b.0.checked_add(c).ok_or_else(of)?;
            b.1 = b.1.checked_add(s).ok_or_else(of)?;
        }
        Ok(())
    }

    /// The mean of the bucket holding the `rank`-th smallest duration (1-based).
    fn at_rank(&self, rank: u64) -> Option<f64> {
        let mut seen = 0;
        for (_, (c, s)) in self.buckets() {
            seen = c.saturating_add(seen);
            if seen >= rank {
                #[expect(clippy::cast_precision_loss, reason = "display value")]
                return Some(s as f64 / c as f64 / DAY_MS as f64);
            }
        }
        None
    }

    pub(crate) fn stats(&self) -> DurationStats {
        let n = self.count;
        #[expect(clippy::cast_precision_loss, reason = "display value")]
        let mean = (n > 0).then(|| self.sum_ms as f64 / n as f64 / DAY_MS as f64);
        DurationStats {
            count: n,
            total_ms: self.sum_ms,
            mean_days: mean,
            median_days: if n > 0 {
                self.at_rank(n.div_ceil(2))
            } else {
                None
            },
            p90_days: if n > 0 {
                // widened: `n * 9` overflows u64 past 2^64 / 9 records
                let rank = (u128::from(n) * 9).div_ceil(10).max(1);
                self.at_rank(u64::try_from(rank).unwrap_or(n))
            } else {
                None
            },
        }
    }
}

/// Count, mean, median and p90 of a duration (time in stage, time to close,
/// sales cycle), in days.
///
/// The mean is exact (an integer sum of milliseconds divided once). The
/// median and p90 use the nearest-rank definition (the `ceil(q·n)`-th
/// smallest duration) over a fixed histogram with one bucket per whole day,
/// and report the exact mean of the durations in the bucket holding that
/// rank: exact when the durations in that bucket are equal (as they are when
/// stage entries are dated by day, as CRMs do), otherwise off by less than
/// one day. Quantiles are `None` when there is no duration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Their exact sum, in milliseconds.
    pub total_ms: u128,
    /// Mean, in days.
    pub mean_days: Option<f64>,
    /// Median (nearest rank, lower median for an even count), in days.
    pub median_days: Option<f64>,
    /// 90th percentile (nearest rank), in days.
    pub p90_days: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles_by_day() {
        let mut h = DurationHist::default();
        for d in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] {
            h.record(d * DAY_MS);
        }
        let s = h.stats();
        assert_eq!(s.count, 10);
        assert_eq!(s.mean_days, Some(5.5));
        assert_eq!(s.median_days, Some(5.0));
        assert_eq!(s.p90_days, Some(9.0));
        let mut far = DurationHist::default();
        far.record(1000 * DAY_MS);
        far.record(2 * DAY_MS);
        far.record(2 * DAY_MS + 1);
        let back: DurationHist =
            serde_json::from_str(&serde_json::to_string(&far).unwrap()).unwrap();
        assert_eq!(back, far);
        assert_eq!(far.stats().p90_days, Some(1000.0));
        let e = DurationHist::default().stats();
        assert_eq!((e.count, e.mean_days, e.median_days), (0, None, None));
    }
}
