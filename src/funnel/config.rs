//! Funnel configuration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::period::Period;
use super::stage::Stages;
use crate::error::{Error, Result};
use crate::money::Currency;

/// Whether skipped stages are back-populated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backfill {
    /// A lead that reached a stage passed every earlier stage: skipped
    /// stages are dated at the next reached stage (as CRM funnel tools do).
    /// The default. Cohort counts then never increase down the funnel.
    #[default]
    Skipped,
    /// Count only stages actually entered.
    EnteredOnly,
}

/// What to do with a stage entry dated after a later stage (SQL dated
/// before MQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfOrder {
    /// Re-date it to the earliest later stage's time (a stage cannot be
    /// entered after a later one), counted in
    /// [`RuleCounts::reordered`](super::RuleCounts::reordered). The default.
    #[default]
    Repair,
    /// Fail with [`Error::InvalidLead`].
    Reject,
}

/// One record per lead, or one per cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cycles {
    /// The lead's whole history is one record (lifetime view): a stage
    /// counts once, however often it was re-entered. The default.
    #[default]
    Lifetime,
    /// Cycle view: a record ends when the lead wins, exits (closed lost,
    /// disqualified, recycled) or, while it is still before the opportunity
    /// stage, makes no progress for more than `days` (the lead SLA; an
    /// opportunity belongs to sales and stays open until won or lost); its
    /// next progression entry starts a new cycle, whose source is its first
    /// touch after the previous cycle ended (the original source stays on
    /// the lead).
    Sla {
        /// The SLA, in days (> 0).
        days: u32,
    },
}

/// Which touch is a record's source, for slicing by channel, campaign or
/// content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceView {
    /// The lead's original source: its first touch ever. The default.
    #[default]
    Original,
    /// The record's own first touch (the comeback touch of a new cycle).
    CycleFirstTouch,
}

/// The dimension metrics are sliced by. Every record falls in exactly one
/// slice, so slices add up to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SliceBy {
    /// No slicing: one slice, `(all)`. The default.
    #[default]
    Total,
    /// The source touch's channel.
    Channel,
    /// The source touch's campaign (`(none)` when it has none).
    Campaign,
    /// The source touch's content asset (`(none)` when it has none).
    Content,
    /// The lead's segment (`(none)` when it has none).
    Segment,
    /// The owner of creation (`marketing`, `sales`).
    Owner,
    /// The period the record was created in (cohort period).
    Period,
}

/// Where the sales cycle (for pipeline velocity) starts; it ends at the win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleStart {
    /// At the opportunity stage (the record's creation when it has none).
    /// The default.
    #[default]
    Opportunity,
    /// At the record's creation (lead to win).
    Created,
}

/// Everything that shapes funnel accumulation. Partials made with different
/// configurations refuse to merge.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{Cycles, FunnelConfig, Period, SliceBy};
///
/// let cfg = FunnelConfig::default()
///     .slice_by(SliceBy::Channel)
///     .with_period(Period::Quarter)
///     .with_cycles(Cycles::Sla { days: 30 })?;
/// assert!(FunnelConfig::default().with_cycles(Cycles::Sla { days: 0 }).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FunnelConfigWire")]
pub struct FunnelConfig {
    pub(crate) stages: Stages,
    pub(crate) backfill: Backfill,
    pub(crate) out_of_order: OutOfOrder,
    pub(crate) cycles: Cycles,
    pub(crate) source: SourceView,
    pub(crate) slice: SliceBy,
    pub(crate) period: Period,
    pub(crate) cycle_start: CycleStart,
    pub(crate) sales_channels: Vec<String>,
    pub(crate) currency: Currency,
    pub(crate) as_of: Option<i64>,
}

/// The serialized form of [`FunnelConfig`], checked on read by the same
/// setters a caller uses (a 0-day SLA is rejected, sales channels sorted
/// and deduplicated, the as-of date within the representable range).
#[derive(Deserialize)]
struct FunnelConfigWire {
    stages: Stages,
    backfill: Backfill,
    out_of_order: OutOfOrder,
    cycles: Cycles,
    source: SourceView,
    slice: SliceBy,
    period: Period,
    cycle_start: CycleStart,
    sales_channels: Vec<String>,
    currency: Currency,
    as_of: Option<i64>,
}

impl TryFrom<FunnelConfigWire> for FunnelConfig {
    type Error = Error;
    fn try_from(w: FunnelConfigWire) -> Result<FunnelConfig> {
        let mut c = FunnelConfig::default()
            .with_stages(w.stages)
            .with_backfill(w.backfill)
            .with_out_of_order(w.out_of_order)
            .with_cycles(w.cycles)?
            .with_source(w.source)
            .slice_by(w.slice)
            .with_period(w.period)
            .with_cycle_start(w.cycle_start)
            .with_sales_channels(w.sales_channels)
            .with_currency(w.currency);
        if let Some(ms) = w.as_of {
            let at = DateTime::from_timestamp_millis(ms).ok_or_else(|| {
                Error::param(
                    "as_of",
                    ms,
                    "milliseconds since 1970 within chrono's range (about +-262,000 years)",
                )
            })?;
            c = c.as_of(at);
        }
        Ok(c)
    }
}

