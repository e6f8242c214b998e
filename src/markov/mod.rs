//! Markov chain attribution of order k, solved exactly.
//!
//! # The model
//!
//! Each journey is a walk through states: a start state, one state per
//! sequence of the last `k` channels touched (at the start of a path a state
//! holds the shorter prefix, so `A > B > C` at order 2 visits `(A)`,
//! `(A,B)`, `(B,C)`), and the absorbing states *conversion* and *null*
//! (the journey ended without converting). Transition probabilities are the
//! observed transition counts over all journeys, converting and not,
//! normalized per state. Consecutive repeats of a channel are kept by
//! default (a self-transition at order 1); [`MarkovConfig::collapse_repeats`]
//! drops them first.
//!
//! `P(conversion)` is the probability of absorption in *conversion* from the
//! start state, solved exactly as a linear system (see below), never by
//! simulating random walks. The **removal effect** of channel `c` is
//!
//! ```text
//! RE(c) = 1 - P(conversion | c removed) / P(conversion)
//! ```
//!
//! where removing `c` sends every transition into a state that contains `c`
//! to *null*. Attributed conversions (and value) of `c` are
//! `total × RE(c) / Σ RE`, shared exactly in integer units in the crate's
//! [`Report`](crate::Report) ([`Markov::credits`]).
//!
//! **Removal effects lie in `[0, 1]`.** With `x = (I - Q)⁻¹ r` written as the
//! Neumann series `Σ Qⁿ r` (all terms `>= 0`), removing states only zeroes
//! entries of `Q` and `r`, so every term, hence `x(start)`, can only
//! decrease: `0 <= P(conv | c removed) <= P(conv)`. The computed ratio is
//! clamped to `[0, 1]` so that rounding (at most a few ulps) can never show
//! as a negative credit.
//!
//! # Worked example (the textbook case)
//!
//! Three converting journeys `A > B > A > B > B > A`, `A > B > B > A > A`,
//! `A > A` at order 1. Every walk starts at `A`, so removing `A` leaves no
//! conversion: `RE(A) = 1`. Leaving `A`, the counts are `A→B` 3, `A→A` 2,
//! `A→conv` 3; with `B` removed the walk converts with probability
//! `(3/8) / (1 - 2/8) = 1/2`, so `RE(B) = 1/2`. Shares `1 : 1/2` of 3
//! conversions: `A = 2`, `B = 1` exactly (a simulating tool prints 1.991 /
//! 1.009).
//!
//! ```
//! use touchpoint::markov::{MarkovConfig, MarkovPartial};
//!
//! let mut fit = MarkovPartial::new(MarkovConfig::new(1)?);
//! fit.observe_path(&["A", "B", "A", "B", "B", "A"], 1, 100, 0)?;
//! fit.observe_path(&["A", "B", "B", "A", "A"], 1, 100, 0)?;
//! fit.observe_path(&["A", "A"], 1, 100, 0)?;
//! let model = fit.finish()?;
//! assert_eq!(model.conversion_probability(), 1.0);
//! assert_eq!(model.removal_effect("B"), Some(0.5));
//! let credits = model.credits()?;
//! assert_eq!(credits.channels().get("A").unwrap().conversion_units(), 2_000_000_000);
//! assert_eq!(credits.channels().get("B").unwrap().value_minor(), 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Solver
//!
//! The transient states are split into strongly connected components
//! (Tarjan) and solved one component at a time in reverse topological order,
//! so each component only sees values already final. A single state (with
//! its self-loop folded into the diagonal) is solved in closed form, a
//! component of at most 96 states by Gaussian elimination with partial
//! pivoting, a larger one by Gauss-Seidel sweeps started from zero, with
//! Aitken extrapolation along the sweeps' dominant mode, until a sweep's
//! changes, weighted by each state's expected visits (known exactly from the
//! counts), sum to at most `2.5e-13 · P(conversion)` (shared out among the
//! large components): that sum bounds the error of `P(conversion)`, so every
//! removal effect is within `5e-13` of its exact value (rounding aside);
//! past 10⁶ sweeps the fit fails with
//! [`Error::NotConverged`](crate::Error::NotConverged).
//!
//! The base chain's `P(conversion)` needs no solve: for a chain fitted from
//! counts it is `Σ_j N_j p(j, conv)`, the converted journeys over the
//! journeys with touches (one division; a chain whose expected visits fail
//! their check is solved as one more lane). Every removal (one per
//! channel, or one per sequence for [`Markov::sequence_removal_effects`])
//! shares the structure and differs only in which states are sent to null,
//! so they are solved together as lanes of one pass: each component is
//! visited once per group of 8 lanes (4 for a last group of at most 4),
//! and each Gauss-Seidel sweep reads an edge once and applies it to every
//! lane. Every lane does exactly the operations of a lone solve, in the same
//! order, extrapolates and stops at the sweeps a lone solve would, so the
//! results are the bits of solving each removal alone. Groups run in
//! parallel under the `rayon` feature, with the same bits. Cost: `O(states + transitions)`
//! per lane for acyclic parts; `sweeps × transitions` per lane for a large
//! loop, at a fraction of a lone solve's time per lane (the lanes' adds do
//! not wait on one another).
//!
//! # Orders and their channel limits
//!
//! Orders 1 to [`MAX_ORDER`] (6) are accepted. A state key packs the last
//! `k` channels into a `u64`, 16 bits per channel up to order 4, 12 bits at
//! order 5 and 10 bits at order 6, so the most distinct channels a fit can
//! hold depends on the order ([`max_channels`]):
//!
//! | order | bits per channel | channels at most |
//! |---|---|---|
//! | 1 to 4 | 16 | 65,534 ([`MAX_CHANNELS`]) |
//! | 5 | 12 | 4,094 |
//! | 6 | 10 | 1,022 |
//!
//! A fit that meets one channel more fails with
//! [`Error::TooLarge`](crate::Error::TooLarge) naming the limit (from
//! `observe*`, [`merge`](MarkovPartial::merge) or deserializing); nothing
//! is truncated.
//!
//! States (and memory) grow with the order, time less than states: a
//! longer window breaks the loops that the iterative solve sweeps. On 12
//! channels and 1M generated journeys (mean length 2.6, up to 12; the
//! `markov_finish` bench, one core):
//!
//! | order | states | partial (`size_bytes`) | largest loop | `finish` | fit + `finish` |
//! |---|---:|---:|---:|---:|---:|
//! | 4 | 21,414 | 12.1 MB | 17,951 | 37 ms | 95 ms |
//! | 5 | 134,141 | 52.4 MB | 49,803 | 104 ms | 191 ms |
//! | 6 | 258,447 | 52.4 MB | 5 | 72 ms | 212 ms |
//!
//! # Fitting, merging, reproducing
//!
//! A [`MarkovPartial`] holds integer transition counts keyed by channel
//! *names* (state keys pack local channel ids, remapped by name on
//! [`merge`](MarkovPartial::merge) and in serialization), so memory grows with
//! the number of distinct states and transitions, never with journeys.
//! [`finish`](MarkovPartial::finish) sorts channels by name and states by their
//! channel sequence before building the chain, so any partition of the data,
//! merged in any order, gives the same model bit for bit. Journeys and
//! aggregated paths feed the same counts: a journey is a path row with one
//! conversion or one null.
//!
//! Journeys with no touch do not enter the chain; converted ones are the
//! unassigned line of [`Markov::credits`] (and count in its totals, as in
//! every rule-based report) and are counted in [`Markov::empty_journeys`].
//!
//! # Layout
//!
//! `config` ([`MarkovConfig`]), `partial` (accumulate: packed state keys,
//! integer counts, every `observe_*`), `wire` (the canonical serialized
//! form and its checks), `solve` (the absorbing-chain solver), `model`
//! ([`Markov`]: removal effects and credit), `select` ([`select_order`]).
//! What Markov shares with Shapley (interning, the journey front end, path
//! validation, column walks, per-touch weights) is in the crate-private
//! `paths` module.

