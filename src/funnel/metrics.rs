//! The mergeable funnel partial and the metrics it finishes into.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{CycleStart, Cycles, FunnelConfig, SliceBy, SourceView};
use super::hist::{DAY_MS, DurationHist, DurationStats};
use super::lead::{Lead, Owner};
use super::normalize::{Record, Resolved, RuleCounts, UNSET, normalize};
use super::ratio::Ratio;
use crate::error::{Error, Result};
use crate::money::Currency;

/// Format version of serialized funnel partials.
const FUNNEL_VERSION: u32 = 1;

/// Key of the one slice when metrics are not sliced.
pub const ALL: &str = "(all)";
/// Key of the slice of records with no value for the slicing dimension.
pub const NONE: &str = "(none)";

fn add_u64(a: &mut u64, b: u64) -> Result<()> {
    *a = a.checked_add(b).ok_or(Error::Overflow {
        what: "funnel counts",
    })?;
    Ok(())
}
fn add_i128(a: &mut i128, b: i128) -> Result<()> {
    *a = a.checked_add(b).ok_or(Error::Overflow {
        what: "funnel amounts",
    })?;
    Ok(())
}
fn add_vec(a: &mut [u64], b: &[u64]) -> Result<()> {
    for (x, y) in a.iter_mut().zip(b) {
        add_u64(x, *y)?;
    }
    Ok(())
}

/// Integer sums for one slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SliceAcc {
    records: u64,
    reached: Vec<u64>,
    entered: BTreeMap<i64, Vec<u64>>,
    exits: Vec<u64>,
    stalled: u64,
    open: Vec<u64>,
    open_amount: Vec<i128>,
    closed_reached: Vec<u64>,
    won_reached: Vec<u64>,
    accepted: u64,
    rejections: BTreeMap<String, u64>,
    time_in_stage: Vec<DurationHist>,
    time_to_close: DurationHist,
    sales_cycle: DurationHist,
    opportunities: u64,
    opportunity_amount: i128,
    won: u64,
    lost: u64,
    revenue: i128,
    marketing_won: u64,
    marketing_revenue: i128,
    sales_won: u64,
    sales_revenue: i128,
    influenced_won: u64,
    influenced_revenue: i128,
    influenced_sales_won: u64,
    influenced_sales_revenue: i128,
}

