//! From a lead's raw stage entries to clean funnel records (one per lead,
//! or one per cycle), applying the documented rules and counting each
//! change in [`RuleCounts`].

use serde::{Deserialize, Serialize};

use super::config::{Backfill, Cycles, FunnelConfig, OutOfOrder};
use super::hist::DAY_MS;
use super::lead::Lead;
use super::stage::{MAX_STAGES, StageRef};
use crate::error::{Error, Result};

/// "Stage not reached".
pub(crate) const UNSET: i64 = i64::MIN;

/// One funnel record: a lead (lifetime view) or one cycle of a lead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// Entry time per progression stage (Unix ms), `UNSET` when not reached.
    pub ts: [i64; MAX_STAGES],
    /// Highest progression stage reached.
    pub max: usize,
    /// The exit that ended the record: (exit index, time, index of the
    /// entry in the lead's entries, for its reason).
    pub exit: Option<(usize, i64, usize)>,
    /// Closed out by the SLA (no progress for longer than the SLA as of
    /// the configured date).
    pub stalled: bool,
    /// Earliest stage entry.
    pub created: i64,
    /// Latest entry.
    pub last: i64,
    /// Index of the first touch of the record's window in the lead's touches.
    pub touch_start: usize,
    /// The record's first touch (its source in the cycle view).
    pub first_touch: Option<usize>,
}

impl Record {
    fn new() -> Record {
        Record {
            ts: [UNSET; MAX_STAGES],
            max: 0,
            exit: None,
            stalled: false,
            created: i64::MAX,
            last: i64::MIN,
            touch_start: 0,
            first_touch: None,
        }
    }
    #[inline]
    pub(crate) fn reached(&self, s: usize) -> bool {
        self.ts[s] != UNSET
    }
}

/// How many times each normalization rule changed the data. Nothing is
/// dropped without a count here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounts {
    /// Leads observed.
    pub leads: u64,
    /// Leads with no stage entry (not in the funnel).
    pub leads_without_entries: u64,
    /// Funnel records (leads in the lifetime view, cycles in the cycle view).
    pub records: u64,
    /// Extra cycles started by a comeback (cycle view only).
    pub cycles_split: u64,
    /// Repeated entries of a stage already reached in the same record:
    /// the earliest is kept, later ones dropped.
    pub duplicates_dropped: u64,
    /// Stage entries dated after a later stage of the same record (SQL
    /// dated before MQL): re-dated to the earliest later stage's time.
    pub reordered: u64,
    /// Skipped stages back-populated (dated at the next reached stage).
    pub backfilled: u64,
    /// Exits superseded by a later entry (progress after recycling in the
    /// lifetime view, or a second exit).
    pub superseded_exits: u64,
    /// Lifetime view: entries of a comeback (after a superseded exit) into
    /// stages below the highest stage already reached, and not reached
    /// before. They are folded into the lifetime record (the stage counts
    /// once, back-populated) instead of being treated as out of order.
    pub comeback_entries_folded: u64,
    /// Exit entries after the win (ignored).
    pub exits_after_close: u64,
    /// Exit entries with no progression stage before them in their record (ignored).
    pub exits_without_stage: u64,
    /// Open records closed out by the SLA as of the configured date.
    pub stalled: u64,
    /// Records with no touch in their window (source `(none)`).
    pub records_without_touch: u64,
    /// Won records with no amount (counted with revenue 0).
    pub won_without_amount: u64,
}

impl RuleCounts {
    pub(crate) fn merge(&mut self, o: &RuleCounts) -> Result<()> {
        let f = [
            (&mut self.leads, o.leads),
            (&mut self.leads_without_entries, o.leads_without_entries),
            (&mut self.records, o.records),
            (&mut self.cycles_split, o.cycles_split),
            (&mut self.duplicates_dropped, o.duplicates_dropped),
            (&mut self.reordered, o.reordered),
            (&mut self.backfilled, o.backfilled),
            (&mut self.superseded_exits, o.superseded_exits),
            (&mut self.comeback_entries_folded, o.comeback_entries_folded),
            (&mut self.exits_after_close, o.exits_after_close),
            (&mut self.exits_without_stage, o.exits_without_stage),
            (&mut self.stalled, o.stalled),
            (&mut self.records_without_touch, o.records_without_touch),
            (&mut self.won_without_amount, o.won_without_amount),
        ];
        for (a, b) in f {
            *a = a.checked_add(b).ok_or(Error::Overflow {
                what: "rule counts",
            })?;
        }
        Ok(())
    }
}

/// A resolved entry: time, kind (0 progression, 1 exit), stage index,
/// index in the lead's entries.
pub(crate) type Resolved = (i64, u8, u8, u32);