mod config;
mod model;
mod partial;
mod select;
mod solve;
mod table;
mod wire;

use crate::dataset::JourneySet;
use crate::error::Result;

pub use self::config::MarkovConfig;
pub use self::model::{Markov, Target, Transition};
pub use self::partial::MarkovPartial;
pub use self::select::{OrderSelection, select_order};

/// The former name of [`MarkovPartial`].
#[deprecated(since = "0.2.0", note = "renamed `MarkovPartial`")]
pub type MarkovFit = MarkovPartial;

/// The former per-channel result of [`Markov::credits`], now the crate's
/// one result type.
#[deprecated(
    since = "0.2.0",
    note = "`Markov::credits` returns the crate's `Report`"
)]
pub type ChannelCredits = crate::Report;

/// Format version of serialized [`MarkovPartial`]s.
pub const FORMAT_VERSION: u32 = 1;
/// The highest supported order.
pub const MAX_ORDER: u8 = 6;
/// The most distinct channels a fit of order 1 to 4 can hold (state keys
/// pack 16 bits per channel). Orders 5 and 6 hold fewer: see
/// [`max_channels`].
pub const MAX_CHANNELS: usize = 65_534;

const SYM_CONV: u32 = u32::MAX - 1;
const SYM_NULL: u32 = u32::MAX;

