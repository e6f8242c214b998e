//! Simulator configuration: channels, outcome model and the distributions
//! of path length, time gaps and value.

use chrono::{DateTime, Utc};

use super::funnel_spec::FunnelSpec;
use crate::Result;
use crate::error::Error;

/// One marketing channel of a simulation.
///
/// - `weight`: how often a touch is on this channel (relative to the other
///   channels' weights), i.e. its reach. With `late_weight`, a touch at
///   relative position `r` in its path (`0` first, `1` last) uses
///   `(1 - r) * weight + r * late_weight`, which makes early-funnel and
///   late-funnel channels.
/// - `beta`: its incremental effect on the log-odds of conversion (see
///   [`Response`] for how repeated exposures count).
/// - `closing_bonus`: added to the log-odds when the journey's last touch is
///   on this channel (an order effect).
/// - `requires`: the channel only works after another: only its touches
///   that come after the first touch of the named channel count.
/// - `cost`: cost of each touch, written to [`SimpleTouch::cost`](crate::SimpleTouch).
///
/// ```
/// use touchpoint::sim::Channel;
///
/// let retargeting = Channel::new("retargeting", 12.0, 0.8).requires("display");
/// assert_eq!(retargeting.beta(), 0.8);
/// assert_eq!(retargeting.required(), Some("display"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub(crate) name: String,
    pub(crate) weight: f64,
    pub(crate) late_weight: Option<f64>,
    pub(crate) beta: f64,
    pub(crate) closing_bonus: f64,
    pub(crate) requires: Option<String>,
    pub(crate) cost: Option<f64>,
}

impl Channel {
    /// A channel with reach `weight` and effect `beta`, no order effects and
    /// no cost. Validated by [`ConfigBuilder::build`].
    pub fn new(name: impl Into<String>, weight: f64, beta: f64) -> Channel {
        Channel {
            name: name.into(),
            weight,
            late_weight: None,
            beta,
            closing_bonus: 0.0,
            requires: None,
            cost: None,
        }
    }

    /// The weight used for the last touch of a path (interpolated linearly
    /// from `weight` at the first touch).
    #[must_use]
    pub fn late_weight(self, late_weight: f64) -> Channel {
        Channel {
            late_weight: Some(late_weight),
            ..self
        }
    }

    /// Log-odds added when this channel has the journey's last touch.
    #[must_use]
    pub fn closing_bonus(self, bonus: f64) -> Channel {
        Channel {
            closing_bonus: bonus,
            ..self
        }
    }

    /// Only touches after the first touch of `other` count.
    #[must_use]
    pub fn requires(self, other: impl Into<String>) -> Channel {
        Channel {
            requires: Some(other.into()),
            ..self
        }
    }

    /// Cost of each touch on this channel.
    #[must_use]
    pub fn cost(self, cost: f64) -> Channel {
        Channel {
            cost: Some(cost),
            ..self
        }
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reach weight at the first touch of a path.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// Reach weight at the last touch of a path.
    pub fn weight_late(&self) -> f64 {
        self.late_weight.unwrap_or(self.weight)
    }

    /// Effect on the log-odds of conversion.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Log-odds added when this channel closes the path.
    pub fn bonus(&self) -> f64 {
        self.closing_bonus
    }

    /// The channel this one needs to have been touched before it works.
    pub fn required(&self) -> Option<&str> {
        self.requires.as_deref()
    }

    /// Cost per touch, if any.
    pub fn cost_per_touch(&self) -> Option<f64> {
        self.cost
    }
}

/// How repeated exposures to one channel add up (diminishing returns).
///
/// A channel with effect `beta` and `n` counted touches in a journey adds
/// `beta * g(n)` to the log-odds, `g(0) = 0`, `g(1) = 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// `g(n) = log2(1 + n)`: 1, 1.58, 2, 2.32, ... (the shipped sample's model).
    Log2,
    /// `g(n) = (1 - decay^n) / (1 - decay)`: each repeat is worth `decay`
    /// times the previous one, bounded by `1 / (1 - decay)`. `decay` in `[0, 1)`.
    Geometric {
        /// Ratio of one repeat's effect to the previous one's.
        decay: f64,
    },
    /// `g(n) = 1` for every `n >= 1`: only presence counts.
    Presence,
}

