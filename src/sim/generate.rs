//! Journey generation: one independent random stream per journey.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::config::{Config, Delay, PathLength, ValueDist};
use super::detmath;
use super::funnel_spec::{FunnelSpec, funnel_key};
use super::rng::{Stream, key_of};
use crate::{JourneySet, MAX_MINOR, Milestone, Result, SimpleJourney, SimpleTouch};

/// The random draws of one journey (reused buffers).
#[derive(Debug, Default, Clone)]
pub(crate) struct Draw {
    /// Channel index of each touch, in time order.
    pub(crate) channels: Vec<u16>,
    /// Unix seconds of each touch (non-decreasing).
    pub(crate) ts: Vec<i64>,
    /// The conversion uniform: converted iff `u < p(full)`.
    pub(crate) u: f64,
    /// The value the journey brings if it converts, in cents.
    pub(crate) value_cents: i64,
    /// Seconds from the last touch to the conversion.
    pub(crate) lag: i64,
    /// Milestone uniforms (lead, opportunity).
    pub(crate) lead_u: f64,
    pub(crate) opp_u: f64,
}

/// Scratch space of the outcome model.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scratch {
    seen: Vec<bool>,
    eff: Vec<u32>,
    /// Distinct channels of the last evaluated journey, in first-appearance order.
    pub(crate) order: Vec<u16>,
}

impl Scratch {
    pub(crate) fn new(channels: usize) -> Scratch {
        Scratch {
            seen: vec![false; channels],
            eff: vec![0; channels],
            order: Vec::new(),
        }
    }
}

impl Config {
    pub(crate) fn delay(d: Delay, rng: &mut Stream) -> i64 {
        match d {
            Delay::Uniform { min_secs, max_secs } => rng.int_in(min_secs, max_secs),
            Delay::Exponential {
                mean_secs,
                max_secs,
            } => {
                let x = rng.exponential(mean_secs);
                if x >= max_secs as f64 {
                    max_secs
                } else {
                    x as i64
                }
            }
        }
    }

    fn pick(table: &[f64], rng: &mut Stream) -> u16 {
        let total = table[table.len() - 1];
        let x = rng.uniform() * total;
        let mut i = table.partition_point(|&c| c <= x);
        if i >= table.len() {
            // x rounded up to the total: take the last channel of positive weight
            i = table.len() - 1;
            while i > 0 && table[i] == table[i - 1] {
                i -= 1;
            }
        }
        i as u16
    }

    /// Draws journey `index` into `d`. Draw order (part of the stability
    /// contract): path length, start time, then per touch (gap, [phase],
    /// channel), conversion uniform, value, conversion lag, [milestone
    /// uniforms].
    pub(crate) fn draw(&self, key: [u8; 32], index: u64, d: &mut Draw) {
        let mut rng = Stream::new(key, index);
        let n = match self.path_length {
            PathLength::Geometric {
                min,
                continue_prob,
                max,
            } => {
                let mut n = min;
                while n < max && rng.uniform() < continue_prob {
                    n += 1;
                }
                n
            }
            PathLength::Uniform { min, max } => rng.int_in(i64::from(min), i64::from(max)) as u32,
        };
        d.channels.clear();
        d.ts.clear();
        let mut t = self.start_secs + rng.int_in(0, self.span_secs - 1);
        let e_tot = self.cum_early[self.cum_early.len() - 1];
        for k in 0..n {
            if k > 0 {
                t += Self::delay(self.gap, &mut rng);
            }
            let table = match &self.cum_late {
                None => &self.cum_early,
                Some(late) => {
                    let r = if n > 1 {
                        f64::from(k) / f64::from(n - 1)
                    } else {
                        0.0
                    };
                    let l_tot = late[late.len() - 1];
                    let p_late = r * l_tot / ((1.0 - r) * e_tot + r * l_tot);
                    if rng.uniform() < p_late {
                        late
                    } else {
                        &self.cum_early
                    }
                }
            };
            d.channels.push(Self::pick(table, &mut rng));
            d.ts.push(t);
        }
        d.u = rng.uniform();
        let v = match self.value {
            ValueDist::Fixed(v) => v,
            ValueDist::LogNormal { mu, sigma } => detmath::exp(mu + sigma * rng.normal()),
            ValueDist::Uniform { min, max } => min + (max - min) * rng.uniform(),
        };
        d.value_cents = ((v * 100.0).round() as i64).clamp(0, MAX_MINOR);
        d.lag = Self::delay(self.conversion_lag, &mut rng);
        if self.milestones.is_some() {
            d.lead_u = rng.uniform();
            d.opp_u = rng.uniform();
        } else {
            d.lead_u = 0.0;
            d.opp_u = 0.0;
        }
    }

