//! Finished funnel metrics and the result types they return.

use serde::{Deserialize, Serialize};

use super::acc::SliceAcc;
use super::config::FunnelConfig;
use super::hist::DurationStats;
use super::normalize::RuleCounts;
use super::ratio::Ratio;
use crate::error::{Error, Result};
use crate::money::Currency;

/// Finished funnel metrics: one [`SliceMetrics`] per slice key (sorted) and
/// their total, plus the rule counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelMetrics {
    pub(super) config: FunnelConfig,
    pub(super) rules: RuleCounts,
    pub(super) total: SliceMetrics,
    pub(super) slices: Vec<SliceMetrics>,
    pub(super) total_overflowed: bool,
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
/// cycle of won deals (see [`CycleStart`](super::CycleStart)).
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
/// use touchpoint::funnel::{self, FunnelConfig, Lead, Ratio, StageProbabilities, WinRate};
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
/// let m = funnel::fit(&leads, FunnelConfig::default())?;
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
    pub(super) key: String,
    pub(super) acc: SliceAcc,
    pub(super) config: FunnelConfig,
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
    /// Sales cycle of won deals (see [`CycleStart`](super::CycleStart)).
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
