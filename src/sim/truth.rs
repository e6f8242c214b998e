//! Ground truth: what each channel causes, by counterfactual removal with
//! common random numbers.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::detmath;
use super::generate::{Draw, Scratch, Simulator};
use crate::aggregate::Aggregate;
use crate::{Error, Report, Result};

/// Fixed-point unit of probabilities inside a [`TruthPartial`]: one
/// conversion is `10^12` units.
pub const PROBABILITY_UNITS: i64 = 1_000_000_000_000;

fn units(p: f64) -> i64 {
    (p * PROBABILITY_UNITS as f64).round() as i64
}

/// A mergeable, partial ground-truth computation over some journey indices.
///
/// Sums are integers (probabilities in units of 10^-12 conversion, values
/// in 10^-12 cent), so merging partials of any split of the index range,
/// in any order, gives the same bits as one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthPartial {
    fingerprint: String,
    names: Vec<String>,
    betas: Vec<u64>,
    journeys: u64,
    observed_conversions: u64,
    observed_value_cents: i128,
    expected_units: i128,
    expected_value_units: i128,
    lost_units: Vec<i128>,
    lost_value_units: Vec<i128>,
}

fn add(a: &mut i128, b: i128, what: &'static str) -> Result<()> {
    *a = a.checked_add(b).ok_or(Error::Overflow { what })?;
    Ok(())
}

impl TruthPartial {
    /// An empty partial for `sim` (the identity of [`merge`](Self::merge)).
    pub fn new(sim: &Simulator) -> TruthPartial {
        let n = sim.config.channels.len();
        TruthPartial {
            fingerprint: sim.config.fingerprint(),
            names: sim.config.channels.iter().map(|c| c.name.clone()).collect(),
            betas: sim
                .config
                .channels
                .iter()
                .map(|c| c.beta.to_bits())
                .collect(),
            journeys: 0,
            observed_conversions: 0,
            observed_value_cents: 0,
            expected_units: 0,
            expected_value_units: 0,
            lost_units: vec![0; n],
            lost_value_units: vec![0; n],
        }
    }

