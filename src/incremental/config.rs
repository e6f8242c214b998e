//! [`IncrementalConfig`] and its option enums.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MS_PER_DAY: f64 = 86_400_000.0;

/// How a channel's exposure count `n` (touches of that channel in one
/// journey, capped at [`IncrementalConfig::count_cap`]) enters the model.
///
/// Every transform gives 0 for `n = 0`, so removing a channel means setting
/// its features to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exposure {
    /// `x = 1` if the channel is present (`n >= 1`), else 0: one touch or
    /// ten, the same effect.
    Presence,
    /// `x = ln(1 + n)`: each extra touch adds less (diminishing returns).
    /// The default.
    #[default]
    Log1p,
    /// `x = n`: every touch adds the same on the logit scale.
    Linear,
    /// One indicator per level, `x_l = [n >= l]` for `l = 1..=cap`: presence
    /// plus a free extra effect for the 2nd, 3rd, ... touch. The most
    /// flexible shape (it nests the three others when `n <= cap`), with
    /// `cap` coefficients per channel.
    Levels,
}

impl Exposure {
    fn as_str(self) -> &'static str {
        match self {
            Exposure::Presence => "presence",
            Exposure::Log1p => "log1p",
            Exposure::Linear => "linear",
            Exposure::Levels => "levels",
        }
    }
}

/// Which "a before b" order features the model gets.
///
/// The feature for the ordered pair `(a, b)` is the exposure of `b`
/// *after* the first touch of `a`: with `m` touches of `b` later than the
/// first `a` touch (time order, ties in input order), it is `ln(1 + m)` for
/// [`Exposure::Log1p`], `m` for [`Exposure::Linear`], and `[m >= 1]` for
/// [`Exposure::Presence`] and [`Exposure::Levels`] (`m` capped like any
/// count). It is 0 when `a` or `b` is removed. It lets the model learn
/// "b works only after a": `b`'s own exposure coefficient near 0 and the
/// pair's coefficient carrying the effect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Pairs {
    /// No order-pair features (the default).
    #[default]
    None,
    /// Every ordered pair of channels seen together (up to `K (K - 1)`
    /// features for `K` channels; pairs never seen get no feature).
    All,
    /// Only these ordered pairs `(a, b)`, by channel name.
    Only(Vec<(String, String)>),
}

