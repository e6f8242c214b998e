//! Funnel leads of simulated journeys: stages, owner, segment, exits.
//!
//! Every simulated journey is one [`Lead`] (a person). Its stage entries are
//! drawn from a second random stream per journey (the *funnel stream*), so
//! the journeys themselves, and their ground truth, are exactly those of a
//! simulation without leads.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::config::{Config, ValueDist};
use super::detmath;
use super::funnel_spec::FunnelSpec;
use super::generate::{Draw, Scratch, Simulator};
use super::rng::Stream;
use crate::funnel::{FunnelConfig, Lead, Owner};
use crate::{MAX_MINOR, Milestone, SimpleJourney};

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
    use super::super::funnel_spec::funnel_key;
    use super::super::rng::key_of;
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
