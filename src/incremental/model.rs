//! The fitted model [`Incremental`], its result types and the per-journey
//! counterfactual credit.

use serde::{Deserialize, Serialize};

use super::config::{CreditRule, IncrementalConfig};
use super::shape::{Coefs, Shape, UNKNOWN, sigmoid, softplus};
use super::store::{Sorted, key_shape};
use crate::dataset::{ChannelId, JourneySet, JourneyView};
use crate::error::Result;
use crate::model::{AttributionModel, Binding, ChannelList, Weights};

/// Most passes of the iterative proportional fitting of
/// [`CreditRule::Calibrated`].
const CALIBRATION_ITERATIONS: usize = 1000;

/// [`CreditRule::Calibrated`] stops when every channel's credit is within
/// this relative distance of its target.
const CALIBRATION_TOLERANCE: f64 = 1e-10;

/// [`FitWarning::CalibrationOff`] is raised when the calibrated channel
/// totals end more than this many percentage points (summed over the
/// channels with an effect) from the effect shares.
pub const CALIBRATION_WARN_PP: f64 = 0.1;

/// Journeys with at most this many distinct channels get exact Shapley
/// credit (`2^k` model evaluations); longer ones fall back to
/// [`CreditRule::Removal`].
pub const SHAPLEY_EXACT_LIMIT: usize = 14;

/// One channel's expected incremental effect over all journeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelEffect {
    pub(super) name: String,
    pub(super) journeys: u64,
    pub(super) conversions: f64,
    pub(super) value: f64,
}

impl ChannelEffect {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Journeys (converting or not) in which the channel appears.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Expected incremental conversions, `Σ_j p_j(all) - p_j(all without c)`
    /// over every journey `j` with the channel. A raw estimate: it is
    /// negative when the fitted effect is negative (often noise around a
    /// zero effect).
    pub fn incremental_conversions(&self) -> f64 {
        self.conversions
    }
    /// Expected incremental value: the incremental conversions times the
    /// mean value of a conversion in the data (major units). Assumes the
    /// value of a conversion does not depend on the channels; may be
    /// negative like the conversions.
    pub fn incremental_value(&self) -> f64 {
        self.value
    }
}

/// How the fit went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitDiagnostics {
    /// Journeys fitted on.
    pub journeys: u64,
    /// Converted journeys among them.
    pub conversions: u64,
    /// Distinct feature patterns (rows of the fit).
    pub patterns: usize,
    /// Coefficients fitted (the intercept and every feature seen non-zero).
    pub features: usize,
    /// Newton iterations performed.
    pub iterations: usize,
    /// Largest coefficient change of the last Newton step (`<= tolerance`,
    /// unless the fit stopped on the Newton-decrement rule; see
    /// [`IncrementalConfig::tolerance`]).
    pub last_step: f64,
    /// The penalized log-likelihood at the optimum.
    pub penalized_log_likelihood: f64,
    /// Journeys in which some channel's count exceeded the count cap (and
    /// was counted as the cap).
    pub capped_journeys: u64,
    /// What the data cannot support (few journeys for the features, a
    /// coefficient set mostly by the penalty, a rarely seen channel): read
    /// these before trusting the figures. Empty when nothing is wrong.
    #[serde(default)]
    pub warnings: Vec<FitWarning>,
}

/// Converting and non-converting journeys wanted per fitted coefficient
/// before [`FitWarning::FewJourneys`] is raised (the usual "events per
/// variable" rule of thumb for logistic regression).
pub const JOURNEYS_PER_FEATURE: u64 = 20;

/// Share of a coefficient's curvature supplied by the penalty,
/// `λ / (λ + Σ_j w_j x_jk²)`, above which [`FitWarning::LeansOnPenalty`]
/// lists it: the data determine less than 90% of it.
pub const PENALTY_SHARE_LIMIT: f64 = 0.1;

/// A channel seen on fewer journeys than this, or with fewer than
/// [`RARE_CHANNEL_OUTCOMES`] converting or non-converting journeys, raises
/// [`FitWarning::RareChannel`].
pub const RARE_CHANNEL_JOURNEYS: u64 = 20;

