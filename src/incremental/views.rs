//! The three views of a fitted [`Incremental`] model, each reconciling:
//! credit ([`attribute`](crate::attribute)), incremental credit with a
//! baseline ([`IncrementalCredit`]) and expected incremental effects
//! ([`EffectsView`]); and [`Summary`], the three together in one
//! serializable value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::IncrementalConfig;
use super::model::{FitWarning, Incremental, SCRATCH};
use super::select::Selection;
use super::shape::sigmoid;
use crate::bootstrap::{Bootstrap, Interval};
use crate::credit::{CONVERSION_UNITS, apportion_weighted, attribute};
use crate::dataset::JourneySet;
use crate::error::{Error, Result};
use crate::model::Binding;

/// One line of exact credit: conversions in units of 10⁻⁹
/// ([`CONVERSION_UNITS`]) and value in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreditLine {
    name: String,
    conversion_units: i128,
    value_minor: i128,
}

impl CreditLine {
    /// The channel (or `baseline`, `unassigned`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Conversions, in units of 10⁻⁹ (exact; negative only for the
    /// baseline, see [`IncrementalCredit::overlapping_journeys`]).
    pub fn conversion_units(&self) -> i128 {
        self.conversion_units
    }
    /// Conversions.
    pub fn conversions(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "display amount")]
        let x = self.conversion_units as f64 / CONVERSION_UNITS as f64;
        x
    }
    /// Value, minor units (exact).
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
}

/// View (b): every converting journey's value split into what its channels
/// *added* and what would have converted anyway (the `baseline` line), see
/// [`Incremental::incremental_credit`].
///
/// Reconciles exactly: the channel lines, the baseline and the unassigned
/// line (converting journeys with no touch) sum to the total conversions
/// and value, to the minor unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncrementalCredit {
    journeys: u64,
    conversions: u64,
    value_minor: i128,
    currency_decimals: u8,
    channels: Vec<CreditLine>,
    baseline: CreditLine,
    unassigned: CreditLine,
    overlapping: u64,
}

impl IncrementalCredit {
    /// Converting journeys whose single-removal effects add up to more than
    /// the journey's fitted probability `v(C)` (on the logistic scale,
    /// channels that each would lose the conversion alone, or that need
    /// each other): their channel lines add up to more than the journey's
    /// value and their baseline part is negative (see
    /// [`Incremental::incremental_credit`]).
    pub fn overlapping_journeys(&self) -> u64 {
        self.overlapping
    }
    /// Journeys credited.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Converting journeys.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Total converted value, minor units.
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
    /// Decimals of the currency's minor unit.
    pub fn currency_decimals(&self) -> u8 {
        self.currency_decimals
    }
    /// The channels' lines, sorted by name.
    pub fn channels(&self) -> &[CreditLine] {
        &self.channels
    }
    /// What would have converted anyway.
    pub fn baseline(&self) -> &CreditLine {
        &self.baseline
    }
    /// Converting journeys with no touch.
    pub fn unassigned(&self) -> &CreditLine {
        &self.unassigned
    }
}

/// Expected conversions and value of one line of [`EffectsView`] (major
/// units; raw estimates, may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Amount {
    /// Conversions.
    pub conversions: f64,
    /// Value, major units.
    pub value: f64,
}

/// View (c): each channel's expected incremental conversions and value over
/// all journeys (the quantity a causal truth measures), see
/// [`Incremental::effects_view`].
///
/// Reconciles: `Σ channels + baseline + interactions = expected`, and
/// `expected` equals the observed conversions up to the solver's tolerance
/// (the intercept is unpenalized, so the fitted probabilities sum to the
/// observed conversions at the optimum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectsView {
    /// Per channel, `Δ_c = Σ_j p_j(C_j) − p_j(C_j ∖ {c})` (raw, may be
    /// negative), sorted by name.
    pub channels: BTreeMap<String, Amount>,
    /// `Σ_j p_j(∅)`: conversions expected with no channel at all.
    pub baseline: Amount,
    /// What single removals do not assign: `expected − baseline − Σ Δ_c`
    /// (synergies between channels make it positive, overlaps negative).
    pub interactions: Amount,
    /// `Σ_j p_j(C_j)`: conversions the model expects over the journeys.
    pub expected: Amount,
}

