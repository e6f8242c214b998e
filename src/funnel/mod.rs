//! B2B funnel metrics: stages, leads, cycles, conversion rates, pipeline,
//! velocity, sourced and influenced revenue, content and sources reports.
//!
//! Pure computation, no I/O. This module depends on the journey, touchpoint
//! and credit types only (never on [`models`](crate::models)); metrics that
//! need an attribution model take any `&dyn AttributionModel`.
//!
//! # The model
//!
//! A [`Lead`] (a person or an account) has dated [`StageEntry`]s, touches
//! (its first touch ever is its *original source*, kept forever), an
//! [`Owner`] of creation, an optional amount, a segment and an account.
//! [`Stages`] are an ordered progression (default `inquiry -> mql -> sal ->
//! sql -> opportunity -> closed_won`) and exits (`closed_lost`,
//! `disqualified`, `recycled`).
//!
//! # Normalization rules (each counted in [`RuleCounts`])
//!
//! 1. Entries are sorted by time (ties: progression before exits, in funnel
//!    order). A stage name that is not one of the [`Stages`] (spelled
//!    exactly: `mql`, not `MQL` or `lead`) is an
//!    [`Error::InvalidLead`](crate::Error::InvalidLead) naming the lead and
//!    listing the valid names.
//!    An invalid amount is an [`Error::InvalidLead`](crate::Error::InvalidLead).
//! 2. **Cycles.** In the lifetime view ([`Cycles::Lifetime`], default) a
//!    lead is one record. In the cycle view ([`Cycles::Sla`]) a record
//!    ends at a win, an exit, or (before the opportunity stage) a gap of
//!    more than the SLA between progression entries; the next progression
//!    entry starts a new cycle
//!    (a comeback) whose first touch is the first touch after the previous
//!    cycle. With an as-of date, an open pre-opportunity record idle for
//!    longer than the SLA is *stalled* (closed out).
//! 3. **Duplicates.** A stage entered again in the same record keeps its
//!    earliest date; the repeat is dropped and counted.
//! 4. **Out of order.** A stage dated after a later stage of the same
//!    record is re-dated to the earliest later stage ([`OutOfOrder::Repair`],
//!    default), or rejected ([`OutOfOrder::Reject`]).
//! 5. **Exits.** A progression entry after an exit (lifetime view)
//!    supersedes the exit (a comeback: its entries below the highest stage
//!    already reached are folded in, not out of order); a second exit
//!    supersedes the first; exits after the win, or before any progression
//!    stage, are ignored. All counted.
//! 6. **Back-population** ([`Backfill::Skipped`], default): a record that
//!    reached a stage passed all earlier ones, dated at the next reached
//!    stage. [`Backfill::EnteredOnly`] counts only stages entered.
//!
//! Duplicate person ids merge with [`merge_duplicates`]; people roll up to
//! accounts with [`roll_up_accounts`] (both count what they fold).
//!
//! # Metrics
//!
//! A [`FunnelPartial`] accumulates integer counts, minor-unit sums and
//! day-bucket duration histograms per slice ([`SliceBy`]: channel,
//! campaign, content, segment, owner, period); partials merge exactly.
//! [`FunnelMetrics`] gives per slice: counts per stage, cohort and period
//! conversion rates, MQL -> SQL [`Acceptance`] with reasons, time in stage
//! and time to close ([`DurationStats`]), [`LeadToRevenue`], pipeline
//! [`Velocity`], open and weighted [`Pipeline`], and the [`RevenueSplit`]
//! (marketing-sourced, sales-sourced, marketing-influenced).
//! [`ContentPartial`] reports MQLs, opportunities and revenue per content
//! asset under any attribution model; [`SourcesReport`] gives sessions ->
//! contacts rates and the "add N sessions" what-if.
//!
//! # Example
//!
//! ```
//! use touchpoint::SimpleTouch;
//! use touchpoint::funnel::{self, FunnelConfig, Lead, Owner, SliceBy, WinRate};
//!
//! let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
//! let won = Lead::new("a")
//!     .with_amount(50_000.0)
//!     .touch(SimpleTouch::new("webinar", t("01-01")?))
//!     .stage("mql", t("01-02")?)
//!     .stage("opportunity", t("01-10")?)
//!     .stage("closed_won", t("03-10")?); // 60 days after the opportunity
//! let lost = Lead::new("b")
//!     .with_owner(Owner::Sales)
//!     .touch(SimpleTouch::new("webinar", t("01-01")?))
//!     .stage("opportunity", t("01-05")?)
//!     .stage_with_reason("closed_lost", t("02-01")?, "budget");
//! let m = funnel::fit([&won, &lost], FunnelConfig::default().slice_by(SliceBy::Channel))?;
//! let v = m.slice("webinar").unwrap().velocity(WinRate::WonOverClosed);
//! // 2 opportunities x 50% x $50,000 / 60 days
//! assert_eq!(format!("{:.2}", v.per_day), "833.33");
//! assert_eq!(m.total().revenue().marketing_share().value(), Some(1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod acc;
mod config;
mod content;
mod hist;
mod lead;
mod metrics;
mod normalize;
mod partial;
mod period;
mod ratio;
mod sources;
mod stage;

pub use self::config::{
    Backfill, CycleStart, Cycles, FunnelConfig, OutOfOrder, SliceBy, SourceView,
};
pub use self::content::{ContentLine, ContentPartial, ContentReport};
pub use self::hist::DurationStats;
pub use self::lead::{Lead, MergeCounts, Owner, StageEntry, merge_duplicates, roll_up_accounts};
pub use self::metrics::{
    Acceptance, Conversion, FunnelMetrics, LeadToRevenue, PeriodConversions, Pipeline,
    PipelineStage, RevenueSplit, SliceMetrics, StageCount, StageProbabilities, Velocity, WinRate,
    pipeline_velocity,
};
pub use self::normalize::RuleCounts;
#[expect(deprecated, reason = "the former names stay available")]
pub use self::partial::{ALL, NONE, funnel};
pub use self::partial::{FunnelPartial, MISSING_SLICE, TOTAL_SLICE, fit};
pub use self::period::Period;
pub use self::ratio::Ratio;
pub use self::sources::{SourceLine, SourcesReport, WhatIf};
pub use self::stage::{MAX_STAGES, Stages};
