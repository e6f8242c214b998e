//! Confidence intervals for any model by bootstrap over journeys.
//!
//! # Method
//!
//! A bootstrap replicate re-weights every journey by an integer drawn from
//! Poisson(1) (the "Poisson bootstrap": as the number of journeys grows it
//! matches resampling journeys with replacement, and needs no pass over the
//! whole data to draw). The weight of journey `id` in replicate `r` is a
//! pure function of `(seed, id, r)`:
//!
//! ```text
//! h = splitmix64(seed ⊕ splitmix64(fnv1a64(id) ⊕ splitmix64(r)))
//! u = (h >> 11) · 2⁻⁵³            uniform in [0, 1)
//! w = min { k : F(k) > u }        F = the Poisson(1) distribution function
//! ```
//!
//! So a journey's weight depends on its data (its id), never on its
//! position in a stream or on a thread: the same seed gives the same
//! intervals bit for bit, whatever the order of the journeys, the thread
//! count (feature `rayon` runs replicates in parallel), or the machine.
//! Journeys that share an id share their weights.
//!
//! Each replicate gives every channel an amount (credited conversions and
//! value). Per channel, the interval is the percentile interval of the
//! replicates: the `(1 - level)/2` and `(1 + level)/2` quantiles (linear
//! interpolation between order statistics, "type 7"), beside the point
//! estimate on the full data. Shares are the channel's conversions over
//! the sum over channels, in each replicate.
//!
//! - **Rule-based and other fixed models** ([`bootstrap_model`]): every
//!   journey is credited once (exact integer credit, as in
//!   [`attribute`](crate::attribute)), then each replicate is an integer
//!   weighted sum of those credits. Cheap: `O(replicates · credited pairs)`.
//! - **Fitted models** ([`bootstrap_fit`]): each replicate calls your
//!   closure with a [`Resample`] (the data and its weights); the closure
//!   refits (for example
//!   [`Incremental::fit_weighted`](crate::incremental::Incremental::fit_weighted))
//!   and returns the channel amounts, typically through
//!   [`Resample::credit`]. Any model plugs in.
//!
//! # What the intervals mean
//!
//! A 95% interval says: had the journeys been another sample from the same
//! population, the model's estimate would fall in this range about 95% of
//! the time. It measures *sampling* uncertainty of the model's own
//! estimate, not whether the model is right: a model that credits presence
//! rather than incrementality gets a narrow interval around the wrong
//! answer. Percentile intervals of shares near 0 are skewed; with few
//! journeys the coverage is below nominal.
//!
//! # Example
//!
//! ```
//! use touchpoint::{JourneySet, SimpleJourney, SimpleTouch, models::Linear};
//! use touchpoint::bootstrap::{bootstrap_model, BootstrapConfig};
//!
//! let t = "2024-01-01T00:00:00Z".parse()?;
//! let mut js = Vec::new();
//! for i in 0..200 {
//!     let ch = if i % 3 == 0 { "email" } else { "display" };
//!     js.push(SimpleJourney::new(format!("j{i}")).touch(SimpleTouch::new(ch, t)).converted(10.0));
//! }
//! let set = JourneySet::from_journeys(&js)?;
//! let config = BootstrapConfig::new().replicates(100)?.seed(7);
//! let ci = bootstrap_model(&Linear, &set, &config)?;
//! let email = ci.get("email").unwrap();
//! assert!((email.share().estimate() - 67.0 / 200.0).abs() < 1e-12);
//! assert!(email.share().low() < email.share().estimate());
//! assert!(email.share().high() > email.share().estimate());
//! // reproducible bit for bit
//! assert_eq!(ci, bootstrap_model(&Linear, &set, &config)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credit::{CONVERSION_UNITS, Crediter};
use crate::dataset::{JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::hash::{fnv1a as fnv1a64, splitmix64_at as splitmix64};
use crate::model::AttributionModel;

/// The Poisson(1) bootstrap weight of journey `journey_id` in replicate
/// `replicate` under `seed` (see the [module docs](self) for the formula).
/// Mean 1, variance 1; `P(0) = e⁻¹ ≈ 0.368`.
///
/// # Example
///
/// ```
/// use touchpoint::bootstrap::poisson_weight;
///
/// let w = poisson_weight(42, "j000001", 3);
/// assert_eq!(w, poisson_weight(42, "j000001", 3));
/// let mean = (0..10_000).map(|r| f64::from(poisson_weight(1, "x", r))).sum::<f64>() / 1e4;
/// assert!((mean - 1.0).abs() < 0.05);
/// ```
pub fn poisson_weight(seed: u64, journey_id: &str, replicate: u32) -> u32 {
    let h = splitmix64(
        seed ^ splitmix64(fnv1a64(journey_id.as_bytes()) ^ splitmix64(u64::from(replicate))),
    );
    #[expect(
        clippy::cast_precision_loss,
        reason = "53-bit mantissa by construction"
    )]
    let u = (h >> 11) as f64 * (1.0 / (1_u64 << 53) as f64);
    let mut p = (-1.0_f64).exp();
    let mut cdf = p;
    let mut k = 0_u32;
    while u >= cdf && k < 30 {
        k += 1;
        p /= f64::from(k);
        cdf += p;
    }
    k
}

