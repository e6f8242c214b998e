//! Funnel leads of simulated journeys: stages, owner, segment, exits.
//!
//! Every simulated journey is one [`Lead`] (a person). Its stage entries are
//! drawn from a second random stream per journey (the *funnel stream*), so
//! the journeys themselves, and their ground truth, are exactly those of a
//! simulation without leads.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::config::{Channel, Config, Delay, ValueDist};
use super::detmath;
use super::generate::{Draw, Scratch, Simulator};
use super::rng::{Stream, key_of, splitmix64};
use crate::error::Error;
use crate::funnel::{FunnelConfig, Lead, Owner};
use crate::{MAX_MINOR, Milestone, Result, SimpleJourney};

/// The ASCII bytes of `"funnel"`, the domain tag of the funnel stream.
const FUNNEL_TAG: u64 = 0x6675_6e6e_656c;

/// The key of the funnel stream of `seed`: the journey key with each of its
/// four 64-bit words XORed with a SplitMix64 output of [`FUNNEL_TAG`].
pub(crate) fn funnel_key(seed: u64) -> [u8; 32] {
    let mut key = key_of(seed);
    let mut state = FUNNEL_TAG;
    for chunk in key.chunks_exact_mut(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w) ^ splitmix64(&mut state);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    key
}

/// How simulated journeys become funnel leads (the optional funnel section
/// of a [`Config`], see [`ConfigBuilder::funnel`](super::ConfigBuilder::funnel)).
///
/// Each journey is one lead with the default funnel stages of
/// [`Stages::default`](crate::funnel::Stages) (`inquiry -> mql -> sal ->
/// sql -> opportunity -> closed_won`, exits `closed_lost`, `disqualified`):
///
/// - **How far it gets.** A converted journey is won. Otherwise, with
///   [`Milestones`](super::Milestones) configured, a journey with an
///   `opportunity_created` touch reaches the opportunity, one with only a
///   `lead_created` touch reaches MQL, then SAL with probability `sal_rate`
///   and SQL with `sql_rate` after that, and one with neither stays an
///   inquiry. Without milestones the chain of rates decides: MQL with
///   `mql_rate`, then SAL with `sal_rate`, SQL with `sql_rate`,
///   opportunity with `opportunity_rate`.
/// - **When.** Inquiry at the first touch. The opportunity at the
///   `opportunity_created` touch (without one, at the last touch). MQL at
///   the `lead_created` touch (without one, at a uniformly drawn fraction
///   of the time from the first touch to the end `T`, where `T` is the
///   opportunity for leads that reach it and the last touch otherwise), SAL
///   at a drawn fraction of the time from MQL to `T`, SQL likewise from SAL.
///   Closed won at the journey's conversion time. Stage dates therefore
///   never decrease along the funnel.
/// - **Amount.** A won lead's amount is the journey's value. An open or
///   lost opportunity's amount is drawn from the configuration's
///   [`ValueDist`] (on the funnel stream). Leads before the opportunity
///   have none.
/// - **Exits.** An opportunity that is not won is `closed_lost` with
///   probability `lost_rate` (else it stays open), `exit_delay` after the
///   opportunity. A lead that stops before the opportunity is
///   `disqualified` with probability `disqualify_rate`, `exit_delay` after
///   its last touch, with a reason drawn uniformly from `reasons` (none if
///   the list is empty).
/// - **Owner.** Sales-sourced when the first touch is on one of the
///   `sales_channels`, otherwise with probability `sales_share`;
///   marketing-sourced else.
/// - **Segment.** Drawn from `segments` with probability proportional to
///   the weights (no segment when the list is empty).
///
/// Defaults: no sales channels, `sales_share` 0.2, segments `smb` (6),
/// `mid_market` (3), `enterprise` (1), rates MQL 0.4, SAL 0.7, SQL 0.6,
/// opportunity 0.5, `lost_rate` 0.6, `disqualify_rate` 0.3, exit delay
/// uniform on 1 ..= 30 days, reasons `no_budget`, `not_a_fit`,
/// `no_response`.
///
/// ```
/// use touchpoint::sim::{Delay, FunnelSpec};
///
/// let spec = FunnelSpec::new()
///     .sales_channels(["sales_call"])
///     .sales_share(0.1)
///     .segments([("smb", 3.0), ("enterprise", 1.0)])
///     .progression(0.5, 0.8, 0.6, 0.4)
///     .exits(0.7, 0.2)
///     .exit_delay(Delay::Uniform { min_secs: 86_400, max_secs: 864_000 })
///     .reasons(["no_budget"]);
/// assert_eq!(spec.sales_channel_names(), ["sales_call"]);
/// assert_eq!(spec.rates(), [0.5, 0.8, 0.6, 0.4]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSpec {
    pub(crate) sales_channels: Vec<String>,
    pub(crate) sales_share: f64,
    pub(crate) segments: Vec<(String, f64)>,
    pub(crate) rates: [f64; 4],
    pub(crate) lost_rate: f64,
    pub(crate) disqualify_rate: f64,
    pub(crate) exit_delay: Delay,
    pub(crate) reasons: Vec<String>,
}