impl SliceAcc {
    fn new(p: usize, x: usize) -> SliceAcc {
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

    fn merge(&mut self, o: &SliceAcc) -> Result<()> {
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
    fn check(&self, config: &FunnelConfig) -> Result<()> {
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
    fn observe(&mut self, cfg: &FunnelConfig, lead: &Lead, r: &Record, amount: i64) {
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

#[derive(Debug, Clone, Default)]
struct Scratch {
    resolved: Vec<Resolved>,
    records: Vec<Record>,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}

/// A mergeable funnel partial: integer counts, minor-unit sums and
/// day-bucket duration histograms per slice (see `MERGEABLE.md`): make one
/// per thread, partition or machine with [`new`](Self::new) (the identity of
/// merge), [`observe`](Self::observe) leads, [`merge`](Self::merge) in any
/// order and [`finish`](Self::finish). Merging two partials over disjoint
/// leads gives exactly the partial of their union.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{FunnelConfig, FunnelPartial, Lead};
///
/// let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
/// let a = Lead::new("a").stage("mql", t("01-02")?).stage("sql", t("01-05")?);
/// let b = Lead::new("b").stage("mql", t("01-03")?);
/// let cfg = FunnelConfig::default();
/// let mut left = FunnelPartial::new(cfg.clone());
/// left.observe(&a)?;
/// let mut right = FunnelPartial::new(cfg);
/// right.observe(&b)?;
/// left.merge(&right)?;
/// let m = left.finish();
/// assert_eq!(m.total().reached("mql")?, 2);
/// assert_eq!(m.total().reached("sql")?, 1);
/// assert_eq!(m.total().reached("inquiry")?, 2); // back-populated
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PartialWire")]
pub struct FunnelPartial {
    version: u32,
    config: FunnelConfig,
    rules: RuleCounts,
    slices: BTreeMap<String, SliceAcc>,
    #[serde(skip)]
    scratch: Scratch,
}

/// The serialized form, checked on deserialization (format version, and
/// every per-stage vector the length of the stages), so a deserialized
/// partial cannot make later calls panic.
#[derive(Deserialize)]
struct PartialWire {
    version: u32,
    config: FunnelConfig,
    rules: RuleCounts,
    slices: BTreeMap<String, SliceAcc>,
}

impl TryFrom<PartialWire> for FunnelPartial {
    type Error = Error;
    fn try_from(w: PartialWire) -> Result<FunnelPartial> {
        if w.version != FUNNEL_VERSION {
            return Err(Error::param(
                "version",
                w.version,
                "a funnel partial of format version 1",
            ));
        }
        for a in w.slices.values() {
            a.check(&w.config)?;
        }
        Ok(FunnelPartial {
            version: w.version,
            config: w.config,
            rules: w.rules,
            slices: w.slices,
            scratch: Scratch::default(),
        })
    }
}

impl FunnelPartial {
    /// An empty partial (the identity of [`merge`](Self::merge)).
    pub fn new(config: FunnelConfig) -> FunnelPartial {
        FunnelPartial {
            version: FUNNEL_VERSION,
            config,
            rules: RuleCounts::default(),
            slices: BTreeMap::new(),
            scratch: Scratch::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FunnelConfig {
        &self.config
    }

    /// The configuration fingerprint, with the format version.
    pub fn fingerprint(&self) -> String {
        format!("v{};{}", self.version, self.config.fingerprint())
    }

    /// Observes one lead: normalizes its stage entries under the documented
    /// rules (counted in [`RuleCounts`]) and adds its record(s). Cost:
    /// O(entries · log entries + touches). On error the partial is unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLead`] for a stage name not in the stages (the error
    /// names the lead and lists the valid stages), an invalid amount, or an out-of-order
    /// entry under [`OutOfOrder::Reject`](super::OutOfOrder::Reject).
    pub fn observe(&mut self, lead: &Lead) -> Result<()> {
        let mut sc = std::mem::take(&mut self.scratch);
        let mut rules = RuleCounts::default();
        let res = normalize(
            lead,
            &self.config,
            &mut sc.resolved,
            &mut sc.records,
            &mut rules,
        );
        let amount = match res {
            Ok(a) => a,
            Err(e) => {
                self.scratch = sc;
                return Err(e);
            }
        };
        // Every count and sum of a slice is bounded by its record count
        // (checked when a partial is read), so only that count can overflow:
        // check it for every slice this lead adds to before changing anything.
        let n = u64::try_from(sc.records.len()).unwrap_or(u64::MAX);
        let full = sc.records.iter().any(|r| {
            let key = slice_key(&self.config, lead, r);
            self.slices
                .get(key.as_ref())
                .is_some_and(|a| a.records.checked_add(n).is_none())
        });
        let merged = if full {
            Err(Error::Overflow {
                what: "funnel records",
            })
        } else {
            self.rules.merge(&rules)
        };
        if let Err(e) = merged {
            self.scratch = sc;
            return Err(e);
        }
        let cfg = &self.config;
        let (p, x) = (cfg.stages.len(), cfg.stages.exits().len());
        for r in &sc.records {
            let key = slice_key(cfg, lead, r);
            let acc = match self.slices.get_mut(key.as_ref()) {
                Some(a) => a,
                None => self
                    .slices
                    .entry(key.into_owned())
                    .or_insert_with(|| SliceAcc::new(p, x)),
            };
            acc.observe(cfg, lead, r, amount);
        }
        self.scratch = sc;
        Ok(())
    }

    /// Adds `other`'s sums into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] when the configurations (or format
    /// versions) differ; [`Error::Overflow`] when a sum overflows (then
    /// `self` may be partly merged: discard it).
    pub fn merge(&mut self, other: &FunnelPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        self.rules.merge(&other.rules)?;
        let (p, x) = (self.config.stages.len(), self.config.stages.exits().len());
        for (k, v) in &other.slices {
            self.slices
                .entry(k.clone())
                .or_insert_with(|| SliceAcc::new(p, x))
                .merge(v)?;
        }
        Ok(())
    }

    /// An estimate of the bytes the partial holds.
    pub fn size_bytes(&self) -> usize {
        let per = |a: &SliceAcc| {
            std::mem::size_of::<SliceAcc>()
                + a.entered.len() * (16 + 8 * a.reached.len())
                + a.rejections.keys().map(|k| k.len() + 32).sum::<usize>()
                + a.reached.len() * 64
        };
        std::mem::size_of::<FunnelPartial>()
            + self
                .slices
                .iter()
                .map(|(k, a)| k.len() + per(a))
                .sum::<usize>()
    }

    /// The metrics: slices sorted by key, and their total (the slices
    /// summed; see [`FunnelMetrics::total_overflowed`]).
    pub fn finish(&self) -> FunnelMetrics {
        let cfg = &self.config;
        let (p, x) = (cfg.stages.len(), cfg.stages.exits().len());
        let mut total = SliceAcc::new(p, x);
        let mut overflow = false;
        for a in self.slices.values() {
            overflow |= total.merge(a).is_err();
        }
        let mk = |key: &str, acc: SliceAcc| SliceMetrics {
            key: key.to_owned(),
            acc,
            config: cfg.clone(),
        };
        FunnelMetrics {
            rules: self.rules,
            total: mk(ALL, total),
            slices: self.slices.iter().map(|(k, a)| mk(k, a.clone())).collect(),
            total_overflowed: overflow,
            config: cfg.clone(),
        }
    }
}

fn slice_key<'a>(cfg: &FunnelConfig, lead: &'a Lead, r: &Record) -> Cow<'a, str> {
    let touch = match cfg.source {
        SourceView::Original => lead.touches().first(),
        SourceView::CycleFirstTouch => r.first_touch.map(|i| &lead.touches()[i]),
    };
    let opt = |o: Option<&'a str>| Cow::Borrowed(o.unwrap_or(NONE));
    match cfg.slice {
        SliceBy::Total => Cow::Borrowed(ALL),
        SliceBy::Channel => opt(touch.map(|t| t.channel.as_str())),
        SliceBy::Campaign => opt(touch.and_then(|t| t.campaign.as_deref())),
        SliceBy::Content => opt(touch.and_then(|t| t.content.as_deref())),
        SliceBy::Segment => opt(lead.segment()),
        SliceBy::Owner => Cow::Borrowed(lead.owner().as_str()),
        SliceBy::Period => Cow::Owned(cfg.period.label_of(r.created)),
    }
}

/// Runs leads through one [`FunnelPartial`] and finishes it.
///
/// # Errors
///
/// As [`FunnelPartial::observe`], for the first lead that fails.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{funnel, FunnelConfig, Lead};
///
/// let t = "2024-01-02T00:00:00Z".parse()?;
/// let leads = [Lead::new("a").stage("sql", t), Lead::new("b").stage("inquiry", t)];
/// let m = funnel(FunnelConfig::default(), &leads)?;
/// assert_eq!(m.total().reached("mql")?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn funnel<'a>(
    config: FunnelConfig,
    leads: impl IntoIterator<Item = &'a Lead>,
) -> Result<FunnelMetrics> {
    let mut p = FunnelPartial::new(config);
    for l in leads {
        p.observe(l)?;
    }
    Ok(p.finish())
}

/// Finished funnel metrics: one [`SliceMetrics`] per slice key (sorted) and
/// their total, plus the rule counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelMetrics {
    config: FunnelConfig,
    rules: RuleCounts,
    total: SliceMetrics,
    slices: Vec<SliceMetrics>,
    total_overflowed: bool,
}

impl FunnelMetrics {
    /// The configuration.
    pub fn config(&self) -> &FunnelConfig {
        &self.config
    }
    /// What the normalization rules changed.
    pub fn rules(&self) -> &RuleCounts {
        &self.rules
    }
    /// The total over all slices.
    pub fn total(&self) -> &SliceMetrics {
        &self.total
    }
    /// The slices, sorted by key.
    pub fn slices(&self) -> &[SliceMetrics] {
        &self.slices
    }
    /// The slice with key `key`.
    pub fn slice(&self, key: &str) -> Option<&SliceMetrics> {
        self.slices
            .binary_search_by(|s| s.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.slices[i])
    }
    /// Whether summing the slices into the total overflowed (the total is
    /// then incomplete; never happens below 2^64 records).
    pub fn total_overflowed(&self) -> bool {
        self.total_overflowed
    }
}

/// A stage and how many records reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCount {
    /// The stage.
    pub stage: String,
    /// Records that reached it.
    pub count: u64,
}

/// A conversion rate from one stage to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// From stage.
    pub from: String,
    /// To stage.
    pub to: String,
    /// Count at the from stage.
    pub from_count: u64,
    /// Count at the to stage.
    pub to_count: u64,
    /// `to_count / from_count`.
    pub rate: Ratio,
}

/// Stage entries that happened in one period, and the period-view rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodConversions {
    /// The period's label (e.g. `2024-03`).
    pub period: String,
    /// Stage entries in the period, per progression stage.
    pub entries: Vec<StageCount>,
    /// Entries into the next stage / entries into this stage, in the period.
    pub conversions: Vec<Conversion>,
}