/// One line of the summary's credit views, major units.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SummaryLine {
    /// Conversions.
    pub conversions: f64,
    /// Value, major units.
    pub value: f64,
    /// The 95% (or the bootstrap's level) interval of the conversions, when
    /// asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

/// View (c) in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryEffects {
    /// Expected incremental conversions and value per channel (raw, may be
    /// negative), with the bootstrap interval of the conversions when asked.
    pub channels: BTreeMap<String, SummaryLine>,
    /// Conversions expected with no channel at all.
    pub baseline: Amount,
    /// What single removals do not assign.
    pub interactions: Amount,
    /// Conversions the model expects.
    pub expected: Amount,
}

/// Everything a report of the incremental model shows, serializable (the
/// JSON of `examples/attribute --model incremental`):
///
/// - `channels`, `unassigned`: view (a), credit ([`attribute`]): every
///   converting journey's value shared among its channels. Use it to
///   *report revenue*: it reconciles with the books.
/// - `incremental_credit`, `baseline`: view (b), incremental credit with a
///   baseline ([`Incremental::incremental_credit`]): what the channels
///   added, and what would have converted anyway. Channel lines + baseline
///   + unassigned = total, to the cent.
/// - `incremental`: view (c), expected incremental conversions and value
///   per channel over all journeys ([`Incremental::effects_view`]): what a
///   channel's removal would cost. Use it to *decide budget*; it is what a
///   holdout test measures.
/// - `config`, `selection`: the configuration used and, when chosen
///   automatically, every candidate's score; `warnings`: what the data
///   cannot support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `"incremental"`.
    pub model: String,
    /// Journeys.
    pub journeys: u64,
    /// Converting journeys.
    pub conversions: u64,
    /// Converted value, major units.
    pub value: f64,
    /// View (a), per channel.
    pub channels: BTreeMap<String, SummaryLine>,
    /// View (a) and (b): converting journeys with no touch.
    pub unassigned: SummaryLine,
    /// View (b): what would have converted anyway.
    pub baseline: SummaryLine,
    /// View (b), per channel: what the channels added.
    pub incremental_credit: BTreeMap<String, SummaryLine>,
    /// View (c).
    pub incremental: SummaryEffects,
    /// The configuration fitted.
    pub config: IncrementalConfig,
    /// How the configuration was chosen, when automatic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// The fit's warnings.
    pub warnings: Vec<FitWarning>,
}

