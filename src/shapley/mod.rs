//! Shapley value attribution: channels are players, coalitions are the
//! channel sets of journeys.
//!
//! Three value functions ([`ShapleyVariant`]):
//!
//! - **Simplified**: `v(S)` = conversions of the journeys whose channel set
//!   is `S` or a subset of `S`. Its Shapley value has a closed form: each
//!   converting journey's conversion (and value) is shared equally among its
//!   distinct channels, `φ(c) = Σ_{S ∋ c} conv(S) / |S|` (each journey set
//!   `T` is a unanimity game of weight `conv(T)`). No limit on channels.
//! - **Rate**: `v(S)` = conversion rate of the journeys whose channel set is
//!   exactly `S`, `conv(S) / (conv(S) + null(S))` (non-converting journeys
//!   needed). Each converting coalition `J` (a journey's channel set) plays
//!   its own game on the subsets of its channels, solved exactly over all
//!   `2^|J|` subsets in `O(2^|J| |J|)`, up to [`ShapleyConfig::exact_limit`]
//!   channels per journey (default 20, at most 22); its conversions and
//!   value are shared among `J`'s channels in proportion to `max(φ, 0)`
//!   (equally if no value is positive), and channel totals are summed over
//!   coalitions ([`Shapley::values`] holds these attributed conversions).
//!   This is the per-journey game of DP6's marketing-attribution-models
//!   (uncapped); a single game over all channels would let rare large
//!   coalitions with extreme rates decide everyone's credit (108 points from
//!   the truth on the sample data, against 23 for this form).
//!   **Never-observed coalitions are worth 0**: nothing was seen, so nothing
//!   is assumed (the alternative "best rate of an observed sub-coalition"
//!   was measured too: 24.3 points from the truth on the sample, against
//!   23.2). Negative Shapley values (a mix that converts worse than a
//!   sub-mix) get no credit rather than a negative one.
//! - **Ordered**: the simplified game on ordered coalitions (channels in
//!   order of first touch): each converting journey's credit is shared
//!   equally among its distinct channels and recorded by position
//!   ([`Shapley::positions`]); channel totals equal the simplified ones.
//!
//! Past the exact limit (a journey with more distinct channels) the rate
//! variant fails with [`Error::TooLarge`](crate::Error::TooLarge), unless
//! [`ShapleyConfig::sampling`] asks for permutation sampling of those
//! coalitions' games: `m` random orders from splitmix64 keyed by the seed
//! and the coalition, each channel's value the mean of its marginal
//! contributions; [`Shapley::std_errors`] then reports each channel's
//! standard error (sampled coalitions' errors, scaled by their conversions,
//! added in quadrature; the normalization is treated as fixed, so it is
//! approximate). Sampling happens only in `finish`.
//!
//! # Worked example
//!
//! Journeys `{A, B}` converting with value 30, `{A}` converting with 10,
//! `{B}` not converting. Simplified: `A = 1/2 + 1 = 1.5`, `B = 1/2`
//! conversions; value `A = 15 + 10 = 25`, `B = 15`.
//! Rate: `v({A}) = 1`, `v({B}) = 0`, `v({A,B}) = 1`; in the game of
//! `{A, B}`, `φ(A) = ½ (1 - 0) + ½ (1 - 0) = 1`, `φ(B) = ½ (0 - 0) + ½ (1 - 1) = 0`,
//! so its conversion goes to `A`, as does the one of `{A}`: `A = 2`, `B = 0`.
//!
//! ```
//! use touchpoint::shapley::{ShapleyConfig, ShapleyPartial, ShapleyVariant};
//!
//! let mut fit = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Simplified));
//! fit.observe_path(&["A", "B"], 1, 3000, 0)?;
//! fit.observe_path(&["A"], 1, 1000, 0)?;
//! fit.observe_path(&["B"], 0, 0, 1)?;
//! let m = fit.finish()?;
//! let c = m.credits()?;
//! assert_eq!(c.channels().get("A").unwrap().conversions(), 1.5);
//! assert_eq!(c.channels().get("B").unwrap().value_minor(), 1500);
//!
//! let mut fit = ShapleyPartial::new(ShapleyConfig::new(ShapleyVariant::Rate));
//! fit.observe_path(&["A", "B"], 1, 3000, 0)?;
//! fit.observe_path(&["A"], 1, 1000, 0)?;
//! fit.observe_path(&["B"], 0, 0, 1)?;
//! let m = fit.finish()?;
//! assert_eq!(m.values(), &[2.0, 0.0]);
//! assert_eq!(m.credits()?.channels().get("A").unwrap().value_minor(), 4000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Fitting and merging
//!
//! A [`ShapleyPartial`] keeps integer counts per distinct coalition (channel
//! set, or first-touch order for the ordered variant) keyed by channel
//! names, so memory grows with distinct coalitions, not journeys; merging
//! remaps coalitions by name, and `finish` sorts channels by name and
//! coalitions canonically, so any partition merged in any order gives the
//! same bits.
//!
//! # Layout
//!
//! `config` ([`ShapleyConfig`]), `partial` (accumulate: counts per
//! coalition, every `observe_*`), `wire` (the canonical serialized form and
//! its checks), `game` (the value functions and their solution), `model`
//! ([`Shapley`]: values and credit). What Shapley shares with Markov is in
//! the crate-private `paths` module; it imports nothing from `markov`.