/// MQL -> SQL acceptance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Records that reached the MQL stage.
    pub mqls: u64,
    /// Of those, how many reached the SQL stage.
    pub accepted: u64,
    /// Of those, how many exited (or stalled) before SQL.
    pub rejected: u64,
    /// Still open between MQL and SQL: `mqls - accepted - rejected`.
    pub pending: u64,
    /// `accepted / mqls`.
    pub rate: Ratio,
    /// Rejections by reason (the exit entry's reason, else the exit
    /// stage's name; `(stalled)` for SLA close-outs), sorted by reason.
    pub reasons: Vec<(String, u64)>,
}

/// How win rate is defined for pipeline velocity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WinRate {
    /// Won / closed (won + lost) opportunities. The default.
    #[default]
    WonOverClosed,
    /// Won / all opportunities (open ones included).
    WonOverAll,
}

/// Pipeline velocity and its four inputs.
///
/// `per_day = opportunities × win_rate × average_deal / average_cycle_days`.
/// Opportunities are the records that reached the opportunity stage (or
/// won); lost opportunities are those that exited (any exit); the average
/// deal is revenue won / deals won; the average cycle is the mean sales
/// cycle of won deals (see [`CycleStart`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Velocity {
    /// Opportunities.
    pub opportunities: u64,
    /// Won.
    pub won: u64,
    /// Lost (exited).
    pub lost: u64,
    /// The win-rate definition used.
    pub win_rate_definition: WinRate,
    /// Win rate.
    pub win_rate: Ratio,
    /// Average won deal size, major units.
    pub average_deal: Ratio,
    /// Average sales cycle of won deals, days.
    pub average_cycle_days: Ratio,
    /// Revenue per day moving through the pipeline, major units.
    pub per_day: Ratio,
}