    /// Adds the journeys of `range` of `sim`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the partial was made for another
    /// configuration; [`Error::Overflow`] if a sum overflows (beyond about
    /// 10^20 journeys).
    pub fn observe_range(&mut self, sim: &Simulator, range: Range<u64>) -> Result<()> {
        let fp = sim.config.fingerprint();
        let n = sim.config.channels.len();
        if fp != self.fingerprint || self.lost_units.len() != n || self.lost_value_units.len() != n
        {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint.clone(),
                right: fp,
            });
        }
        let cfg = &sim.config;
        let mut d = Draw::default();
        let mut s = Scratch::new(cfg.channels.len());
        let mut present: Vec<u16> = Vec::new();
        for i in range {
            cfg.draw(sim.key, i, &mut d);
            let pf = detmath::sigmoid(cfg.logit(&d.channels, None, &mut s));
            present.clear();
            present.extend_from_slice(&s.order);
            let uf = units(pf);
            let cents = i128::from(d.value_cents);
            self.journeys += 1;
            add(
                &mut self.expected_units,
                i128::from(uf),
                "expected conversions",
            )?;
            add(
                &mut self.expected_value_units,
                i128::from(uf) * cents,
                "expected value",
            )?;
            if d.u < pf {
                self.observed_conversions += 1;
                add(&mut self.observed_value_cents, cents, "observed value")?;
            }
            for &c in &present {
                let pw = detmath::sigmoid(cfg.logit(&d.channels, Some(c), &mut s));
                let lost = i128::from(uf - units(pw));
                let ci = usize::from(c);
                add(&mut self.lost_units[ci], lost, "lost conversions")?;
                add(&mut self.lost_value_units[ci], lost * cents, "lost value")?;
            }
        }
        Ok(())
    }

    /// Merges `other` into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the two were made for different
    /// configurations; [`Error::Overflow`] if a sum overflows.
    pub fn merge(&mut self, other: &TruthPartial) -> Result<()> {
        if other.fingerprint != self.fingerprint
            || other.names != self.names
            || other.betas != self.betas
            || other.lost_units.len() != self.lost_units.len()
            || other.lost_value_units.len() != self.lost_value_units.len()
        {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint.clone(),
                right: other.fingerprint.clone(),
            });
        }
        self.journeys = self
            .journeys
            .checked_add(other.journeys)
            .ok_or(Error::Overflow { what: "journeys" })?;
        self.observed_conversions = self
            .observed_conversions
            .checked_add(other.observed_conversions)
            .ok_or(Error::Overflow {
                what: "observed conversions",
            })?;
        add(
            &mut self.observed_value_cents,
            other.observed_value_cents,
            "observed value",
        )?;
        add(
            &mut self.expected_units,
            other.expected_units,
            "expected conversions",
        )?;
        add(
            &mut self.expected_value_units,
            other.expected_value_units,
            "expected value",
        )?;
        for (a, b) in self.lost_units.iter_mut().zip(&other.lost_units) {
            add(a, *b, "lost conversions")?;
        }
        for (a, b) in self
            .lost_value_units
            .iter_mut()
            .zip(&other.lost_value_units)
        {
            add(a, *b, "lost value")?;
        }
        Ok(())
    }

    /// Journeys observed so far.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }

    /// The ground truth of the journeys observed.
    pub fn finish(&self) -> GroundTruth {
        let unit = PROBABILITY_UNITS as f64;
        let sum = |v: &[i128]| v.iter().fold(0i128, |a, &b| a.saturating_add(b));
        let total_lost = sum(&self.lost_units);
        let total_lost_value = sum(&self.lost_value_units);
        let share = |x: i128, t: i128| if t == 0 { 0.0 } else { x as f64 / t as f64 };
        // zip: a deserialized partial with ragged vectors yields the common
        // prefix rather than panicking
        let channels = self
            .names
            .iter()
            .zip(&self.betas)
            .zip(self.lost_units.iter().zip(&self.lost_value_units))
            .map(|((name, &beta), (&lost, &lost_value))| ChannelTruth {
                name: name.clone(),
                beta: f64::from_bits(beta),
                lost_conversions: lost as f64 / unit,
                lost_value: lost_value as f64 / unit / 100.0,
                share: share(lost, total_lost),
                value_share: share(lost_value, total_lost_value),
            })
            .collect();
        GroundTruth {
            journeys: self.journeys,
            expected_conversions: self.expected_units as f64 / unit,
            observed_conversions: self.observed_conversions,
            expected_value: self.expected_value_units as f64 / unit / 100.0,
            observed_value: self.observed_value_cents as f64 / 100.0,
            channels,
        }
    }
}

/// The true contribution of one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelTruth {
    /// Channel name.
    pub name: String,
    /// The channel's configured effect on the log-odds.
    pub beta: f64,
    /// Expected conversions lost when the channel is removed from every
    /// journey: `Σ_j p_j(full) - p_j(without channel)`.
    pub lost_conversions: f64,
    /// Expected value lost: `Σ_j (p_j(full) - p_j(without)) * value_j`.
    pub lost_value: f64,
    /// `lost_conversions` over the sum of every channel's
    /// `lost_conversions` (0 when that sum is 0).
    pub share: f64,
    /// `lost_value` over the sum of every channel's `lost_value`.
    pub value_share: f64,
}

/// Ground truth of a simulated sample: per-channel expected loss under
/// removal, absolute and as shares (see the [module docs](super)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundTruth {
    /// Journeys in the sample.
    pub journeys: u64,
    /// `Σ_j p_j(full)`.
    pub expected_conversions: f64,
    /// Journeys that did convert in this sample.
    pub observed_conversions: u64,
    /// `Σ_j p_j(full) * value_j`.
    pub expected_value: f64,
    /// Value of the conversions of this sample.
    pub observed_value: f64,
    /// One line per channel, in configuration order.
    pub channels: Vec<ChannelTruth>,
}