/// The weights of every journey of `set` in one replicate.
pub fn replicate_weights(set: &JourneySet, seed: u64, replicate: u32) -> Vec<u32> {
    set.iter()
        .map(|j| poisson_weight(seed, j.id(), replicate))
        .collect()
}

/// Settings of a bootstrap: number of replicates, seed and confidence
/// level. Defaults: 200 replicates, seed 0, level 0.95.
///
/// Deserialization checks every field exactly as the setters do (one
/// validation path, a private `validate`): a `level` of 1.5 or a
/// replicate count of 0 read from JSON is an error, never a panic later.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BootstrapConfigWire")]
pub struct BootstrapConfig {
    replicates: u32,
    seed: u64,
    level: f64,
}

/// The unchecked serialized form of a [`BootstrapConfig`].
#[derive(Deserialize)]
struct BootstrapConfigWire {
    replicates: u32,
    seed: u64,
    level: f64,
}

impl TryFrom<BootstrapConfigWire> for BootstrapConfig {
    type Error = Error;
    fn try_from(w: BootstrapConfigWire) -> Result<BootstrapConfig> {
        BootstrapConfig {
            replicates: w.replicates,
            seed: w.seed,
            level: w.level,
        }
        .validate()
    }
}

impl Default for BootstrapConfig {
    fn default() -> BootstrapConfig {
        BootstrapConfig {
            replicates: 200,
            seed: 0,
            level: 0.95,
        }
    }
}

impl BootstrapConfig {
    /// The defaults: 200 replicates, seed 0, level 0.95.
    pub fn new() -> BootstrapConfig {
        BootstrapConfig::default()
    }

    /// Number of replicates (default 200; 1000+ for stable 99% tails).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`replicates`) unless in `2..=1_000_000`.
    pub fn replicates(self, replicates: u32) -> Result<BootstrapConfig> {
        BootstrapConfig { replicates, ..self }.validate()
    }

    /// Checks every field (what the setters and deserialization check).
    fn validate(self) -> Result<BootstrapConfig> {
        if !(2..=1_000_000).contains(&self.replicates) {
            return Err(Error::param(
                "replicates",
                self.replicates,
                "2 to 1,000,000",
            ));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::param(
                "level",
                self.level,
                "strictly between 0 and 1",
            ));
        }
        Ok(self)
    }

    /// The seed of the replicate weights (default 0).
    #[must_use]
    pub fn seed(self, seed: u64) -> BootstrapConfig {
        BootstrapConfig { seed, ..self }
    }

    /// The confidence level of the intervals (default 0.95).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`level`) unless strictly between 0 and 1.
    pub fn level(self, level: f64) -> Result<BootstrapConfig> {
        BootstrapConfig { level, ..self }.validate()
    }

    /// The number of replicates.
    pub fn get_replicates(&self) -> u32 {
        self.replicates
    }
    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }
    /// The confidence level.
    pub fn get_level(&self) -> f64 {
        self.level
    }
}