/// How one converting journey's value is shared among its channels, given
/// the fitted probability `p(S)` of converting with only the channels in
/// `S` (see the [module docs](crate::incremental)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CreditRule {
    /// Exact Shapley value of `p` over the journey's distinct channels (the
    /// default). Journeys with more than
    /// [`SHAPLEY_EXACT_LIMIT`](crate::incremental::SHAPLEY_EXACT_LIMIT)
    /// distinct channels use [`CreditRule::Removal`] instead (counted in
    /// [`CreditDiagnostics`](crate::incremental::CreditDiagnostics)).
    #[default]
    Shapley,
    /// Proportional to each channel's single-removal effect
    /// `p(all) - p(all without c)`.
    Removal,
    /// The journey's fitted probability `v(C)` read as two parts: the lift
    /// `v(C) − v(∅)`, shared by exact Shapley values as in
    /// [`CreditRule::Shapley`], and the baseline `v(∅)` (what would have
    /// converted anyway), shared among the journey's channels in
    /// proportion to their expected incremental conversions over *all*
    /// journeys (`Δ_c⁺`, view (c)):
    ///
    /// ```text
    /// w_c = max(0, φ_c) / v(C) + r · Δ_c⁺ / Σ_{c' ∈ C} Δ_c'⁺,   r = max(0, 1 − Σ_c max(0, φ_c) / v(C))
    /// ```
    ///
    /// (`r = v(∅) / v(C)` when no `φ_c` is negative; when every channel of
    /// the journey has `Δ⁺ = 0`, the baseline goes with the lift, as in
    /// [`CreditRule::Shapley`]). With last-touch contrasts the lift of a
    /// journey closed by a weak closer is small and its Shapley split
    /// noisy, and [`CreditRule::Shapley`], which spreads the baseline like
    /// the lift, moves credit far from the causal shares (17.8 points on
    /// the simulator's `order_matters` preset, 9.8 with this rule, 8.6
    /// without order features); [`CreditRule::Calibrated`], which
    /// [`select`](crate::incremental::select) uses for configurations with
    /// order features, starts from these weights. Worked example in the
    /// [module docs](crate::incremental#worked-example). Journeys with more
    /// than [`SHAPLEY_EXACT_LIMIT`](crate::incremental::SHAPLEY_EXACT_LIMIT)
    /// distinct channels use single-removal effects in place of `φ`.
    BaselineByEffect,
    /// [`CreditRule::BaselineByEffect`]'s weights `b_cj`, *calibrated* so
    /// that over the fitted converting journeys each channel's total credit
    /// is its share of the expected incremental conversions (view (c),
    /// [`Incremental::effect_shares`](crate::incremental::Incremental::effect_shares)):
    ///
    /// ```text
    /// w_cj = m_c · b_cj / Σ_{d ∈ C_j} m_d · b_dj
    /// Σ_{j converting} w_cj = Y' · Δ_c⁺ / Σ_d Δ_d⁺      for every c with Δ_c⁺ > 0
    /// ```
    ///
    /// One multiplier `m_c ≥ 0` per channel, a parameter of the fitted
    /// model: a journey's credit is still a split of that journey's value
    /// (exact, by the engine's apportionment), in the proportions of `b`
    /// reweighted by channel. `m_c = 0` for a channel without a positive
    /// effect (`Δ_c⁺ = 0`): it is credited only on journeys where no channel
    /// with an effect has weight (the engine's equal split), and `Y'` is the
    /// converting journeys with touches minus those conversions. The `m_c`
    /// are found at fit time by iterative proportional fitting over the
    /// fitted patterns in sorted order (`m_c ← m_c · target_c / credit_c`,
    /// rescaled so that the largest is 1, until every channel is within
    /// `10⁻¹⁰` of its target, relatively, or after 1,000 passes): the same
    /// bits for the same journeys, however split or ordered. The targets
    /// cannot always be reached (a channel whose journeys convert alone
    /// more often than its effect share allows keeps those conversions):
    /// then the fit says how far the totals stay, in
    /// [`FitWarning::CalibrationOff`](crate::incremental::FitWarning::CalibrationOff)
    /// (above [`CALIBRATION_WARN_PP`](crate::incremental::CALIBRATION_WARN_PP)).
    /// The multipliers are in
    /// [`Incremental::calibration`](crate::incremental::Incremental::calibration).
    ///
    /// Why: every per-journey rule reads the journey's *probability*, and
    /// no such split can hand out the baseline and the interactions the way
    /// the causal shares count them (an effect that needs two channels is
    /// lost by removing either, so removal counts it for both; Shapley
    /// values split it in half; negative single-removal effects cannot be
    /// credited). The calibration fixes the channel totals and leaves each
    /// journey's split to the model. Chosen by
    /// [`select`](crate::incremental::select) for configurations with order
    /// features: on the simulator's `order_matters` preset, credit lands
    /// 6.4 points from the causal shares at 100,000 journeys (9.8 with
    /// [`CreditRule::BaselineByEffect`], 8.6 for the best configuration
    /// without order features) and 3.9 at 400,000 (10.2).
    ///
    /// The patterns hold the last-touch rank only up to "third latest or
    /// earlier", so with last-touch features the calibration sees the
    /// journeys that lose their two latest channels in a coalition
    /// approximately, and the realized totals land near, not on, the
    /// targets (0.4 points on `order_matters`). Worked example in the
    /// [module docs](crate::incremental#worked-example):
    ///
    /// ```
    /// use touchpoint::incremental::{CreditRule, Exposure, Incremental, IncrementalConfig};
    /// use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, attribute};
    ///
    /// // no touch 10 of 100 convert, `a` 100 of 200, `b` 25 of 100, `a, b` 75 of 100
    /// let t = "2024-01-01T00:00:00Z".parse()?;
    /// let mut js = Vec::new();
    /// for (tag, chans, n, conv) in [("n", vec![], 100, 10), ("a", vec!["a"], 200, 100),
    ///                               ("b", vec!["b"], 100, 25), ("ab", vec!["a", "b"], 100, 75)] {
    ///     for i in 0..n {
    ///         let mut j = SimpleJourney::new(format!("{tag}{i}"));
    ///         for c in &chans { j = j.touch(SimpleTouch::new(*c, t)); }
    ///         if i < conv { j = j.converted(13.0); }
    ///         js.push(j);
    ///     }
    /// }
    /// let set = JourneySet::from_journeys(&js)?;
    /// let config = IncrementalConfig::new()
    ///     .l2(1e-9)?
    ///     .exposure(Exposure::Presence)
    ///     .credit(CreditRule::Calibrated);
    /// let model = Incremental::fit(&set, &config)?;
    /// // Δa = 130, Δb = 40: a gets 200 · 13/17 conversions in all
    /// let report = attribute(&model, &set)?;
    /// let a = report.channels().get("a").unwrap().conversions();
    /// assert!((a - 200.0 * 13.0 / 17.0).abs() < 1e-6);
    /// // so each `a, b` journey goes 12/17 : 5/17
    /// let mut c = Crediter::new();
    /// c.credit(&model, &set.get(400).unwrap())?; // journey "ab0"
    /// assert_eq!(c.values(), &[918, 382]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Calibrated,
}

