//! The per-slice accumulator of a funnel partial: integer counts,
//! minor-unit sums and duration histograms, merged exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{CycleStart, Cycles, FunnelConfig};
use super::hist::{DAY_MS, DurationHist};
use super::lead::{Lead, Owner};
use super::normalize::{Record, UNSET};
use crate::error::{Error, Result};

pub(super) fn add_u64(a: &mut u64, b: u64) -> Result<()> {
    *a = a.checked_add(b).ok_or(Error::Overflow {
        what: "funnel counts",
    })?;
    Ok(())
}
pub(super) fn add_i128(a: &mut i128, b: i128) -> Result<()> {
    *a = a.checked_add(b).ok_or(Error::Overflow {
        what: "funnel amounts",
    })?;
    Ok(())
}
pub(super) fn add_vec(a: &mut [u64], b: &[u64]) -> Result<()> {
    for (x, y) in a.iter_mut().zip(b) {
        add_u64(x, *y)?;
    }
    Ok(())
}

/// Integer sums for one slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SliceAcc {
    pub(super) records: u64,
    pub(super) reached: Vec<u64>,
    pub(super) entered: BTreeMap<i64, Vec<u64>>,
    pub(super) exits: Vec<u64>,
    pub(super) stalled: u64,
    pub(super) open: Vec<u64>,
    pub(super) open_amount: Vec<i128>,
    pub(super) closed_reached: Vec<u64>,
    pub(super) won_reached: Vec<u64>,
    pub(super) accepted: u64,
    pub(super) rejections: BTreeMap<String, u64>,
    pub(super) time_in_stage: Vec<DurationHist>,
    pub(super) time_to_close: DurationHist,
    pub(super) sales_cycle: DurationHist,
    pub(super) opportunities: u64,
    pub(super) opportunity_amount: i128,
    pub(super) won: u64,
    pub(super) lost: u64,
    pub(super) revenue: i128,
    pub(super) marketing_won: u64,
    pub(super) marketing_revenue: i128,
    pub(super) sales_won: u64,
    pub(super) sales_revenue: i128,
    pub(super) influenced_won: u64,
    pub(super) influenced_revenue: i128,
    pub(super) influenced_sales_won: u64,
    pub(super) influenced_sales_revenue: i128,
}

impl SliceAcc {
    pub(super) fn new(p: usize, x: usize) -> SliceAcc {
        SliceAcc {
            records: 0,
            reached: vec![0; p],
            entered: BTreeMap::new(),
            exits: vec![0; x],
            stalled: 0,
            open: vec![0; p],
            open_amount: vec![0; p],
            closed_reached: vec![0; p],
            won_reached: vec![0; p],
            accepted: 0,
            rejections: BTreeMap::new(),
            time_in_stage: vec![DurationHist::default(); p],
            time_to_close: DurationHist::default(),
            sales_cycle: DurationHist::default(),
            opportunities: 0,
            opportunity_amount: 0,
            won: 0,
            lost: 0,
            revenue: 0,
            marketing_won: 0,
            marketing_revenue: 0,
            sales_won: 0,
            sales_revenue: 0,
            influenced_won: 0,
            influenced_revenue: 0,
            influenced_sales_won: 0,
            influenced_sales_revenue: 0,
        }
    }

    pub(super) fn merge(&mut self, o: &SliceAcc) -> Result<()> {
        add_u64(&mut self.records, o.records)?;
        add_vec(&mut self.reached, &o.reached)?;
        for (k, v) in &o.entered {
            let e = self.entered.entry(*k).or_insert_with(|| vec![0; v.len()]);
            add_vec(e, v)?;
        }
        add_vec(&mut self.exits, &o.exits)?;
        add_u64(&mut self.stalled, o.stalled)?;
        add_vec(&mut self.open, &o.open)?;
        for (a, b) in self.open_amount.iter_mut().zip(&o.open_amount) {
            add_i128(a, *b)?;
        }
        add_vec(&mut self.closed_reached, &o.closed_reached)?;
        add_vec(&mut self.won_reached, &o.won_reached)?;
        add_u64(&mut self.accepted, o.accepted)?;
        for (k, v) in &o.rejections {
            add_u64(self.rejections.entry(k.clone()).or_insert(0), *v)?;
        }
        for (a, b) in self.time_in_stage.iter_mut().zip(&o.time_in_stage) {
            a.merge(b)?;
        }
        self.time_to_close.merge(&o.time_to_close)?;
        self.sales_cycle.merge(&o.sales_cycle)?;
        for (a, b) in [
            (&mut self.opportunities, o.opportunities),
            (&mut self.won, o.won),
            (&mut self.lost, o.lost),
            (&mut self.marketing_won, o.marketing_won),
            (&mut self.sales_won, o.sales_won),
            (&mut self.influenced_won, o.influenced_won),
            (&mut self.influenced_sales_won, o.influenced_sales_won),
        ] {
            add_u64(a, b)?;
        }
        for (a, b) in [
            (&mut self.opportunity_amount, o.opportunity_amount),
            (&mut self.revenue, o.revenue),
            (&mut self.marketing_revenue, o.marketing_revenue),
            (&mut self.sales_revenue, o.sales_revenue),
            (&mut self.influenced_revenue, o.influenced_revenue),
            (
                &mut self.influenced_sales_revenue,
                o.influenced_sales_revenue,
            ),
        ] {
            add_i128(a, b)?;
        }
        Ok(())
    }

