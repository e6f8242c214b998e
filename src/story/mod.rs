//! What the numbers say, in order: typed findings from the crate's reports,
//! and a separate English renderer.
//!
//! A [`StoryInput`] gathers reports the crate already computes: attribution
//! [`Report`]s under several models, bootstrap [`Bootstrap`] intervals,
//! [`Incremental`] effects with their intervals, [`FunnelMetrics`] (and a
//! previous period's, for movement), a [`RoiReport`] and an
//! [`AuditReport`]. [`StoryInput::findings`] turns them into an ordered list
//! of [`Finding`]s: each a typed value with its figures in their units
//! ([`Money`] carries its currency), the [`Basis`] it rests on (the
//! comparison), and a [`Certainty`] read off the intervals. Nothing here
//! prints; [`english`] renders a finding as one sentence, and a caller can
//! render another language or format from the same values.
//!
//! # Order and rules
//!
//! 1. **What drove revenue**: the top three channels, the top campaign and
//!    the top content asset of the main report (the first given), by
//!    credited revenue, with their share of revenue; with bootstrap
//!    intervals, the channel's interval on credited revenue and whether it
//!    is clearly ahead of the next one (intervals disjoint) or not.
//! 2. **Where the models disagree**: for each channel, its share of
//!    conversions under each position-based report against its share of
//!    incremental conversions. A gap is reported when the two differ by at
//!    least [`MIN_GAP`] (absolute) and by a factor of at least
//!    [`MIN_FACTOR`]; with intervals on the incremental shares, only when
//!    the position share lies outside the interval ([`Certainty::Clear`]);
//!    without, as [`Certainty::PointEstimate`]. One finding per channel
//!    and direction, listing the models.
//! 3. **Funnel**: the stage-to-stage conversion with the lowest rate
//!    against the median of the others; MQL -> SQL acceptance and the
//!    leading rejection reason; time to close; pipeline velocity with its
//!    four inputs and, given a previous period, how each moved.
//! 4. **Money**: the channel with the highest and the lowest defined ROI,
//!    the channels whose ROI is undefined (no spend), and moving
//!    [`BUDGET_SHARE`] of the laggard's spend (at most the leader's own
//!    spend) to the leader, with the assumption it rests on
//!    ([`BUDGET_ASSUMPTION`](crate::roi::BUDGET_ASSUMPTION)).
//! 5. **Data caveats**: every audit finding of severity warning or
//!    blocking, or a note that the audit found none.
//!
//! Sentences never claim more than the intervals allow: "clearly ahead"
//! only with disjoint intervals; "level with" when they overlap; without
//! intervals, "credited" (what the model says) rather than "drove".
//!
//! # Example
//!
//! ```
//! use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::Linear};
//! use touchpoint::story::{english, Finding, StoryInput};
//!
//! let t = "2025-01-06T09:00:00Z".parse()?;
//! let js = [
//!     SimpleJourney::new("a").touch(SimpleTouch::new("webinar", t)).converted(3000.0),
//!     SimpleJourney::new("b").touch(SimpleTouch::new("email", t)).converted(1000.0),
//! ];
//! let report = attribute(&Linear, &JourneySet::from_journeys(&js)?)?;
//! let findings = StoryInput::new(&report).findings()?;
//! assert!(matches!(&findings[0], Finding::Driver { name, .. } if name == "webinar"));
//! assert_eq!(
//!     english(&findings[0], "$"),
//!     "webinar is credited $3,000.00, 75.0% of revenue under linear (no interval computed).",
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod english;

use serde::{Deserialize, Serialize};

use crate::audit::{AuditReport, Check, Severity};
use crate::bootstrap::Bootstrap;
use crate::credit::{Breakdown, Report};
use crate::error::{Error, Result};
use crate::funnel::{FunnelMetrics, Ratio, WinRate};
use crate::incremental::Incremental;
use crate::money::Currency;
use crate::roi::RoiReport;

pub use self::english::{english, format_money};