/// Pipeline velocity from its four inputs:
/// `opportunities × win_rate × average_deal / cycle_days`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] for a negative or non-finite input, a win
/// rate above 1, or a cycle of 0 days.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::pipeline_velocity;
///
/// let v = pipeline_velocity(100.0, 0.25, 50_000.0, 60.0)?;
/// assert_eq!(format!("{v:.2}"), "20833.33");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pipeline_velocity(
    opportunities: f64,
    win_rate: f64,
    average_deal: f64,
    cycle_days: f64,
) -> Result<f64> {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    if !ok(opportunities) {
        return Err(Error::param(
            "opportunities",
            opportunities,
            "finite and >= 0",
        ));
    }
    if !ok(win_rate) || win_rate > 1.0 {
        return Err(Error::param("win_rate", win_rate, "between 0 and 1"));
    }
    if !ok(average_deal) {
        return Err(Error::param(
            "average_deal",
            average_deal,
            "finite and >= 0",
        ));
    }
    if !ok(cycle_days) || cycle_days == 0.0 {
        return Err(Error::param("cycle_days", cycle_days, "finite and > 0"));
    }
    Ok(opportunities * win_rate * average_deal / cycle_days)
}

/// Stage probabilities for the weighted pipeline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum StageProbabilities {
    /// Learned from history: among closed records (won, exited or stalled)
    /// that reached the stage, the share that won. The default.
    #[default]
    Learned,
    /// Given per stage name (stages not listed have an undefined probability).
    Given(Vec<(String, f64)>),
}