impl Response {
    pub(crate) fn g(self, n: u32) -> f64 {
        if n == 0 {
            return 0.0;
        }
        match self {
            Response::Log2 => super::detmath::log2_1p(n),
            Response::Geometric { decay } => {
                // exact loop: sum of decay^k, k < n
                let (mut sum, mut term) = (0.0, 1.0);
                for _ in 0..n.min(4096) {
                    sum += term;
                    term *= decay;
                }
                sum
            }
            Response::Presence => 1.0,
        }
    }
}

/// Distribution of the number of touches of a journey.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PathLength {
    /// `min` touches, plus one more while a uniform draw is below
    /// `continue_prob`, up to `max`: geometric, mean about
    /// `min + continue_prob / (1 - continue_prob)` when `max` is far.
    Geometric {
        /// Fewest touches (>= 1).
        min: u32,
        /// Probability of one more touch, in `[0, 1)`.
        continue_prob: f64,
        /// Most touches (>= `min`, <= 10,000).
        max: u32,
    },
    /// Uniform on `min..=max`.
    Uniform {
        /// Fewest touches (>= 1).
        min: u32,
        /// Most touches (>= `min`, <= 10,000).
        max: u32,
    },
}

/// Distribution of a delay in whole seconds (time between touches, or from
/// the last touch to the conversion).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Delay {
    /// Uniform on `min_secs..=max_secs`.
    Uniform {
        /// Shortest delay (>= 0).
        min_secs: i64,
        /// Longest delay (>= `min_secs`, at most 100 years).
        max_secs: i64,
    },
    /// Exponential with mean `mean_secs`, rounded down to whole seconds and
    /// capped at `max_secs`.
    Exponential {
        /// Mean delay (> 0).
        mean_secs: f64,
        /// Cap (>= 0, at most 100 years).
        max_secs: i64,
    },
}

/// Distribution of a journey's conversion value, rounded to cents.
///
/// Every journey draws a value whether or not it converts (the value it
/// would bring), which is what the ground truth weighs lost conversions by.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ValueDist {
    /// Always this amount (>= 0).
    Fixed(f64),
    /// `exp(mu + sigma * z)`, `z` standard normal; mean `exp(mu + sigma²/2)`.
    LogNormal {
        /// Mean of the log.
        mu: f64,
        /// Standard deviation of the log (>= 0).
        sigma: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lowest value (>= 0).
        min: f64,
        /// Highest value (>= `min`).
        max: f64,
    },
}

/// B2B milestones (funnel stages) marked on touches.
///
/// For a journey of `n` touches, the lead touch is index
/// `floor(lead_at * n)` and the opportunity touch `floor(opportunity_at * n)`,
/// pushed apart so that each touch carries at most one milestone:
///
/// - a converted journey has `closed` on its last touch, `lead_created` if
///   `n >= 2` (on the first touch when `n == 2`, otherwise no later than
///   the third-to-last touch) and `opportunity_created` if `n >= 3`
///   (between the lead and the close);
/// - a journey that does not convert reaches the lead stage with
///   probability `lead_rate` and, once a lead (and with a touch left for
///   it), the opportunity stage with probability `opportunity_rate`.
///
/// Milestones are markers: they do not change the conversion probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Milestones {
    /// Relative position of the lead touch, in `[0, 1]`.
    pub lead_at: f64,
    /// Relative position of the opportunity touch, in `[0, 1]`.
    pub opportunity_at: f64,
    /// Share of non-converting journeys that become leads, in `[0, 1]`.
    pub lead_rate: f64,
    /// Share of non-converting leads that become opportunities, in `[0, 1]`.
    pub opportunity_rate: f64,
}

/// A validated simulation configuration. Build it with [`Config::builder`]
/// or take one from a [`Preset`](super::Preset).
///
/// ```
/// use touchpoint::sim::{Channel, Config};
///
/// let config = Config::builder()
///     .channel(Channel::new("email", 1.0, 0.5))
///     .channel(Channel::new("display", 3.0, 0.0))
///     .baseline(-2.0)
///     .seed(7)
///     .build()?;
/// assert_eq!(config.channels().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) channels: Vec<Channel>,
    pub(crate) baseline: f64,
    pub(crate) response: Response,
    pub(crate) path_length: PathLength,
    pub(crate) gap: Delay,
    pub(crate) conversion_lag: Delay,
    pub(crate) value: ValueDist,
    pub(crate) start_secs: i64,
    pub(crate) span_secs: i64,
    pub(crate) milestones: Option<Milestones>,
    pub(crate) funnel: Option<FunnelSpec>,
    pub(crate) id_prefix: String,
    pub(crate) seed: u64,
    // derived
    pub(crate) requires_idx: Vec<Option<usize>>,
    pub(crate) cum_early: Vec<f64>,
    pub(crate) cum_late: Option<Vec<f64>>,
    /// `response.g(n)` for `n < G_TABLE`.
    pub(crate) g_table: Vec<f64>,
}