/// The smallest absolute gap in share of conversions (0.05 = 5 points)
/// reported as a disagreement between models.
pub const MIN_GAP: f64 = 0.05;
/// The smallest ratio between the larger and the smaller share reported as
/// a disagreement between models.
pub const MIN_FACTOR: f64 = 1.5;
/// The share of the ROI laggard's spend the budget finding moves to the
/// leader (never more than the leader's own spend: the move at most doubles
/// it, staying near the spend levels observed, where the linear-response
/// assumption is least wrong).
pub const BUDGET_SHARE: f64 = 0.2;

/// An amount of money in minor units, with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for 2 decimals).
    pub minor: i128,
    /// The currency (its number of decimals).
    pub currency: Currency,
}

impl Money {
    /// The amount in major units (exact up to 2^53 minor units).
    pub fn major(self) -> f64 {
        self.currency.to_major_wide(self.minor)
    }
}

/// A range at a confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// The confidence level (0.9 for a 90% interval).
    pub level: f64,
}

impl Range {
    fn overlaps(&self, other: &Range) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// How sure a finding is, as the intervals allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// The intervals separate the compared quantities.
    Clear,
    /// The intervals overlap: the data cannot tell them apart.
    Overlapping,
    /// No interval was computed: a point estimate only.
    PointEstimate,
    /// An exact count or a definition (no sampling question).
    Exact,
}

/// What a driver is: a channel, a campaign or a content asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// A channel.
    Channel,
    /// A campaign.
    Campaign,
    /// A content asset.
    Content,
}

/// The comparison a finding rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Shares of credited revenue under one model.
    ShareOfRevenue,
    /// A position-based model's share of conversions against the
    /// incremental model's share of incremental conversions.
    PositionVsIncremental,
    /// One stage-to-stage rate against the median of the others.
    StageVsOtherStages,
    /// Accepted MQLs over all MQLs.
    AcceptedOverMqls,
    /// The distribution of days from the opportunity to the win.
    DaysToClose,
    /// `opportunities x win rate x average deal / cycle days`, against the
    /// previous period when given.
    VelocityFormula,
    /// ROI across channels with spend.
    RoiAcrossChannels,
    /// Channels with revenue but no spend.
    NoSpend,
    /// Each line's average return per unit of spend taken as its marginal
    /// rate.
    LinearResponse,
    /// An audit check.
    AuditCheck,
}

/// The four inputs of pipeline velocity, and the result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VelocityInputs {
    /// Opportunities.
    pub opportunities: u64,
    /// Won over closed.
    pub win_rate: Ratio,
    /// Average won deal, major units.
    pub average_deal: Ratio,
    /// Average days from opportunity to win.
    pub cycle_days: Ratio,
    /// Revenue per day, major units.
    pub per_day: Ratio,
}