/// Open pipeline of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineStage {
    /// The stage (the highest reached by the open records counted here).
    pub stage: String,
    /// Open records currently at the stage.
    pub count: u64,
    /// Their amount, minor units.
    pub amount_minor: i128,
    /// The stage's probability of winning.
    pub probability: Ratio,
    /// `amount × probability`, major units (undefined with the probability).
    pub weighted: Ratio,
}

/// Open and weighted pipeline by stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// One line per progression stage before the win.
    pub stages: Vec<PipelineStage>,
    /// Total open amount, minor units.
    pub open_minor: i128,
    /// Total weighted amount over stages with a defined probability, major units.
    pub weighted: f64,
    /// Open amount at stages whose probability is undefined, minor units.
    pub unweighted_minor: i128,
}

/// Won revenue split by who sourced it, and marketing influence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueSplit {
    /// The currency of the amounts.
    pub currency: Currency,
    /// Deals won.
    pub won: u64,
    /// Revenue won, minor units (= marketing + sales sourced).
    pub revenue_minor: i128,
    /// Deals won that marketing sourced.
    pub marketing_sourced_won: u64,
    /// Revenue marketing sourced, minor units.
    pub marketing_sourced_minor: i128,
    /// Deals won that sales sourced.
    pub sales_sourced_won: u64,
    /// Revenue sales sourced, minor units.
    pub sales_sourced_minor: i128,
    /// Deals won with a marketing touch (a channel not listed as a sales
    /// channel) in the record's window at or before the opportunity was
    /// created, whoever sourced them.
    pub influenced_won: u64,
    /// Their revenue, minor units.
    pub influenced_minor: i128,
    /// Sales-sourced deals won that marketing influenced.
    pub influenced_sales_sourced_won: u64,
    /// Their revenue, minor units.
    pub influenced_sales_sourced_minor: i128,
}

impl RevenueSplit {
    /// Marketing-sourced share of revenue won.
    pub fn marketing_share(&self) -> Ratio {
        #[expect(clippy::cast_precision_loss, reason = "ratio")]
        Ratio::of(
            self.marketing_sourced_minor as f64,
            self.revenue_minor as f64,
        )
    }
    /// Share of revenue won that marketing sourced or influenced.
    pub fn marketing_touched_share(&self) -> Ratio {
        #[expect(clippy::cast_precision_loss, reason = "ratio")]
        Ratio::of(
            self.marketing_sourced_minor as f64 + self.influenced_sales_sourced_minor as f64,
            self.revenue_minor as f64,
        )
    }
}