impl Default for FunnelConfig {
    /// Default stages, back-population, repair, lifetime view, original
    /// source, no slicing, monthly periods, cycle from opportunity, no sales
    /// channels (every touch is a marketing touch), cents, no as-of date.
    fn default() -> FunnelConfig {
        FunnelConfig {
            stages: Stages::default(),
            backfill: Backfill::default(),
            out_of_order: OutOfOrder::default(),
            cycles: Cycles::default(),
            source: SourceView::default(),
            slice: SliceBy::default(),
            period: Period::default(),
            cycle_start: CycleStart::default(),
            sales_channels: Vec::new(),
            currency: Currency::default(),
            as_of: None,
        }
    }
}

impl FunnelConfig {
    /// Sets the stages.
    #[must_use]
    pub fn with_stages(self, stages: Stages) -> FunnelConfig {
        FunnelConfig { stages, ..self }
    }
    /// Sets back-population of skipped stages (default [`Backfill::Skipped`]).
    #[must_use]
    pub fn with_backfill(self, backfill: Backfill) -> FunnelConfig {
        FunnelConfig { backfill, ..self }
    }
    /// Sets the out-of-order rule (default [`OutOfOrder::Repair`]).
    #[must_use]
    pub fn with_out_of_order(self, out_of_order: OutOfOrder) -> FunnelConfig {
        FunnelConfig {
            out_of_order,
            ..self
        }
    }
    /// Sets the lifetime or cycle view (default [`Cycles::Lifetime`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for an SLA of 0 days.
    pub fn with_cycles(self, cycles: Cycles) -> Result<FunnelConfig> {
        if let Cycles::Sla { days: 0 } = cycles {
            return Err(Error::param("sla_days", 0, "at least 1 day"));
        }
        Ok(FunnelConfig { cycles, ..self })
    }
    /// Sets which touch is a record's source (default [`SourceView::Original`]).
    #[must_use]
    pub fn with_source(self, source: SourceView) -> FunnelConfig {
        FunnelConfig { source, ..self }
    }
    /// Sets the slicing dimension (default [`SliceBy::Total`]).
    #[must_use]
    pub fn slice_by(self, slice: SliceBy) -> FunnelConfig {
        FunnelConfig { slice, ..self }
    }
    /// Sets the period length of the period view and of period slices
    /// (default [`Period::Month`]).
    #[must_use]
    pub fn with_period(self, period: Period) -> FunnelConfig {
        FunnelConfig { period, ..self }
    }
    /// Sets where the sales cycle starts (default [`CycleStart::Opportunity`]).
    #[must_use]
    pub fn with_cycle_start(self, cycle_start: CycleStart) -> FunnelConfig {
        FunnelConfig {
            cycle_start,
            ..self
        }
    }
    /// Channels that are sales touches (calls, SDR outreach). Every other
    /// channel is a marketing touch, for marketing influence. Default: none.
    #[must_use]
    pub fn with_sales_channels<S: Into<String>>(
        self,
        channels: impl IntoIterator<Item = S>,
    ) -> FunnelConfig {
        let mut v: Vec<String> = channels.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        FunnelConfig {
            sales_channels: v,
            ..self
        }
    }
    /// Sets the currency amounts are converted into (default cents).
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> FunnelConfig {
        FunnelConfig { currency, ..self }
    }
    /// Sets the as-of date: in the cycle view, open records before the
    /// opportunity stage with no progress for longer than the SLA at this
    /// date are closed out (stalled). Without it, no record is stalled.
    #[must_use]
    pub fn as_of(self, at: DateTime<Utc>) -> FunnelConfig {
        FunnelConfig {
            as_of: Some(at.timestamp_millis()),
            ..self
        }
    }

    /// The stages.
    pub fn stages(&self) -> &Stages {
        &self.stages
    }
    /// The slicing dimension.
    pub fn slice(&self) -> SliceBy {
        self.slice
    }
    /// The period length.
    pub fn period(&self) -> Period {
        self.period
    }
    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// A string identifying the configuration; partials with different
    /// fingerprints refuse to merge.
    pub fn fingerprint(&self) -> String {
        format!(
            "{};{:?};{:?};{:?};{:?};{:?};{:?};{:?};sales={};decimals={};as_of={:?}",
            self.stages.fingerprint(),
            self.backfill,
            self.out_of_order,
            self.cycles,
            self.source,
            self.slice,
            self.period,
            self.cycle_start,
            self.sales_channels.join("|"),
            self.currency.decimals(),
            self.as_of
        )
    }

    pub(crate) fn is_sales_channel(&self, ch: &str) -> bool {
        self.sales_channels
            .binary_search_by(|c| c.as_str().cmp(ch))
            .is_ok()
    }
}