    /// Checks a deserialized accumulator against its configuration: every
    /// per-stage vector the length of the stages, and every count and sum
    /// within what its records allow ([`fits_records`](Self::fits_records)).
    pub(super) fn check(&self, config: &FunnelConfig) -> Result<()> {
        let (p, x) = (config.stages.len(), config.stages.exits().len());
        let ok = [
            self.reached.len(),
            self.open.len(),
            self.open_amount.len(),
            self.closed_reached.len(),
            self.won_reached.len(),
            self.time_in_stage.len(),
        ]
        .iter()
        .all(|&n| n == p)
            && self.exits.len() == x
            && self.entered.values().all(|v| v.len() == p);
        if !ok {
            return Err(Error::param(
                "partial",
                "per-stage vectors of the wrong length",
                "a partial made with its own stages",
            ));
        }
        if !self.fits_records() {
            return Err(Error::param(
                "partial",
                "a count or sum larger than its records allow",
                "a partial made by observing and merging",
            ));
        }
        Ok(())
    }

    /// Whether every count is at most `records` and every sum at most
    /// `records` amounts of 2^53 minor units (each observed record adds at
    /// most 1 to a count and one amount to a sum). Holds for any partial
    /// made by observing and merging; checked on deserialization, so that
    /// [`observe`](Self::observe) cannot overflow while `records` does not.
    fn fits_records(&self) -> bool {
        let r = self.records;
        let most = i128::from(r) << 53;
        let counts = [
            self.stalled,
            self.accepted,
            self.opportunities,
            self.won,
            self.lost,
            self.marketing_won,
            self.sales_won,
            self.influenced_won,
            self.influenced_sales_won,
        ];
        let amounts = [
            self.opportunity_amount,
            self.revenue,
            self.marketing_revenue,
            self.sales_revenue,
            self.influenced_revenue,
            self.influenced_sales_revenue,
        ];
        let vecs = [
            &self.reached,
            &self.exits,
            &self.open,
            &self.closed_reached,
            &self.won_reached,
        ];
        counts.iter().all(|&c| c <= r)
            && vecs.iter().all(|v| v.iter().all(|&c| c <= r))
            && self.entered.values().all(|v| v.iter().all(|&c| c <= r))
            && self.rejections.values().all(|&c| c <= r)
            && amounts
                .iter()
                .chain(&self.open_amount)
                .all(|a| a.unsigned_abs() <= most.unsigned_abs())
            && self.time_in_stage.iter().all(|h| h.fits(r))
            && self.time_to_close.fits(r)
            && self.sales_cycle.fits(r)
    }