/// One replicate's data: the journey set and one integer weight per
/// journey. The full sample (every weight 1) is passed once for the point
/// estimate, with [`replicate`](Self::replicate) `None`.
#[derive(Debug, Clone)]
pub struct Resample<'a> {
    set: &'a JourneySet,
    weights: Vec<u32>,
    replicate: Option<u32>,
}

impl<'a> Resample<'a> {
    /// The journeys (all of them; weight 0 means "not drawn").
    pub fn set(&self) -> &'a JourneySet {
        self.set
    }
    /// One weight per journey of [`set`](Self::set).
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }
    /// The replicate number, or `None` for the full sample.
    pub fn replicate(&self) -> Option<u32> {
        self.replicate
    }

    /// The drawn journeys with their weights (weight-0 journeys skipped), in
    /// set order. A fit that only has `observe(journey)` observes each view
    /// `weight` times:
    ///
    /// ```
    /// # use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
    /// # use touchpoint::bootstrap::{bootstrap_fit, BootstrapConfig};
    /// use touchpoint::markov::{MarkovConfig, MarkovPartial};
    /// # let t = "2024-01-01T00:00:00Z".parse()?;
    /// # let js: Vec<_> = (0..60).map(|i| {
    /// #     let j = SimpleJourney::new(format!("j{i}")).touch(SimpleTouch::new(["a", "b"][i % 2], t));
    /// #     if i % 3 == 0 { j.converted(1.0) } else { j }
    /// # }).collect();
    /// # let set = JourneySet::from_journeys(&js)?;
    /// let ci = bootstrap_fit(&set, &BootstrapConfig::new().replicates(20)?, |rs| {
    ///     let mut fit = MarkovPartial::new(MarkovConfig::new(1)?);
    ///     for (view, w) in rs.weighted() {
    ///         for _ in 0..w {
    ///             fit.observe_view(&view)?;
    ///         }
    ///     }
    ///     rs.credit(&fit.finish()?)
    /// })?;
    /// assert_eq!(ci.channels().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn weighted(&self) -> impl Iterator<Item = (JourneyView<'a>, u32)> + '_ {
        self.set
            .iter()
            .zip(&self.weights)
            .filter(|(_, w)| **w > 0)
            .map(|(v, &w)| (v, w))
    }

    /// The credit of `model` over the weighted journeys: each journey's
    /// exact integer credit times its weight, summed per channel.
    ///
    /// # Errors
    ///
    /// The model's errors, as [`attribute`](crate::attribute).
    pub fn credit<M: AttributionModel + ?Sized>(&self, model: &M) -> Result<Vec<ChannelAmount>> {
        let credits = JourneyCredits::new(model, self.set)?;
        Ok(credits.amounts(&self.weights))
    }
}

/// A channel's amount in one replicate: credited (or estimated)
/// conversions and value in major units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelAmount {
    /// The channel's name.
    pub name: String,
    /// Conversions.
    pub conversions: f64,
    /// Value, major currency units.
    pub value: f64,
}

/// Per-journey credit computed once, by channel name index.
struct JourneyCredits {
    names: Vec<String>,
    decimals: u8,
    /// Per journey: a range into `entries`.
    offsets: Vec<usize>,
    /// (channel index into `names`, conversion units, value minor units)
    entries: Vec<(u32, i64, i64)>,
}

impl JourneyCredits {
    fn new<M: AttributionModel + ?Sized>(model: &M, set: &JourneySet) -> Result<JourneyCredits> {
        let cat = set.catalog();
        // catalog id -> position among sorted names
        let mut sorted: Vec<(&str, usize)> = cat
            .channels
            .iter()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        sorted.sort_unstable();
        let mut pos = vec![0_u32; sorted.len()];
        for (p, &(_, i)) in sorted.iter().enumerate() {
            pos[i] = u32::try_from(p).unwrap_or(u32::MAX);
        }
        let names: Vec<String> = sorted.iter().map(|(n, _)| (*n).to_owned()).collect();
        let mut c = Crediter::new();
        let mut offsets = Vec::with_capacity(set.len() + 1);
        offsets.push(0);
        let mut entries: Vec<(u32, i64, i64)> = Vec::new();
        for view in set.iter() {
            if view.converted() && !view.is_empty() {
                c.credit(model, &view)?;
                let start = entries.len();
                for (i, ch) in view.channels().iter().enumerate() {
                    let (u, v) = (c.conversion_units()[i], c.values()[i]);
                    if u == 0 && v == 0 {
                        continue;
                    }
                    let p = pos[ch.index()];
                    match entries[start..].iter_mut().find(|e| e.0 == p) {
                        Some(e) => {
                            e.1 += u;
                            e.2 += v;
                        }
                        None => entries.push((p, u, v)),
                    }
                }
            }
            offsets.push(entries.len());
        }
        Ok(JourneyCredits {
            names,
            decimals: set.currency().decimals(),
            offsets,
            entries,
        })
    }