impl Incremental {
    /// View (b): each converting journey's value split between its channels
    /// and a `baseline`:
    ///
    /// ```text
    /// channel c: value · δ_c / v(C),   δ_c = v(C) − v(C ∖ {c})
    /// baseline:  value − Σ_c (channel c's amount)
    /// ```
    ///
    /// (`v(S)` the fitted probability of the same journey with only the
    /// channels in `S`). Channel `c` gets the part `δ_c / v(C)` of the
    /// conversion its removal would lose, the baseline the rest: what
    /// would have converted anyway. Because each journey converts with
    /// probability `v(C)`, a channel's expected line is `Σ_j δ_cj`: the
    /// channel lines are the realized counterpart of the expected
    /// incremental conversions of view (c) ([`effects_view`](Self::effects_view)).
    ///
    /// On the logistic scale single removals can add up to more than
    /// `v(C)` (two strong channels: removing either loses most of the
    /// conversion). Then the channel amounts add up to more than the
    /// journey's value and the journey's baseline part is *negative*: the
    /// baseline line is "what would have converted anyway, minus what
    /// single removals count twice" (counted in
    /// [`overlapping_journeys`](IncrementalCredit::overlapping_journeys)).
    /// A channel whose removal would *raise* the probability (`δ_c < 0`, for
    /// example one whose last touch hides a stronger closer) gets a
    /// negative amount, as in view (c): raw estimates, not clamped, so the
    /// lines add up to view (c)'s in expectation. No channel amount exceeds
    /// the journey's value in size. Integer amounts are exact: the positive
    /// channels' total `round(value · Σδ⁺ / v(C))` is split over them by
    /// largest remainder (as the engine does), the negative ones' likewise,
    /// the baseline gets the rest, so the channel lines, the baseline and
    /// the unassigned line (converting journeys with no touch) sum to the
    /// totals to the minor unit.
    ///
    /// Single-removal effects, not the Shapley values of the credit (view
    /// a): with interactions (a channel that works only after another),
    /// Shapley splits the joint effect in half, while the causal quantity
    /// of view (c) counts it for each channel whose removal loses it.
    ///
    /// Worked example (the module's): a converting `a` journey worth 13.00
    /// has `v(a) = 0.5`, `v(∅) = 0.1`: `δ_a = 0.4`, so `a` gets
    /// `13 · 0.4 / 0.5 = 10.40` and the baseline 2.60. A converting `a, b`
    /// journey has `v(ab) = 0.75`, `v(b) = 0.25`, `v(a) = 0.5`: `δ_a = 0.5`,
    /// `δ_b = 0.25`, `Σδ = v(ab)`: `a` gets `13 · 0.5 / 0.75 = 8.67`, `b`
    /// 4.33, the baseline 0.00.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidWeights`] if a journey's effects are not finite.
    pub fn incremental_credit(&self, set: &JourneySet) -> Result<IncrementalCredit> {
        let cat = set.catalog();
        let mut units = vec![0_i128; cat.channels.len()];
        let mut value = vec![0_i128; cat.channels.len()];
        let (mut base, mut un) = (CreditLine::default(), CreditLine::default());
        let (mut conversions, mut total, mut overlapping) = (0_u64, 0_i128, 0_u64);
        let (mut w, mut wpart, mut out_v, mut out_u, mut scratch) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        #[expect(clippy::cast_possible_wrap, reason = "10^9 fits")]
        let unit = CONVERSION_UNITS as i64;
        let mut binding = Binding::new();
        for j in set.iter() {
            if !j.converted() {
                continue;
            }
            conversions += 1;
            let v = j.value_minor();
            total += i128::from(v);
            if j.is_empty() {
                un.conversion_units += i128::from(unit);
                un.value_minor += i128::from(v);
                continue;
            }
            let (keys, full) = SCRATCH.with_borrow_mut(|s| -> Result<(Vec<u32>, f64)> {
                self.bound_shape(&j, &mut binding, &mut s.shape);
                let (cfg, shape) = (&self.config, &s.shape);
                let full = sigmoid(self.coefs.eta(cfg, shape, |_| true));
                w.clear();
                w.extend(
                    (0..shape.items.len())
                        .map(|i| full - sigmoid(self.coefs.eta(cfg, shape, |x| x != i))),
                );
                if !full.is_finite() || w.iter().any(|x| !x.is_finite()) {
                    return Err(Error::InvalidWeights {
                        model: "incremental".into(),
                        journey: j.id().to_owned(),
                        reason: "an effect or the fitted probability is not finite".into(),
                    });
                }
                Ok((s.shape.items.iter().map(|it| it.key).collect(), full))
            })?;
            let n = w.len();
            // positive and negative effects are apportioned apart: the
            // channels that added get `round(value · Σδ⁺ / v(C))` split over
            // their δ, those that hurt `−round(value · Σ|δ⁻| / v(C))`
            let mut tv = 0_i64;
            let mut tu = 0_i64;
            let mut added = 0.0;
            for sign in [1.0_f64, -1.0] {
                wpart.clear();
                wpart.extend(
                    w.iter()
                        .map(|&d| if d * sign > 0.0 { d * sign } else { 0.0 }),
                );
                let sum: f64 = wpart.iter().sum();
                if !(sum > 0.0 && full > 0.0) {
                    continue;
                }
                if sign > 0.0 {
                    added = sum;
                }
                let r = sum / full;
                let part = |x: i64| -> Option<i64> {
                    #[expect(clippy::cast_precision_loss, reason = "amounts below 2^53 are exact")]
                    let y = (x as f64 * r).round();
                    #[expect(clippy::cast_possible_truncation, reason = "range checked")]
                    (y.is_finite() && y.abs() < 9.0e18).then_some(y as i64)
                };
                // an amount too large for i64 after scaling: cap at the whole
                let (pv, pu) = match (part(v), part(unit)) {
                    (Some(pv), Some(pu)) => (pv, pu),
                    _ => (v, unit),
                };
                out_v.clear();
                out_v.resize(n, 0);
                out_u.clear();
                out_u.resize(n, 0);
                apportion_weighted(pv, &wpart, sum, &mut out_v, &mut scratch);
                apportion_weighted(pu, &wpart, sum, &mut out_u, &mut scratch);
                #[expect(clippy::cast_possible_truncation, reason = "±1")]
                let sg = sign as i64;
                for (i, &key) in keys.iter().enumerate() {
                    value[key as usize] += i128::from(sg * out_v[i]);
                    units[key as usize] += i128::from(sg * out_u[i]);
                }
                tv += sg * pv;
                tu += sg * pu;
            }
            if added > full {
                overlapping += 1;
            }
            base.value_minor += i128::from(v) - i128::from(tv);
            base.conversion_units += i128::from(unit) - i128::from(tu);
        }
        let mut channels: Vec<CreditLine> = cat
            .channels
            .iter()
            .enumerate()
            .filter(|&(i, _)| units[i] != 0 || value[i] != 0)
            .map(|(i, name)| CreditLine {
                name: name.to_owned(),
                conversion_units: units[i],
                value_minor: value[i],
            })
            .collect();
        channels.sort_by(|a, b| a.name.cmp(&b.name));
        base.name = "baseline".into();
        un.name = "unassigned".into();
        Ok(IncrementalCredit {
            journeys: set.len() as u64,
            conversions,
            value_minor: total,
            currency_decimals: set.currency().decimals(),
            channels,
            baseline: base,
            unassigned: un,
            overlapping,
        })
    }