    #[inline]
    pub(super) fn observe(&mut self, cfg: &FunnelConfig, lead: &Lead, r: &Record, amount: i64) {
        let st = &cfg.stages;
        let p = st.len();
        let (mql, sql, opp, won_i) = (
            st.mql_index(),
            st.sql_index(),
            st.opportunity_index(),
            st.won_index(),
        );
        let amt = i128::from(amount);
        self.records += 1;
        let mut last_day = i64::MIN;
        let mut last_key = i64::MIN;
        let mut row: Option<&mut Vec<u64>> = None;
        for s in 0..=r.max {
            let t = r.ts[s];
            if t == UNSET {
                continue;
            }
            self.reached[s] += 1;
            let d = t.div_euclid(DAY_MS);
            if d != last_day || row.is_none() {
                last_day = d;
                let k = cfg.period.key(t);
                if k != last_key || row.is_none() {
                    last_key = k;
                    row = Some(self.entered.entry(k).or_insert_with(|| vec![0; p]));
                }
            }
            if let Some(v) = row.as_deref_mut() {
                v[s] += 1;
            }
        }
        let won = r.reached(won_i);
        if let Some((x, _, _)) = r.exit {
            self.exits[x] += 1;
        }
        if r.stalled {
            self.stalled += 1;
        }
        let sla_ms = match cfg.cycles {
            Cycles::Sla { days } => i64::from(days) * DAY_MS,
            Cycles::Lifetime => 0,
        };
        let close_ts = if won {
            Some(r.ts[won_i])
        } else if let Some((_, t, _)) = r.exit {
            Some(t)
        } else if r.stalled {
            Some(r.last.saturating_add(sla_ms))
        } else {
            None
        };
        match close_ts {
            None => {
                self.open[r.max] += 1;
                self.open_amount[r.max] += amt;
            }
            Some(_) => {
                for s in 0..=r.max {
                    if r.reached(s) {
                        self.closed_reached[s] += 1;
                        if won {
                            self.won_reached[s] += 1;
                        }
                    }
                }
            }
        }
        // MQL -> SQL acceptance
        if r.reached(mql) {
            if r.reached(sql) {
                self.accepted += 1;
            } else if let Some((x, _, orig)) = r.exit {
                let reason = lead.entries()[orig]
                    .reason
                    .as_deref()
                    .unwrap_or(&st.exits()[x]);
                match self.rejections.get_mut(reason) {
                    Some(c) => *c += 1,
                    None => {
                        self.rejections.insert(reason.to_owned(), 1);
                    }
                }
            } else if r.stalled {
                *self.rejections.entry("(stalled)".to_owned()).or_insert(0) += 1;
            }
        }
        // time in stage
        for s in 0..won_i.min(r.max + 1) {
            let t = r.ts[s];
            if t == UNSET {
                continue;
            }
            let next = (s + 1..=r.max).map(|q| r.ts[q]).find(|&q| q != UNSET);
            let end = match (next, r.exit) {
                (Some(n), _) => Some(n),
                (None, Some((_, e, _))) => Some(e),
                (None, None) if r.stalled => Some(r.last.saturating_add(sla_ms)),
                _ => None,
            };
            if let Some(e) = end {
                self.time_in_stage[s].record(e - t);
            }
        }
        // opportunities, wins, velocity inputs
        if r.reached(opp) || won {
            self.opportunities += 1;
            self.opportunity_amount += amt;
            if won {
                let won_ts = r.ts[won_i];
                self.won += 1;
                self.revenue += amt;
                let start = match cfg.cycle_start {
                    CycleStart::Opportunity if r.reached(opp) => r.ts[opp],
                    _ => r.created,
                };
                self.sales_cycle.record(won_ts - start);
                self.time_to_close.record(won_ts - r.created);
                match lead.owner() {
                    Owner::Marketing => {
                        self.marketing_won += 1;
                        self.marketing_revenue += amt;
                    }
                    Owner::Sales => {
                        self.sales_won += 1;
                        self.sales_revenue += amt;
                    }
                }
                let opp_ts = if r.reached(opp) { r.ts[opp] } else { won_ts };
                let influenced = lead.touches()[r.touch_start..]
                    .iter()
                    .take_while(|t| t.ts.timestamp_millis() <= opp_ts)
                    .any(|t| !cfg.is_sales_channel(&t.channel));
                if influenced {
                    self.influenced_won += 1;
                    self.influenced_revenue += amt;
                    if lead.owner() == Owner::Sales {
                        self.influenced_sales_won += 1;
                        self.influenced_sales_revenue += amt;
                    }
                }
            } else if let Some(c) = close_ts {
                self.lost += 1;
                self.time_to_close.record(c - r.created);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funnel::normalize::{RuleCounts, normalize};
    use crate::touchpoint::SimpleTouch;

    fn d(s: &str) -> chrono::DateTime<chrono::Utc> {
        format!("2024-{s}T00:00:00Z").parse().unwrap()
    }

    /// The accumulator of `leads` observed one by one.
    fn acc_of(cfg: &FunnelConfig, leads: &[Lead]) -> SliceAcc {
        let mut acc = SliceAcc::new(cfg.stages.len(), cfg.stages.exits().len());
        let (mut scratch, mut records, mut rules) = (Vec::new(), Vec::new(), RuleCounts::default());
        for l in leads {
            let amount = normalize(l, cfg, &mut scratch, &mut records, &mut rules).unwrap();
            for r in &records {
                acc.observe(cfg, l, r, amount);
            }
        }
        acc
    }

    /// Won after 60 days from creation (inquiry 01-01, opportunity 01-11,
    /// won 03-01), $1,000, first touch on a marketing channel.
    fn won() -> Lead {
        Lead::new("w")
            .with_amount(1_000.0)
            .touch(SimpleTouch::new("webinar", d("01-01")))
            .stage("inquiry", d("01-01"))
            .stage("mql", d("01-02"))
            .stage("sql", d("01-05"))
            .stage("opportunity", d("01-11"))
            .stage("closed_won", d("03-01"))
    }

    /// An MQL disqualified for "no budget".
    fn lost() -> Lead {
        Lead::new("l")
            .touch(SimpleTouch::new("email", d("01-01")))
            .stage("mql", d("01-03"))
            .stage_with_reason("disqualified", d("01-10"), "no budget")
    }

    #[test]
    fn one_won_record_by_hand() {
        let cfg = FunnelConfig::default();
        let a = acc_of(&cfg, &[won()]);
        assert_eq!(a.records, 1);
        // every progression stage reached, sal back-populated
        assert_eq!(a.reached, vec![1; 6]);
        assert_eq!((a.won, a.lost, a.opportunities, a.accepted), (1, 0, 1, 1));
        assert_eq!(a.revenue, 100_000);
        assert_eq!((a.marketing_won, a.marketing_revenue), (1, 100_000));
        assert_eq!((a.sales_won, a.influenced_won), (0, 1));
        // time to close from creation: 01-01 -> 03-01 = 60 days
        let c = a.time_to_close.stats();
        assert_eq!((c.count, c.mean_days), (1, Some(60.0)));
        // sales cycle from the opportunity: 01-11 -> 03-01 = 50 days
        assert_eq!(a.sales_cycle.stats().mean_days, Some(50.0));
        assert!(a.rejections.is_empty());
        assert!(a.check(&cfg).is_ok());
    }

    #[test]
    fn exits_and_reasons_by_hand() {
        let cfg = FunnelConfig::default();
        let a = acc_of(&cfg, &[lost()]);
        // inquiry back-populated, mql reached; exits: closed_lost, disqualified, recycled
        assert_eq!(&a.reached[..3], &[1, 1, 0]);
        assert_eq!(a.exits, vec![0, 1, 0]);
        assert_eq!(a.rejections.get("no budget"), Some(&1));
        assert_eq!((a.won, a.accepted, a.opportunities), (0, 0, 0));
    }

    #[test]
    fn merge_equals_one_pass_in_either_order() {
        let cfg = FunnelConfig::default();
        let both = acc_of(&cfg, &[won(), lost()]);
        let mut ab = acc_of(&cfg, &[won()]);
        ab.merge(&acc_of(&cfg, &[lost()])).unwrap();
        let mut ba = acc_of(&cfg, &[lost()]);
        ba.merge(&acc_of(&cfg, &[won()])).unwrap();
        assert_eq!(ab, both);
        assert_eq!(ba, both);
        // the empty accumulator is the identity
        let mut e = SliceAcc::new(6, 3);
        e.merge(&both).unwrap();
        assert_eq!(e, both);
    }

    #[test]
    fn check_rejects_what_observing_cannot_make() {
        let cfg = FunnelConfig::default();
        let good = acc_of(&cfg, &[won()]);
        let mut short = good.clone();
        short.reached.pop();
        assert!(short.check(&cfg).is_err());
        let mut exits = good.clone();
        exits.exits.push(0);
        assert!(exits.check(&cfg).is_err());
        // a count above the records
        let mut many = good.clone();
        many.won = 2;
        assert!(many.check(&cfg).is_err());
        // a sum above records x 2^53
        let mut rich = good.clone();
        rich.revenue = (1_i128 << 53) + 1;
        assert!(rich.check(&cfg).is_err());
        let mut ok = good;
        ok.revenue = 1_i128 << 53;
        assert!(ok.check(&cfg).is_ok());
    }

    #[test]
    fn checked_sums_report_overflow() {
        let mut x = u64::MAX;
        assert!(matches!(add_u64(&mut x, 1), Err(Error::Overflow { .. })));
        let mut y = i128::MAX;
        assert!(matches!(add_i128(&mut y, 1), Err(Error::Overflow { .. })));
        let mut v = vec![1, u64::MAX];
        assert!(add_vec(&mut v, &[1, 1]).is_err());
        let mut w = vec![1, 2];
        add_vec(&mut w, &[3, 4]).unwrap();
        assert_eq!(w, vec![4, 6]);
        let mut a = SliceAcc::new(6, 3);
        a.records = u64::MAX;
        let mut b = SliceAcc::new(6, 3);
        b.records = 1;
        assert!(a.merge(&b).is_err());
    }
}