impl Default for FunnelSpec {
    fn default() -> FunnelSpec {
        FunnelSpec {
            sales_channels: Vec::new(),
            sales_share: 0.2,
            segments: vec![
                ("smb".to_owned(), 6.0),
                ("mid_market".to_owned(), 3.0),
                ("enterprise".to_owned(), 1.0),
            ],
            rates: [0.4, 0.7, 0.6, 0.5],
            lost_rate: 0.6,
            disqualify_rate: 0.3,
            exit_delay: Delay::Uniform {
                min_secs: 86_400,
                max_secs: 30 * 86_400,
            },
            reasons: vec![
                "no_budget".to_owned(),
                "not_a_fit".to_owned(),
                "no_response".to_owned(),
            ],
        }
    }
}

impl FunnelSpec {
    /// The defaults listed on [`FunnelSpec`].
    pub fn new() -> FunnelSpec {
        FunnelSpec::default()
    }

    /// Channels whose first touch makes a lead sales-sourced (e.g. SDR
    /// calls). They must be channels of the configuration. Sorted and
    /// deduplicated.
    #[must_use]
    pub fn sales_channels<S: Into<String>>(self, channels: impl IntoIterator<Item = S>) -> Self {
        let mut v: Vec<String> = channels.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        FunnelSpec {
            sales_channels: v,
            ..self
        }
    }

    /// Probability that a lead whose first touch is not a sales channel is
    /// sales-sourced anyway, in `[0, 1]`.
    #[must_use]
    pub fn sales_share(self, share: f64) -> Self {
        FunnelSpec {
            sales_share: share,
            ..self
        }
    }

    /// Segments with their relative weights (replaces the list; empty: no
    /// segment).
    #[must_use]
    pub fn segments<S: Into<String>>(self, segments: impl IntoIterator<Item = (S, f64)>) -> Self {
        FunnelSpec {
            segments: segments.into_iter().map(|(s, w)| (s.into(), w)).collect(),
            ..self
        }
    }

    /// Stage-to-stage probabilities of non-converting leads: inquiry -> MQL,
    /// MQL -> SAL, SAL -> SQL, SQL -> opportunity (each in `[0, 1]`; with
    /// milestones only SAL and SQL are used, see [`FunnelSpec`]).
    #[must_use]
    pub fn progression(self, mql: f64, sal: f64, sql: f64, opportunity: f64) -> Self {
        FunnelSpec {
            rates: [mql, sal, sql, opportunity],
            ..self
        }
    }

    /// Exit probabilities: an opportunity that is not won is closed lost
    /// with probability `lost`, a lead that stops before the opportunity is
    /// disqualified with probability `disqualified` (each in `[0, 1]`).
    #[must_use]
    pub fn exits(self, lost: f64, disqualified: f64) -> Self {
        FunnelSpec {
            lost_rate: lost,
            disqualify_rate: disqualified,
            ..self
        }
    }

    /// Time from the last touch (or the opportunity) to an exit.
    #[must_use]
    pub fn exit_delay(self, delay: Delay) -> Self {
        FunnelSpec {
            exit_delay: delay,
            ..self
        }
    }