/// Lead-to-revenue for one slice (slice by channel for revenue per lead
/// source, by campaign for revenue per campaign).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadToRevenue {
    /// Records (leads, or cycles in the cycle view).
    pub leads: u64,
    /// Records that reached MQL.
    pub mqls: u64,
    /// Deals won.
    pub won: u64,
    /// Revenue won, minor units.
    pub revenue_minor: i128,
    /// Revenue won per lead, major units.
    pub revenue_per_lead: Ratio,
    /// Revenue won per MQL, major units.
    pub revenue_per_mql: Ratio,
    /// Won / leads.
    pub lead_to_win: Ratio,
}

/// The metrics of one slice.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{funnel, FunnelConfig, Lead, Ratio, StageProbabilities, WinRate};
///
/// let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
/// let leads = [
///     Lead::new("a").with_amount(1000.0)
///         .stage("mql", t("01-01")?).stage("sql", t("01-03")?)
///         .stage("opportunity", t("01-05")?).stage("closed_won", t("01-25")?),
///     Lead::new("b").stage("mql", t("01-02")?)
///         .stage_with_reason("disqualified", t("01-04")?, "no budget"),
///     Lead::new("c").with_amount(500.0)
///         .stage("mql", t("01-02")?).stage("sql", t("01-04")?)
///         .stage("opportunity", t("01-06")?),
/// ];
/// let m = funnel(FunnelConfig::default(), &leads)?;
/// let s = m.total();
/// let a = s.acceptance();
/// assert_eq!((a.mqls, a.accepted, a.rejected), (3, 2, 1));
/// assert_eq!(a.reasons, vec![("no budget".to_string(), 1)]);
/// // each lead spent 2 days as an MQL (a and c until SAL, back-populated at SQL)
/// assert_eq!(s.time_in_stage("mql")?.median_days, Some(2.0));
/// // 2 opportunities x 100% (1 won of 1 closed) x $1,000 / 20 days
/// assert_eq!(s.velocity(WinRate::WonOverClosed).per_day, Ratio::Defined(100.0));
/// // c is open at the opportunity stage; every closed opportunity won
/// let p = s.pipeline(&StageProbabilities::Learned)?;
/// assert_eq!((p.open_minor, p.weighted), (50_000, 500.0));
/// assert_eq!(s.revenue().marketing_share(), Ratio::Defined(1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SliceMetricsWire")]
pub struct SliceMetrics {
    key: String,
    acc: SliceAcc,
    config: FunnelConfig,
}

/// The serialized form of [`SliceMetrics`], checked as a partial's slices
/// are when read (its accessors index the sums by stage).
#[derive(Deserialize)]
struct SliceMetricsWire {
    key: String,
    acc: SliceAcc,
    config: FunnelConfig,
}

impl TryFrom<SliceMetricsWire> for SliceMetrics {
    type Error = Error;
    fn try_from(w: SliceMetricsWire) -> Result<SliceMetrics> {
        w.acc.check(&w.config)?;
        Ok(SliceMetrics {
            key: w.key,
            acc: w.acc,
            config: w.config,
        })
    }
}

#[expect(clippy::cast_precision_loss, reason = "ratios and display values")]
impl SliceMetrics {
    fn names(&self) -> &[String] {
        self.config.stages.progression()
    }
    fn major(&self, minor: i128) -> f64 {
        self.config.currency.to_major_wide(minor)
    }

    /// The slice key (`(all)` for the total).
    pub fn key(&self) -> &str {
        &self.key
    }
    /// Records in the slice.
    pub fn records(&self) -> u64 {
        self.acc.records
    }
    /// Records that reached `stage` (cohort view: of the records in the
    /// slice, how many ever reached it).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] when `stage` is not a progression stage.
    pub fn reached(&self, stage: &str) -> Result<u64> {
        Ok(self.acc.reached[self.config.stages.index(stage)?])
    }
    /// Counts per progression stage, in funnel order.
    pub fn stage_counts(&self) -> Vec<StageCount> {
        self.names()
            .iter()
            .zip(&self.acc.reached)
            .map(|(s, c)| StageCount {
                stage: s.clone(),
                count: *c,
            })
            .collect()
    }
    /// Records that ended on each exit stage.
    pub fn exit_counts(&self) -> Vec<StageCount> {
        self.config
            .stages
            .exits()
            .iter()
            .zip(&self.acc.exits)
            .map(|(s, c)| StageCount {
                stage: s.clone(),
                count: *c,
            })
            .collect()
    }
    /// Records closed out by the SLA.
    pub fn stalled(&self) -> u64 {
        self.acc.stalled
    }

