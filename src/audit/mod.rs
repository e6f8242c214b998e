//! A data audit before attribution: what the journeys (and optionally
//! leads and spend) can and cannot say.
//!
//! One call, [`audit`], reads journeys of the caller's own type in the
//! order given (so it sees duplicates and unsorted touches the
//! [`JourneySet`](crate::JourneySet) would silently sort), and returns an
//! [`AuditReport`]: typed [`Finding`]s, each with a [`Check`], a
//! [`Severity`], counts, a few example ids and the figures behind it, plus a
//! per-channel [`ChannelSufficiency`] table and a suggested channel
//! [`NameMapping`]. Pure computation: no I/O, no clock (the audit's "now"
//! is [`AuditConfig::as_of`]), never a panic on any input the crate
//! accepts; problems in the data are findings, not errors.
//!
//! # The checks
//!
//! | area | check | severity |
//! |---|---|---|
//! | completeness | [`Check::EmptyJourneys`]: journeys with no touch and no conversion | info |
//! | completeness | [`Check::DarkConversions`]: converted with no touch (no channel can explain them) | warning above [`share_warning`](AuditConfig::share_warning), else info |
//! | completeness | [`Check::ConversionsWithoutValue`]: converted with value 0 | as above |
//! | completeness | [`Check::InvalidValues`], [`Check::InvalidCosts`]: values or costs the crate rejects | blocking |
//! | completeness | [`Check::MissingCampaign`], [`Check::MissingContent`]: touches without one where others have it | as above |
//! | completeness | [`Check::UnknownChannel`]: share of touches on `direct` / unknown channels | warning above [`unknown_share_warning`](AuditConfig::unknown_share_warning), else info |
//! | consistency | [`Check::NameVariants`]: channel names equal up to case, spacing or punctuation, with a suggested mapping | warning |
//! | consistency | [`Check::EmptyChannelNames`]: touches with an empty channel | warning |
//! | consistency | [`Check::DuplicateJourneyIds`]: an id used twice (counted twice by every model) | blocking |
//! | consistency | [`Check::DuplicateTouches`]: same channel at the same millisecond in one journey | warning |
//! | consistency | [`Check::TouchesAfterConversion`]: touches dated after the journey's conversion | warning |
//! | consistency | [`Check::FutureTimestamps`] (after `as_of`), [`Check::AncientTimestamps`] (before `oldest`) | warning |
//! | consistency | [`Check::UnsortedTouches`]: journeys whose touches are not in time order (the crate sorts them) | info |
//! | engagement | [`Check::DormantGaps`]: gaps longer than the dormancy threshold (each would start a new journey) | info |
//! | engagement | [`Check::StalledLeads`]: leads idle past the SLA before the opportunity (would be recycled) | info |
//! | engagement | [`Check::UnknownStages`]: lead stage names the funnel would reject | blocking |
//! | engagement | [`Check::IdentityMerges`]: journey or lead ids equal up to case and spacing; people sharing an account | info |
//! | tracking | [`Check::TrackingDrop`]: a channel whose weekly volume drops to zero while the data goes on | warning |
//! | tracking | [`Check::TrackingJump`]: a channel whose weekly volume jumps tenfold while the rest does not | warning |
//! | sufficiency | [`Check::NoConversions`]: no converting (or no non-converting) journey at all | blocking |
//! | sufficiency | [`Check::NoEvidence`]: a channel with journeys but no conversion, enough to say it converts below the average | warning |
//! | sufficiency | [`Check::TooLittleData`]: a channel with too few conversions for a model family | info |
//! | spend | [`Check::SpendWithoutTouches`]: spend on a channel no journey touches | warning |
//!
//! Rules of judgement (the numbers behind each verdict):
//!
//! - **Name variants.** Names are normalized by lower-casing and turning
//!   every run of characters other than letters and digits into one `_`
//!   (trimmed at both ends): `Paid Search`, `paid_search`, `paid-search`
//!   all become `paid_search`. In a group of several spellings, the
//!   suggested name is the most used spelling (ties: the one equal to its
//!   normalized form, then the smallest).
//! - **Tracking breaks.** Touches are counted per channel and per ISO week
//!   (Monday 00:00 UTC). Only *active* weeks (with any touch in the data)
//!   are compared, so a gap in the whole data set is not a break. A channel
//!   whose mean over the four previous active weeks is at least
//!   [`min_weekly`](AuditConfig::min_weekly) *drops* when it has no touch
//!   in a week whose total volume is at least half its own four-week mean,
//!   and *jumps* when its count is at least ten times its mean while the
//!   other channels' count is less than ten times theirs.
//! - **Sufficiency.** Per channel: journeys touched, converting and
//!   non-converting. Rule-based models need [`min_conversions`](AuditConfig::min_conversions)
//!   converting journeys touched; data-driven models (Markov, Shapley) as
//!   many converting *and* non-converting; the incremental model as many
//!   of each with the channel and without it. The interval width is the
//!   one the Poisson bootstrap gives for the count `c` of converting
//!   journeys that touch the channel: `c ± z √c` (each journey's weight has
//!   variance 1), reported relative to `c` as `z / √c` at the
//!   [`level`](AuditConfig::level); credit under any rule-based model is a
//!   share of those journeys, with an interval of that order.
//! - **No evidence vs too little data.** A channel touched by `n`
//!   journeys, none converting, has a one-sided upper bound
//!   `1 - (1 - level)^(1/n)` on its conversion rate (exact binomial). When
//!   that bound is below the average conversion rate, more of the same
//!   traffic would most likely add nothing: **no evidence it converts**.
//!   Otherwise there is **too little data to say**.
//!
//! # Example
//!
//! ```
//! use touchpoint::{SimpleJourney, SimpleTouch};
//! use touchpoint::audit::{audit, AuditConfig, Check};
//!
//! let t = "2025-01-06T09:00:00Z".parse()?;
//! let journeys = vec![
//!     SimpleJourney::new("a").touch(SimpleTouch::new("Paid Search", t)).converted(100.0),
//!     SimpleJourney::new("b").touch(SimpleTouch::new("paid_search", t)),
//!     SimpleJourney::new("b").touch(SimpleTouch::new("email", t)),
//! ];
//! let report = audit(&journeys, &AuditConfig::new());
//! let names = report.finding(Check::NameVariants).unwrap();
//! assert_eq!(names.subject.as_deref(), Some("paid_search"));
//! assert_eq!(report.name_mapping()[0].from, "Paid Search");
//! assert_eq!(report.finding(Check::DuplicateJourneyIds).unwrap().count, 1);
//! assert!(!report.is_clean());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checks;
mod config;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::funnel::{Lead, Ratio};
use crate::journey::Journey;
use crate::roi::Spend;
use crate::rules::ChannelMap;

