//! Leads: people or accounts with dated stage entries and touches; merging
//! duplicates and rolling people up to accounts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::name::Name;
use crate::touchpoint::{SimpleTouch, Touchpoint};

/// Who created the lead: marketing (marketing-sourced) or sales
/// (sales-sourced, e.g. SDR outbound).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// Marketing-sourced (the default).
    #[default]
    Marketing,
    /// Sales-sourced.
    Sales,
}

impl Owner {
    /// `"marketing"` or `"sales"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Marketing => "marketing",
            Owner::Sales => "sales",
        }
    }
}

/// One dated stage entry, as a CRM records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEntry {
    /// The stage's name (a progression or exit stage of the [`Stages`](super::Stages)).
    pub stage: String,
    /// When the lead entered it.
    pub at: DateTime<Utc>,
    /// Why (rejection or disqualification reason), if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A lead (a person or an account): dated stage entries, touches (kept
/// sorted by time; the first one is the *original source*, kept forever),
/// the owner of creation, an optional deal amount (major units), segment and
/// account.
///
/// # Example
///
/// ```
/// use touchpoint::SimpleTouch;
/// use touchpoint::funnel::{Lead, Owner};
///
/// let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
/// let lead = Lead::new("p1")
///     .with_owner(Owner::Marketing)
///     .with_segment("enterprise")
///     .with_account("acme")
///     .with_amount(50_000.0)
///     .touch(SimpleTouch::new("webinar", t("01-10")?))
///     .touch(SimpleTouch::new("paid_search", t("01-02")?))
///     .stage("inquiry", t("01-02")?)
///     .stage("mql", t("01-12")?);
/// assert_eq!(lead.original_source().unwrap().channel, "paid_search");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "LeadWire")]
pub struct Lead {
    id: String,
    #[serde(default)]
    owner: Owner,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<f64>,
    #[serde(default)]
    entries: Vec<StageEntry>,
    #[serde(default)]
    touches: Vec<SimpleTouch>,
}

/// The serialized form; touches are sorted by time (stably) when read.
#[derive(Deserialize)]
struct LeadWire {
    id: String,
    #[serde(default)]
    owner: Owner,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    segment: Option<String>,
    #[serde(default)]
    amount: Option<f64>,
    #[serde(default)]
    entries: Vec<StageEntry>,
    #[serde(default)]
    touches: Vec<SimpleTouch>,
}

impl From<LeadWire> for Lead {
    fn from(w: LeadWire) -> Lead {
        let mut touches = w.touches;
        touches.sort_by_key(|t| t.ts);
        Lead {
            id: w.id,
            owner: w.owner,
            account: w.account,
            segment: w.segment,
            amount: w.amount,
            entries: w.entries,
            touches,
        }
    }
}

impl Lead {
    /// A lead with id `id`, marketing-owned, with nothing else.
    pub fn new(id: impl Into<String>) -> Lead {
        Lead {
            id: id.into(),
            owner: Owner::Marketing,
            account: None,
            segment: None,
            amount: None,
            entries: Vec::new(),
            touches: Vec::new(),
        }
    }
    /// Sets who created the lead.
    #[must_use]
    pub fn with_owner(self, owner: Owner) -> Lead {
        Lead { owner, ..self }
    }
    /// Sets the account the person belongs to.
    #[must_use]
    pub fn with_account(self, account: impl Into<String>) -> Lead {
        Lead {
            account: Some(account.into()),
            ..self
        }
    }
    /// Sets the segment (e.g. `"enterprise"`, `"smb"`).
    #[must_use]
    pub fn with_segment(self, segment: impl Into<String>) -> Lead {
        Lead {
            segment: Some(segment.into()),
            ..self
        }
    }
    /// Sets the deal amount, in major currency units (validated when the
    /// lead is observed: finite and `>= 0`).
    #[must_use]
    pub fn with_amount(self, amount: f64) -> Lead {
        Lead {
            amount: Some(amount),
            ..self
        }
    }
    /// Adds a stage entry.
    #[must_use]
    pub fn stage(self, stage: impl Into<String>, at: DateTime<Utc>) -> Lead {
        self.entry(StageEntry {
            stage: stage.into(),
            at,
            reason: None,
        })
    }
    /// Adds a stage entry with a reason (for exits: why the lead was
    /// rejected, disqualified or lost).
    #[must_use]
    pub fn stage_with_reason(
        self,
        stage: impl Into<String>,
        at: DateTime<Utc>,
        reason: impl Into<String>,
    ) -> Lead {
        self.entry(StageEntry {
            stage: stage.into(),
            at,
            reason: Some(reason.into()),
        })
    }
    /// Adds a stage entry.
    #[must_use]
    pub fn entry(mut self, entry: StageEntry) -> Lead {
        self.entries.push(entry);
        self
    }
    /// Adds a touch (kept in time order; equal times keep insertion order).
    #[must_use]
    pub fn touch(mut self, touch: SimpleTouch) -> Lead {
        self.push_touch(touch);
        self
    }
    /// Adds every touch of a journey of any type.
    #[must_use]
    pub fn touches_from<J: Journey + ?Sized>(mut self, journey: &J) -> Lead {
        for t in journey.touchpoints() {
            self.push_touch(SimpleTouch {
                channel: t.channel().into(),
                ts: t.timestamp(),
                campaign: t.campaign().map(Name::from),
                content: t.content().map(Name::from),
                cost: t.cost(),
                milestone: t.milestone(),
            });
        }
        self
    }
    fn push_touch(&mut self, touch: SimpleTouch) {
        let at = self.touches.partition_point(|t| t.ts <= touch.ts);
        self.touches.insert(at, touch);
    }

