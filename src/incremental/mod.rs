//! Incrementality: a model that credits what each channel *adds*.
//!
//! Rule-based and Markov models credit a channel for being *present* on
//! converting paths. A display ad that sits on half of all paths but changes
//! nobody's mind earns them a large share. This model instead fits how the
//! probability of converting depends on the channels a journey saw, on
//! converting and non-converting journeys together, and credits each
//! channel with the probability it adds: a counterfactual "what if this
//! channel had not been there".
//!
//! # The conversion model
//!
//! A regularized logistic regression. For journey `j` with `n_c` touches of
//! channel `c` (counts above [`count_cap`](IncrementalConfig::count_cap)
//! count as the cap):
//!
//! ```text
//! logit p_j = β₀ + Σ_c Σ_l β_{c,l} · x_l(n_c)          exposure, diminishing returns
//!               + γ_{last(j)}                           last-touch channel (optional)
//!               + Σ_c ρ_c · [c within W of the end]     recency (optional)
//!               + Σ_{a≠b} π_{ab} · g(m_{ab})            "b after a" pairs (optional)
//! ```
//!
//! The last-touch coefficients `γ` are sum-to-zero contrasts (`Σ_c γ_c = 0`
//! over the channels seen as a last touch): every journey with a touch has
//! exactly one last touch, so free indicators would be collinear with the
//! intercept and the empty journey's probability would be fixed by the
//! penalty, not the data. With the contrasts it is identified.
//! The penalty below covers every channel's `γ_c`, the reference
//! channel's (minus the sum of the free contrasts) included, so the fit
//! does not depend on which channel is the reference.
//!
//! `x(n)` is the [`Exposure`] transform (`ln(1 + n)` by default; presence,
//! linear, or free per-level effects), `m_{ab}` the number of `b` touches
//! after the first `a` touch ([`Pairs`]). The fit maximizes the penalized
//! log-likelihood
//!
//! ```text
//! L(β) = Σ_j [ y_j η_j − ln(1 + e^{η_j}) ] − λ/2 · Σ_{k≥1} β_k²
//! ```
//!
//! (`λ` = [`l2`](IncrementalConfig::l2), intercept unpenalized; the sum
//! runs over every coefficient of the model, each channel's `γ_c` once) by
//! Newton's method (iteratively reweighted least squares): start at `β = 0`
//! (no random initialisation), solve `(XᵀWX + λP) Δ = Xᵀ(y − p) − λPβ`
//! (`P` the identity but for the intercept, plus 1 on every pair of free
//! last-touch contrasts for the reference's `γ`) by Cholesky
//! (LU as a fallback) with `nalgebra`, halve the step until `L` does not
//! decrease, stop when `max |Δβ_k| <= tolerance` ([`Error::NotConverged`](crate::Error::NotConverged)
//! after `max_iterations`). With `λ > 0`, `L` is strictly concave: the
//! optimum is unique and finite, even when a channel predicts conversion
//! perfectly (separable data gives a finite, shrunk coefficient, never NaN).
//! With `λ = 0` such data give [`Error::NotConverged`](crate::Error::NotConverged) or
//! [`Error::InsufficientData`](crate::Error::InsufficientData).
//!
//! # Sufficient statistics that merge
//!
//! All features are discrete (capped counts, a last-touch channel, flags),
//! so journeys with the same features are interchangeable for the fit: the
//! [`IncrementalPartial`] keeps one integer row `(journeys, conversions,
//! value)` per distinct feature *pattern*, keyed by channel names. Partials
//! merge by adding counts, serialize in name-sorted form, and `finish`
//! fits on the patterns in sorted order: the fitted model is the same bit
//! for bit however the journeys were split, ordered or merged, and memory
//! grows with distinct patterns (about 10,000 on the 50,000-journey sample;
//! 47,000 at 400,000 journeys), not with journeys. A pattern is packed
//! into a few `u32` words in one arena with an open-addressing index (about
//! 70 bytes per pattern with 12 channels; no allocation per journey or per
//! pattern), and `finish` regenerates each pattern's design row from its
//! packed key on every Newton pass instead of storing a design matrix: it
//! only adds a sorted copy of the keys (about 30 bytes per pattern). 10
//! million `sample_like` journeys streamed through a fit peak at 69 MB
//! resident in all (`cargo run --release --example scale -- --journeys
//! 10000000 --only incremental`). Cost: `O(touches + k²)` per journey to
//! observe (`k` distinct channels), `O(Σ_patterns nnz²)` plus one `P × P`
//! factorization per Newton step (5-10 steps).
//!
//! # Credit by counterfactual removal
//!
//! For a converting journey with distinct channels `C`, let `v(S)` be the
//! fitted probability of the same journey with only the touches of the
//! channels in `S ⊆ C` (the others deleted: their exposure and pairs vanish,
//! the last touch becomes the latest remaining touch; the journey's end
//! for recency is held fixed). A channel's raw effect is its exact Shapley
//! value over `v` ([`CreditRule::Shapley`], the default):
//!
//! ```text
//! φ_c = Σ_{S ⊆ C∖{c}} |S|! (k−|S|−1)! / k! · [ v(S ∪ {c}) − v(S) ]      (Σ_c φ_c = v(C) − v(∅))
//! ```
//!
//! or its single-removal effect `v(C) − v(C ∖ {c})` ([`CreditRule::Removal`];
//! also used beyond [`SHAPLEY_EXACT_LIMIT`] distinct channels). The
//! journey's value and its one conversion are shared among channels in
//! proportion to `max(0, φ_c)`, and within a channel equally over its
//! touches; the engine ([`attribute`](crate::attribute)) turns that into
//! exact integer credit, so reports reconcile to the cent. **Credited
//! shares are never negative**: a negative raw effect (a channel whose
//! fitted effect is below zero, usually noise around no effect) is clamped
//! to zero. If every effect of a journey is `<= 0`, its credit is split
//! equally over its touches (the linear rule). Both cases are counted by
//! [`Incremental::credit_diagnostics`].
//!
//! [`CreditRule::BaselineByEffect`] reads `v(C)` as the lift `v(C) − v(∅)`
//! plus the baseline `v(∅)`: channel `c` gets `max(0, φ_c) / v(C)` of the
//! journey for the lift, and the baseline part `r = max(0, 1 − Σ max(0, φ)
//! / v(C))` (that is `v(∅) / v(C)` when no `φ` is negative) in proportion
//! to the channels' expected incremental conversions over all journeys,
//! `Δ_c⁺` below.
//!
//! [`CreditRule::Calibrated`] (what [`select`] uses with order features)
//! multiplies those weights by one factor `m_c` per channel, fitted with
//! the model so that the credit of the fitted converting journeys adds up,
//! channel by channel, to the shares of `Δ_c⁺`: every journey's value is
//! still split among its own channels, and the channel totals are the
//! causal shares. No per-journey rule gets there alone: an effect that
//! needs two channels (one that works only after another) is lost by
//! removing either, so the causal quantity counts it for both, while the
//! Shapley values of a journey split it in half.
//!
//! # Expected incremental conversions
//!
//! Separately from credit, [`Incremental::effects`] gives each channel's
//! expected incremental conversions over *all* journeys, converting or not:
//!
//! ```text
//! Δ_c = Σ_j [ p_j(C_j) − p_j(C_j ∖ {c}) ]
//! ```
//!
//! and the incremental value `Δ_c ·` (mean value of a conversion). These raw
//! estimates **may be negative** (a channel estimated to hurt, or noise
//! around zero); [`Incremental::effect_shares`] clamps them at zero before
//! normalizing. This is the quantity a causal ground truth measures (the
//! simulator's `sim::GroundTruth`): compare models on
//! it. Credited shares differ from it by design: credit shares out *every*
//! conversion, including those that would have happened anyway (`v(∅)`),
//! so channels of short journeys (where the baseline is a larger part of
//! `p`) get relatively more. On the shipped sample, crediting with the
//! simulator's *true* coefficients lands 7.8 percentage points from the
//! true shares; effect shares computed with the true coefficients land at 0.
//!
//! # Worked example
//!
//! 400 journeys, [`Exposure::Presence`], `λ ≈ 0`: 100 with no touch (10
//! convert), 100 with `a` only (50), 100 with `b` only (25), 100 with `a`
//! then `b` (75). The rates lie exactly on a logistic model: odds `1/9`
//! baseline, `×9` for `a`, `×3` for `b`, so the fit reproduces them:
//! `β₀ = ln(1/9)`, `β_a = ln 9`, `β_b = ln 3`; `v(∅) = 0.1`, `v(a) = 0.5`,
//! `v(b) = 0.25`, `v(ab) = 0.75`.
//!
//! - A converting `a, b` journey worth 13.00: `φ_a = ((0.5 − 0.1) + (0.75 −
//!   0.25)) / 2 = 0.45`, `φ_b = ((0.25 − 0.1) + (0.75 − 0.5)) / 2 = 0.20`,
//!   so `a` gets `13 · 0.45 / 0.65 = 9.00` and `b` 4.00. (Removal rule:
//!   `0.5 : 0.25`, so 8.67 and 4.33.)
//! - Expected incremental conversions: `a`: `100 (0.5 − 0.1) + 100 (0.75 −
//!   0.25) = 90`; `b`: `100 (0.25 − 0.1) + 100 (0.75 − 0.5) = 40`; shares
//!   69.2% / 30.8%.
//! - [`CreditRule::BaselineByEffect`], with 200 `a`-only journeys (100
//!   convert: the same rates, the same fit) so that `Δ_a = 200 · 0.4 +
//!   100 · 0.5 = 130` and `Δ_b = 40`: the `a, b` journey's lift parts are
//!   `0.45 / 0.75 = 0.6` and `0.20 / 0.75 = 0.2667`, its baseline part
//!   `0.1 / 0.75 = 0.1333` goes `130 : 40`, so `a` gets `0.6 + 0.1020 =
//!   0.7020` of 13.00 = 9.13 and `b` 3.87 (plain Shapley: still 9.00 and
//!   4.00). Test `baseline_by_effect_worked_example`.
//! - [`CreditRule::Calibrated`], the same journeys: the 200 converting
//!   journeys with touches are to be credited `130 : 40`, so `a` gets
//!   `200 · 13/17 = 152.94` conversions and `b` 47.06. The `a`-only
//!   journeys give `a` 100 and the `b`-only ones give `b` 25 whatever the
//!   multipliers, so the 75 `a, b` conversions give `a` `152.94 − 100 =
//!   52.94`, `12/17` of each: the `a, b` journey worth 13.00 goes 9.18 to
//!   `a` and 3.82 to `b` (`m_a / m_b = (12/5) / (0.7020/0.2980) = 1.019`).
//!   Test `calibrated_worked_example`.
//!
//! ```
//! use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch};
//! use touchpoint::incremental::{Exposure, Incremental, IncrementalConfig};
//!
//! let t = "2024-01-01T00:00:00Z".parse()?;
//! let mut js = Vec::new();
//! for (tag, chans, conv) in [("n", vec![], 10), ("a", vec!["a"], 50), ("b", vec!["b"], 25), ("ab", vec!["a", "b"], 75)] {
//!     for i in 0..100 {
//!         let mut j = SimpleJourney::new(format!("{tag}{i}"));
//!         for c in &chans { j = j.touch(SimpleTouch::new(*c, t)); }
//!         if i < conv { j = j.converted(13.0); }
//!         js.push(j);
//!     }
//! }
//! let set = JourneySet::from_journeys(&js)?;
//! let config = IncrementalConfig::new().l2(1e-9)?.exposure(Exposure::Presence);
//! let model = Incremental::fit(&set, &config)?;
//! let mut c = Crediter::new();
//! c.credit(&model, &set.get(300).unwrap())?; // journey "ab0"
//! assert_eq!(c.values(), &[900, 400]);
//! let a = &model.effects()[0];
//! assert!((a.incremental_conversions() - 90.0).abs() < 1e-4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Assumptions (what the numbers mean)
//!
//! - **No unmeasured confounding.** Journeys with and without a channel
//!   differ, given the other features, only through that channel. If
//!   engaged buyers both see more channels and convert more for reasons the
//!   features miss, every effect absorbs part of it. Randomized holdouts
//!   are the only cure; this model is the best a log of journeys allows.
//! - **The model form.** Effects add on the log-odds scale with the chosen
//!   diminishing-returns shape; order effects exist only through the
//!   optional features. Misspecification biases the effects (compare
//!   [`Exposure`] choices on your data; [`Exposure::Levels`] is the most
//!   flexible).
//! - **Removal deletes touches** and leaves the others as they were.
//! - **Values do not depend on channels** (for the incremental value).
//!
//! # How sure it is
//!
//! [`bootstrap_effects`] and [`bootstrap_credit`] refit the model on
//! Poisson-bootstrap replicates (see [`bootstrap`](crate::bootstrap)) and
//! give percentile intervals for every channel's share, conversions and
//! value; reproducible bit for bit, in parallel with the `rayon` feature.
//!
//! # Three views, and which question each answers
//!
//! - **(a) Credit** ([`attribute`](crate::attribute) with the fitted model):
//!   every converting journey's value shared among its channels as above.
//!   Each journey's credit sums to its value: use it to *report revenue*.
//! - **(b) Incremental credit with a baseline**
//!   ([`Incremental::incremental_credit`]): each converting journey's value
//!   split into what its channels added (`value · δ_c / v(C)`, `δ_c` the
//!   single-removal effect) and what would have converted anyway (the
//!   `baseline` line). Channel lines + baseline + unassigned = total, to the
//!   cent; the channel lines are the realized counterpart of (c).
//! - **(c) Expected incremental conversions and value**
//!   ([`Incremental::effects_view`], [`Incremental::effects`]): over all
//!   journeys, raw (negative estimates shown as such), with the baseline
//!   `Σ p(∅)` and an `interactions` line reconciling to the expected
//!   conversions. What a holdout test measures: use it to *decide budget*.
//!
//! [`Incremental::summary`] gives the three in one serializable value.
//!
//! # Automatic configuration
//!
//! [`select`] chooses the features (exposure transform, order features)
//! by held-out predictive log-likelihood over folds keyed by journey id,
//! reports every candidate's score, the chosen one and why, and fits it:
//! the one-call default. Explicit configurations go through [`fit`] or
//! [`IncrementalPartial`].
//!
//! # Small data
//!
//! [`FitDiagnostics::warnings`] holds typed [`FitWarning`]s: too few
//! journeys for the coefficients, coefficients set mostly by the penalty,
//! channels seen too rarely. Five journeys give figures, but never without
//! them.
//!
//! # Accuracy (simulator ground truth)
//!
//! Share error = `Σ_c |share_c − true share_c|` in percentage points of
//! [`Incremental::effect_shares`] against the simulator's true shares, for
//! the automatic configuration ([`select`]); "floor" is the simulator's own
//! model form refitted on the same journeys (the sampling noise floor; `~`:
//! the true form is not in the feature family, 10 free exposure levels
//! stand in). Seed 1; `cargo run --release --example accuracy --
//! --only-incremental --journeys 100000` (and 400000).
//!
//! | data | 100k journeys | floor | 400k journeys | floor |
//! |---|---|---|---|---|
//! | shipped sample (50k) | 6.1 (50k) | 6.2 | | |
//! | `sample_like` | 3.6 | 3.6 | 2.5 | 2.5 |
//! | `weak_effects` | 27.8 | 27.8 | 14.6 | 14.6 |
//! | `b2b` | 4.0 | 4.1~ | 2.4 | 2.5~ |
//! | `order_matters` | 5.0 | 3.4 | 1.8 | 1.4 |
//! | `useless_everywhere` | 4.7 | 4.7 | 3.1 | 3.1 |
//! | `many_channels` | 7.3 | 7.3 | 3.1 | 3.1 |
//!
//! The error is the noise floor's: it falls roughly as `1/√journeys`.
//! The channel lines of view (b) land within 0.7 points of the effect
//! shares on every preset at 100k (4.3 against 5.0 on `order_matters`),
//! credit (view a) 5-18 points from the truth by design (it shares out the
//! baseline too). The 95% bootstrap intervals of the effect shares cover
//! the truth for 75 of 83 channels (90%) over the presets at 100k
//! (`--intervals 100`). Established rule-based and Markov tools are 35-52
//! points away on the sample, coalition Shapley 21.
//!
//! # Example
//!
//! ```
//! use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch};
//! use touchpoint::incremental::{Incremental, IncrementalConfig, Pairs};
//!
//! let t = "2024-01-01T00:00:00Z".parse()?;
//! let mut js = Vec::new();
//! for i in 0..400 {
//!     let mut j = SimpleJourney::new(format!("j{i}")).touch(SimpleTouch::new("display", t));
//!     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
//!     if (i % 2 == 0 && i % 8 < 4) || i % 16 == 1 { j = j.converted(40.0); }
//!     js.push(j);
//! }
//! let set = JourneySet::from_journeys(&js)?;
//! let config = IncrementalConfig::new().last_touch(true).pairs(Pairs::All);
//! let model = touchpoint::incremental::fit(&set, config)?;
//! assert!(model.diagnostics().iterations < 20);
//! let report = attribute(&model, &set)?;
//! assert!(report.channels().get("email").unwrap().value() > report.channels().get("display").unwrap().value());
//! for e in model.effects() {
//!     println!("{}: {:+.1} incremental conversions", e.name(), e.incremental_conversions());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod model;
mod partial;
mod select;
mod shape;
mod solve;
mod store;
mod views;