/// Bits per channel in a packed state key at `order`: 16 up to order 4,
/// 12 at order 5, 10 at order 6, so that `order` lanes fit in a `u64`.
#[inline]
pub(super) const fn lane_bits(order: u8) -> u32 {
    match order {
        0..=4 => 16,
        5 => 12,
        _ => 10,
    }
}

/// The most distinct channels a fit of order `order` can hold: 65,534 for
/// orders 1 to 4 ([`MAX_CHANNELS`]), 4,094 at order 5, 1,022 at order 6.
///
/// A state key packs the last `order` channels into a `u64`, each in a
/// lane of 16, 12 or 10 bits holding `local id + 1` (0 marks an absent
/// lane, and the all-ones value is kept free), so a lane of `b` bits holds
/// `2^b - 2` channels. A fit that meets more distinct channels fails with
/// [`Error::TooLarge`](crate::Error::TooLarge) naming the limit; nothing is
/// truncated.
///
/// # Example
///
/// ```
/// use touchpoint::markov::{self, MarkovConfig, MarkovPartial};
///
/// assert_eq!(markov::max_channels(4), markov::MAX_CHANNELS);
/// assert_eq!(markov::max_channels(5), 4_094);
/// assert_eq!(markov::max_channels(6), 1_022);
/// let mut fit = MarkovPartial::new(MarkovConfig::new(6)?);
/// for c in 0..1_022 {
///     fit.observe_path(&[format!("c{c}")], 0, 0, 1)?;
/// }
/// assert!(fit.observe_path(&["one too many"], 0, 0, 1).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const fn max_channels(order: u8) -> usize {
    (1 << lane_bits(order)) - 2
}

/// Fits a Markov model on every journey of `set` in one call.
///
/// # Errors
///
/// As [`MarkovPartial::observe_set`] and [`MarkovPartial::finish`].
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch, markov::{self, MarkovConfig}};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let a = SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(10.0);
/// let b = SimpleJourney::new("b").touch(SimpleTouch::new("display", t));
/// let m = markov::fit(&JourneySet::from_journeys([&a, &b])?, MarkovConfig::new(1)?)?;
/// assert_eq!(m.conversion_probability(), 0.5);
/// assert_eq!(m.removal_effect("email"), Some(1.0));
/// assert_eq!(m.removal_effect("display"), Some(0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit(set: &JourneySet, config: MarkovConfig) -> Result<Markov> {
    fit_partial(set, config)?.finish()
}