impl GroundTruth {
    /// The line of channel `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelTruth> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// Distance of a report's channel shares of conversions from the true
    /// shares: `Σ_c |credit_c / Σ credit - share_c| * 100`, in percentage
    /// points (0 is perfect, 200 the maximum). Channels credited by the
    /// report but absent from the truth count with a true share of 0;
    /// credit left unassigned is left out of the report's total.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if the report credits no conversion.
    ///
    /// # Example
    ///
    /// Two channels on two-touch paths, `a` with an effect and `b` without:
    /// the truth gives `a` 100%. Last touch gives `b` the conversions where
    /// it came last (about a third), so its error is twice `b`'s share:
    /// that much too little for `a`, that much too much for `b`.
    ///
    /// ```
    /// use touchpoint::sim::{Channel, Config, PathLength, Simulator};
    /// use touchpoint::{attribute, models::LastTouch};
    ///
    /// let sim = Simulator::new(
    ///     Config::builder()
    ///         .channel(Channel::new("a", 1.0, 0.7))
    ///         .channel(Channel::new("b", 1.0, 0.0))
    ///         .path_length(PathLength::Uniform { min: 2, max: 2 })
    ///         .build()?,
    /// );
    /// let truth = sim.ground_truth(5_000)?;
    /// let report = attribute(&LastTouch, &sim.journey_set(5_000)?)?;
    /// let b_share = report.channels().get("b").unwrap().conversions() / report.conversions() as f64;
    /// assert_eq!(truth.channel("a").unwrap().share, 1.0);
    /// assert!((truth.error_pp(&report)? - 200.0 * b_share).abs() < 1e-9);
    /// assert!(b_share > 0.3 && b_share < 0.4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error_pp(&self, report: &Report) -> Result<f64> {
        let lines = report.channels().lines();
        let total: f64 = lines.iter().map(|l| l.conversions()).sum();
        if total <= 0.0 || !total.is_finite() {
            return Err(Error::InsufficientData {
                reason: format!("report of {} credits no conversion", report.model()),
            });
        }
        // lines are sorted by name, one per channel
        let credited = |name: &str| {
            lines
                .binary_search_by(|l| l.name().cmp(name))
                .map_or(0.0, |i| lines[i].conversions())
        };
        let mut err = 0.0;
        for c in &self.channels {
            err += (credited(&c.name) / total - c.share).abs();
        }
        for l in lines {
            if self.channel(l.name()).is_none() {
                err += l.conversions() / total;
            }
        }
        Ok(err * 100.0)
    }
}

impl Simulator {
    /// A ground-truth partial over the journey indices `range`.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if a sum overflows.
    pub fn truth_partial(&self, range: Range<u64>) -> Result<TruthPartial> {
        let mut p = TruthPartial::new(self);
        p.observe_range(self, range)?;
        Ok(p)
    }

    /// Ground truth of journeys `0..n` (streams; memory does not grow with `n`).
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if a sum overflows.
    pub fn ground_truth(&self, n: u64) -> Result<GroundTruth> {
        Ok(self.truth_partial(0..n)?.finish())
    }
}

impl Aggregate for TruthPartial {
    type Config = Simulator;
    type Output = GroundTruth;

    fn new(config: Simulator) -> TruthPartial {
        TruthPartial::new(&config)
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn observed(&self) -> u64 {
        self.journeys
    }

    fn size_bytes(&self) -> usize {
        self.fingerprint.capacity()
            + self.names.iter().map(|n| n.capacity() + 24).sum::<usize>()
            + self.betas.capacity() * 8
            + (self.lost_units.capacity() + self.lost_value_units.capacity()) * 16
    }

    fn merge(&mut self, other: &TruthPartial) -> Result<()> {
        TruthPartial::merge(self, other)
    }

    /// The ground truth; never fails.
    fn finish(&self) -> Result<GroundTruth> {
        Ok(TruthPartial::finish(self))
    }
}