/// Validates and normalizes one lead into `out`; returns the amount in
/// minor units. On error nothing is counted.
pub(crate) fn normalize(
    lead: &Lead,
    cfg: &FunnelConfig,
    scratch: &mut Vec<Resolved>,
    out: &mut Vec<Record>,
    counts: &mut RuleCounts,
) -> Result<i64> {
    out.clear();
    scratch.clear();
    let amount = match lead.amount() {
        Some(a) => cfg
            .currency
            .to_minor(a)?
            .ok_or_else(|| Error::InvalidLead {
                lead: lead.id().to_owned(),
                reason: format!(
                    "amount {a} is not a finite amount >= 0 (at most 2^53 minor units)"
                ),
            })?,
        None => 0,
    };
    let stages = &cfg.stages;
    for (i, e) in lead.entries().iter().enumerate() {
        let ts = e.at.timestamp_millis();
        #[expect(clippy::cast_possible_truncation, reason = "at most 16 stages")]
        match stages.find(&e.stage) {
            Some(StageRef::Progress(p)) => scratch.push((ts, 0, p as u8, i as u32)),
            Some(StageRef::Exit(x)) => scratch.push((ts, 1, x as u8, i as u32)),
            None => {
                return Err(Error::InvalidLead {
                    lead: lead.id().to_owned(),
                    reason: format!(
                        "unknown stage {:?} (valid stages: {}; exits: {})",
                        e.stage,
                        stages.progression().join(", "),
                        stages.exits().join(", ")
                    ),
                });
            }
        }
    }
    let mut c = RuleCounts {
        leads: 1,
        ..RuleCounts::default()
    };
    if scratch.is_empty() {
        c.leads_without_entries = 1;
        counts.merge(&c)?;
        return Ok(amount);
    }
    if !scratch.is_sorted() {
        scratch.sort_unstable();
    }
    let sla = match cfg.cycles {
        Cycles::Sla { days } => Some(i64::from(days) * DAY_MS),
        Cycles::Lifetime => None,
    };
    let won = stages.won_index();
    let opp = stages.opportunity_index();
    let mut cur = Record::new();
    let mut started = false;
    let mut comeback = false;
    for &(ts, kind, idx, orig) in scratch.iter() {
        let idx = usize::from(idx);
        if kind == 0 {
            if started && let Some(sla) = sla {
                let closed = cur.reached(won) || cur.exit.is_some();
                let lead_stage = cur.max < opp;
                if closed || (lead_stage && ts - cur.last > sla) {
                    out.push(cur);
                    c.cycles_split += 1;
                    cur = Record::new();
                    started = false;
                    comeback = false;
                }
            }
            if cur.exit.is_some() {
                c.superseded_exits += 1;
                cur.exit = None;
                comeback = true;
            }
            if cur.reached(idx) {
                c.duplicates_dropped += 1;
                continue;
            }
            if comeback && cur.max > idx {
                // lifetime view: a comeback's entries below the stage the lead
                // already reached are part of its history, not out of order
                c.comeback_entries_folded += 1;
                continue;
            }
            comeback = false;
            if started && cur.max > idx {
                if cfg.out_of_order == OutOfOrder::Reject {
                    return Err(Error::InvalidLead {
                        lead: lead.id().to_owned(),
                        reason: format!(
                            "stage {:?} entered after the later stage {:?}",
                            stages.progression()[idx],
                            stages.progression()[cur.max]
                        ),
                    });
                }
                let earliest = (idx + 1..=cur.max)
                    .map(|q| cur.ts[q])
                    .filter(|&t| t != UNSET)
                    .min()
                    .unwrap_or(ts);
                cur.ts[idx] = earliest.min(ts);
                c.reordered += 1;
            } else {
                cur.ts[idx] = ts;
                cur.max = idx;
            }
            started = true;
            cur.last = cur.last.max(ts);
        } else {
            if !started {
                c.exits_without_stage += 1;
                continue;
            }
            if cur.reached(won) {
                c.exits_after_close += 1;
                continue;
            }
            if cur.exit.is_some() {
                c.superseded_exits += 1;
            }
            cur.exit = Some((idx, ts, orig as usize));
            cur.last = cur.last.max(ts);
        }
    }
    if started {
        out.push(cur);
    }
    let touches = lead.touches();
    let mut prev_last: Option<i64> = None;
    for r in out.iter_mut() {
        if cfg.backfill == Backfill::Skipped {
            let mut carry = r.ts[r.max];
            for s in (0..r.max).rev() {
                if r.ts[s] == UNSET {
                    r.ts[s] = carry;
                    c.backfilled += 1;
                } else {
                    carry = r.ts[s];
                }
            }
        }
        r.created = r.ts[..=r.max]
            .iter()
            .copied()
            .filter(|&t| t != UNSET)
            .min()
            .unwrap_or(r.last);
        if let (Some(sla), Some(as_of)) = (sla, cfg.as_of)
            && !r.reached(won)
            && r.exit.is_none()
            && r.max < opp
            && as_of - r.last > sla
        {
            r.stalled = true;
            c.stalled += 1;
        }
        r.touch_start = match prev_last {
            None => 0,
            Some(p) => touches.partition_point(|t| t.ts.timestamp_millis() <= p),
        };
        r.first_touch = match prev_last {
            None => (!touches.is_empty()).then_some(0),
            Some(_) => (r.touch_start < touches.len()
                && touches[r.touch_start].ts.timestamp_millis() <= r.last)
                .then_some(r.touch_start),
        };
        if r.first_touch.is_none() {
            c.records_without_touch += 1;
        }
        if r.reached(won) && lead.amount().is_none() {
            c.won_without_amount += 1;
        }
        prev_last = Some(r.last);
    }
    c.records = out.len() as u64;
    counts.merge(&c)?;
    Ok(amount)
}
