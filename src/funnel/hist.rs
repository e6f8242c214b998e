//! Durations: exact integer sums and a fixed-bucket histogram (one bucket
//! per whole day) for the median and p90.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Milliseconds per day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Counts and sums of durations, bucketed by whole day (`floor(ms / 1 day)`).
/// Each bucket keeps its count and the exact sum of its durations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DurationHist {
    count: u64,
    sum_ms: u128,
    buckets: BTreeMap<u32, (u64, u128)>,
}

impl DurationHist {
    /// Records one duration (negative durations are clamped to 0; the
    /// normalization never produces them).
    #[inline]
    pub(crate) fn record(&mut self, ms: i64) {
        let ms = ms.max(0);
        let ums = ms.unsigned_abs();
        self.count += 1;
        self.sum_ms += u128::from(ums);
        let day = u32::try_from(ms / DAY_MS).unwrap_or(u32::MAX);
        let b = self.buckets.entry(day).or_insert((0, 0));
        b.0 += 1;
        b.1 += u128::from(ums);
    }

    pub(crate) fn merge(&mut self, other: &DurationHist) -> Result<()> {
        let of = || Error::Overflow { what: "durations" };
        self.count = self.count.checked_add(other.count).ok_or_else(of)?;
        self.sum_ms = self.sum_ms.checked_add(other.sum_ms).ok_or_else(of)?;
        for (k, (c, s)) in &other.buckets {
            let b = self.buckets.entry(*k).or_insert((0, 0));
            b.0 = b.0.checked_add(*c).ok_or_else(of)?;
            b.1 = b.1.checked_add(*s).ok_or_else(of)?;
        }
        Ok(())
    }

    /// The mean of the bucket holding the `rank`-th smallest duration (1-based).
    fn at_rank(&self, rank: u64) -> Option<f64> {
        let mut seen = 0;
        for (c, s) in self.buckets.values() {
            seen += c;
            if seen >= rank {
                #[expect(clippy::cast_precision_loss, reason = "display value")]
                return Some(*s as f64 / *c as f64 / DAY_MS as f64);
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
            median_days: if n > 0 { self.at_rank(n.div_ceil(2)) } else { None },
            p90_days: if n > 0 {
                self.at_rank((n * 9).div_ceil(10).max(1))
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
        let e = DurationHist::default().stats();
        assert_eq!((e.count, e.mean_days, e.median_days), (0, None, None));
    }
}