/// Counts whose response is tabulated at build time.
pub(crate) const G_TABLE: u32 = 64;

impl Config {
    /// `response.g(n)`, from the table when `n` is small (same bits).
    pub(crate) fn g(&self, n: u32) -> f64 {
        match self.g_table.get(n as usize) {
            Some(&v) => v,
            None => self.response.g(n),
        }
    }
}

impl Config {
    /// A builder with the defaults listed on [`ConfigBuilder`].
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The channels, in configuration order.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// Log-odds of conversion of a journey with no effective touch.
    pub fn baseline(&self) -> f64 {
        self.baseline
    }

    /// How repeats count.
    pub fn response(&self) -> Response {
        self.response
    }

    /// Path-length distribution.
    pub fn path_length(&self) -> PathLength {
        self.path_length
    }

    /// Time between consecutive touches.
    pub fn gap(&self) -> Delay {
        self.gap
    }

    /// Time from the last touch to the conversion.
    pub fn conversion_lag(&self) -> Delay {
        self.conversion_lag
    }

    /// Value distribution.
    pub fn value(&self) -> ValueDist {
        self.value
    }

    /// Milestones, if the simulation marks them.
    pub fn milestones(&self) -> Option<Milestones> {
        self.milestones
    }

    /// The funnel section, if set (leads then follow it; without it,
    /// [`Simulator::lead`](super::Simulator::lead) uses
    /// [`FunnelSpec::default`]).
    pub fn funnel(&self) -> Option<&FunnelSpec> {
        self.funnel.as_ref()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Journey ids are `{id_prefix}-{seed}-{index:07}`.
    pub fn id_prefix(&self) -> &str {
        &self.id_prefix
    }

    /// The same configuration with another seed.
    #[must_use]
    pub fn with_seed(self, seed: u64) -> Config {
        Config { seed, ..self }
    }

    /// A text that identifies the configuration (every parameter and the
    /// seed); ground-truth partials of different fingerprints do not merge.
    /// The funnel section is not part of it: it changes leads only, never
    /// journeys or their ground truth.
    pub fn fingerprint(&self) -> String {
        let h = crate::hash::fnv1a(
            format!(
                "{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{:?}|{}|{}",
                self.channels,
                self.baseline,
                self.response,
                self.path_length,
                self.gap,
                self.conversion_lag,
                self.value,
                self.start_secs,
                self.span_secs,
                self.milestones,
                self.id_prefix,
                self.seed
            )
            .as_bytes(),
        );
        format!("sim-v1;seed={};config={h:016x}", self.seed)
    }
}

/// Builder of a [`Config`]; every setter is infallible, [`build`](Self::build)
/// validates everything.
///
/// Defaults: no channels (at least one is required), baseline log-odds
/// `-3.0`, [`Response::Log2`], geometric path length (min 1, continue 0.7,
/// max 50), gaps uniform on 1 hour ..= 10 days, conversion lag uniform on
/// 1 minute ..= 2 days, value log-normal (mu 4.2, sigma 0.7), start
/// 2025-01-01T00:00:00Z spread over 300 days, no milestones, id prefix
/// `sim`, seed 0.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    channels: Vec<Channel>,
    baseline: f64,
    response: Response,
    path_length: PathLength,
    gap: Delay,
    conversion_lag: Delay,
    value: ValueDist,
    start_secs: i64,
    span_days: f64,
    milestones: Option<Milestones>,
    funnel: Option<FunnelSpec>,
    id_prefix: String,
    seed: u64,
}

/// 2025-01-01T00:00:00Z.
const DEFAULT_START: i64 = 1_735_689_600;
const MAX_TOUCHES: u32 = 10_000;
const MAX_DELAY_SECS: i64 = 100 * 366 * 86_400;
/// 9999-12-31T23:59:59Z.
const LATEST_SECS: i128 = 253_402_300_799;