    /// The lead's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Who created the lead.
    pub fn owner(&self) -> Owner {
        self.owner
    }
    /// The account, if any.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
    /// The segment, if any.
    pub fn segment(&self) -> Option<&str> {
        self.segment.as_deref()
    }
    /// The deal amount, major units, if any.
    pub fn amount(&self) -> Option<f64> {
        self.amount
    }
    /// The stage entries, as given.
    pub fn entries(&self) -> &[StageEntry] {
        &self.entries
    }
    /// The touches, sorted by time.
    pub fn touches(&self) -> &[SimpleTouch] {
        &self.touches
    }
    /// The original source: the first touch ever.
    pub fn original_source(&self) -> Option<&SimpleTouch> {
        self.touches.first()
    }
    fn earliest(&self) -> Option<DateTime<Utc>> {
        let e = self.entries.iter().map(|e| e.at).min();
        let t = self.touches.first().map(|t| t.ts);
        match (e, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What [`merge_duplicates`] and [`roll_up_accounts`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCounts {
    /// Leads given.
    pub input: u64,
    /// Leads returned.
    pub output: u64,
    /// Leads folded into another one (`input - output`).
    pub merged: u64,
    /// Touches dropped because an identical touch (same channel, time,
    /// campaign, content) was already on the merged lead.
    pub identical_touches_dropped: u64,
    /// Merges where the leads carried different amounts (the largest is
    /// kept: they describe one deal).
    pub amount_conflicts: u64,
    /// Merges where the leads had different owners (the owner of the
    /// earliest lead is kept).
    pub owner_conflicts: u64,
    /// Leads kept alone because they have no account (roll-up only).
    pub without_account: u64,
    /// Aliases that named no lead in the input (merge only).
    pub aliases_unused: u64,
}

/// Folds `other` into `into` under the merge rules, counting conflicts.
fn fold(into: &mut Lead, other: Lead, counts: &mut MergeCounts) {
    let into_first = match (into.earliest(), other.earliest()) {
        (Some(a), Some(b)) => a <= b,
        (None, Some(_)) => false,
        _ => true,
    };
    if into.owner != other.owner {
        counts.owner_conflicts += 1;
        if !into_first {
            into.owner = other.owner;
        }
    }
    match (into.amount, other.amount) {
        (Some(a), Some(b)) if a != b => {
            counts.amount_conflicts += 1;
            into.amount = Some(if b > a || a.is_nan() { b } else { a });
        }
        (None, b) => into.amount = b,
        _ => {}
    }
    if into.segment.is_none() {
        into.segment = other.segment;
    }
    if into.account.is_none() {
        into.account = other.account;
    }
    into.entries.extend(other.entries);
    for t in other.touches {
        let lo = into.touches.partition_point(|x| x.ts < t.ts);
        let hi = into.touches.partition_point(|x| x.ts <= t.ts);
        let same = into.touches[lo..hi]
            .iter()
            .any(|x| x.channel == t.channel && x.campaign == t.campaign && x.content == t.content);
        if same {
            counts.identical_touches_dropped += 1;
        } else {
            into.touches.insert(hi, t);
        }
    }
}

/// Merges person ids known to be one person (CRM duplicates) into one lead.
///
/// `same_person` lists `(alias, canonical)` pairs; chains (`a -> b -> c`)
/// are followed. Merge rules, so nothing is double counted: stage entries
/// are pooled (the funnel then keeps the earliest entry per stage and counts
/// the rest as duplicates), touches are combined with identical touches kept
/// once, the amount is the largest given (they describe one deal), the owner
/// is the owner of the lead seen earliest, segment and account the
/// canonical lead's (or the first given). The output is sorted by id.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when the aliases form a cycle.
///
/// # Example
///
/// ```
/// use touchpoint::SimpleTouch;
/// use touchpoint::funnel::{merge_duplicates, Lead};
///
/// let t = "2024-01-02T00:00:00Z".parse()?;
/// let a = Lead::new("ann@x.com").touch(SimpleTouch::new("email", t)).stage("mql", t);
/// let b = Lead::new("ann@x.co").touch(SimpleTouch::new("email", t)).stage("mql", t);
/// let (leads, counts) = merge_duplicates(vec![a, b], &[("ann@x.co", "ann@x.com")])?;
/// assert_eq!(leads.len(), 1);
/// assert_eq!(leads[0].touches().len(), 1);
/// assert_eq!(counts.identical_touches_dropped, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn merge_duplicates(
    leads: Vec<Lead>,
    same_person: &[(&str, &str)],
) -> Result<(Vec<Lead>, MergeCounts)> {
    let alias: BTreeMap<&str, &str> = same_person.iter().copied().collect();
    let resolve = |id: &str| -> Result<String> {
        let mut cur = id;
        for _ in 0..=alias.len() {
            match alias.get(cur) {
                Some(next) if *next != cur => cur = next,
                _ => return Ok(cur.to_owned()),
            }
        }
        Err(Error::param("same_person", id, "aliases without cycles"))
    };
    for k in alias.keys() {
        resolve(k)?;
    }
    let mut counts = MergeCounts {
        input: leads.len() as u64,
        ..MergeCounts::default()
    };
    let mut seen_alias: BTreeMap<&str, bool> = alias.keys().map(|k| (*k, false)).collect();
    let mut out: BTreeMap<String, Lead> = BTreeMap::new();
    for mut lead in leads {
        if let Some(s) = seen_alias.get_mut(lead.id.as_str()) {
            *s = true;
        }
        let key = resolve(&lead.id)?;
        match out.get_mut(&key) {
            Some(into) => fold(into, lead, &mut counts),
            None => {
                lead.id.clone_from(&key);
                out.insert(key, lead);
            }
        }
    }
    counts.aliases_unused = seen_alias.values().filter(|s| !**s).count() as u64;
    counts.output = out.len() as u64;
    counts.merged = counts.input - counts.output;
    Ok((out.into_values().collect(), counts))
}

/// Rolls people up to their accounts (account-based marketing): one lead per
/// account, whose id is the account name, with the people's stage entries
/// pooled (the account reaches a stage when its first person does), touches
/// combined (identical touches once) and the merge rules of
/// [`merge_duplicates`] for amount and owner. People without an account stay
/// as they are (counted). The output is sorted by id.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::{roll_up_accounts, Lead};
///
/// let t = "2024-01-02T00:00:00Z".parse()?;
/// let a = Lead::new("ann").with_account("acme").stage("mql", t).with_amount(100.0);
/// let b = Lead::new("bob").with_account("acme").stage("sql", t).with_amount(100.0);
/// let (accounts, counts) = roll_up_accounts(vec![a, b]);
/// assert_eq!(accounts.len(), 1);
/// assert_eq!(accounts[0].id(), "acme");
/// assert_eq!(accounts[0].amount(), Some(100.0)); // one deal, not 200
/// assert_eq!(counts.merged, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn roll_up_accounts(leads: Vec<Lead>) -> (Vec<Lead>, MergeCounts) {
    let mut counts = MergeCounts {
        input: leads.len() as u64,
        ..MergeCounts::default()
    };
    let mut out: BTreeMap<(bool, String), Lead> = BTreeMap::new();
    let mut alone: Vec<Lead> = Vec::new();
    for mut lead in leads {
        let Some(acc) = lead.account.clone() else {
            counts.without_account += 1;
            alone.push(lead);
            continue;
        };
        match out.get_mut(&(true, acc.clone())) {
            Some(into) => fold(into, lead, &mut counts),
            None => {
                lead.id.clone_from(&acc);
                out.insert((true, acc), lead);
            }
        }
    }
    let mut v: Vec<Lead> = out.into_values().chain(alone).collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    counts.output = v.len() as u64;
    counts.merged = counts.input - counts.output;
    (v, counts)
}