    fn amounts(&self, weights: &[u32]) -> Vec<ChannelAmount> {
        let mut units = vec![0_i128; self.names.len()];
        let mut value = vec![0_i128; self.names.len()];
        for (j, &w) in weights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            for &(p, u, v) in &self.entries[self.offsets[j]..self.offsets[j + 1]] {
                units[p as usize] += i128::from(u) * i128::from(w);
                value[p as usize] += i128::from(v) * i128::from(w);
            }
        }
        let scale = 10_f64.powi(i32::from(self.decimals));
        #[expect(clippy::cast_precision_loss, reason = "display amounts")]
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| ChannelAmount {
                name: n.clone(),
                conversions: units[i] as f64 / CONVERSION_UNITS as f64,
                value: value[i] as f64 / scale,
            })
            .collect()
    }
}

/// A point estimate and its percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    estimate: f64,
    low: f64,
    high: f64,
}

impl Interval {
    /// The estimate on the full sample.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// The lower bound.
    pub fn low(&self) -> f64 {
        self.low
    }
    /// The upper bound.
    pub fn high(&self) -> f64 {
        self.high
    }
    /// Whether `x` lies in `[low, high]`.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Half the interval's width, `(high - low) / 2`.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.high - self.low)
    }

    /// Sample-size guidance: about how many journeys give an interval of
    /// half-width `target` (same units as the interval, e.g. `0.02` for
    /// ±2 points of share), when this interval was computed on `journeys`
    /// journeys.
    ///
    /// Sampling error of a smooth estimate falls as `1/√n`, so
    ///
    /// ```text
    /// n_needed = journeys · (half_width / target)²      (rounded up)
    /// ```
    ///
    /// A planning figure, not a guarantee: it assumes the new journeys come
    /// from the same population, and it is least reliable when the
    /// interval was computed on few journeys (or is skewed against a share
    /// of 0). Returns `None` if `target` is not a finite number `> 0`, and
    /// `journeys` itself when the interval is already that narrow or
    /// narrower.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::bootstrap::Interval;
    ///
    /// // ±4 points at 50,000 journeys: ±2 points needs 4x the journeys
    /// let ci = Interval::new(0.30, 0.26, 0.34);
    /// assert_eq!(ci.journeys_for_half_width(50_000, 0.02), Some(200_000));
    /// assert_eq!(ci.journeys_for_half_width(50_000, 0.08), Some(50_000));
    /// ```
    pub fn journeys_for_half_width(&self, journeys: u64, target: f64) -> Option<u64> {
        if !(target.is_finite() && target > 0.0) {
            return None;
        }
        let h = self.half_width();
        if !h.is_finite() || h <= target {
            return Some(journeys);
        }
        let ratio = (h / target) * (h / target);
        #[expect(clippy::cast_precision_loss, reason = "planning figure")]
        let n = (journeys as f64 * ratio * (1.0 - 1e-12)).ceil();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "saturating conversion of a positive planning figure"
        )]
        Some(if n >= u64::MAX as f64 {
            u64::MAX
        } else {
            n as u64
        })
    }

    /// An interval from its estimate and bounds (for planning with
    /// [`journeys_for_half_width`](Self::journeys_for_half_width) from
    /// figures computed elsewhere).
    pub fn new(estimate: f64, low: f64, high: f64) -> Interval {
        Interval {
            estimate,
            low,
            high,
        }
    }
}

/// One channel's intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelInterval {
    name: String,
    share: Interval,
    conversions: Interval,
    value: Interval,
}

