//! Choosing the order: held-out log-likelihood of conversion per order.

use serde::{Deserialize, Serialize};

use super::config::MarkovConfig;
use super::partial::{MarkovPartial, pack};
use super::{SYM_CONV, SYM_NULL};
use crate::dataset::JourneySet;
use crate::error::{Error, Result};
use crate::hash::{fmix64, fnv1a};

/// The result of [`select_order`]: held-out scores per order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSelection {
    /// `(order, mean held-out log-likelihood per journey)`; order 0 is the
    /// baseline that predicts the overall conversion rate.
    pub scores: Vec<(u8, f64)>,
    /// The order with the highest score (the lowest order on ties).
    pub recommended: u8,
    /// Journeys fitted on.
    pub train_journeys: u64,
    /// Journeys scored.
    pub test_journeys: u64,
}

/// Whether a journey id falls in the held-out fifth.
fn held_out(id: &str) -> bool {
    // FNV-1a, then the fmix64 finalizer: fixed, seedless, platform-independent
    fmix64(fnv1a(id.as_bytes())) % 5 == 0
}

/// Recommends a Markov order by held-out log-likelihood of conversion.
///
/// Criterion: journeys whose id hashes (FNV-1a then fmix64) to 0 mod 5 are
/// held out (a fixed split, independent of order or partition); the rest fit
/// a chain of each order `1..=max_order`. For each held-out journey with
/// touches, the chain predicts the conversion probability of the path's
/// final state, `q = (conv + ½) / (conv + null + 1)` from that state's
/// absorbing counts, backing off to shorter suffixes of the path when the
/// state was never seen, then to the overall rate. The score of an order is
/// the mean of `y ln q + (1 - y) ln(1 - q)` (higher is better); order 0 (the
/// overall rate) is reported as a baseline. The recommendation is the best
/// order, the lower one on ties.
///
/// # Errors
///
/// [`Error::InvalidParameter`] unless `1 <= max_order <= 6` ([`MAX_ORDER`](super::MAX_ORDER));
/// [`Error::InsufficientData`] if either side of the split has no journey
/// with touches or the training side has no conversion.
pub fn select_order(
    set: &JourneySet,
    max_order: u8,
    collapse_repeats: bool,
) -> Result<OrderSelection> {
    MarkovConfig::new(max_order)?;
    let test: Vec<bool> = set.iter().map(|j| held_out(j.id())).collect();
    let mut fits = Vec::new();
    for k in 1..=max_order {
        let mut f = MarkovPartial::new(
            MarkovConfig::new(k)?
                .collapse_repeats(collapse_repeats)
                .with_currency(set.currency()),
        );
        for (j, &t) in set.iter().zip(&test) {
            if !t {
                f.observe_view(&j)?;
            }
        }
        // the lookups below read the transitions' hash index
        f.index_transitions();
        fits.push(f);
    }
    let train = fits[0].totals;
    if train.conversions == 0 {
        return Err(Error::InsufficientData {
            reason: "select_order: no conversion in the training split".into(),
        });
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let base = (train.conversions as f64 + 0.5) / ((train.conversions + train.nulls) as f64 + 1.0);
    let mut sums = vec![0.0; usize::from(max_order) + 1];
    let mut scored = 0u64;
    let mut path = Vec::new();
    for (j, &t) in set.iter().zip(&test) {
        if !t || j.is_empty() {
            continue;
        }
        scored += 1;
        let y = j.converted();
        let ll = |q: f64| if y { q.ln() } else { (1.0 - q).ln() };
        sums[0] += ll(base);
        for (k, f) in fits.iter().enumerate() {
            path.clear();
            let mut prev = None;
            for i in 0..j.len() {
                let id = f.names.get(j.channel_name(i));
                if collapse_repeats && prev == Some(id) {
                    continue;
                }
                prev = Some(id);
                path.push(id);
            }
            let state_len = path.len().min(k + 1);
            let mut q = base;
            for l in (1..=state_len).rev() {
                let suffix = &path[path.len() - l..];
                let Some(ids) = suffix.iter().copied().collect::<Option<Vec<u32>>>() else {
                    continue;
                };
                let Some(s) = f.states.get(pack(&ids, f.lane_bits())) else {
                    continue;
                };
                let get = |sym: u32| {
                    f.trans
                        .get((u64::from(s) << 32) | u64::from(sym))
                        .map_or(0, |e| f.counts[e as usize])
                };
                let (c, m) = (get(SYM_CONV), get(SYM_NULL));
                if c + m > 0 {
                    #[expect(clippy::cast_precision_loss, reason = "rates")]
                    let v = (c as f64 + 0.5) / ((c + m) as f64 + 1.0);
                    q = v;
                    break;
                }
            }
            sums[k + 1] += ll(q);
        }
    }
    if scored == 0 {
        return Err(Error::InsufficientData {
            reason: "select_order: no held-out journey with touches".into(),
        });
    }
    #[expect(clippy::cast_precision_loss, reason = "means")]
    let scores: Vec<(u8, f64)> = sums
        .iter()
        .enumerate()
        .map(|(k, s)| (u8::try_from(k).unwrap_or(0), s / scored as f64))
        .collect();
    let mut recommended = 1;
    let mut best = f64::NEG_INFINITY;
    for &(k, s) in &scores[1..] {
        if s > best {
            best = s;
            recommended = k;
        }
    }
    Ok(OrderSelection {
        scores,
        recommended,
        train_journeys: train.journeys(),
        test_journeys: scored,
    })
}