/// One finding of the narrative: the figures (with units and currency), the
/// comparison ([`Finding::basis`]) and how sure it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A top channel, campaign or content asset by credited revenue.
    Driver {
        /// Channel, campaign or content.
        dimension: Dimension,
        /// 1 for the top one.
        rank: usize,
        /// Its name.
        name: String,
        /// The model whose credit it is.
        model: String,
        /// Credited revenue.
        value: Money,
        /// Share of the report's revenue.
        share: f64,
        /// The bootstrap interval on its credited revenue (major units).
        interval: Option<Range>,
        /// The next one down, and its credited revenue.
        next: Option<(String, Money)>,
        /// Whether the intervals separate it from the next one.
        certainty: Certainty,
    },
    /// Position-based models credit a channel much more (or much less)
    /// than the incremental model: one finding per channel and direction.
    ModelGap {
        /// The channel.
        channel: String,
        /// The position-based models that disagree in this direction, with
        /// the channel's share of conversions under each.
        models: Vec<(String, f64)>,
        /// Its share of incremental conversions.
        incremental_share: f64,
        /// The interval on the incremental share, if computed.
        interval: Option<Range>,
        /// `true` when the position models credit it more (it opens or
        /// closes journeys but adds little), `false` when less (undervalued
        /// by position-based reports).
        overcredited: bool,
        /// Clear when every position share is outside the interval.
        certainty: Certainty,
    },
    /// The stage-to-stage conversion with the lowest rate.
    LargestDrop {
        /// From stage.
        from: String,
        /// To stage.
        to: String,
        /// Records at `from`.
        from_count: u64,
        /// Of those, at `to`.
        to_count: u64,
        /// `to_count / from_count`.
        rate: f64,
        /// The median rate of the other stage-to-stage conversions.
        others_median: f64,
    },
    /// MQL -> SQL acceptance.
    Acceptance {
        /// MQLs.
        mqls: u64,
        /// Accepted (reached SQL).
        accepted: u64,
        /// Rejected.
        rejected: u64,
        /// `accepted / mqls`.
        rate: Ratio,
        /// The most frequent rejection reason and its count.
        leading_reason: Option<(String, u64)>,
    },
    /// Time from opportunity to win.
    TimeToClose {
        /// Won deals measured.
        deals: u64,
        /// Median days.
        median_days: f64,
        /// 90th percentile days.
        p90_days: f64,
    },
    /// Pipeline velocity, its inputs and how they moved.
    Velocity {
        /// This period.
        current: VelocityInputs,
        /// The previous period, when given.
        previous: Option<VelocityInputs>,
        /// The currency of deal sizes and velocity.
        currency: Currency,
    },
    /// The highest or the lowest ROI among channels with spend.
    Roi {
        /// The channel.
        channel: String,
        /// `true` for the highest, `false` for the lowest.
        leader: bool,
        /// Its ROI, `(revenue - spend) / spend`.
        roi: f64,
        /// Spend.
        spend: Money,
        /// Attributed revenue.
        revenue: Money,
        /// The attribution model.
        model: String,
    },
    /// Channels with attributed revenue but no spend: ROI undefined.
    RoiUndefined {
        /// The channels, sorted.
        channels: Vec<String>,
    },
    /// Moving spend from the laggard to the leader.
    BudgetMove {
        /// From.
        from: String,
        /// To.
        to: String,
        /// Amount moved.
        amount: Money,
        /// Expected change in revenue (major units).
        revenue_change: f64,
        /// Expected change in conversions.
        conversions_change: f64,
        /// The assumption.
        assumption: String,
    },
    /// The audit found no warning and nothing blocking.
    DataClean {
        /// Journeys audited.
        journeys: u64,
        /// Findings for information only.
        notes: u64,
    },
    /// An audit finding that changes how much to trust the above.
    DataCaveat {
        /// The check.
        check: Check,
        /// Its severity.
        severity: Severity,
        /// The channel or name it is about.
        subject: Option<String>,
        /// Affected records.
        count: u64,
        /// Out of.
        out_of: u64,
    },
}

impl Finding {
    /// The comparison the finding rests on.
    pub fn basis(&self) -> Basis {
        match self {
            Finding::Driver { .. } => Basis::ShareOfRevenue,
            Finding::ModelGap { .. } => Basis::PositionVsIncremental,
            Finding::LargestDrop { .. } => Basis::StageVsOtherStages,
            Finding::Acceptance { .. } => Basis::AcceptedOverMqls,
            Finding::TimeToClose { .. } => Basis::DaysToClose,
            Finding::Velocity { .. } => Basis::VelocityFormula,
            Finding::Roi { .. } => Basis::RoiAcrossChannels,
            Finding::RoiUndefined { .. } => Basis::NoSpend,
            Finding::BudgetMove { .. } => Basis::LinearResponse,
            Finding::DataCaveat { .. } | Finding::DataClean { .. } => Basis::AuditCheck,
        }
    }

    /// How sure the finding is.
    pub fn certainty(&self) -> Certainty {
        match self {
            Finding::Driver { certainty, .. } | Finding::ModelGap { certainty, .. } => *certainty,
            Finding::BudgetMove { .. } | Finding::Roi { .. } => Certainty::PointEstimate,
            _ => Certainty::Exact,
        }
    }
}