impl Default for ConfigBuilder {
    fn default() -> ConfigBuilder {
        ConfigBuilder {
            channels: Vec::new(),
            baseline: -3.0,
            response: Response::Log2,
            path_length: PathLength::Geometric {
                min: 1,
                continue_prob: 0.7,
                max: 50,
            },
            gap: Delay::Uniform {
                min_secs: 3_600,
                max_secs: 864_000,
            },
            conversion_lag: Delay::Uniform {
                min_secs: 60,
                max_secs: 172_800,
            },
            value: ValueDist::LogNormal {
                mu: 4.2,
                sigma: 0.7,
            },
            start_secs: DEFAULT_START,
            span_days: 300.0,
            milestones: None,
            funnel: None,
            id_prefix: "sim".to_owned(),
            seed: 0,
        }
    }
}

impl ConfigBuilder {
    /// Adds a channel.
    #[must_use]
    pub fn channel(mut self, channel: Channel) -> ConfigBuilder {
        self.channels.push(channel);
        self
    }

    /// Adds channels.
    #[must_use]
    pub fn channels(mut self, channels: impl IntoIterator<Item = Channel>) -> ConfigBuilder {
        self.channels.extend(channels);
        self
    }

    /// Log-odds of conversion with no effective touch (finite).
    #[must_use]
    pub fn baseline(self, baseline: f64) -> ConfigBuilder {
        ConfigBuilder { baseline, ..self }
    }

    /// How repeated touches of a channel count.
    #[must_use]
    pub fn response(self, response: Response) -> ConfigBuilder {
        ConfigBuilder { response, ..self }
    }

    /// Path-length distribution.
    #[must_use]
    pub fn path_length(self, path_length: PathLength) -> ConfigBuilder {
        ConfigBuilder {
            path_length,
            ..self
        }
    }

    /// Time between consecutive touches.
    #[must_use]
    pub fn gap(self, gap: Delay) -> ConfigBuilder {
        ConfigBuilder { gap, ..self }
    }

    /// Time from the last touch to the conversion.
    #[must_use]
    pub fn conversion_lag(self, conversion_lag: Delay) -> ConfigBuilder {
        ConfigBuilder {
            conversion_lag,
            ..self
        }
    }

    /// Conversion value distribution.
    #[must_use]
    pub fn value(self, value: ValueDist) -> ConfigBuilder {
        ConfigBuilder { value, ..self }
    }

    /// First touches are spread uniformly over `span_days` days from `start`.
    #[must_use]
    pub fn window(self, start: DateTime<Utc>, span_days: f64) -> ConfigBuilder {
        ConfigBuilder {
            start_secs: start.timestamp(),
            span_days,
            ..self
        }
    }

    /// Marks B2B milestones on touches.
    #[must_use]
    pub fn milestones(self, milestones: Milestones) -> ConfigBuilder {
        ConfigBuilder {
            milestones: Some(milestones),
            ..self
        }
    }

    /// Sets the funnel section: how journeys become funnel leads
    /// ([`Simulator::lead`](super::Simulator::lead)). Journeys and ground
    /// truth do not depend on it.
    #[must_use]
    pub fn funnel(self, funnel: FunnelSpec) -> ConfigBuilder {
        ConfigBuilder {
            funnel: Some(funnel),
            ..self
        }
    }

    /// Journey ids are `{prefix}-{seed}-{index:07}`.
    #[must_use]
    pub fn id_prefix(self, prefix: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder {
            id_prefix: prefix.into(),
            ..self
        }
    }

    /// The seed of every random draw.
    #[must_use]
    pub fn seed(self, seed: u64) -> ConfigBuilder {
        ConfigBuilder { seed, ..self }
    }

