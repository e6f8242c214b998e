//! The games: the closed-form Shapley value, and the rate game solved
//! exactly over subsets or by permutation sampling.

use super::config::Sampling;
use super::partial::Cell;
use crate::error::{Error, Result};
use crate::hash::{fmix64, splitmix64};

/// Exact Shapley values of the game `v` over `n` players (`v[mask]`), in
/// `O(2ⁿ n)`: `φ_i = Σ_{S ∌ i} |S|! (n-|S|-1)! / n! · (v(S ∪ i) - v(S))`.
pub(crate) fn exact_shapley(n: usize, v: &[f64]) -> Vec<f64> {
    // w[s] = s! (n-1-s)! / n! = 1 / (n · C(n-1, s))
    let mut w = vec![0.0; n];
    let mut binom = 1.0f64;
    for (s, ws) in w.iter_mut().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "small n")]
        {
            *ws = 1.0 / (n as f64 * binom);
            binom = binom * (n - 1 - s) as f64 / (s + 1) as f64;
        }
    }
    let mut phi = vec![0.0; n];
    for mask in 0..(1usize << n) {
        let size = mask.count_ones() as usize;
        if size == n {
            continue;
        }
        let ws = w[size];
        let vs = v[mask];
        for (i, p) in phi.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                *p += ws * (v[mask | (1 << i)] - vs);
            }
        }
    }
    phi
}

/// Shares `max(φ, 0) / Σ max(φ, 0)`, or equal shares when none is positive.
pub(super) fn nonneg_shares(phi: &[f64]) -> Vec<f64> {
    let w: Vec<f64> = phi
        .iter()
        .map(|&p| if p.is_finite() && p > 0.0 { p } else { 0.0 })
        .collect();
    let sum: f64 = w.iter().sum();
    if sum > 0.0 {
        w.iter().map(|x| x / sum).collect()
    } else {
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let e = 1.0 / phi.len().max(1) as f64;
        vec![e; phi.len()]
    }
}

/// Most channels whose observed rates are kept in a dense table.
const DENSE_RATES: usize = 22;

/// Observed conversion rates by coalition (bit `i` = channel `i`).
#[derive(Debug, Clone)]
pub(super) struct RateGame {
    /// `2ⁿ` entries (NaN = never observed) when `n <= 22`, else empty.
    dense: Vec<f64>,
    /// Every observed coalition with its rate, sorted by mask.
    observed: Vec<(u128, f64)>,
}

impl PartialEq for RateGame {
    /// The dense table is derived (and holds NaN for unobserved coalitions).
    fn eq(&self, other: &RateGame) -> bool {
        self.observed.len() == other.observed.len()
            && self
                .observed
                .iter()
                .zip(&other.observed)
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl RateGame {
    pub(super) fn new(n: usize, cells: &[(Vec<u32>, Cell)]) -> RateGame {
        let mut observed: Vec<(u128, f64)> = cells
            .iter()
            .filter(|(_, c)| c.conversions > 0 || c.nulls > 0)
            .map(|(k, c)| {
                // widened: both counts may be near u64::MAX (aggregated paths)
                let total = u128::from(c.conversions) + u128::from(c.nulls);
                #[expect(clippy::cast_precision_loss, reason = "rates")]
                let r = c.conversions as f64 / total as f64;
                (k.iter().fold(0u128, |m, &i| m | (1 << i)), r)
            })
            .collect();
        observed.sort_unstable_by_key(|&(m, _)| m);
        let mut dense = Vec::new();
        if n <= DENSE_RATES {
            dense = vec![f64::NAN; 1 << n];
            for &(m, r) in &observed {
                dense[usize::try_from(m).unwrap_or(0)] = r;
            }
        }
        RateGame { dense, observed }
    }

    fn get(&self, mask: u128) -> Option<f64> {
        if self.dense.is_empty() {
            self.observed
                .binary_search_by_key(&mask, |&(m, _)| m)
                .ok()
                .map(|i| self.observed[i].1)
        } else {
            let r = self.dense[usize::try_from(mask).unwrap_or(0)];
            (!r.is_nan()).then_some(r)
        }
    }

    /// The game on the channels of `j` (sorted ids): `v(S)` for every
    /// `S ⊆ j` in local bit order; never-observed coalitions are worth 0.
    pub(super) fn local_values(&self, j: &[u32]) -> Vec<f64> {
        let size = 1usize << j.len();
        let mut global = vec![0u128; size];
        let mut v = vec![0.0; size];
        for m in 1..size {
            let low = m & m.wrapping_neg();
            global[m] = global[m ^ low] | (1u128 << j[low.trailing_zeros() as usize]);
            v[m] = self.get(global[m]).unwrap_or(0.0);
        }
        v
    }

    /// Exact Shapley values of the local game of `j`.
    pub(super) fn exact(&self, j: &[u32]) -> Vec<f64> {
        exact_shapley(j.len(), &self.local_values(j))
    }

    /// Permutation-sampled Shapley values of the local game of `j`, with
    /// standard errors; the generator is splitmix64 keyed by the seed and
    /// the coalition, so results do not depend on the order of coalitions.
    pub(super) fn sampled(&self, j: &[u32], sampling: Sampling) -> Result<(Vec<f64>, Vec<f64>)> {
        if sampling.permutations < 2 {
            return Err(Error::param(
                "sampling.permutations",
                sampling.permutations,
                "at least 2 permutations",
            ));
        }
        let k = j.len();
        let key = j.iter().fold(0u128, |m, &i| m | (1u128 << i));
        #[expect(clippy::cast_possible_truncation, reason = "hash folding")]
        let mut rng = sampling.seed ^ fmix64(key as u64 ^ (key >> 64) as u64);
        let mut sum = vec![0.0; k];
        let mut sum_sq = vec![0.0; k];
        let mut perm: Vec<usize> = (0..k).collect();
        for _ in 0..sampling.permutations {
            for i in (1..k).rev() {
                let r = splitmix64(&mut rng) % (i as u64 + 1);
                perm.swap(i, usize::try_from(r).unwrap_or(0));
            }
            let mut s = 0u128;
            let mut prev = 0.0;
            for &i in &perm {
                s |= 1u128 << j[i];
                let v = self.get(s).unwrap_or(0.0);
                let d = v - prev;
                sum[i] += d;
                sum_sq[i] += d * d;
                prev = v;
            }
        }
        let m = f64::from(sampling.permutations);
        let phi: Vec<f64> = sum.iter().map(|s| s / m).collect();
        let se = sum_sq
            .iter()
            .zip(&phi)
            .map(|(sq, mean)| ((sq / m - mean * mean).max(0.0) / (m - 1.0)).sqrt())
            .collect();
        Ok((phi, se))
    }
}