/// Configuration of the [`incremental`](crate::incremental) model: the
/// penalty, the solver's limits, and the features.
///
/// Setters take and return the value; those that can reject a value return
/// [`Result`]. Defaults: `l2 = 1`, `max_iterations = 100`,
/// `tolerance = 1e-9`, [`Exposure::Log1p`], `count_cap = 10`, no last-touch,
/// pair or recency features, [`CreditRule::Shapley`].
///
/// # Example
///
/// ```
/// use touchpoint::incremental::{Exposure, IncrementalConfig, Pairs};
///
/// let config = IncrementalConfig::new()
///     .l2(0.5)?
///     .exposure(Exposure::Levels)
///     .count_cap(3)?
///     .last_touch(true)
///     .pairs(Pairs::All)
///     .recency_days(7.0)?;
/// assert_eq!(config.get_count_cap(), 3);
/// assert!(IncrementalConfig::new().l2(-1.0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Deserialization checks every field exactly as the setters do (one
/// validation path): an `l2` of -1000, a `count_cap` of 0, a
/// `max_iterations` of 0 or a non-positive `recency_ms` read from JSON is
/// an [`Error::InvalidParameter`], never a surprising fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IncrementalConfigWire")]
pub struct IncrementalConfig {
    pub(crate) l2: f64,
    pub(crate) max_iterations: usize,
    pub(crate) tolerance: f64,
    pub(crate) exposure: Exposure,
    pub(crate) count_cap: u16,
    pub(crate) last_touch: bool,
    pub(crate) pairs: Pairs,
    pub(crate) recency_ms: Option<i64>,
    pub(crate) credit: CreditRule,
}

/// The unchecked serialized form of an [`IncrementalConfig`].
#[derive(Deserialize)]
struct IncrementalConfigWire {
    l2: f64,
    max_iterations: usize,
    tolerance: f64,
    exposure: Exposure,
    count_cap: u16,
    last_touch: bool,
    pairs: Pairs,
    recency_ms: Option<i64>,
    credit: CreditRule,
}

impl TryFrom<IncrementalConfigWire> for IncrementalConfig {
    type Error = Error;
    fn try_from(w: IncrementalConfigWire) -> Result<IncrementalConfig> {
        IncrementalConfig {
            l2: w.l2,
            max_iterations: w.max_iterations,
            tolerance: w.tolerance,
            exposure: w.exposure,
            count_cap: w.count_cap,
            last_touch: w.last_touch,
            pairs: w.pairs,
            recency_ms: w.recency_ms,
            credit: w.credit,
        }
        .validate()
    }
}

/// Longest recency window, ms (what [`IncrementalConfig::recency_days`]
/// accepts).
const MAX_RECENCY_MS: i64 = 9_000_000_000_000_000_000;

impl Default for IncrementalConfig {
    fn default() -> IncrementalConfig {
        IncrementalConfig {
            l2: 1.0,
            max_iterations: 100,
            tolerance: 1e-9,
            exposure: Exposure::Log1p,
            count_cap: 10,
            last_touch: false,
            pairs: Pairs::None,
            recency_ms: None,
            credit: CreditRule::Shapley,
        }
    }
}

impl IncrementalConfig {
    /// The default configuration.
    pub fn new() -> IncrementalConfig {
        IncrementalConfig::default()
    }