    fn conversions(names: &[String], counts: &[u64]) -> Vec<Conversion> {
        names
            .windows(2)
            .zip(counts.windows(2))
            .map(|(n, c)| Conversion {
                from: n[0].clone(),
                to: n[1].clone(),
                from_count: c[0],
                to_count: c[1],
                rate: Ratio::of(c[1] as f64, c[0] as f64),
            })
            .collect()
    }

    /// Cohort view: stage-to-stage conversion rates of the records in the
    /// slice (reached next / reached this), in funnel order.
    pub fn cohort_conversions(&self) -> Vec<Conversion> {
        Self::conversions(self.names(), &self.acc.reached)
    }

    /// Cohort conversion rate between any two progression stages.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for an unknown stage.
    pub fn cohort_rate(&self, from: &str, to: &str) -> Result<Ratio> {
        let (a, b) = (self.reached(from)?, self.reached(to)?);
        Ok(Ratio::of(b as f64, a as f64))
    }

    /// Period view: per period (sorted), stage entries that happened in it
    /// and the ratio of entries into each next stage to entries into the
    /// stage. Back-populated entries count in the period of their date.
    pub fn period_conversions(&self) -> Vec<PeriodConversions> {
        let names = self.names();
        self.acc
            .entered
            .iter()
            .map(|(k, v)| PeriodConversions {
                period: self.config.period.label(*k),
                entries: names
                    .iter()
                    .zip(v)
                    .map(|(s, c)| StageCount {
                        stage: s.clone(),
                        count: *c,
                    })
                    .collect(),
                conversions: Self::conversions(names, v),
            })
            .collect()
    }