pub use self::config::AuditConfig;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; results stay trustworthy.
    Info,
    /// Results are affected; read them with the finding in mind or repair
    /// the data first.
    Warning,
    /// The crate would reject the data, or count it wrongly.
    Blocking,
}

impl Severity {
    /// `info`, `warning` or `blocking`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocking => "blocking",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The area a [`Check`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// What is missing.
    Completeness,
    /// What contradicts itself.
    Consistency,
    /// Dormancy, SLAs and identities.
    Engagement,
    /// Channels whose tracking broke.
    Tracking,
    /// Whether there is enough data for each model family.
    Sufficiency,
    /// Spend against journeys.
    Spend,
}

/// What a finding is about (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// Values the crate rejects (NaN, infinite, negative, too large).
    InvalidValues,
    /// Touch costs the crate rejects.
    InvalidCosts,
    /// A journey id used more than once.
    DuplicateJourneyIds,
    /// Lead stage names that are not stages of the funnel.
    UnknownStages,
    /// No converting or no non-converting journey at all.
    NoConversions,
    /// Channel names equal up to case, spacing or punctuation.
    NameVariants,
    /// Touches with an empty channel name.
    EmptyChannelNames,
    /// Same channel, same millisecond, twice in one journey.
    DuplicateTouches,
    /// Touches dated after the journey's conversion.
    TouchesAfterConversion,
    /// Touches after [`AuditConfig::as_of`].
    FutureTimestamps,
    /// Touches before [`AuditConfig::oldest`].
    AncientTimestamps,
    /// Converted journeys with no touch.
    DarkConversions,
    /// Converted journeys with value 0.
    ConversionsWithoutValue,
    /// Touches without a campaign where other touches have one.
    MissingCampaign,
    /// Touches without a content asset where other touches have one.
    MissingContent,
    /// Touches on `direct` or unknown channels.
    UnknownChannel,
    /// A channel whose weekly volume drops to zero.
    TrackingDrop,
    /// A channel whose weekly volume jumps tenfold.
    TrackingJump,
    /// A channel with journeys, no conversion, and enough journeys to say
    /// it converts below the average.
    NoEvidence,
    /// Spend on a channel no journey touches.
    SpendWithoutTouches,
    /// Journeys with no touch and no conversion.
    EmptyJourneys,
    /// Journeys whose touches are not in time order.
    UnsortedTouches,
    /// Gaps a dormancy split would cut.
    DormantGaps,
    /// Leads stalled past the SLA.
    StalledLeads,
    /// Ids a merge would join.
    IdentityMerges,
    /// A channel with too few conversions for a model family.
    TooLittleData,
}