impl ChannelInterval {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its share of the conversions (of the sum over channels).
    pub fn share(&self) -> Interval {
        self.share
    }
    /// Its conversions.
    pub fn conversions(&self) -> Interval {
        self.conversions
    }
    /// Its value, major units.
    pub fn value(&self) -> Interval {
        self.value
    }
}

/// Bootstrap intervals for every channel, sorted by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    config: BootstrapConfig,
    failed: u32,
    channels: Vec<ChannelInterval>,
}

impl Bootstrap {
    /// The settings used.
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }
    /// Replicates whose fit failed (skipped; the intervals use the others).
    pub fn failed_replicates(&self) -> u32 {
        self.failed
    }
    /// Per channel intervals, sorted by name.
    pub fn channels(&self) -> &[ChannelInterval] {
        &self.channels
    }
    /// The intervals of channel `name`.
    pub fn get(&self, name: &str) -> Option<&ChannelInterval> {
        self.channels
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.channels[i])
    }
}

/// Linear-interpolation quantile ("type 7") of sorted data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[expect(clippy::cast_precision_loss, reason = "replicate counts are small")]
    let h = (sorted.len() - 1) as f64 * q;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "h is in [0, len - 1]"
    )]
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    #[expect(clippy::cast_precision_loss, reason = "small index")]
    let frac = h - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Runs `f` for every replicate, in parallel with the `rayon` feature;
/// results come back in replicate order either way.
fn run_replicates<T: Send>(n: u32, f: impl Fn(u32) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..n).map(f).collect()
    }
}

fn summarize(
    config: &BootstrapConfig,
    point: &[ChannelAmount],
    reps: Vec<Result<Vec<ChannelAmount>>>,
) -> Result<Bootstrap> {
    let mut failed = 0_u32;
    let mut first_err = None;
    let ok: Vec<Vec<ChannelAmount>> = reps
        .into_iter()
        .filter_map(|r| match r {
            Ok(v) => Some(v),
            Err(e) => {
                failed += 1;
                first_err.get_or_insert(e);
                None
            }
        })
        .collect();
    if ok.len() < 2 {
        return Err(first_err.unwrap_or(Error::InsufficientData {
            reason: "fewer than two bootstrap replicates succeeded".into(),
        }));
    }
    // every channel named anywhere, sorted
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for a in point.iter().chain(ok.iter().flatten()) {
        index.entry(a.name.as_str()).or_insert(0);
    }
    for (i, v) in index.values_mut().enumerate() {
        *v = i;
    }
    let k = index.len();
    let table = |amounts: &[ChannelAmount]| {
        let mut conv = vec![0.0; k];
        let mut val = vec![0.0; k];
        for a in amounts {
            conv[index[a.name.as_str()]] += a.conversions;
            val[index[a.name.as_str()]] += a.value;
        }
        let total: f64 = conv.iter().sum();
        let share: Vec<f64> = conv
            .iter()
            .map(|c| if total != 0.0 { c / total } else { 0.0 })
            .collect();
        (share, conv, val)
    };
    let (ps, pc, pv) = table(point);
    let mut rs = vec![Vec::with_capacity(ok.len()); k];
    let mut rc = vec![Vec::with_capacity(ok.len()); k];
    let mut rv = vec![Vec::with_capacity(ok.len()); k];
    for rep in &ok {
        let (s, c, v) = table(rep);
        for i in 0..k {
            rs[i].push(s[i]);
            rc[i].push(c[i]);
            rv[i].push(v[i]);
        }
    }
    let lo_q = (1.0 - config.level) / 2.0;
    let hi_q = 1.0 - lo_q;
    let interval = |est: f64, xs: &mut Vec<f64>| {
        xs.sort_unstable_by(f64::total_cmp);
        Interval {
            estimate: est,
            low: quantile(xs, lo_q),
            high: quantile(xs, hi_q),
        }
    };
    let channels = index
        .keys()
        .enumerate()
        .map(|(i, name)| ChannelInterval {
            name: (*name).to_owned(),
            share: interval(ps[i], &mut rs[i]),
            conversions: interval(pc[i], &mut rc[i]),
            value: interval(pv[i], &mut rv[i]),
        })
        .collect();
    Ok(Bootstrap {
        config: *config,
        failed,
        channels,
    })
}