    /// Log-odds of conversion of the touches `channels` with every touch of
    /// `removed` taken out. Leaves the distinct channels that count in
    /// `s.order` (first-appearance order).
    pub(crate) fn logit(&self, channels: &[u16], removed: Option<u16>, s: &mut Scratch) -> f64 {
        s.order.clear();
        let mut last = None;
        for &c in channels {
            if Some(c) == removed {
                continue;
            }
            let ci = usize::from(c);
            let counts = match self.requires_idx[ci] {
                None => true,
                Some(r) => s.seen[r],
            };
            if !s.seen[ci] {
                s.seen[ci] = true;
                s.order.push(c);
            }
            if counts {
                s.eff[ci] += 1;
            }
            last = Some(ci);
        }
        let mut x = self.baseline;
        for &c in &s.order {
            let ci = usize::from(c);
            let n = s.eff[ci];
            if n > 0 {
                x += self.channels[ci].beta * self.g(n);
            }
            s.seen[ci] = false;
            s.eff[ci] = 0;
        }
        if let Some(l) = last {
            x += self.channels[l].closing_bonus;
        }
        x
    }
}

impl Config {
    /// Conversion probability of a path (channel names in time order) under
    /// this configuration's outcome model: `σ(baseline + Σ_c beta_c ·
    /// g(n_c) + bonus(last))`. Removing a channel from the path and calling
    /// this again gives its counterfactual effect on that journey.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`](crate::Error::UnknownName) (kind `"channel"`)
    /// for a name that is not a channel of the configuration.
    ///
    /// ```
    /// use touchpoint::sim::Preset;
    ///
    /// let config = Preset::SampleLike.config(11);
    /// let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    /// // baseline -3.2; email beta 0.55, twice: 0.55 · log2(3)
    /// let p = config.conversion_probability(&["email", "video", "email"])?;
    /// assert!((p - sigmoid(-3.2 + 0.55 * 3f64.log2())).abs() < 1e-12);
    /// assert!((config.conversion_probability::<&str>(&[])? - sigmoid(-3.2)).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn conversion_probability<S: AsRef<str>>(&self, path: &[S]) -> Result<f64> {
        let mut ids = Vec::with_capacity(path.len());
        for name in path {
            let name = name.as_ref();
            let i = self
                .channels
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| crate::Error::UnknownName {
                    kind: "channel",
                    name: name.to_owned(),
                })?;
            ids.push(i as u16);
        }
        let mut s = Scratch::new(self.channels.len());
        Ok(detmath::sigmoid(self.logit(&ids, None, &mut s)))
    }
}

/// A seeded journey simulator with known causal ground truth.
///
/// Journey `i` is drawn from its own ChaCha8 stream (key from the seed,
/// stream number `i`), so any range of indices can be generated on its own,
/// in any order, on any machine, with the same result.
///
/// ```
/// use touchpoint::sim::{Preset, Simulator};
///
/// let sim = Simulator::new(Preset::SampleLike.config(11));
/// let all: Vec<_> = sim.journeys(100).collect();
/// let tail: Vec<_> = sim.journeys_in(60..100).collect();
/// assert_eq!(all[60..], tail[..]);
/// assert_eq!(all[0].id, "b2c12-11-0000000");
/// ```
#[derive(Debug, Clone)]
pub struct Simulator {
    pub(crate) config: Config,
    pub(crate) key: [u8; 32],
    /// The funnel section in effect (the configuration's or the default).
    pub(crate) funnel: FunnelSpec,
    /// Key of the funnel stream (see [`super::leads`]).
    pub(crate) funnel_key: [u8; 32],
}

impl Simulator {
    /// A simulator of `config` (seeded by `config.seed()`).
    pub fn new(config: Config) -> Simulator {
        let key = key_of(config.seed);
        let funnel_key = funnel_key(config.seed);
        let funnel = config.funnel.clone().unwrap_or_default();
        Simulator {
            config,
            key,
            funnel,
            funnel_key,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Journey number `index`.
    pub fn journey(&self, index: u64) -> SimpleJourney {
        let mut d = Draw::default();
        let mut s = Scratch::new(self.config.channels.len());
        self.build(index, &mut d, &mut s)
    }

    /// Journeys `0..n`, generated lazily (nothing is kept between items).
    pub fn journeys(&self, n: u64) -> Journeys<'_> {
        self.journeys_in(0..n)
    }

    /// Journeys of the index range `range`: the same journeys as that slice
    /// of a full run (for sharding).
    pub fn journeys_in(&self, range: Range<u64>) -> Journeys<'_> {
        Journeys {
            sim: self,
            next: range.start,
            end: range.end.max(range.start),
            draw: Draw::default(),
            scratch: Scratch::new(self.config.channels.len()),
        }
    }