    /// Disqualification reasons, drawn uniformly (replaces the list; empty:
    /// no reason recorded).
    #[must_use]
    pub fn reasons<S: Into<String>>(self, reasons: impl IntoIterator<Item = S>) -> Self {
        FunnelSpec {
            reasons: reasons.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// The sales channels, sorted.
    pub fn sales_channel_names(&self) -> &[String] {
        &self.sales_channels
    }

    /// The share of non-sales-channel leads that are sales-sourced.
    pub fn sales_share_value(&self) -> f64 {
        self.sales_share
    }

    /// The segments and weights.
    pub fn segment_weights(&self) -> &[(String, f64)] {
        &self.segments
    }

    /// The progression rates `[mql, sal, sql, opportunity]`.
    pub fn rates(&self) -> [f64; 4] {
        self.rates
    }

    /// The exit probabilities `(lost, disqualified)`.
    pub fn exit_rates(&self) -> (f64, f64) {
        (self.lost_rate, self.disqualify_rate)
    }

    /// The exit delay.
    pub fn exit_delay_dist(&self) -> Delay {
        self.exit_delay
    }

    /// The disqualification reasons.
    pub fn reason_names(&self) -> &[String] {
        &self.reasons
    }

    /// Validates against the configuration's channels.
    pub(crate) fn validate(&self, channels: &[Channel]) -> Result<()> {
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        for ch in &self.sales_channels {
            if !channels.iter().any(|c| &c.name == ch) {
                return Err(Error::UnknownName {
                    kind: "channel",
                    name: ch.clone(),
                });
            }
        }
        if !unit(self.sales_share) {
            return Err(Error::param(
                "funnel.sales_share",
                self.sales_share,
                "a probability in [0, 1]",
            ));
        }
        if !self.rates.iter().all(|&r| unit(r)) {
            return Err(Error::param(
                "funnel.progression",
                format!("{:?}", self.rates),
                "probabilities in [0, 1]",
            ));
        }
        if !(unit(self.lost_rate) && unit(self.disqualify_rate)) {
            return Err(Error::param(
                "funnel.exits",
                format!(
                    "lost {}, disqualified {}",
                    self.lost_rate, self.disqualify_rate
                ),
                "probabilities in [0, 1]",
            ));
        }
        let mut names: Vec<&str> = Vec::with_capacity(self.segments.len());
        for (name, w) in &self.segments {
            if name.is_empty() {
                return Err(Error::param(
                    "funnel.segments",
                    "\"\"",
                    "non-empty segment names",
                ));
            }
            if !(w.is_finite() && *w >= 0.0) {
                return Err(Error::param(
                    "funnel.segments",
                    format!("{name}: {w}"),
                    "finite weights >= 0",
                ));
            }
            names.push(name);
        }
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::param(
                "funnel.segments",
                w[0],
                "distinct segment names",
            ));
        }
        let total: f64 = self.segments.iter().map(|s| s.1).sum();
        let usable = total > 0.0 && total.is_finite();
        if !self.segments.is_empty() && !usable {
            return Err(Error::param(
                "funnel.segments",
                "all zero",
                "at least one weight > 0 (and a finite sum)",
            ));
        }
        if self.reasons.iter().any(String::is_empty) {
            return Err(Error::param("funnel.reasons", "\"\"", "non-empty reasons"));
        }
        super::config::check_delay("funnel.exit_delay", self.exit_delay)
    }

    fn segment(&self, u: f64) -> Option<&str> {
        let total: f64 = self.segments.iter().map(|s| s.1).sum();
        let x = u * total;
        let mut acc = 0.0;
        let mut last_positive = None;
        for (name, w) in &self.segments {
            acc += w;
            if *w > 0.0 {
                last_positive = Some(name.as_str());
            }
            if x < acc {
                return Some(name);
            }
        }
        last_positive
    }
}

/// Unix milliseconds to a time (clamped to chrono's range).
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// `lo + floor(f · (hi - lo))` for `f` in `[0, 1)`, `lo <= hi`.
fn between(lo: i64, hi: i64, f: f64) -> i64 {
    let span = hi.saturating_sub(lo).max(0);
    lo.saturating_add(((span as f64 * f) as i64).clamp(0, span))
}

impl Simulator {
    /// The funnel section in effect (the configuration's, or the defaults).
    pub fn funnel_spec(&self) -> &FunnelSpec {
        &self.funnel
    }