/// Bootstrap intervals for a fixed (rule-based) model: each journey is
/// credited once, and every replicate re-weights those credits (exact
/// integer sums, so the result does not depend on the thread count).
///
/// Given an already *fitted* model (Markov, Shapley, incremental) it keeps
/// the fit fixed, so the intervals leave out the fit's own uncertainty:
/// use [`bootstrap_fit`] to refit on every replicate.
///
/// # Errors
///
/// The model's errors, as [`attribute`](crate::attribute).
pub fn bootstrap_model<M: AttributionModel + ?Sized>(
    model: &M,
    set: &JourneySet,
    config: &BootstrapConfig,
) -> Result<Bootstrap> {
    let credits = JourneyCredits::new(model, set)?;
    let point = credits.amounts(&vec![1; set.len()]);
    let reps = run_replicates(config.replicates, |r| {
        Ok(credits.amounts(&replicate_weights(set, config.seed, r)))
    });
    summarize(config, &point, reps)
}

/// Bootstrap intervals for a model refitted on every replicate: `fit` gets
/// each [`Resample`] (and once the full sample, for the point estimate) and
/// returns the channel amounts. Replicates whose fit fails are skipped and
/// counted ([`Bootstrap::failed_replicates`]).
///
/// # Errors
///
/// The error of the point-estimate fit; the first replicate error if fewer
/// than two replicates succeed.
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::bootstrap::{bootstrap_fit, BootstrapConfig};
/// use touchpoint::incremental::{Incremental, IncrementalConfig};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let mut js = Vec::new();
/// for i in 0..300 {
///     let mut j = SimpleJourney::new(format!("j{i}")).touch(SimpleTouch::new("display", t));
///     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
///     if (i % 2 == 0 && i % 6 != 0) || i % 10 == 1 { j = j.converted(25.0); }
///     js.push(j);
/// }
/// let set = JourneySet::from_journeys(&js)?;
/// let config = IncrementalConfig::new();
/// let boot = BootstrapConfig::new().replicates(50)?.seed(1);
/// let ci = bootstrap_fit(&set, &boot, |rs| {
///     let model = Incremental::fit_weighted(rs.set(), rs.weights(), &config)?;
///     rs.credit(&model)
/// })?;
/// let email = ci.get("email").unwrap().share();
/// assert!(email.low() <= email.estimate() && email.estimate() <= email.high());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn bootstrap_fit<F>(set: &JourneySet, config: &BootstrapConfig, fit: F) -> Result<Bootstrap>
where
    F: Fn(&Resample<'_>) -> Result<Vec<ChannelAmount>> + Sync,
{
    let full = Resample {
        set,
        weights: vec![1; set.len()],
        replicate: None,
    };
    let point = fit(&full)?;
    let reps = run_replicates(config.replicates, |r| {
        let rs = Resample {
            set,
            weights: replicate_weights(set, config.seed, r),
            replicate: Some(r),
        };
        fit(&rs)
    });
    summarize(config, &point, reps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_known_answer() {
        // first output of splitmix64 seeded with 0 (reference implementation)
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn poisson_weights_have_poisson_frequencies() {
        let n = 100_000;
        let mut hist = [0_u32; 8];
        for r in 0..n {
            let w = poisson_weight(9, "journey", r) as usize;
            hist[w.min(7)] += 1;
        }
        let p0 = f64::from(hist[0]) / f64::from(n);
        let p1 = f64::from(hist[1]) / f64::from(n);
        let p2 = f64::from(hist[2]) / f64::from(n);
        assert!((p0 - 0.3679).abs() < 0.006, "{p0}");
        assert!((p1 - 0.3679).abs() < 0.006, "{p1}");
        assert!((p2 - 0.1839).abs() < 0.005, "{p2}");
    }

    #[test]
    fn quantile_type7() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert_eq!(quantile(&xs, 0.25), 2.0);
        assert!((quantile(&xs, 0.1) - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&xs, 1.0), 5.0);
    }
}