mod config;
mod game;
mod model;
mod partial;
mod wire;

use crate::dataset::JourneySet;
use crate::error::Result;

pub use self::config::{Sampling, ShapleyConfig, ShapleyVariant};
pub use self::model::{PositionCredit, Shapley};
pub use self::partial::ShapleyPartial;

/// The former name of [`ShapleyPartial`].
#[deprecated(since = "0.2.0", note = "renamed `ShapleyPartial`")]
pub type ShapleyFit = ShapleyPartial;

/// Format version of serialized [`ShapleyPartial`]s.
pub const FORMAT_VERSION: u32 = 1;
/// The largest [`ShapleyConfig::exact_limit`] accepted.
pub const MAX_EXACT_LIMIT: u8 = 22;
/// Most channels permutation sampling handles.
pub const MAX_SAMPLED_CHANNELS: usize = 128;

/// Fits a Shapley model on every journey of `set` in one call.
///
/// # Errors
///
/// As [`ShapleyPartial::observe_set`] and [`ShapleyPartial::finish`].
pub fn fit(set: &JourneySet, config: ShapleyConfig) -> Result<Shapley> {
    let mut f = ShapleyPartial::new(config);
    f.observe_set(set)?;
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::game::{RateGame, exact_shapley, nonneg_shares};
    use super::partial::Cell;
    use super::*;

    /// The closed form of the simplified game equals the general formula.
    #[test]
    fn simplified_closed_form_matches_general_formula() {
        let n = 4;
        // journeys: channel masks with conversions
        let journeys: [(usize, u64); 6] = [
            (0b0001, 3),
            (0b0011, 2),
            (0b0110, 5),
            (0b1111, 1),
            (0b1010, 4),
            (0b0100, 0),
        ];
        let mut v = vec![0.0; 1 << n];
        for (mask, vm) in v.iter_mut().enumerate() {
            for &(t, c) in &journeys {
                if t & !mask == 0 {
                    #[expect(clippy::cast_precision_loss, reason = "test")]
                    {
                        *vm += c as f64;
                    }
                }
            }
        }
        let general = exact_shapley(n, &v);
        let mut closed = vec![0.0; n];
        for &(t, c) in &journeys {
            let k = t.count_ones();
            for (i, x) in closed.iter_mut().enumerate() {
                if t & (1 << i) != 0 {
                    #[expect(clippy::cast_precision_loss, reason = "test")]
                    {
                        *x += c as f64 / f64::from(k);
                    }
                }
            }
        }
        for (g, c) in general.iter().zip(&closed) {
            assert!((g - c).abs() < 1e-12, "{general:?} vs {closed:?}");
        }
    }

    #[test]
    fn local_game_values_unobserved_as_zero() {
        let cells = vec![
            (
                vec![0],
                Cell {
                    conversions: 1,
                    nulls: 3,
                    value_minor: 0,
                },
            ),
            (
                vec![2],
                Cell {
                    conversions: 1,
                    nulls: 1,
                    value_minor: 0,
                },
            ),
        ];
        let g = RateGame::new(3, &cells);
        assert_eq!(g.local_values(&[0, 2]), vec![0.0, 0.25, 0.5, 0.0]);
        // φ(0) = ½(.25) + ½(0 - .5), φ(2) = ½(.5) + ½(0 - .25)
        assert_eq!(g.exact(&[0, 2]), vec![-0.125, 0.125]);
        assert_eq!(nonneg_shares(&[-0.125, 0.125]), vec![0.0, 1.0]);
    }

    #[test]
    fn sampling_is_close_to_exact_and_deterministic() {
        let mut cells = Vec::new();
        for mask in 1u32..32 {
            let k: Vec<u32> = (0..5).filter(|i| mask & (1 << i) != 0).collect();
            cells.push((
                k,
                Cell {
                    conversions: u64::from(mask % 7),
                    nulls: u64::from(10 + mask % 3),
                    value_minor: 0,
                },
            ));
        }
        let g = RateGame::new(5, &cells);
        let all = [0, 1, 2, 3, 4];
        let exact = g.exact(&all);
        let s = Sampling {
            permutations: 4000,
            seed: 1,
        };
        let (a, se) = g.sampled(&all, s).unwrap();
        let (b, _) = g.sampled(&all, s).unwrap();
        assert_eq!(a, b);
        for i in 0..5 {
            assert!((a[i] - exact[i]).abs() < 5.0 * se[i] + 1e-12);
        }
    }
}