    /// MQL -> SQL acceptance, with rejection reasons.
    pub fn acceptance(&self) -> Acceptance {
        let mqls = self.acc.reached[self.config.stages.mql_index()];
        let rejected = (self.acc.rejections.values()).fold(0_u64, |s, &v| s.saturating_add(v));
        Acceptance {
            mqls,
            accepted: self.acc.accepted,
            rejected,
            pending: mqls.saturating_sub(self.acc.accepted.saturating_add(rejected)),
            rate: Ratio::of(self.acc.accepted as f64, mqls as f64),
            reasons: self
                .acc
                .rejections
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }

    /// Time in `stage`: from entering it to entering the next reached stage
    /// (or exiting, or being closed out by the SLA), for records that left
    /// it. Back-populated stages have time 0.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for an unknown stage.
    pub fn time_in_stage(&self, stage: &str) -> Result<DurationStats> {
        Ok(self.acc.time_in_stage[self.config.stages.index(stage)?].stats())
    }
    /// Time to close: from the record's creation to the win or the loss of
    /// its opportunity.
    pub fn time_to_close(&self) -> DurationStats {
        self.acc.time_to_close.stats()
    }
    /// Sales cycle of won deals (see [`CycleStart`]).
    pub fn sales_cycle(&self) -> DurationStats {
        self.acc.sales_cycle.stats()
    }

    /// Pipeline velocity and its inputs.
    pub fn velocity(&self, win_rate: WinRate) -> Velocity {
        let a = &self.acc;
        let wr = match win_rate {
            WinRate::WonOverClosed => Ratio::of(a.won as f64, a.won as f64 + a.lost as f64),
            WinRate::WonOverAll => Ratio::of(a.won as f64, a.opportunities as f64),
        };
        let deal = Ratio::of(self.major(a.revenue), a.won as f64);
        let cycle = match self.sales_cycle().mean_days {
            Some(d) => Ratio::of(d, 1.0),
            None => Ratio::Undefined,
        };
        let per_day = match (wr, deal, cycle) {
            (Ratio::Defined(w), Ratio::Defined(d), Ratio::Defined(c)) => {
                Ratio::of(a.opportunities as f64 * w * d, c)
            }
            _ => Ratio::Undefined,
        };
        Velocity {
            opportunities: a.opportunities,
            won: a.won,
            lost: a.lost,
            win_rate_definition: win_rate,
            win_rate: wr,
            average_deal: deal,
            average_cycle_days: cycle,
            per_day,
        }
    }

    /// Open pipeline by stage (records neither won, exited nor stalled, at
    /// their highest stage) and weighted pipeline.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for a given probability of an unknown stage;
    /// [`Error::InvalidParameter`] for a probability outside `[0, 1]`.
    pub fn pipeline(&self, probabilities: &StageProbabilities) -> Result<Pipeline> {
        let st = &self.config.stages;
        let mut probs: Vec<Ratio> = match probabilities {
            StageProbabilities::Learned => self
                .acc
                .won_reached
                .iter()
                .zip(&self.acc.closed_reached)
                .map(|(w, c)| Ratio::of(*w as f64, *c as f64))
                .collect(),
            StageProbabilities::Given(_) => vec![Ratio::Undefined; st.len()],
        };
        if let StageProbabilities::Given(g) = probabilities {
            for (name, p) in g {
                if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                    return Err(Error::param("probability", p, "between 0 and 1"));
                }
                probs[st.index(name)?] = Ratio::Defined(*p);
            }
        }
        let mut out = Pipeline {
            stages: Vec::new(),
            open_minor: 0,
            weighted: 0.0,
            unweighted_minor: 0,
        };
        for (s, prob) in probs.iter().enumerate().take(st.won_index()) {
            let amount = self.acc.open_amount[s];
            let w = prob.map(|p| p * self.major(amount));
            out.open_minor += amount;
            match w {
                Ratio::Defined(x) => out.weighted += x,
                Ratio::Undefined => out.unweighted_minor += amount,
            }
            out.stages.push(PipelineStage {
                stage: st.progression()[s].clone(),
                count: self.acc.open[s],
                amount_minor: amount,
                probability: *prob,
                weighted: w,
            });
        }
        Ok(out)
    }

    /// Revenue won: marketing-sourced, sales-sourced, marketing-influenced.
    pub fn revenue(&self) -> RevenueSplit {
        let a = &self.acc;
        RevenueSplit {
            currency: self.config.currency,
            won: a.won,
            revenue_minor: a.revenue,
            marketing_sourced_won: a.marketing_won,
            marketing_sourced_minor: a.marketing_revenue,
            sales_sourced_won: a.sales_won,
            sales_sourced_minor: a.sales_revenue,
            influenced_won: a.influenced_won,
            influenced_minor: a.influenced_revenue,
            influenced_sales_sourced_won: a.influenced_sales_won,
            influenced_sales_sourced_minor: a.influenced_sales_revenue,
        }
    }

    /// Lead-to-revenue.
    pub fn lead_to_revenue(&self) -> LeadToRevenue {
        let a = &self.acc;
        let mqls = a.reached[self.config.stages.mql_index()];
        let rev = self.major(a.revenue);
        LeadToRevenue {
            leads: a.records,
            mqls,
            won: a.won,
            revenue_minor: a.revenue,
            revenue_per_lead: Ratio::of(rev, a.records as f64),
            revenue_per_mql: Ratio::of(rev, mqls as f64),
            lead_to_win: Ratio::of(a.won as f64, a.records as f64),
        }
    }

    /// Opportunities (records that reached the opportunity stage or won).
    pub fn opportunities(&self) -> u64 {
        self.acc.opportunities
    }
    /// Total amount of all opportunities (open, won and lost), minor units.
    pub fn opportunity_amount_minor(&self) -> i128 {
        self.acc.opportunity_amount
    }
}