/// See [`RARE_CHANNEL_JOURNEYS`].
pub const RARE_CHANNEL_OUTCOMES: u64 = 5;

/// Something the data cannot support, found by the fit (in
/// [`FitDiagnostics::warnings`]). The figures are still computed; these
/// say how far to trust them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FitWarning {
    /// Fewer converting or non-converting journeys than
    /// [`JOURNEYS_PER_FEATURE`] per fitted coefficient (the intercept
    /// aside): the effects are mostly the penalty's and the sample's noise.
    FewJourneys {
        /// Converting journeys.
        converting: u64,
        /// Non-converting journeys.
        non_converting: u64,
        /// Coefficients fitted, the intercept aside.
        features: usize,
        /// Journeys of each outcome wanted.
        wanted: u64,
    },
    /// Coefficients for which the penalty supplies more than
    /// [`PENALTY_SHARE_LIMIT`] of the curvature at the optimum: the data say
    /// little about them and the penalty pulls them to 0. Each with its
    /// penalty share (0 to 1), largest first.
    LeansOnPenalty {
        /// `(coefficient, penalty share)`, coefficient named as in
        /// [`Incremental::coefficients`].
        coefficients: Vec<(String, f64)>,
    },
    /// A channel seen on too few journeys, or almost only on converting (or
    /// non-converting) ones, to estimate its effect.
    RareChannel {
        /// The channel.
        channel: String,
        /// Journeys with the channel.
        journeys: u64,
        /// Converting journeys among them.
        conversions: u64,
    },
    /// [`CreditRule::Calibrated`] could not bring the channel totals of the
    /// credit to the effect shares: some channel converts alone more (or,
    /// with the others, less) than its effect share allows, and each
    /// journey's value stays with its own channels. The credit is still
    /// exact and reconciles; its totals are this far from the effect
    /// shares.
    CalibrationOff {
        /// `Σ_c |credit share − effect share|` over the channels with an
        /// effect, in percentage points, over the fitted converting
        /// journeys (those credited only to channels without an effect
        /// left out).
        gap_pp: f64,
        /// Passes of the iterative proportional fitting performed.
        passes: usize,
    },
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitWarning::FewJourneys {
                converting,
                non_converting,
                features,
                wanted,
            } => write!(
                f,
                "few journeys for the features: {converting} converting and {non_converting} \
                 non-converting journeys for {features} coefficients ({wanted} of each wanted); \
                 the effects are unreliable"
            ),
            FitWarning::LeansOnPenalty { coefficients } => {
                write!(
                    f,
                    "{} coefficient(s) set mostly by the penalty, not the data:",
                    coefficients.len()
                )?;
                for (name, share) in coefficients.iter().take(8) {
                    write!(f, " {name} ({:.0}%)", 100.0 * share)?;
                }
                if coefficients.len() > 8 {
                    write!(f, " and {} more", coefficients.len() - 8)?;
                }
                Ok(())
            }
            FitWarning::RareChannel {
                channel,
                journeys,
                conversions,
            } => write!(
                f,
                "channel {channel:?} is on {journeys} journeys ({conversions} converting): \
                 too few to estimate its effect"
            ),
            FitWarning::CalibrationOff { gap_pp, passes } => write!(
                f,
                "calibrated credit: the channel totals stay {gap_pp:.2} points from the effect \
                 shares after {passes} passes (channels that convert alone more, or with \
                 others less, than their effect shares allow)"
            ),
        }
    }
}

/// How the credit of some journeys was decided (see
/// [`Incremental::credit_diagnostics`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditDiagnostics {
    /// Converted journeys with at least one touch.
    pub credited: u64,
    /// Journeys where some channel's raw effect was negative and was
    /// clamped to zero.
    pub clamped: u64,
    /// Journeys where every channel's effect was `<= 0`: split equally over
    /// the touches instead (the linear rule).
    pub equal_split: u64,
    /// Journeys with more than [`SHAPLEY_EXACT_LIMIT`] distinct channels,
    /// credited by single-removal effects instead of Shapley values.
    pub removal_fallback: u64,
}