pub use self::config::{CreditRule, Exposure, IncrementalConfig, Pairs};
pub use self::model::{
    CALIBRATION_WARN_PP, ChannelEffect, CreditDiagnostics, FitDiagnostics, FitWarning, Incremental,
    JOURNEYS_PER_FEATURE, PENALTY_SHARE_LIMIT, RARE_CHANNEL_JOURNEYS, RARE_CHANNEL_OUTCOMES,
    SHAPLEY_EXACT_LIMIT,
};
pub use self::partial::{IncrementalPartial, bootstrap_credit, bootstrap_effects};
pub use self::select::{CandidateScore, SelectConfig, Selection, select};
pub use self::solve::MAX_FEATURES;
pub use self::views::{
    Amount, CreditLine, EffectsView, IncrementalCredit, Summary, SummaryEffects, SummaryLine,
};

use crate::dataset::JourneySet;
use crate::error::Result;

/// Fits the model with an explicit configuration on every journey of
/// `set` (one [`IncrementalPartial`], then
/// [`finish`](IncrementalPartial::finish)). For the configuration chosen
/// from the data, use [`select`].
///
/// # Errors
///
/// As [`IncrementalPartial::finish`].
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::incremental::{self, IncrementalConfig};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let js: Vec<SimpleJourney> = (0..100)
///     .map(|i| {
///         let j = SimpleJourney::new(format!("j{i}")).touch(SimpleTouch::new("email", t));
///         if i % 3 == 0 { j.converted(5.0) } else { j }
///     })
///     .chain((0..100).map(|i| SimpleJourney::new(format!("n{i}"))))
///     .collect();
/// let set = JourneySet::from_journeys(&js)?;
/// let model = incremental::fit(&set, IncrementalConfig::new())?;
/// assert_eq!(model.channels(), ["email"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fit(set: &JourneySet, config: IncrementalConfig) -> Result<Incremental> {
    let mut p = IncrementalPartial::new(&config);
    p.observe_set(set)?;
    p.finish()
}