/// Counts every journey of `set` into a fresh [`MarkovPartial`]. With the
/// `rayon` feature, fixed chunks of 16,384 journeys are counted in parallel
/// and merged in chunk order (the result is the same bit for bit).
///
/// # Errors
///
/// As [`MarkovPartial::observe_set`].
pub fn fit_partial(set: &JourneySet, config: MarkovConfig) -> Result<MarkovPartial> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 14;
        if set.len() > CHUNK {
            let chunks: Vec<usize> = (0..set.len().div_ceil(CHUNK)).collect();
            let parts: Vec<MarkovPartial> = chunks
                .par_iter()
                .map(|&c| {
                    let mut f = MarkovPartial::new(config);
                    f.observe_range(set, c * CHUNK, ((c + 1) * CHUNK).min(set.len()))?;
                    Ok(f)
                })
                .collect::<Result<_>>()?;
            let mut it = parts.into_iter();
            let mut acc = it.next().unwrap_or_else(|| MarkovPartial::new(config));
            for p in it {
                acc.merge(&p)?;
            }
            return Ok(acc);
        }
    }
    let mut f = MarkovPartial::new(config);
    f.observe_set(set)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::partial::{pack, push_lane, unpack};
    use super::*;

    #[test]
    fn config_read_checks_the_order() {
        let c = MarkovConfig::new(3).unwrap().collapse_repeats(true);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<MarkovConfig>(&text).unwrap(), c);
        for order in ["0", "7", "255"] {
            let bad = text.replace("\"order\":3", &format!("\"order\":{order}"));
            assert!(serde_json::from_str::<MarkovConfig>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packing_round_trips() {
        let b = lane_bits(3);
        let mut k = 0;
        for c in [3, 5, 7, 9, 11] {
            k = push_lane(k, c, 3, b);
        }
        assert_eq!(unpack(k, b), vec![7, 9, 11]);
        assert_eq!(pack(&[7, 9, 11], b), k);
        assert_eq!(unpack(push_lane(0, 0, 4, 16), 16), vec![0]);
    }

    #[test]
    fn lane_widths_by_order() {
        // orders 1-4 keep the 16-bit lanes (same keys as before)
        for order in 1..=4 {
            assert_eq!(lane_bits(order), 16);
            assert_eq!(max_channels(order), MAX_CHANNELS);
        }
        assert_eq!((lane_bits(5), max_channels(5)), (12, 4_094));
        assert_eq!((lane_bits(6), max_channels(6)), (10, 1_022));
        for order in 1..=MAX_ORDER {
            // `order` lanes fit in 64 bits
            assert!(u32::from(order) * lane_bits(order) <= 64);
        }
        // hand-packed: order 5, ids 1, 2 -> lanes 2 | 3 << 12
        assert_eq!(pack(&[1, 2], 12), 2 | 3 << 12);
        assert_eq!(pack(&[0, 1, 2], 10), 1 | 2 << 10 | 3 << 20);
    }

    #[test]
    fn packing_round_trips_at_every_order() {
        for order in 1..=MAX_ORDER {
            let b = lane_bits(order);
            let top = u32::try_from(max_channels(order)).unwrap() - 1;
            // the largest ids, the smallest, and a mix
            let ids: Vec<u32> = [top, 0, top - 1, 1, 7, top, 0, 3, top]
                .into_iter()
                .collect();
            let mut k = 0u64;
            let mut want: Vec<u32> = Vec::new();
            for &c in &ids {
                k = push_lane(k, c, u32::from(order), b);
                want.push(c);
                if want.len() > usize::from(order) {
                    want.remove(0);
                }
                assert_eq!(unpack(k, b), want, "order {order}");
                assert_eq!(pack(&want, b), k, "order {order}");
                let mut seen = Vec::new();
                super::wire::for_each_lane(k, b, |c| seen.push(c));
                assert_eq!(seen, want, "order {order}");
            }
        }
    }

    #[test]
    fn toy3_order2_states() {
        let mut f = MarkovPartial::new(MarkovConfig::new(2).unwrap());
        f.observe_path(&["C1", "C2", "C3"], 1, 100, 0).unwrap();
        f.observe_path(&["C1"], 0, 0, 1).unwrap();
        f.observe_path(&["C2", "C3"], 0, 0, 1).unwrap();
        let m = f.finish().unwrap();
        assert_eq!(m.state_count(), 4);
        assert!((m.conversion_probability() - 1.0 / 3.0).abs() < 1e-15);
    }
}