    /// A funnel configuration matching the simulated leads: default stages,
    /// and the funnel section's sales channels as sales touches (for
    /// marketing influence). Set slicing, periods etc. on it as needed.
    ///
    /// ```
    /// use touchpoint::funnel::{FunnelPartial, SliceBy};
    /// use touchpoint::sim::{Preset, Simulator};
    ///
    /// let sim = Simulator::new(Preset::B2b.config(1));
    /// let mut partial = FunnelPartial::new(sim.funnel_config().slice_by(SliceBy::Channel));
    /// for lead in sim.leads(200) {
    ///     partial.observe(&lead)?;
    /// }
    /// let m = partial.finish();
    /// assert_eq!(m.total().records(), 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn funnel_config(&self) -> FunnelConfig {
        FunnelConfig::default().with_sales_channels(self.funnel.sales_channels.iter().cloned())
    }

    /// The lead of journey `index` (see [`FunnelSpec`] for the mapping).
    pub fn lead(&self, index: u64) -> Lead {
        self.lead_of(index, self.journey(index))
    }

    /// Leads `0..n`, generated lazily (nothing is kept between items).
    pub fn leads(&self, n: u64) -> Leads<'_> {
        self.leads_in(0..n)
    }

    /// Leads of the index range `range`: the same leads as that slice of a
    /// full run (for sharding).
    pub fn leads_in(&self, range: Range<u64>) -> Leads<'_> {
        Leads {
            sim: self,
            next: range.start,
            end: range.end.max(range.start),
            draw: Draw::default(),
            scratch: Scratch::new(self.config.channels.len()),
        }
    }

    /// The lead of journey `index` built from that journey, already
    /// generated (`journey` should be [`journey(index)`](Self::journey);
    /// then the result equals [`lead(index)`](Self::lead), without drawing
    /// the journey again). Any other journey gives a lead as well (the
    /// mapping only reads its touches, milestones and outcome; a journey
    /// without touches gives a lead without stages), never a panic.
    ///
    /// ```
    /// use touchpoint::sim::{Preset, Simulator};
    ///
    /// let sim = Simulator::new(Preset::B2b.config(3));
    /// let j = sim.journey(7);
    /// assert_eq!(sim.lead_of(7, j.clone()), sim.lead(7));
    /// assert_eq!(sim.lead(7).id(), j.id);
    /// ```
    pub fn lead_of(&self, index: u64, journey: SimpleJourney) -> Lead {
        let spec = &self.funnel;
        let mut rng = Stream::new(self.funnel_key, index);
        // Draw order (part of the stability contract): owner, segment, four
        // progression uniforms, three date fractions, exit, reason, exit
        // delay, then (only for an opportunity not won) its amount.
        let owner_u = rng.uniform();
        let segment_u = rng.uniform();
        let depth_u = [rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform()];
        let frac = [rng.uniform(), rng.uniform(), rng.uniform()];
        let exit_u = rng.uniform();
        let reason_u = rng.uniform();
        let exit_delay_ms = Config::delay(spec.exit_delay, &mut rng).saturating_mul(1000);

        let SimpleJourney {
            id,
            converted,
            value,
            conversion_ts,
            touchpoints,
        } = journey;
        let mut lead = Lead::new(id);
        let Some(first_touch) = touchpoints.iter().min_by_key(|t| t.ts) else {
            return lead;
        };
        let sales = spec
            .sales_channels
            .binary_search_by(|c| c.as_str().cmp(&first_touch.channel))
            .is_ok()
            || owner_u < spec.sales_share;
        if sales {
            lead = lead.with_owner(Owner::Sales);
        }
        if let Some(s) = spec.segment(segment_u) {
            lead = lead.with_segment(s);
        }
        let first = first_touch.ts.timestamp_millis();
        let last = touchpoints
            .iter()
            .map(|t| t.ts.timestamp_millis())
            .max()
            .unwrap_or(first);
        let marked = |m: Milestone| {
            touchpoints
                .iter()
                .find(|t| t.milestone == Some(m))
                .map(|t| t.ts.timestamp_millis().clamp(first, last))
        };
        let lead_ms = marked(Milestone::LeadCreated);
        let opp_ms = marked(Milestone::OpportunityCreated);
        // progression depth: 0 inquiry, 1 mql, 2 sal, 3 sql, 4 opportunity, 5 won
        let depth = if converted {
            5
        } else if self.config.milestones.is_some() {
            if opp_ms.is_some() {
                4
            } else if lead_ms.is_some() {
                1 + usize::from(depth_u[1] < spec.rates[1])
                    + usize::from(depth_u[1] < spec.rates[1] && depth_u[2] < spec.rates[2])
            } else {
                0
            }
        } else {
            depth_u
                .iter()
                .zip(spec.rates)
                .take_while(|(u, r)| **u < *r)
                .count()
        };
        lead = lead.stage("inquiry", at(first));
        let opp = opp_ms.unwrap_or(last);
        if depth >= 1 {
            let end = if depth >= 4 { opp } else { last };
            let mql = match lead_ms {
                Some(l) => l.min(end),
                None => between(first, end, frac[0]),
            };
            let sal = between(mql, end, frac[1]);
            let sql = between(sal, end, frac[2]);
            lead = lead.stage("mql", at(mql));
            if depth >= 2 {
                lead = lead.stage("sal", at(sal));
            }
            if depth >= 3 {
                lead = lead.stage("sql", at(sql));
            }
        }
        if depth >= 4 {
            lead = lead.stage("opportunity", at(opp));
        }
        if depth == 5 {
            let won = conversion_ts
                .map_or(last, |t| t.timestamp_millis())
                .max(opp);
            lead = lead.stage("closed_won", at(won)).with_amount(value);
        } else if depth == 4 {
            lead = lead.with_amount(self.open_amount(&mut rng));
            if exit_u < spec.lost_rate {
                lead = lead.stage("closed_lost", at(opp.saturating_add(exit_delay_ms)));
            }
        } else if exit_u < spec.disqualify_rate {
            let t = at(last.saturating_add(exit_delay_ms));
            let n = spec.reasons.len();
            lead = if n == 0 {
                lead.stage("disqualified", t)
            } else {
                let k = ((reason_u * n as f64) as usize).min(n - 1);
                lead.stage_with_reason("disqualified", t, spec.reasons[k].clone())
            };
        }
        for t in touchpoints {
            lead = lead.touch(t);
        }
        lead
    }

    /// The amount of an opportunity that is not won: a draw of the value
    /// distribution, in cents, as major units.
    fn open_amount(&self, rng: &mut Stream) -> f64 {
        let v = match self.config.value {
            ValueDist::Fixed(v) => v,
            ValueDist::LogNormal { mu, sigma } => detmath::exp(mu + sigma * rng.normal()),
            ValueDist::Uniform { min, max } => min + (max - min) * rng.uniform(),
        };
        ((v * 100.0).round() as i64).clamp(0, MAX_MINOR) as f64 / 100.0
    }
}