/// How one journey's raw effects were decided (for
/// [`Incremental::credit_diagnostics`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Decided {
    /// More than [`SHAPLEY_EXACT_LIMIT`] channels under a Shapley rule:
    /// single-removal effects were used.
    removal_fallback: bool,
    /// Some channel's effect (before any baseline share) was negative.
    clamped: bool,
}

/// A fitted incremental model: regularized logistic conversion model plus
/// counterfactual credit. Implements [`AttributionModel`], so
/// [`attribute`](crate::attribute) gives a report that reconciles to the
/// cent; [`effects`](Self::effects) gives each channel's expected
/// incremental conversions over all journeys.
///
/// See the [module docs](crate::incremental) for the formulas and a worked
/// example.
#[derive(Debug, Clone, PartialEq)]
pub struct Incremental {
    pub(super) config: IncrementalConfig,
    pub(super) fingerprint: String,
    pub(super) channels: ChannelList,
    pub(super) coefs: Coefs,
    pub(super) effects: Vec<ChannelEffect>,
    /// [`CreditRule::Calibrated`]: one multiplier per channel (by index),
    /// empty otherwise (and while the multipliers are being computed).
    pub(super) calibration: Vec<f64>,
    /// `Σ_j p_j(∅)` and `Σ_j p_j(C_j)` over every fitted journey.
    pub(super) baseline_conversions: f64,
    pub(super) expected_conversions: f64,
    /// Mean value of a conversion, major units.
    pub(super) mean_value: f64,
    pub(super) currency_decimals: u8,
    pub(super) diagnostics: FitDiagnostics,
}

/// Reusable buffers of the per-journey credit (no allocation per journey).
#[derive(Debug, Default)]
pub(super) struct Scratch {
    pub(super) shape: Shape,
    /// Raw effects per distinct channel.
    pub(super) raw: Vec<f64>,
    /// Coalition values `v(S)`.
    pub(super) v: Vec<f64>,
    /// Shapley weights by coalition size.
    pub(super) w: Vec<f64>,
    /// Per-item terms of the linear predictor.
    pub(super) terms: Vec<f64>,
    pub(super) ends: Vec<usize>,
}