impl Check {
    /// The check's area.
    pub fn area(self) -> Area {
        use Check::*;
        match self {
            InvalidValues
            | InvalidCosts
            | DarkConversions
            | ConversionsWithoutValue
            | MissingCampaign
            | MissingContent
            | UnknownChannel
            | EmptyJourneys => Area::Completeness,
            DuplicateJourneyIds
            | NameVariants
            | EmptyChannelNames
            | DuplicateTouches
            | TouchesAfterConversion
            | FutureTimestamps
            | AncientTimestamps
            | UnsortedTouches => Area::Consistency,
            UnknownStages | DormantGaps | StalledLeads | IdentityMerges => Area::Engagement,
            TrackingDrop | TrackingJump => Area::Tracking,
            NoConversions | NoEvidence | TooLittleData => Area::Sufficiency,
            SpendWithoutTouches => Area::Spend,
        }
    }

    /// The check's name in snake case (as in JSON).
    pub fn as_str(self) -> &'static str {
        use Check::*;
        match self {
            InvalidValues => "invalid_values",
            InvalidCosts => "invalid_costs",
            DuplicateJourneyIds => "duplicate_journey_ids",
            UnknownStages => "unknown_stages",
            NoConversions => "no_conversions",
            NameVariants => "name_variants",
            EmptyChannelNames => "empty_channel_names",
            DuplicateTouches => "duplicate_touches",
            TouchesAfterConversion => "touches_after_conversion",
            FutureTimestamps => "future_timestamps",
            AncientTimestamps => "ancient_timestamps",
            DarkConversions => "dark_conversions",
            ConversionsWithoutValue => "conversions_without_value",
            MissingCampaign => "missing_campaign",
            MissingContent => "missing_content",
            UnknownChannel => "unknown_channel",
            TrackingDrop => "tracking_drop",
            TrackingJump => "tracking_jump",
            NoEvidence => "no_evidence",
            SpendWithoutTouches => "spend_without_touches",
            EmptyJourneys => "empty_journeys",
            UnsortedTouches => "unsorted_touches",
            DormantGaps => "dormant_gaps",
            StalledLeads => "stalled_leads",
            IdentityMerges => "identity_merges",
            TooLittleData => "too_little_data",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The unit of a [`Figure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count of records.
    Count,
    /// A share in `[0, 1]`.
    Share,
    /// Days.
    Days,
    /// A ratio without unit (for example "ten times").
    Times,
    /// Major units of the spend book's currency.
    Money,
}

/// One number behind a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// What it measures (snake case, stable).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

impl Figure {
    pub(crate) fn new(name: &str, value: f64, unit: Unit) -> Figure {
        Figure {
            name: name.to_owned(),
            value,
            unit,
        }
    }
}

/// One finding of the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// How much it matters.
    pub severity: Severity,
    /// The channel, stage or name it is about, if any.
    pub subject: Option<String>,
    /// How many records (journeys, touches, leads, weeks: see the check)
    /// are affected.
    pub count: u64,
    /// Out of how many.
    pub out_of: u64,
    /// When it happened (the week of a tracking break, the earliest
    /// offending timestamp), if the check has a date.
    pub at: Option<DateTime<Utc>>,
    /// A few example ids (journeys, leads or names), in input order.
    pub examples: Vec<String>,
    /// The figures behind it.
    pub figures: Vec<Figure>,
    /// Names the finding points to: the other spellings of a channel (name
    /// variants), the valid stage names (unknown stages), the model
    /// families lacking data (too little data).
    pub related: Vec<String>,
}

impl Finding {
    /// `count / out_of`, undefined when `out_of` is 0.
    #[expect(clippy::cast_precision_loss, reason = "a display share")]
    pub fn share(&self) -> Ratio {
        Ratio::of(self.count as f64, self.out_of as f64)
    }

    /// The figure named `name`.
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }
}

/// Whether the data is enough for a model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Enough journeys of each kind the family needs.
    Enough,
    /// Too few to say anything either way.
    TooLittleData,
    /// Journeys but no conversion, enough to say the channel converts
    /// below the average: more of the same adds nothing.
    NoEvidence,
}

/// Per channel: what was observed and what it supports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSufficiency {
    /// The channel, as spelled in the data.
    pub channel: String,
    /// Touches on it.
    pub touches: u64,
    /// Journeys with at least one touch on it.
    pub journeys: u64,
    /// Of those, converted.
    pub converting: u64,
    /// Of those, not converted.
    pub non_converting: u64,
    /// Rule-based models (first, last, linear, position, time decay, ...).
    pub rule_based: Verdict,
    /// Data-driven models (Markov, Shapley).
    pub data_driven: Verdict,
    /// The incremental model.
    pub incremental: Verdict,
    /// Half-width of the bootstrap interval on the converting journeys it
    /// touches, relative to their count (`z / sqrt(converting)`);
    /// undefined with no conversion.
    pub relative_half_width: Ratio,
    /// The one-sided upper bound on its conversion rate when none of its
    /// journeys converted (`1 - (1 - level)^(1/journeys)`), else undefined.
    pub rate_upper_bound: Ratio,
}

/// A suggested rename for a channel spelled several ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameMapping {
    /// The spelling to replace.
    pub from: String,
    /// The suggested name.
    pub to: String,
    /// Touches spelled `from`.
    pub touches: u64,
}

/// The result of [`audit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    journeys: u64,
    touches: u64,
    conversions: u64,
    leads: u64,
    findings: Vec<Finding>,
    channels: Vec<ChannelSufficiency>,
    name_mapping: Vec<NameMapping>,
}

impl AuditReport {
    /// Journeys read.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Touches read.
    pub fn touches(&self) -> u64 {
        self.touches
    }
    /// Converted journeys read.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Leads read.
    pub fn leads(&self) -> u64 {
        self.leads
    }
    /// Every finding, most severe first, then in the order of [`Check`].
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
    /// The first finding of `check`.
    pub fn finding(&self, check: Check) -> Option<&Finding> {
        self.findings.iter().find(|f| f.check == check)
    }
    /// Every finding of `check` (tracking breaks and sufficiency have one
    /// per channel).
    pub fn findings_of(&self, check: Check) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(move |f| f.check == check)
    }
    /// The most severe finding's severity, `None` with no finding.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
    /// No warning and nothing blocking (info findings allowed).
    pub fn is_clean(&self) -> bool {
        self.worst().is_none_or(|s| s == Severity::Info)
    }
    /// Per channel sufficiency, sorted by channel name.
    pub fn channels(&self) -> &[ChannelSufficiency] {
        &self.channels
    }
    /// The sufficiency line of `channel`.
    pub fn channel(&self, channel: &str) -> Option<&ChannelSufficiency> {
        self.channels.iter().find(|c| c.channel == channel)
    }
    /// The suggested renames of the name-variant check, sorted by `from`.
    pub fn name_mapping(&self) -> &[NameMapping] {
        &self.name_mapping
    }
    /// The suggested renames as a [`ChannelMap`] for
    /// [`Rules::map_channels`](crate::rules::Rules::map_channels) (other
    /// channels kept as they are).
    pub fn channel_map(&self) -> ChannelMap {
        self.name_mapping
            .iter()
            .fold(ChannelMap::new(), |m, n| m.exact(&n.from, &n.to))
    }
}

/// Audits journeys (in the order given) with `config`: see the module
/// docs for every check. Never fails: problems in the data are findings.
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleJourney, SimpleTouch};
/// use touchpoint::audit::{audit, AuditConfig, Check, Severity};
///
/// let t = "2025-01-06T09:00:00Z".parse()?;
/// let j = vec![SimpleJourney::new("a").converted(50.0), // a conversion no touch explains
///              SimpleJourney::new("b").touch(SimpleTouch::new("email", t))];
/// let r = audit(&j, &AuditConfig::new());
/// let dark = r.finding(Check::DarkConversions).unwrap();
/// assert_eq!((dark.count, dark.out_of, dark.severity), (1, 1, Severity::Warning));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn audit<J: Journey>(journeys: &[J], config: &AuditConfig) -> AuditReport {
    audit_with(journeys, &[], None, config)
}

/// [`audit`] plus funnel leads (stage names, stalled leads, identities,
/// accounts) and a spend book (spend on channels no journey touches; its
/// channel names join the name-variant check).
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleJourney, SimpleTouch};
/// use touchpoint::audit::{audit_with, AuditConfig, Check};
/// use touchpoint::funnel::Lead;
/// use touchpoint::roi::Spend;
///
/// let t = "2025-01-06T09:00:00Z".parse()?;
/// let j = vec![SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(9.0)];
/// let leads = vec![Lead::new("a").stage("lead", t)]; // not a stage of the default funnel
/// let mut spend = Spend::new();
/// spend.add("events", None, "2025-01", 500.0)?;
/// let r = audit_with(&j, &leads, Some(&spend), &AuditConfig::new());
/// assert_eq!(r.finding(Check::UnknownStages).unwrap().subject.as_deref(), Some("lead"));
/// assert_eq!(r.finding(Check::SpendWithoutTouches).unwrap().subject.as_deref(), Some("events"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn audit_with<J: Journey>(
    journeys: &[J],
    leads: &[Lead],
    spend: Option<&Spend>,
    config: &AuditConfig,
) -> AuditReport {
    checks::run(journeys, leads, spend, config)
}