/// The reports a narrative is told from; only the main report is required.
#[derive(Debug, Clone)]
pub struct StoryInput<'a> {
    main: &'a Report,
    intervals: Option<&'a Bootstrap>,
    others: Vec<&'a Report>,
    incremental: Option<&'a Incremental>,
    incremental_intervals: Option<&'a Bootstrap>,
    funnel: Option<&'a FunnelMetrics>,
    previous: Option<&'a FunnelMetrics>,
    roi: Option<&'a RoiReport>,
    audit: Option<&'a AuditReport>,
}

impl<'a> StoryInput<'a> {
    /// A narrative of `main`, the attribution report whose credit is
    /// "what drove revenue".
    pub fn new(main: &'a Report) -> StoryInput<'a> {
        StoryInput {
            main,
            intervals: None,
            others: Vec::new(),
            incremental: None,
            incremental_intervals: None,
            funnel: None,
            previous: None,
            roi: None,
            audit: None,
        }
    }
    /// Bootstrap intervals of the main report's model (for example from
    /// [`bootstrap_model`](crate::bootstrap::bootstrap_model)).
    #[must_use]
    pub fn intervals(self, b: &'a Bootstrap) -> Self {
        StoryInput {
            intervals: Some(b),
            ..self
        }
    }
    /// Position-based reports (first touch, last touch, ...) compared with
    /// the incremental model (the main report is compared too).
    #[must_use]
    pub fn compare(mut self, reports: &[&'a Report]) -> Self {
        self.others.extend_from_slice(reports);
        self
    }
    /// The incremental model and, optionally, its effect intervals (from
    /// [`bootstrap_effects`](crate::incremental::bootstrap_effects)).
    #[must_use]
    pub fn incremental(self, m: &'a Incremental, intervals: Option<&'a Bootstrap>) -> Self {
        StoryInput {
            incremental: Some(m),
            incremental_intervals: intervals,
            ..self
        }
    }
    /// Funnel metrics of this period and, optionally, the previous one.
    #[must_use]
    pub fn funnel(self, current: &'a FunnelMetrics, previous: Option<&'a FunnelMetrics>) -> Self {
        StoryInput {
            funnel: Some(current),
            previous,
            ..self
        }
    }
    /// ROI per channel.
    #[must_use]
    pub fn roi(self, r: &'a RoiReport) -> Self {
        StoryInput {
            roi: Some(r),
            ..self
        }
    }
    /// The data audit.
    #[must_use]
    pub fn audit(self, a: &'a AuditReport) -> Self {
        StoryInput {
            audit: Some(a),
            ..self
        }
    }

    /// The findings, in the order of the module docs.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when a compared report or the ROI report
    /// is in another currency than the main report.
    pub fn findings(&self) -> Result<Vec<Finding>> {
        let cur = self.main.currency();
        for r in &self.others {
            if r.currency() != cur {
                return Err(Error::param(
                    "compare",
                    r.model(),
                    "reports in the main report's currency",
                ));
            }
        }
        let mut out = Vec::new();
        self.drivers(&mut out);
        self.gaps(&mut out);
        if let Some(f) = self.funnel {
            funnel_findings(f, self.previous, &mut out);
        }
        if let Some(r) = self.roi {
            roi_findings(r, cur, &mut out)?;
        }
        if let Some(a) = self.audit {
            if a.is_clean() {
                out.push(Finding::DataClean {
                    journeys: a.journeys(),
                    notes: a.findings().len() as u64,
                });
            }
            for f in a.findings() {
                if f.severity >= Severity::Warning {
                    out.push(Finding::DataCaveat {
                        check: f.check,
                        severity: f.severity,
                        subject: f.subject.clone(),
                        count: f.count,
                        out_of: f.out_of,
                    });
                }
            }
        }
        Ok(out)
    }

    #[expect(clippy::cast_precision_loss, reason = "shares")]
    fn drivers(&self, out: &mut Vec<Finding>) {
        let r = self.main;
        let total = r.value_minor();
        let cur = r.currency();
        let money = |minor: i128| Money {
            minor,
            currency: cur,
        };
        let level = self.intervals.map(|b| b.config().get_level());
        let range = |name: &str| {
            let b = self.intervals?;
            let i = b.get(name)?.value();
            Some(Range {
                low: i.low(),
                high: i.high(),
                level: level.unwrap_or(0.0),
            })
        };
        for (dim, bd, top) in [
            (Dimension::Channel, r.channels(), 3),
            (Dimension::Campaign, r.campaigns(), 1),
            (Dimension::Content, r.contents(), 1),
        ] {
            let ranked = ranked(bd);
            for (i, c) in ranked.iter().take(top).enumerate() {
                let next = ranked.get(i + 1);
                let (interval, next_interval) = if dim == Dimension::Channel {
                    (range(c.0), next.and_then(|n| range(n.0)))
                } else {
                    (None, None)
                };
                let certainty = match (interval, next_interval) {
                    (Some(a), Some(b)) if a.overlaps(&b) => Certainty::Overlapping,
                    (Some(_), Some(_)) => Certainty::Clear,
                    (Some(_), None) if next.is_none() => Certainty::Clear,
                    _ => Certainty::PointEstimate,
                };
                out.push(Finding::Driver {
                    dimension: dim,
                    rank: i + 1,
                    name: c.0.to_owned(),
                    model: r.model().to_owned(),
                    value: money(c.1),
                    share: Ratio::of(c.1 as f64, total as f64).value().unwrap_or(0.0),
                    interval,
                    next: next.map(|n| (n.0.to_owned(), money(n.1))),
                    certainty,
                });
            }
        }
    }

    #[expect(clippy::cast_precision_loss, reason = "shares")]
    fn gaps(&self, out: &mut Vec<Finding>) {
        let Some(inc) = self.incremental else { return };
        let shares = inc.effect_shares();
        let level = self
            .incremental_intervals
            .map_or(0.0, |b| b.config().get_level());
        let mut reports: Vec<&Report> = vec![self.main];
        reports.extend(self.others.iter().copied());
        for (channel, s_inc) in &shares {
            let interval = self.incremental_intervals.and_then(|b| {
                let i = b.get(channel)?.share();
                Some(Range {
                    low: i.low(),
                    high: i.high(),
                    level,
                })
            });
            let mut over = Vec::new();
            let mut under = Vec::new();
            for r in &reports {
                let conv = r.conversions() as f64;
                let Some(c) = r.channels().get(channel) else {
                    continue;
                };
                let Some(s_pos) = Ratio::of(c.conversions(), conv).value() else {
                    continue;
                };
                let (hi, lo) = if s_pos >= *s_inc {
                    (s_pos, *s_inc)
                } else {
                    (*s_inc, s_pos)
                };
                if hi - lo < MIN_GAP || hi < MIN_FACTOR * lo {
                    continue;
                }
                if interval.is_some_and(|i| i.low <= s_pos && s_pos <= i.high) {
                    continue;
                }
                let line = (r.model().to_owned(), s_pos);
                if s_pos > *s_inc {
                    over.push(line);
                } else {
                    under.push(line);
                }
            }
            for (models, overcredited) in [(over, true), (under, false)] {
                if models.is_empty() {
                    continue;
                }
                out.push(Finding::ModelGap {
                    channel: channel.clone(),
                    models,
                    incremental_share: *s_inc,
                    interval,
                    overcredited,
                    certainty: if interval.is_some() {
                        Certainty::Clear
                    } else {
                        Certainty::PointEstimate
                    },
                });
            }
        }
    }
}

/// Lines by credited value, highest first (ties by name); only positive.
fn ranked(b: &Breakdown) -> Vec<(&str, i128)> {
    let mut v: Vec<(&str, i128)> = b
        .lines()
        .iter()
        .filter(|c| c.value_minor() > 0)
        .map(|c| (c.name(), c.value_minor()))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

fn inputs(f: &FunnelMetrics) -> VelocityInputs {
    let v = f.total().velocity(WinRate::WonOverClosed);
    VelocityInputs {
        opportunities: v.opportunities,
        win_rate: v.win_rate,
        average_deal: v.average_deal,
        cycle_days: v.average_cycle_days,
        per_day: v.per_day,
    }
}

fn funnel_findings(f: &FunnelMetrics, previous: Option<&FunnelMetrics>, out: &mut Vec<Finding>) {
    let t = f.total();
    let conv: Vec<_> = t
        .cohort_conversions()
        .into_iter()
        .filter_map(|c| c.rate.value().map(|r| (c, r)))
        .collect();
    if let Some((i, (c, r))) = conv
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1).then(a.0.cmp(&b.0)))
    {
        let mut others: Vec<f64> = conv
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != i)
            .map(|(_, x)| x.1)
            .collect();
        others.sort_by(f64::total_cmp);
        if !others.is_empty() {
            let n = others.len();
            let median = if n % 2 == 1 {
                others[n / 2]
            } else {
                f64::midpoint(others[n / 2 - 1], others[n / 2])
            };
            out.push(Finding::LargestDrop {
                from: c.from.clone(),
                to: c.to.clone(),
                from_count: c.from_count,
                to_count: c.to_count,
                rate: *r,
                others_median: median,
            });
        }
    }
    let a = t.acceptance();
    if a.mqls > 0 {
        let leading = a
            .reasons
            .iter()
            .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
            .cloned();
        out.push(Finding::Acceptance {
            mqls: a.mqls,
            accepted: a.accepted,
            rejected: a.rejected,
            rate: a.rate,
            leading_reason: leading,
        });
    }
    let c = t.time_to_close();
    if let (Some(m), Some(p)) = (c.median_days, c.p90_days) {
        out.push(Finding::TimeToClose {
            deals: c.count,
            median_days: m,
            p90_days: p,
        });
    }
    let current = inputs(f);
    if current.opportunities > 0 {
        out.push(Finding::Velocity {
            current,
            previous: previous.map(inputs),
            currency: f.config().currency(),
        });
    }
}