    /// View (c): expected incremental conversions and value per channel
    /// over every fitted journey ([`effects`](Self::effects), raw, may be
    /// negative), the baseline `Σ_j p_j(∅)` and what single removals leave
    /// to interactions, reconciling to the expected conversions.
    pub fn effects_view(&self) -> EffectsView {
        let amount = |c: f64| Amount {
            conversions: c,
            value: c * self.mean_value,
        };
        let sum: f64 = self
            .effects
            .iter()
            .map(|e| e.incremental_conversions())
            .sum();
        EffectsView {
            channels: self
                .effects
                .iter()
                .map(|e| {
                    (
                        e.name().to_owned(),
                        Amount {
                            conversions: e.incremental_conversions(),
                            value: e.incremental_value(),
                        },
                    )
                })
                .collect(),
            baseline: amount(self.baseline_conversions),
            interactions: amount(self.expected_conversions - self.baseline_conversions - sum),
            expected: amount(self.expected_conversions),
        }
    }

    /// The three views on `set` (normally the journeys it was fitted on)
    /// in one serializable [`Summary`]; with `intervals`
    /// ([`bootstrap_effects`](super::bootstrap_effects) of this model's
    /// configuration), each channel of view (c) carries its interval.
    ///
    /// # Errors
    ///
    /// As [`attribute`] and [`incremental_credit`](Self::incremental_credit).
    pub fn summary(&self, set: &JourneySet, intervals: Option<&Bootstrap>) -> Result<Summary> {
        let report = attribute(self, set)?;
        let cur = set.currency();
        let line = |c: f64, v: f64| SummaryLine {
            conversions: c,
            value: v,
            interval: None,
        };
        let channels = report
            .channels()
            .lines()
            .iter()
            .map(|l| (l.name().to_owned(), line(l.conversions(), l.value())))
            .collect();
        let un = report.channels().unassigned();
        let ic = self.incremental_credit(set)?;
        let exact = |l: &CreditLine| line(l.conversions(), cur.to_major_wide(l.value_minor));
        let view = self.effects_view();
        Ok(Summary {
            model: "incremental".into(),
            journeys: report.journeys(),
            conversions: report.conversions(),
            value: report.value(),
            channels,
            unassigned: line(un.conversions(), un.value()),
            baseline: exact(&ic.baseline),
            incremental_credit: ic
                .channels
                .iter()
                .map(|l| (l.name.clone(), exact(l)))
                .collect(),
            incremental: SummaryEffects {
                channels: view
                    .channels
                    .iter()
                    .map(|(n, a)| {
                        let mut l = line(a.conversions, a.value);
                        l.interval = intervals.and_then(|b| b.get(n)).map(|c| c.conversions());
                        (n.clone(), l)
                    })
                    .collect(),
                baseline: view.baseline,
                interactions: view.interactions,
                expected: view.expected,
            },
            config: self.config.clone(),
            selection: None,
            warnings: self.diagnostics.warnings.clone(),
        })
    }
}