    /// Journeys `0..n` interned into a [`JourneySet`] (holds them all).
    ///
    /// # Errors
    ///
    /// None in practice (the simulator only makes valid journeys); the
    /// set's validation errors otherwise.
    pub fn journey_set(&self, n: u64) -> Result<JourneySet> {
        let mut set = JourneySet::new();
        for j in self.journeys(n) {
            set.push(&j)?;
        }
        Ok(set)
    }

    /// Conversion probability of journey `index` (all its touches).
    pub fn conversion_probability(&self, index: u64) -> f64 {
        let mut d = Draw::default();
        let mut s = Scratch::new(self.config.channels.len());
        self.config.draw(self.key, index, &mut d);
        detmath::sigmoid(self.config.logit(&d.channels, None, &mut s))
    }

    pub(crate) fn build(&self, index: u64, d: &mut Draw, s: &mut Scratch) -> SimpleJourney {
        let cfg = &self.config;
        cfg.draw(self.key, index, d);
        let p = detmath::sigmoid(cfg.logit(&d.channels, None, s));
        let converted = d.u < p;
        let n = d.channels.len();
        let mut touches: Vec<SimpleTouch> = Vec::with_capacity(n);
        for (&c, &t) in d.channels.iter().zip(&d.ts) {
            let ch = &cfg.channels[usize::from(c)];
            let mut touch = SimpleTouch::new(ch.name.as_str(), ts(t));
            if let Some(cost) = ch.cost {
                touch = touch.cost(cost);
            }
            touches.push(touch);
        }
        if let Some(m) = cfg.milestones {
            let pos = |at: f64| ((at * n as f64) as usize).min(n - 1);
            let mut mark = |i: usize, ms: Milestone| touches[i].milestone = Some(ms);
            if converted {
                mark(n - 1, Milestone::Closed);
                if n == 2 {
                    mark(0, Milestone::LeadCreated);
                } else if n >= 3 {
                    // leave a touch between the lead and the close for the opportunity
                    let lead = pos(m.lead_at).min(n - 3);
                    mark(lead, Milestone::LeadCreated);
                    mark(
                        pos(m.opportunity_at).clamp(lead + 1, n - 2),
                        Milestone::OpportunityCreated,
                    );
                }
            } else if d.lead_u < m.lead_rate {
                let lead = pos(m.lead_at);
                mark(lead, Milestone::LeadCreated);
                if lead + 1 < n && d.opp_u < m.opportunity_rate {
                    mark(
                        pos(m.opportunity_at).clamp(lead + 1, n - 1),
                        Milestone::OpportunityCreated,
                    );
                }
            }
        }
        let mut j = SimpleJourney {
            id: format!("{}-{}-{index:07}", cfg.id_prefix, cfg.seed),
            converted: false,
            value: 0.0,
            conversion_ts: None,
            touchpoints: touches,
        };
        if converted {
            j.converted = true;
            j.value = d.value_cents as f64 / 100.0;
            j.conversion_ts = Some(ts(d.ts[n - 1] + d.lag));
        }
        j
    }
}

fn ts(secs: i64) -> DateTime<Utc> {
    // the configuration bounds every timestamp to years 1970..=9999
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Streaming iterator over a range of simulated journeys (see
/// [`Simulator::journeys`]). Holds one journey's buffers, never the run.
#[derive(Debug, Clone)]
pub struct Journeys<'a> {
    sim: &'a Simulator,
    next: u64,
    end: u64,
    draw: Draw,
    scratch: Scratch,
}

impl Iterator for Journeys<'_> {
    type Item = SimpleJourney;

    fn next(&mut self) -> Option<SimpleJourney> {
        if self.next >= self.end {
            return None;
        }
        let j = self.sim.build(self.next, &mut self.draw, &mut self.scratch);
        self.next += 1;
        Some(j)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        match usize::try_from(left) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }

    fn nth(&mut self, n: usize) -> Option<SimpleJourney> {
        self.next = self.next.saturating_add(n as u64).min(self.end);
        self.next()
    }
}