fn roi_findings(r: &RoiReport, cur: Currency, out: &mut Vec<Finding>) -> Result<()> {
    let money = |minor| Money {
        minor,
        currency: cur,
    };
    let with_roi: Vec<_> = r
        .lines()
        .iter()
        .filter_map(|l| l.roi.value().map(|v| (l, v)))
        .collect();
    let best = with_roi
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.name.cmp(&a.0.name)));
    let worst = with_roi
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.name.cmp(&b.0.name)));
    for (l, v, leader) in [(best, true), (worst, false)]
        .into_iter()
        .filter_map(|(x, lead)| x.map(|(l, v)| (l, *v, lead)))
    {
        if !leader && best.is_some_and(|b| b.0.name == l.name) {
            continue;
        }
        out.push(Finding::Roi {
            channel: l.name.clone(),
            leader,
            roi: v,
            spend: money(l.spend_minor),
            revenue: money(l.revenue_minor),
            model: r.model().to_owned(),
        });
    }
    let undefined: Vec<String> = r
        .lines()
        .iter()
        .filter(|l| !l.roi.is_defined() && l.revenue_minor > 0)
        .map(|l| l.name.clone())
        .collect();
    if !undefined.is_empty() {
        out.push(Finding::RoiUndefined {
            channels: undefined,
        });
    }
    if let (Some(b), Some(w)) = (best, worst)
        && b.0.name != w.0.name
        && b.1 > w.1
    {
        let amount = (cur.to_major_wide(w.0.spend_minor) * BUDGET_SHARE)
            .min(cur.to_major_wide(b.0.spend_minor))
            .round();
        let s = r.move_spend(&w.0.name, &b.0.name, amount)?;
        out.push(Finding::BudgetMove {
            from: s.from,
            to: s.to,
            amount: money(s.amount_minor),
            revenue_change: s.revenue_change,
            conversions_change: s.conversions_change,
            assumption: s.assumption,
        });
    }
    Ok(())
}