thread_local! {
    /// One [`Scratch`] per thread for [`AttributionModel::weights`] (which
    /// takes `&self`): no locking, no allocation per journey.
    pub(super) static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Incremental {
    /// The configuration it was fitted with.
    pub fn config(&self) -> &IncrementalConfig {
        &self.config
    }

    /// The channels it knows, sorted by name.
    pub fn channels(&self) -> &[String] {
        self.channels.names()
    }

    /// Each channel's expected incremental conversions and value over all
    /// fitted journeys, sorted by channel name. Raw estimates: may be
    /// negative.
    pub fn effects(&self) -> &[ChannelEffect] {
        &self.effects
    }

    /// Each channel's share of the expected incremental conversions, with
    /// negative estimates counted as zero: `max(0, Δ_c) / Σ_d max(0, Δ_d)`
    /// (all zero if no estimate is positive). This is the quantity the
    /// simulator's ground truth measures.
    pub fn effect_shares(&self) -> Vec<(String, f64)> {
        let total: f64 = self.effects.iter().map(|e| e.conversions.max(0.0)).sum();
        self.effects
            .iter()
            .map(|e| {
                let s = if total > 0.0 {
                    e.conversions.max(0.0) / total
                } else {
                    0.0
                };
                (e.name.clone(), s)
            })
            .collect()
    }

    /// [`CreditRule::Calibrated`]'s multiplier of each channel, sorted by
    /// name (empty under the other rules, or when no channel has a positive
    /// effect). Only ratios matter: the largest is 1; a channel without a
    /// positive effect has 0.
    pub fn calibration(&self) -> Vec<(String, f64)> {
        self.channels
            .names()
            .iter()
            .zip(&self.calibration)
            .map(|(n, &m)| (n.clone(), m))
            .collect()
    }

    /// How the fit went.
    pub fn diagnostics(&self) -> &FitDiagnostics {
        &self.diagnostics
    }

    /// The fitted coefficients with readable names, in layout order:
    /// `intercept`, `exposure:<channel>` (or `exposure:<channel>:<level>`
    /// for [`Exposure::Levels`](super::Exposure::Levels)), `last:<channel>`,
    /// `recent:<channel>`, `before:<a>><b>`. Features never seen are 0 and
    /// omitted for pairs.
    pub fn coefficients(&self) -> Vec<(String, f64)> {
        let c = &self.coefs;
        let mut out = vec![("intercept".to_owned(), c.intercept)];
        let names = self.channels.names();
        for (i, name) in names.iter().enumerate() {
            for l in 0..c.width {
                let label = if c.width == 1 {
                    format!("exposure:{name}")
                } else {
                    format!("exposure:{name}:{}", l + 1)
                };
                out.push((label, c.exposure[i * c.width + l]));
            }
        }
        for (i, name) in names.iter().enumerate() {
            if let Some(&b) = c.last.get(i) {
                out.push((format!("last:{name}"), b));
            }
        }
        for (i, name) in names.iter().enumerate() {
            if let Some(&b) = c.recent.get(i) {
                out.push((format!("recent:{name}"), b));
            }
        }
        for (a, na) in names.iter().enumerate() {
            for (b, nb) in names.iter().enumerate() {
                if let Some(&v) = c.pair.get(a * c.k + b)
                    && v != 0.0
                {
                    out.push((format!("before:{na}>{nb}"), v));
                }
            }
        }
        out
    }

    /// The shape of `j`, its channels looked up by name (for one journey;
    /// a loop over many uses [`bound_shape`](Self::bound_shape)).
    pub(super) fn view_shape(&self, j: &JourneyView<'_>, shape: &mut Shape) {
        let cat = j.catalog();
        self.shape_with(j, shape, |id| self.channels.index(cat.channel_name(id)));
    }

    /// The shape of `j`, its channels resolved through `binding` (one table
    /// per catalog, kept across the journeys of a loop).
    pub(super) fn bound_shape(
        &self,
        j: &JourneyView<'_>,
        binding: &mut Binding,
        shape: &mut Shape,
    ) {
        let map = binding.map(&self.channels, j.catalog());
        self.shape_with(j, shape, |id| map.get(id));
    }

    fn shape_with(
        &self,
        j: &JourneyView<'_>,
        shape: &mut Shape,
        index: impl Fn(ChannelId) -> Option<usize>,
    ) {
        let lookup = |id| index(id).map_or(UNKNOWN, |i| u32::try_from(i).unwrap_or(UNKNOWN));
        shape.build(
            &self.config,
            j.channels().iter().map(|&c| (c.0, lookup(c))),
            j.timestamps(),
            |_, _| true,
        );
    }

    /// The log-likelihood of the patterns of `sorted` under this model
    /// (built with the same configuration), patterns in sorted order; its
    /// channels are mapped to the model's by name once.
    pub(crate) fn held_out_log_likelihood(&self, sorted: &Sorted<'_>) -> f64 {
        let map: Vec<u32> = sorted
            .channels
            .iter()
            .map(|n| {
                self.channels
                    .index(n)
                    .map_or(UNKNOWN, |i| u32::try_from(i).unwrap_or(UNKNOWN))
            })
            .collect();
        let mut shape = Shape::default();
        let mut ll = 0.0;
        for i in 0..sorted.keys.len() {
            key_shape(sorted.keys.key(i), &mut shape);
            for it in &mut shape.items {
                it.ch = map[it.ch as usize];
            }
            let eta = self.coefs.eta(&self.config, &shape, |_| true);
            let cell = sorted.cell(i);
            #[expect(clippy::cast_precision_loss, reason = "counts below 2^53")]
            let (n, y) = (cell.journeys as f64, cell.conversions as f64);
            ll += y * eta - n * softplus(eta);
        }
        ll
    }

    /// The fitted conversion probability of a journey.
    pub fn predict(&self, journey: &JourneyView<'_>) -> f64 {
        let mut shape = Shape::default();
        self.view_shape(journey, &mut shape);
        sigmoid(self.coefs.eta(&self.config, &shape, |_| true))
    }

    /// Per distinct channel raw effects (Shapley or removal; under
    /// [`CreditRule::BaselineByEffect`] and [`CreditRule::Calibrated`] the
    /// final weights), and how they
    /// were decided.
    pub(super) fn raw_effects(&self, scratch: &mut Scratch) -> Decided {
        let Scratch {
            shape,
            raw: out,
            v,
            w,
            terms,
            ends,
        } = scratch;
        let shape = &*shape;
        let k = shape.items.len();
        out.clear();
        let cfg = &self.config;
        let shapley = matches!(
            self.config.credit,
            CreditRule::Shapley | CreditRule::BaselineByEffect | CreditRule::Calibrated
        );
        let by_effect = matches!(
            self.config.credit,
            CreditRule::BaselineByEffect | CreditRule::Calibrated
        );
        if shapley && k <= SHAPLEY_EXACT_LIMIT {
            let n = 1_usize << k;
            self.coefs.item_terms(cfg, shape, terms, ends);
            v.clear();
            v.extend((0..n).map(|m| {
                sigmoid(
                    self.coefs
                        .eta_terms(cfg, shape, terms, ends, |i| m >> i & 1 == 1),
                )
            }));
            // weight of a coalition of size s: s! (k-s-1)! / k!
            w.clear();
            w.resize(k, 0.0);
            for (s, ws) in w.iter_mut().enumerate() {
                let mut x = 1.0 / k as f64;
                // 1 / (k * C(k-1, s))
                for t in 0..s {
                    x *= (t + 1) as f64 / (k - 1 - t) as f64;
                }
                *ws = x;
            }
            out.resize(k, 0.0);
            for m in 0..n {
                let s = (m as u64).count_ones() as usize;
                for (i, o) in out.iter_mut().enumerate() {
                    if m >> i & 1 == 0 {
                        *o += w[s] * (v[m | 1 << i] - v[m]);
                    }
                }
            }
            let clamped = out.iter().any(|&x| x < 0.0);
            if by_effect {
                self.baseline_by_effect(shape, v[n - 1], out);
                self.calibrate_weights(shape, out);
            }
            Decided {
                removal_fallback: false,
                clamped,
            }
        } else {
            let full = sigmoid(self.coefs.eta(cfg, shape, |_| true));
            out.extend((0..k).map(|i| full - sigmoid(self.coefs.eta(cfg, shape, |x| x != i))));
            let clamped = out.iter().any(|&x| x < 0.0);
            if by_effect {
                self.baseline_by_effect(shape, full, out);
                self.calibrate_weights(shape, out);
            }
            Decided {
                removal_fallback: shapley,
                clamped,
            }
        }
    }

    /// [`CreditRule::BaselineByEffect`]: turns the lift's raw effects `out`
    /// of a journey with fitted probability `full` into the weights
    /// `max(0, φ_c) / v(C) + r · Δ_c⁺ / Σ Δ⁺`.
    fn baseline_by_effect(&self, shape: &Shape, full: f64, out: &mut [f64]) {
        if full.is_nan() || full <= 0.0 {
            return;
        }
        let lift: f64 = out.iter().map(|x| x.max(0.0)).sum();
        let rest = (1.0 - lift / full).max(0.0);
        let effect = |i: usize| -> f64 {
            let ch = shape.items[i].ch;
            if ch == UNKNOWN {
                return 0.0;
            }
            self.effects
                .get(ch as usize)
                .map_or(0.0, |e| e.conversions.max(0.0))
        };
        let total: f64 = (0..out.len()).map(effect).sum();
        if total.is_nan() || total <= 0.0 {
            return;
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = o.max(0.0) / full + rest * effect(i) / total;
        }
    }

    /// [`CreditRule::Calibrated`]: multiplies the weights `out` by the
    /// channels' multipliers (a channel the fit never saw keeps its
    /// weight), then divides them by the largest, so that the largest is 1
    /// (the same proportions; a multiplier near the bottom of the `f64`
    /// range cannot make a journey's weights sum to 0).
    fn calibrate_weights(&self, shape: &Shape, out: &mut [f64]) {
        if self.calibration.is_empty() {
            return;
        }
        for (it, o) in shape.items.iter().zip(out.iter_mut()) {
            if let Some(&m) = self.calibration.get(it.ch as usize) {
                *o *= m;
            }
        }
        let top = out
            .iter()
            .fold(0.0_f64, |a, &x| if x.is_finite() && x > a { x } else { a });
        if top > 0.0 {
            for o in out.iter_mut() {
                *o /= top;
            }
        }
    }

    /// [`CreditRule::Calibrated`]: the per-channel multipliers `m_c` that
    /// make the credit of the fitted converting journeys add up, channel
    /// by channel, to the effect shares (iterative proportional fitting,
    /// see [`CreditRule::Calibrated`]). Patterns in sorted order, a fixed
    /// rule to stop: the same bits for the same partial.
    ///
    /// Returns the multipliers (empty when no channel has a positive
    /// effect) and, when the channel totals end more than
    /// [`CALIBRATION_WARN_PP`] from their targets, the
    /// [`FitWarning::CalibrationOff`] that says so.
    pub(super) fn calibration_of(&self, c: &Sorted<'_>) -> (Vec<f64>, Option<FitWarning>) {
        let k = self.channels.names().len();
        if self.effects.len() != k {
            return (Vec::new(), None);
        }
        // the converting patterns with touches: conversions, and per
        // distinct channel its index, base weight and touches
        let (mut ys, mut ends) = (Vec::new(), Vec::new());
        let (mut chs, mut base, mut touches) = (Vec::new(), Vec::new(), Vec::new());
        let mut scratch = Scratch::default();
        for i in 0..c.keys.len() {
            let y = c.cell(i).conversions;
            if y == 0 {
                continue;
            }
            key_shape(c.keys.key(i), &mut scratch.shape);
            if scratch.shape.items.is_empty() {
                continue;
            }
            self.raw_effects(&mut scratch);
            #[expect(clippy::cast_precision_loss, reason = "counts below 2^53")]
            ys.push(y as f64);
            for (it, &w) in scratch.shape.items.iter().zip(&scratch.raw) {
                chs.push(it.ch as usize);
                base.push(if w > 0.0 { w } else { 0.0 });
                touches.push(f64::from(it.touches.max(1)));
            }
            ends.push(chs.len());
        }
        let converted: f64 = ys.iter().sum();
        // targets: shares of the positive effects of the channels on some
        // converting journey (the others cannot be credited)
        let mut on_converting = vec![false; k];
        for &ch in &chs {
            on_converting[ch] = true;
        }
        let target_share: Vec<f64> = self
            .effects
            .iter()
            .zip(&on_converting)
            .map(|(e, &on)| if on { e.conversions.max(0.0) } else { 0.0 })
            .collect();
        let total_effect: f64 = target_share.iter().sum();
        if !(total_effect > 0.0 && total_effect.is_finite()) {
            return (Vec::new(), None);
        }
        // channels without a positive effect get multiplier 0: credit only
        // on journeys where no channel with an effect has weight (the
        // engine's equal split), which the others' targets leave out
        let mut m: Vec<f64> = target_share
            .iter()
            .map(|&e| if e > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let mut col = vec![0.0_f64; k];
        // one pattern's calibrated weights, computed once per pass
        let mut wts: Vec<f64> = Vec::new();
        let (mut gap, mut passes) = (0.0_f64, 0);
        while passes < CALIBRATION_ITERATIONS {
            passes += 1;
            col.iter_mut().for_each(|x| *x = 0.0);
            let mut start = 0;
            for (&y, &end) in ys.iter().zip(&ends) {
                let r = start..end;
                start = end;
                wts.clear();
                wts.extend(r.clone().map(|t| m[chs[t]] * base[t]));
                // as the engine sees them: scaled so that the largest is 1
                let top = wts.iter().copied().fold(0.0_f64, f64::max);
                if top > 0.0 {
                    let s: f64 = wts.iter().map(|w| w / top).sum();
                    for (t, w) in r.zip(&wts) {
                        col[chs[t]] += y * (w / top) / s;
                    }
                } else {
                    // the engine's equal split over touches
                    let n: f64 = r.clone().map(|t| touches[t]).sum();
                    for t in r {
                        col[chs[t]] += y * touches[t] / n;
                    }
                }
            }
            let fixed: f64 = (0..k)
                .filter(|&c| target_share[c] <= 0.0)
                .map(|c| col[c])
                .sum();
            let available = converted - fixed;
            let mut worst = 0.0_f64;
            gap = 0.0;
            for c in 0..k {
                let target = available * target_share[c] / total_effect;
                if target > 0.0 {
                    gap += (col[c] - target).abs() / available;
                }
                if target > 0.0 && col[c] > 0.0 {
                    let ratio = target / col[c];
                    worst = worst.max((ratio - 1.0).abs());
                    m[c] *= ratio;
                }
            }
            // scale-free: keep the largest multiplier at 1
            let top = m.iter().fold(0.0_f64, |a, &b| a.max(b));
            if top > 0.0 && top.is_finite() {
                m.iter_mut().for_each(|x| *x /= top);
            }
            if worst < CALIBRATION_TOLERANCE {
                break;
            }
        }
        let gap_pp = 100.0 * gap;
        let warning =
            (gap_pp > CALIBRATION_WARN_PP).then_some(FitWarning::CalibrationOff { gap_pp, passes });
        (m, warning)
    }

    /// The weights of the journey whose shape is in `scratch`: each
    /// channel's raw effect clamped at 0, split equally between its
    /// touches (every touch equal if no effect is positive).
    fn shape_weights(&self, scratch: &mut Scratch, out: &mut Weights) {
        self.raw_effects(scratch);
        let (shape, raw) = (&scratch.shape, &scratch.raw);
        if raw.iter().all(|&x| x <= 0.0 || x.is_nan()) {
            out.equal();
            return;
        }
        // `seq[t]` is touch t's item: one read per touch, no search
        out.weighted().extend(
            shape
                .seq
                .iter()
                .map(|&i| raw[i].max(0.0) / f64::from(shape.items[i].touches)),
        );
    }

    /// Counts, over the converted journeys of `set`, how credit was decided:
    /// clamped negative effects, equal-split fallbacks, removal fallbacks.
    pub fn credit_diagnostics(&self, set: &JourneySet) -> CreditDiagnostics {
        let mut d = CreditDiagnostics::default();
        let mut scratch = Scratch::default();
        let mut binding = Binding::new();
        for j in set.iter() {
            if !j.converted() || j.is_empty() {
                continue;
            }
            d.credited += 1;
            self.bound_shape(&j, &mut binding, &mut scratch.shape);
            let decided = self.raw_effects(&mut scratch);
            d.removal_fallback += u64::from(decided.removal_fallback);
            // counted on the effects themselves: `BaselineByEffect`'s weights
            // are never negative, the effects they clamp may be
            d.clamped += u64::from(decided.clamped);
            let raw = &scratch.raw;
            if raw.iter().all(|&x| x <= 0.0) {
                d.equal_split += 1;
            }
        }
        d
    }
}

impl AttributionModel for Incremental {
    fn name(&self) -> &str {
        "incremental"
    }

    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        SCRATCH.with_borrow_mut(|scratch| {
            self.view_shape(journey, &mut scratch.shape);
            self.shape_weights(scratch, out);
            Ok(())
        })
    }

    /// As [`weights`](Self::weights), the journey's ids resolved through
    /// `binding` (one table per catalog) instead of by name.
    fn weights_bound(
        &self,
        journey: &JourneyView<'_>,
        binding: &mut Binding,
        out: &mut Weights,
    ) -> Result<()> {
        SCRATCH.with_borrow_mut(|scratch| {
            self.bound_shape(journey, binding, &mut scratch.shape);
            self.shape_weights(scratch, out);
            Ok(())
        })
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::partial::IncrementalPartial;
    use crate::incremental::store::{Canonical, Cell, Key, KeyItem, key_shape};

    #[test]
    fn bound_weights_are_the_by_name_weights() {
        use crate::model::testing::{check_bound_matches_by_name, journeys};
        let names = ["a", "b", "c", "d", "e"];
        let set = JourneySet::from_journeys(journeys(600, 5, &names)).unwrap();
        let stream = journeys(300, 6, &["z", "e", "d", "c", "b", "a"]);
        for credit in [CreditRule::Shapley, CreditRule::Removal] {
            let m = Incremental::fit(&set, &IncrementalConfig::new().credit(credit)).unwrap();
            check_bound_matches_by_name(&m, &stream);
        }
    }

    #[test]
    fn diagnostics_count_clamped_effects_under_every_shapley_rule() {
        use crate::{SimpleJourney, SimpleTouch};
        use chrono::DateTime;
        // "bad" lowers conversion: 200 of 400 convert on `good`, 60 of 400
        // on `good > bad`, 10 of 400 on `bad`, 20 of 400 with no touch.
        // Under a main-effects fit, bad's effect is negative on every
        // journey it is on: 60 + 10 = 70 converted journeys are clamped,
        // and the 10 on `bad` alone have no positive effect (equal split).
        let t = |d: i64| DateTime::from_timestamp(86_400 * d, 0).unwrap();
        let mut js = Vec::new();
        for (path, converted) in [
            (&["good"][..], 200),
            (&["good", "bad"][..], 60),
            (&["bad"][..], 10),
            (&[][..], 20),
        ] {
            for i in 0..400 {
                let mut j = SimpleJourney::new(format!("{}-{i}", path.join(">")));
                for (d, c) in path.iter().enumerate() {
                    j = j.touch(SimpleTouch::new(*c, t(d as i64)));
                }
                if i < converted {
                    j = j.converted(10.0);
                }
                js.push(j);
            }
        }
        let set = JourneySet::from_journeys(js).unwrap();
        for credit in [CreditRule::Shapley, CreditRule::BaselineByEffect] {
            let m = Incremental::fit(&set, &IncrementalConfig::new().credit(credit)).unwrap();
            let d = m.credit_diagnostics(&set);
            assert_eq!(d.credited, 270, "{credit:?}");
            assert_eq!(d.clamped, 70, "{credit:?}");
            assert_eq!(d.equal_split, 10, "{credit:?}");
            assert_eq!(d.removal_fallback, 0, "{credit:?}");
        }
    }

    #[test]
    fn shapley_weights_sum_to_full_minus_empty() {
        // three channels with an interaction through the logistic link
        let config = IncrementalConfig::new();
        let c = Canonical {
            version: 1,
            config: config.clone(),
            channels: vec!["a".into(), "b".into(), "c".into()],
            patterns: vec![
                (
                    Key {
                        items: vec![],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 5,
                        value: 500,
                    },
                ),
                (
                    Key {
                        items: vec![
                            KeyItem {
                                ch: 0,
                                count: 1,
                                rank: 0,
                                recent: false,
                            },
                            KeyItem {
                                ch: 1,
                                count: 2,
                                rank: 0,
                                recent: false,
                            },
                            KeyItem {
                                ch: 2,
                                count: 1,
                                rank: 0,
                                recent: false,
                            },
                        ],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 60,
                        value: 6000,
                    },
                ),
                (
                    Key {
                        items: vec![KeyItem {
                            ch: 0,
                            count: 1,
                            rank: 0,
                            recent: false,
                        }],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 20,
                        value: 2000,
                    },
                ),
                (
                    Key {
                        items: vec![KeyItem {
                            ch: 1,
                            count: 1,
                            rank: 0,
                            recent: false,
                        }],
                        pairs: vec![],
                    },
                    Cell {
                        journeys: 100,
                        conversions: 15,
                        value: 1500,
                    },
                ),
            ],
            totals: Cell {
                journeys: 400,
                conversions: 100,
                value: 10_000,
            },
            capped_journeys: 0,
            currency_decimals: 2,
        };
        let m = IncrementalPartial::from_canonical(c.clone())
            .unwrap()
            .finish()
            .unwrap();
        let mut shape = Shape::default();
        key_shape(&c.patterns[1].0.pack().unwrap(), &mut shape);
        let mut scratch = Scratch {
            shape: shape.clone(),
            ..Scratch::default()
        };
        m.raw_effects(&mut scratch);
        let phi = scratch.raw;
        let full = sigmoid(m.coefs.eta(&config, &shape, |_| true));
        let empty = sigmoid(m.coefs.eta(&config, &shape, |_| false));
        let s: f64 = phi.iter().sum();
        assert!((s - (full - empty)).abs() < 1e-12, "{s} {}", full - empty);
        assert!(phi.iter().all(|&x| x > 0.0));
    }
}