/// Streaming iterator over a range of simulated leads (see
/// [`Simulator::leads`]). Holds one journey's buffers, never the run.
#[derive(Debug, Clone)]
pub struct Leads<'a> {
    sim: &'a Simulator,
    next: u64,
    end: u64,
    draw: Draw,
    scratch: Scratch,
}

impl Iterator for Leads<'_> {
    type Item = Lead;

    fn next(&mut self) -> Option<Lead> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        let j = self.sim.build(i, &mut self.draw, &mut self.scratch);
        self.next += 1;
        Some(self.sim.lead_of(i, j))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        match usize::try_from(left) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }

    fn nth(&mut self, n: usize) -> Option<Lead> {
        self.next = self.next.saturating_add(n as u64).min(self.end);
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_key_is_not_the_journey_key() {
        for seed in [0, 1, 42, u64::MAX] {
            let (j, f) = (key_of(seed), funnel_key(seed));
            assert_ne!(j, f);
            // every word differs (XOR with a nonzero tag output)
            assert!(j.chunks(8).zip(f.chunks(8)).all(|(a, b)| a != b));
            assert_eq!(funnel_key(seed), f);
        }
    }

    #[test]
    fn between_stays_in_its_interval() {
        assert_eq!(between(10, 20, 0.0), 10);
        assert_eq!(between(10, 20, 0.5), 15);
        assert_eq!(between(10, 20, 0.999_999), 19);
        assert_eq!(between(10, 10, 0.7), 10);
        assert_eq!(between(20, 10, 0.7), 20); // empty interval: the start
        // saturating at the extremes, never out of the interval
        let x = between(i64::MIN, i64::MAX, 0.9);
        assert!(x > i64::MIN && x < i64::MAX);
    }

    #[test]
    fn segment_draw_by_weight() {
        let spec = FunnelSpec::new().segments([("a", 1.0), ("b", 0.0), ("c", 3.0)]);
        assert_eq!(spec.segment(0.0), Some("a"));
        assert_eq!(spec.segment(0.2499), Some("a"));
        assert_eq!(spec.segment(0.25), Some("c"));
        assert_eq!(spec.segment(0.999_999_9), Some("c"));
        assert_eq!(FunnelSpec::new().segments::<&str>([]).segment(0.5), None);
    }
}