    /// Validates and builds the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming the parameter: no channels, more
    /// than 65,535 channels, an empty or duplicate channel name, a weight
    /// that is negative or not finite, all weights (first-touch or
    /// last-touch) zero, a `beta` or closing bonus that is negative or not
    /// finite, a negative or non-finite cost, a channel that requires itself,
    /// a baseline that is not finite, a geometric decay outside `[0, 1)`, a
    /// path length with `min == 0`, `min > max`, `max > 10,000` or a continue
    /// probability outside `[0, 1)`, a delay out of range, a value
    /// distribution with a negative or non-finite parameter, a window of
    /// `span_days` not finite and `> 0` (or beyond year 9999), milestone
    /// positions or rates outside `[0, 1]`, an empty id prefix; in the
    /// funnel section, a share or rate outside `[0, 1]`, an empty or
    /// duplicate segment name, a segment weight negative or not finite (or
    /// all zero), an empty reason, an exit delay out of range, or exits that
    /// could fall after year 9999.
    /// [`Error::UnknownName`] (kind `"channel"`) if `requires` or a funnel
    /// sales channel names no channel of the configuration.
    pub fn build(self) -> Result<Config> {
        let n = self.channels.len();
        if n == 0 {
            return Err(Error::param("channels", 0, "at least one channel"));
        }
        if n > usize::from(u16::MAX) {
            return Err(Error::param("channels", n, "at most 65,535 channels"));
        }
        let mut names: Vec<&str> = self.channels.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::param("channel.name", w[0], "distinct channel names"));
        }
        for c in &self.channels {
            let name = &c.name;
            if name.is_empty() {
                return Err(Error::param("channel.name", "\"\"", "a non-empty name"));
            }
            let nonneg = |x: f64| x.is_finite() && x >= 0.0;
            if !nonneg(c.weight) {
                return Err(Error::param(
                    "channel.weight",
                    format!("{name}: {}", c.weight),
                    "a finite weight >= 0",
                ));
            }
            if let Some(w) = c.late_weight
                && !nonneg(w)
            {
                return Err(Error::param(
                    "channel.late_weight",
                    format!("{name}: {w}"),
                    "a finite weight >= 0",
                ));
            }
            if !nonneg(c.beta) {
                return Err(Error::param(
                    "channel.beta",
                    format!("{name}: {}", c.beta),
                    "a finite effect >= 0",
                ));
            }
            if !nonneg(c.closing_bonus) {
                return Err(Error::param(
                    "channel.closing_bonus",
                    format!("{name}: {}", c.closing_bonus),
                    "a finite bonus >= 0",
                ));
            }
            if let Some(cost) = c.cost
                && !nonneg(cost)
            {
                return Err(Error::param(
                    "channel.cost",
                    format!("{name}: {cost}"),
                    "a finite cost >= 0",
                ));
            }
            if c.requires.as_deref() == Some(name.as_str()) {
                return Err(Error::param(
                    "channel.requires",
                    name,
                    "another channel than itself",
                ));
            }
        }
        let mut requires_idx = Vec::with_capacity(n);
        for c in &self.channels {
            requires_idx.push(match &c.requires {
                None => None,
                Some(r) => Some(self.channels.iter().position(|o| &o.name == r).ok_or_else(
                    || Error::UnknownName {
                        kind: "channel",
                        name: r.clone(),
                    },
                )?),
            });
        }
        let cum = |f: &dyn Fn(&Channel) -> f64| {
            let mut acc = 0.0;
            self.channels
                .iter()
                .map(|c| {
                    acc += f(c);
                    acc
                })
                .collect::<Vec<f64>>()
        };
        let cum_early = cum(&|c| c.weight);
        let has_late = self.channels.iter().any(|c| c.late_weight.is_some());
        let cum_late = has_late.then(|| cum(&|c| c.weight_late()));
        if cum_early[n - 1] <= 0.0 || !cum_early[n - 1].is_finite() {
            return Err(Error::param(
                "channel.weight",
                "all zero",
                "at least one weight > 0 (and a finite sum)",
            ));
        }
        if let Some(l) = &cum_late
            && (l[n - 1] <= 0.0 || !l[n - 1].is_finite())
        {
            return Err(Error::param(
                "channel.late_weight",
                "all zero",
                "at least one late weight > 0 (and a finite sum)",
            ));
        }
        if !self.baseline.is_finite() {
            return Err(Error::param("baseline", self.baseline, "finite log-odds"));
        }
        if let Response::Geometric { decay } = self.response
            && !(decay.is_finite() && (0.0..1.0).contains(&decay))
        {
            return Err(Error::param("response.decay", decay, "a decay in [0, 1)"));
        }
        match self.path_length {
            PathLength::Geometric {
                min,
                continue_prob,
                max,
            } => {
                check_len(min, max)?;
                if !(continue_prob.is_finite() && (0.0..1.0).contains(&continue_prob)) {
                    return Err(Error::param(
                        "path_length.continue_prob",
                        continue_prob,
                        "a probability in [0, 1)",
                    ));
                }
            }
            PathLength::Uniform { min, max } => check_len(min, max)?,
        }
        check_delay("gap", self.gap)?;
        check_delay("conversion_lag", self.conversion_lag)?;
        let value_ok = match self.value {
            ValueDist::Fixed(v) => (0.0..1e13).contains(&v),
            ValueDist::LogNormal { mu, sigma } => {
                mu.is_finite() && mu < 25.0 && sigma.is_finite() && (0.0..=5.0).contains(&sigma)
            }
            ValueDist::Uniform { min, max } => {
                min.is_finite() && max.is_finite() && min >= 0.0 && min <= max && max < 1e13
            }
        };
        if !value_ok {
            return Err(Error::param(
                "value",
                format!("{:?}", self.value),
                "finite amounts >= 0 below 1e13 (log-normal: mu < 25, 0 <= sigma <= 5)",
            ));
        }
        let span_secs = self.span_days * 86_400.0;
        if !(span_secs.is_finite()
            && span_secs >= 1.0
            && self.span_days <= 36_600.0
            && (0..=200_000_000_000).contains(&self.start_secs))
        {
            return Err(Error::param(
                "window",
                format!("{} days from {}", self.span_days, self.start_secs),
                "a span of 1 second to 100 years from a start between 1970 and 8000",
            ));
        }
        let max_delay = |d: Delay| match d {
            Delay::Uniform { max_secs, .. } | Delay::Exponential { max_secs, .. } => max_secs,
        };
        let max_touches = match self.path_length {
            PathLength::Geometric { max, .. } | PathLength::Uniform { max, .. } => i128::from(max),
        };
        let latest = i128::from(self.start_secs)
            + span_secs as i128
            + max_touches * i128::from(max_delay(self.gap))
            + i128::from(max_delay(self.conversion_lag));
        if latest > LATEST_SECS {
            return Err(Error::param(
                "window",
                format!("latest possible timestamp {latest} s"),
                "start + span + max touches * max gap + max lag before year 10000",
            ));
        }
        if let Some(m) = self.milestones {
            let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
            if !(unit(m.lead_at)
                && unit(m.opportunity_at)
                && unit(m.lead_rate)
                && unit(m.opportunity_rate))
            {
                return Err(Error::param(
                    "milestones",
                    format!("{m:?}"),
                    "positions and rates in [0, 1]",
                ));
            }
        }
        if let Some(f) = &self.funnel {
            f.validate(&self.channels)?;
            let latest_exit = latest - i128::from(max_delay(self.conversion_lag))
                + i128::from(max_delay(f.exit_delay));
            if latest_exit > LATEST_SECS {
                return Err(Error::param(
                    "funnel.exit_delay",
                    format!("latest possible exit {latest_exit} s"),
                    "start + span + max touches * max gap + max exit delay before year 10000",
                ));
            }
        }
        if self.id_prefix.is_empty() {
            return Err(Error::param("id_prefix", "\"\"", "a non-empty prefix"));
        }
        Ok(Config {
            channels: self.channels,
            baseline: self.baseline,
            response: self.response,
            path_length: self.path_length,
            gap: self.gap,
            conversion_lag: self.conversion_lag,
            value: self.value,
            start_secs: self.start_secs,
            span_secs: span_secs as i64,
            milestones: self.milestones,
            funnel: self.funnel,
            id_prefix: self.id_prefix,
            seed: self.seed,
            requires_idx,
            cum_early,
            cum_late,
            g_table: (0..G_TABLE).map(|n| self.response.g(n)).collect(),
        })
    }
}

fn check_len(min: u32, max: u32) -> Result<()> {
    if min == 0 || min > max || max > MAX_TOUCHES {
        return Err(Error::param(
            "path_length",
            format!("min {min}, max {max}"),
            "1 <= min <= max <= 10,000",
        ));
    }
    Ok(())
}

pub(crate) fn check_delay(parameter: &'static str, d: Delay) -> Result<()> {
    let ok = match d {
        Delay::Uniform { min_secs, max_secs } => {
            min_secs >= 0 && min_secs <= max_secs && max_secs <= MAX_DELAY_SECS
        }
        Delay::Exponential {
            mean_secs,
            max_secs,
        } => mean_secs.is_finite() && mean_secs > 0.0 && (0..=MAX_DELAY_SECS).contains(&max_secs),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::param(
            parameter,
            format!("{d:?}"),
            "0 <= min <= max <= 100 years (exponential: mean > 0)",
        ))
    }
}