    /// The L2 (ridge) penalty `λ` on every coefficient but the intercept:
    /// the fit maximizes `loglik(β) - λ/2 · Σ β_j²`, the posterior mode under
    /// independent normal priors `β_j ~ N(0, 1/λ)`. It is absolute, not per
    /// journey, so its pull fades as data grows. With `λ > 0` the optimum is
    /// unique and finite even when a channel predicts conversion perfectly
    /// (separable data). `λ = 0` is plain maximum likelihood: it fails with
    /// a typed error on separable or collinear data. Default 1.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`l2`) unless finite and `>= 0`.
    pub fn l2(self, l2: f64) -> Result<IncrementalConfig> {
        IncrementalConfig { l2, ..self }.validate()
    }

    /// Checks every field: what each setter checks, and what
    /// deserialization checks.
    fn validate(self) -> Result<IncrementalConfig> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::param("l2", self.l2, "a finite penalty >= 0"));
        }
        if self.max_iterations == 0 {
            return Err(Error::param("max_iterations", 0, "at least 1"));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::param(
                "tolerance",
                self.tolerance,
                "a finite number > 0",
            ));
        }
        if !(1..=64).contains(&self.count_cap) {
            return Err(Error::param("count_cap", self.count_cap, "1 to 64"));
        }
        if let Some(ms) = self.recency_ms
            && !(1..=MAX_RECENCY_MS).contains(&ms)
        {
            return Err(Error::param(
                "recency_ms",
                ms,
                "a window of 1 ms to 9e18 ms",
            ));
        }
        Ok(self)
    }

    /// The most Newton iterations before the fit gives up with
    /// [`Error::NotConverged`]. Default 100 (a well-posed fit needs 5-10).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`max_iterations`) if 0.
    pub fn max_iterations(self, max_iterations: usize) -> Result<IncrementalConfig> {
        IncrementalConfig {
            max_iterations,
            ..self
        }
        .validate()
    }

    /// The fit has converged when the largest coefficient change of a
    /// Newton step, `max_j |Δβ_j|`, is at most `tolerance` (default 1e-9),
    /// or when a full Newton step predicts a gain in the penalized
    /// log-likelihood `L` below `1e-13 · (1 + |L|)` (rounding level): with
    /// nearly collinear features and a tiny penalty some directions of `β`
    /// are determined by the data only to about `1e-7`, while predictions
    /// and effects are already exact to rounding.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`tolerance`) unless finite and > 0.
    pub fn tolerance(self, tolerance: f64) -> Result<IncrementalConfig> {
        IncrementalConfig { tolerance, ..self }.validate()
    }

    /// The exposure transform (default [`Exposure::Log1p`]).
    #[must_use]
    pub fn exposure(self, exposure: Exposure) -> IncrementalConfig {
        IncrementalConfig { exposure, ..self }
    }

    /// Counts above `cap` touches of one channel in one journey count as
    /// `cap` (default 10; the number of journeys affected is reported in
    /// [`FitDiagnostics::capped_journeys`](crate::incremental::FitDiagnostics)).
    /// Also the number of levels of [`Exposure::Levels`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`count_cap`) unless in `1..=64`.
    pub fn count_cap(self, count_cap: u16) -> Result<IncrementalConfig> {
        IncrementalConfig { count_cap, ..self }.validate()
    }

    /// Adds one feature per channel: "this channel made the journey's last
    /// touch" (a closing bonus). Removing the last channel moves the last
    /// touch to the latest remaining channel. Default off.
    #[must_use]
    pub fn last_touch(self, on: bool) -> IncrementalConfig {
        IncrementalConfig {
            last_touch: on,
            ..self
        }
    }

    /// Order-pair features (default [`Pairs::None`]).
    #[must_use]
    pub fn pairs(self, pairs: Pairs) -> IncrementalConfig {
        IncrementalConfig { pairs, ..self }
    }

    /// Adds one feature per channel: "touched within `days` of the
    /// journey's last touch". The journey's end (its last touch) is held
    /// fixed when channels are removed, and the outcome (conversion time)
    /// is never used, so the feature cannot leak the label. Default off.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`recency_days`) unless finite and > 0.
    pub fn recency_days(self, days: f64) -> Result<IncrementalConfig> {
        if !(days.is_finite() && days > 0.0 && days * MS_PER_DAY < 9.0e18) {
            return Err(Error::param(
                "recency_days",
                days,
                "a finite number of days > 0",
            ));
        }
        #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
        let ms = (days * MS_PER_DAY).round() as i64;
        Ok(IncrementalConfig {
            recency_ms: Some(ms.max(1)),
            ..self
        })
    }

    /// How converting journeys' value is shared (default
    /// [`CreditRule::Shapley`]).
    #[must_use]
    pub fn credit(self, credit: CreditRule) -> IncrementalConfig {
        IncrementalConfig { credit, ..self }
    }

    /// The L2 penalty.
    pub fn get_l2(&self) -> f64 {
        self.l2
    }
    /// The iteration limit.
    pub fn get_max_iterations(&self) -> usize {
        self.max_iterations
    }
    /// The convergence tolerance.
    pub fn get_tolerance(&self) -> f64 {
        self.tolerance
    }
    /// The exposure transform.
    pub fn get_exposure(&self) -> Exposure {
        self.exposure
    }
    /// The count cap.
    pub fn get_count_cap(&self) -> u16 {
        self.count_cap
    }
    /// Whether the last-touch features are on.
    pub fn get_last_touch(&self) -> bool {
        self.last_touch
    }
    /// The order-pair features.
    pub fn get_pairs(&self) -> &Pairs {
        &self.pairs
    }
    /// The recency window in days, if on.
    pub fn get_recency_days(&self) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "display of a window")]
        self.recency_ms.map(|ms| ms as f64 / MS_PER_DAY)
    }
    /// The credit rule.
    pub fn get_credit(&self) -> CreditRule {
        self.credit
    }

    /// The count as stored in a pattern: capped, and 1 for presence.
    pub(crate) fn stored_count(&self, n: usize) -> u16 {
        let cap = if self.exposure == Exposure::Presence {
            1
        } else {
            self.count_cap
        };
        u16::try_from(n).unwrap_or(u16::MAX).min(cap)
    }

    /// Number of exposure features per channel.
    pub(crate) fn exposure_width(&self) -> usize {
        match self.exposure {
            Exposure::Levels => usize::from(self.count_cap),
            _ => 1,
        }
    }

    /// The value of exposure feature `level` (0-based) for a stored count.
    pub(crate) fn exposure_value(&self, level: usize, count: u16) -> f64 {
        match self.exposure {
            Exposure::Presence => f64::from(u8::from(count > 0)),
            Exposure::Log1p => f64::from(count).ln_1p(),
            Exposure::Linear => f64::from(count),
            Exposure::Levels => f64::from(u8::from(usize::from(count) > level)),
        }
    }

    /// The value of a pair feature whose second channel has `count`
    /// (stored) touches after the first touch of the first channel.
    pub(crate) fn pair_value(&self, count: u16) -> f64 {
        match self.exposure {
            Exposure::Presence | Exposure::Levels => f64::from(u8::from(count > 0)),
            Exposure::Log1p => f64::from(count).ln_1p(),
            Exposure::Linear => f64::from(count),
        }
    }

    /// The configuration as a canonical string.
    pub(crate) fn fingerprint(&self) -> String {
        let pairs = match &self.pairs {
            Pairs::None => "none".to_owned(),
            Pairs::All => "all".to_owned(),
            Pairs::Only(list) => {
                let mut v: Vec<String> = list.iter().map(|(a, b)| format!("{a}>{b}")).collect();
                v.sort();
                v.dedup();
                format!("[{}]", v.join(","))
            }
        };
        format!(
            "incremental;l2={:e};max_iterations={};tolerance={:e};exposure={};count_cap={};last_touch={};pairs={};recency_ms={};credit={}",
            self.l2,
            self.max_iterations,
            self.tolerance,
            self.exposure.as_str(),
            self.count_cap,
            self.last_touch,
            pairs,
            self.recency_ms.map_or("off".to_owned(), |m| m.to_string()),
            match self.credit {
                CreditRule::Shapley => "shapley",
                CreditRule::Removal => "removal",
                CreditRule::BaselineByEffect => "baseline_by_effect",
                CreditRule::Calibrated => "calibrated",
            }
        )
    }
}
