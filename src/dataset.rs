//! Interned, columnar journeys: [`Catalog`], [`JourneySet`] and [`JourneyView`].
//!
//! Models never compare strings in their hot loops. A [`JourneySet`] interns
//! every channel, campaign and content name once into a [`Catalog`] (an
//! `indexmap` set, so ids follow first appearance and never depend on a hash
//! seed) and stores the touches column by column, sorted by time. A
//! [`JourneyView`] borrows one journey's slices of those columns; it is what
//! an [`AttributionModel`](crate::AttributionModel) sees.

use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};
use indexmap::IndexSet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::money::{Currency, MAX_MINOR};
use crate::touchpoint::{Milestone, Touchpoint};

/// The id of an interned channel: its position in the [`Catalog`] of the
/// set the journey belongs to ([`Catalog::channel_name`] turns it back into
/// a name, [`Catalog::channel_id`] looks a name up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelId(pub(crate) u32);

impl ChannelId {
    /// The id as an index into per-channel arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of names interned to dense `u32` ids in first-appearance order
/// (crate-private: users see names through [`Catalog`]).
///
/// Names are only ever appended ([`try_intern`](Self::try_intern) is the one
/// mutator), so an interner with the same [`Stamp`] and at least as many
/// names holds the same names at the same ids: what per-catalog caches
/// ([`Binding`](crate::model::Binding)) rely on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Interner {
    names: IndexSet<String, BuildHasherDefault<NameHasher>>,
    #[serde(skip)]
    stamp: Stamp,
}

/// A process-unique identity for a value whose contents only grow, so a
/// cache can tell "the same value, maybe longer" from "another value": every
/// new value (default, clone, deserialized) gets a stamp never given
/// before. Stamps never reach results (they compare equal and are not
/// serialized); they only decide whether a cache is rebuilt.
pub(crate) struct Stamp(u64);

impl std::fmt::Debug for Stamp {
    /// No number: `Debug` output must not depend on allocation order.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stamp(..)")
    }
}

impl Stamp {
    /// The stamp's number (never 0).
    pub(crate) fn id(&self) -> u64 {
        self.0
    }
}

impl Default for Stamp {
    fn default() -> Stamp {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Stamp(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl Clone for Stamp {
    /// A fresh stamp: the clone may grow apart from the original.
    fn clone(&self) -> Stamp {
        Stamp::default()
    }
}

impl PartialEq for Stamp {
    /// Always equal: a stamp is no part of the value.
    fn eq(&self, _: &Stamp) -> bool {
        true
    }
}

impl Eq for Stamp {}

/// The hasher of [`Interner`]: a multiply-rotate hash over 8-byte words
/// (the `FxHash` scheme) with a final mix, several times faster than the
/// default SipHash on the short names of channels and campaigns. Ids follow
/// first appearance whatever the hash, so results never depend on it; it
/// is not keyed, which is acceptable for names the caller supplies (a
/// hostile name set can only slow interning down, never change a result).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0_u8; 8];
            w.copy_from_slice(c);
            h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(26);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0_u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(26);
        }
        self.0 = h;
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0 ^ u64::from(i)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // spread the entropy into the top bits, which hashbrown's probing uses
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
}

impl Interner {
    /// The id of `name`, interning it if new.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] past `u32::MAX - 1` distinct names.
    pub(crate) fn try_intern(&mut self, name: &str) -> Result<u32> {
        if let Some(i) = self.get(name) {
            return Ok(i);
        }
        let n = self.names.len();
        if n >= (u32::MAX - 1) as usize {
            return Err(Error::TooLarge {
                what: "distinct names",
                found: n + 1,
                limit: (u32::MAX - 1) as usize,
            });
        }
        self.names.insert(name.to_owned());
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The id of `name`, if interned.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.names
            .get_index_of(name)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The name with id `id`.
    pub(crate) fn name(&self, id: u32) -> Option<&str> {
        self.names.get_index(id as usize).map(String::as_str)
    }

    /// How many names are interned.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The interner's identity (see [`Stamp`]).
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp.id()
    }

    /// Whether no name is interned.
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names in id order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(String::as_str)
    }
}

/// The names behind the ids of a [`JourneySet`]: channels, campaigns and
/// content assets, each interned in first-appearance order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Channel names; `ChannelId(i)` is `channels.name(i)`.
    pub(crate) channels: Interner,
    /// Campaign names.
    pub(crate) campaigns: Interner,
    /// Content asset names.
    pub(crate) contents: Interner,
}

impl Catalog {
    /// The name of a channel id.
    ///
    /// # Panics
    ///
    /// Panics if `id` did not come from this catalog.
    pub fn channel_name(&self, id: ChannelId) -> &str {
        self.channels
            .name(id.0)
            .expect("channel id from another catalog")
    }

    /// The id of a channel name, if present.
    pub fn channel_id(&self, name: &str) -> Option<ChannelId> {
        self.channels.get(name).map(ChannelId)
    }

    /// The channel names, in id order (`ChannelId` `i` is the `i`-th).
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
    ///
    /// let t = "2024-01-01T00:00:00Z".parse()?;
    /// let j = SimpleJourney::new("j")
    ///     .touch(SimpleTouch::new("email", t).campaign("q1"))
    ///     .touch(SimpleTouch::new("direct", t));
    /// let set = JourneySet::from_journeys([&j])?;
    /// let cat = set.catalog();
    /// assert_eq!(cat.channels().collect::<Vec<_>>(), ["email", "direct"]);
    /// assert_eq!(cat.channel_id("direct").map(|id| id.index()), Some(1));
    /// assert_eq!(cat.campaigns().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn channels(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.channels.iter()
    }

    /// The campaign names, in first-appearance order.
    pub fn campaigns(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.campaigns.iter()
    }

    /// The content asset names, in first-appearance order.
    pub fn contents(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.contents.iter()
    }
}

/// One touch with its names already interned (see
/// [`JourneySet::push_interned`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct InternedTouch {
    pub(crate) channel: ChannelId,
    pub(crate) ts: i64,
    pub(crate) campaign: u32,
    pub(crate) content: u32,
    pub(crate) cost: Option<i64>,
    pub(crate) milestone: Option<Milestone>,
}

/// The touch columns and catalog of a set lent by
/// [`JourneySet::staging`], for one journey's touches to be written in
/// time order.
#[derive(Debug)]
pub(crate) struct Staging<'a> {
    pub(crate) channel: &'a mut Vec<ChannelId>,
    pub(crate) ts: &'a mut Vec<i64>,
    pub(crate) campaign: &'a mut Vec<u32>,
    pub(crate) content: &'a mut Vec<u32>,
    pub(crate) milestone: &'a mut Vec<Option<Milestone>>,
    pub(crate) cost: &'a mut Vec<Option<i64>>,
    pub(crate) catalog: &'a mut Catalog,
}

/// Sentinel for "no campaign / no content" in the id columns.
pub(crate) const NONE_ID: u32 = u32::MAX;

/// Many journeys, interned and stored column by column, each journey's
/// touches sorted by time (stable).
///
/// Build it once from your own [`Journey`] values with [`JourneySet::push`]
/// or [`JourneySet::from_journeys`]; then run any number of models over it.
/// Memory is about 30 bytes per touch plus the ids.
///
/// # Example
///
/// ```
/// use touchpoint::{JourneySet, SimpleJourney, SimpleTouch};
///
/// let j = SimpleJourney::new("j1")
///     .touch(SimpleTouch::new("email", "2024-03-02T00:00:00Z".parse()?))
///     .touch(SimpleTouch::new("paid_search", "2024-02-27T00:00:00Z".parse()?))
///     .converted(50.0);
/// let set = JourneySet::from_journeys([&j])?;
/// let view = set.get(0).unwrap();
/// // sorted by time: paid_search first
/// assert_eq!(view.channel_name(0), "paid_search");
/// assert_eq!(view.value_minor(), 5000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "JourneySetWire")]
pub struct JourneySet {
    catalog: Catalog,
    currency: Currency,
    // per journey
    ids: Vec<String>,
    offsets: Vec<usize>,
    converted: Vec<bool>,
    value: Vec<i64>,
    conversion_ts: Vec<Option<i64>>,
    // per touch
    channel: Vec<ChannelId>,
    ts: Vec<i64>,
    campaign: Vec<u32>,
    content: Vec<u32>,
    milestone: Vec<Option<Milestone>>,
    cost: Vec<Option<i64>>,
    converted_count: u64,
}

/// The serialized form of a [`JourneySet`], checked column by column when
/// read: views slice the columns by the offsets and index the catalog by
/// the ids, so an inconsistent set would panic later.
#[derive(Deserialize)]
struct JourneySetWire {
    catalog: Catalog,
    currency: Currency,
    ids: Vec<String>,
    offsets: Vec<usize>,
    converted: Vec<bool>,
    value: Vec<i64>,
    conversion_ts: Vec<Option<i64>>,
    channel: Vec<ChannelId>,
    ts: Vec<i64>,
    campaign: Vec<u32>,
    content: Vec<u32>,
    milestone: Vec<Option<Milestone>>,
    cost: Vec<Option<i64>>,
    converted_count: u64,
}

impl TryFrom<JourneySetWire> for JourneySet {
    type Error = Error;
    fn try_from(mut w: JourneySetWire) -> Result<JourneySet> {
        let bad = |reason: &str| Error::param("journey_set", reason, "consistent columns");
        let n = w.ids.len();
        let t = w.channel.len();
        if w.offsets.is_empty() && n == 0 {
            w.offsets.push(0); // the `Default` set
        }
        if w.offsets.len() != n + 1 || w.offsets.first() != Some(&0) {
            return Err(bad("offsets do not match the journeys"));
        }
        if w.offsets.last() != Some(&t) || w.offsets.windows(2).any(|p| p[0] > p[1]) {
            return Err(bad("offsets do not match the touches"));
        }
        if w.converted.len() != n || w.value.len() != n || w.conversion_ts.len() != n {
            return Err(bad("journey columns of different lengths"));
        }
        if [w.ts.len(), w.campaign.len(), w.content.len()] != [t; 3]
            || w.milestone.len() != t
            || w.cost.len() != t
        {
            return Err(bad("touch columns of different lengths"));
        }
        let in_range = |id: u32, names: &Interner| id == NONE_ID || (id as usize) < names.len();
        if w.channel
            .iter()
            .any(|c| c.index() >= w.catalog.channels.len())
            || !w
                .campaign
                .iter()
                .all(|&c| in_range(c, &w.catalog.campaigns))
            || !w.content.iter().all(|&c| in_range(c, &w.catalog.contents))
        {
            return Err(bad("an id outside the catalog"));
        }
        let amount = |v: i64| (0..=MAX_MINOR).contains(&v);
        if !w.value.iter().copied().all(amount) || !w.cost.iter().flatten().copied().all(amount) {
            return Err(bad("an amount outside 0..=2^53 minor units"));
        }
        let time = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).is_some();
        if !w.ts.iter().copied().all(time) || !w.conversion_ts.iter().flatten().copied().all(time) {
            return Err(bad("a timestamp out of range"));
        }
        if w.offsets
            .windows(2)
            .any(|p| w.ts[p[0]..p[1]].windows(2).any(|x| x[0] > x[1]))
        {
            return Err(bad("touches not sorted by time"));
        }
        if u64::try_from(w.converted.iter().filter(|&&c| c).count()) != Ok(w.converted_count) {
            return Err(bad("conversion count does not match"));
        }
        Ok(JourneySet {
            catalog: w.catalog,
            currency: w.currency,
            ids: w.ids,
            offsets: w.offsets,
            converted: w.converted,
            value: w.value,
            conversion_ts: w.conversion_ts,
            channel: w.channel,
            ts: w.ts,
            campaign: w.campaign,
            content: w.content,
            milestone: w.milestone,
            cost: w.cost,
            converted_count: w.converted_count,
        })
    }
}

impl JourneySet {
    /// An empty set in the default currency (2 decimals).
    pub fn new() -> JourneySet {
        JourneySet {
            offsets: vec![0],
            ..JourneySet::default()
        }
    }

    /// An empty set whose amounts are kept in `currency`'s minor units.
    pub fn with_currency(currency: Currency) -> JourneySet {
        JourneySet {
            currency,
            ..JourneySet::new()
        }
    }

    /// Builds a set from journeys.
    ///
    /// # Errors
    ///
    /// As [`JourneySet::push`], for the first journey that fails.
    pub fn from_journeys<J: Journey>(journeys: impl IntoIterator<Item = J>) -> Result<JourneySet> {
        let mut set = JourneySet::new();
        for j in journeys {
            set.push(&j)?;
        }
        Ok(set)
    }

    /// Adds one journey: validates it, sorts its touches by time (stable)
    /// and interns its names. On error the set is unchanged.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidValue`] if the journey converted and its value is
    ///   NaN, infinite, negative or too large.
    /// - [`Error::InvalidCost`] if a touch's cost is NaN, infinite or negative.
    pub fn push<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        self.push_with_id(journey, journey.id().to_owned())
    }

    /// [`push`](Self::push) with the id given as an owned string (so a
    /// caller can reuse its buffer).
    fn push_with_id<J: Journey + ?Sized>(&mut self, journey: &J, id: String) -> Result<()> {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let outcome = journey.outcome();
        let value = outcome.value_minor(journey.id(), self.currency)?;
        let touches = journey.touchpoints();
        let start = self.channel.len();
        // first pass: times and costs (validated before anything is interned)
        let mut sorted = true;
        let mut prev = i64::MIN;
        for (i, t) in touches.iter().enumerate() {
            let ts = t.timestamp().timestamp_millis();
            sorted &= prev <= ts;
            prev = ts;
            self.ts.push(ts);
            let cost = match t.cost() {
                Some(c) => match self.currency.to_minor(c) {
                    Ok(Some(minor)) => Some(minor),
                    Ok(None) => {
                        self.ts.truncate(start);
                        self.cost.truncate(start);
                        return Err(Error::InvalidCost {
                            journey: journey.id().to_owned(),
                            touch: i,
                            cost: c,
                        });
                    }
                    Err(e) => {
                        self.ts.truncate(start);
                        self.cost.truncate(start);
                        return Err(e);
                    }
                },
                None => None,
            };
            self.cost.push(cost);
        }
        // the input order of touches, sorted by time (stable); identity in
        // the common case of touches given in time order
        let order: Option<Vec<usize>> = (!sorted).then(|| {
            let ts = &self.ts[start..];
            let mut order: Vec<usize> = (0..touches.len()).collect();
            order.sort_by_key(|&i| ts[i]); // stable
            order
        });
        if let Some(order) = &order {
            let ts: Vec<i64> = order.iter().map(|&i| self.ts[start + i]).collect();
            let cost: Vec<Option<i64>> = order.iter().map(|&i| self.cost[start + i]).collect();
            self.ts[start..].copy_from_slice(&ts);
            self.cost[start..].copy_from_slice(&cost);
        }
        for k in 0..touches.len() {
            let t = &touches[order.as_ref().map_or(k, |o| o[k])];
            if let Err(e) = self.intern_touch(t) {
                for col in [&mut self.campaign, &mut self.content] {
                    col.truncate(start);
                }
                self.channel.truncate(start);
                self.milestone.truncate(start);
                self.ts.truncate(start);
                self.cost.truncate(start);
                return Err(e);
            }
        }
        self.ids.push(id);
        self.converted.push(outcome.converted);
        self.converted_count += u64::from(outcome.converted);
        self.value.push(value);
        self.conversion_ts
            .push(outcome.conversion_ts.map(|t| t.timestamp_millis()));
        self.offsets.push(self.channel.len());
        Ok(())
    }

    /// Interns one touch's names and pushes its channel, campaign, content
    /// and milestone (its time and cost are pushed by the caller).
    #[inline]
    fn intern_touch<T: Touchpoint + ?Sized>(&mut self, t: &T) -> Result<()> {
        let ch = self.catalog.channels.try_intern(t.channel())?;
        let cp = match t.campaign() {
            Some(c) => self.catalog.campaigns.try_intern(c)?,
            None => NONE_ID,
        };
        let ct = match t.content() {
            Some(c) => self.catalog.contents.try_intern(c)?,
            None => NONE_ID,
        };
        self.channel.push(ChannelId(ch));
        self.campaign.push(cp);
        self.content.push(ct);
        self.milestone.push(t.milestone());
        Ok(())
    }

    /// Makes the set hold exactly one journey (the catalog is kept), whose
    /// touches the caller already interned into this set's catalog and sorted by time
    /// (the streaming credit path): the set holds exactly that journey,
    /// and the id's buffer is reused. On error the set is empty.
    ///
    /// # Errors
    ///
    /// As [`push_interned`](Self::push_interned).
    pub(crate) fn stage_interned(
        &mut self,
        id: &str,
        outcome: (bool, i64, Option<i64>),
        touches: &[InternedTouch],
    ) -> Result<()> {
        let mut buf = if self.ids.len() == 1 {
            self.ids.pop().unwrap_or_default()
        } else {
            String::new()
        };
        self.clear_journeys();
        buf.clear();
        buf.push_str(id);
        self.push_interned(buf, outcome, touches)
    }

    /// Adds one journey whose touches are already interned in this set's
    /// catalog and sorted by time (what the journey rules produce): no
    /// name is looked up, no amount converted.
    ///
    /// # Errors
    ///
    /// An id outside the catalog, an amount out of range or unsorted
    /// touches are [`Error::InvalidParameter`] (`journey_set`), never a
    /// panic later.
    pub(crate) fn push_interned(
        &mut self,
        id: String,
        outcome: (bool, i64, Option<i64>),
        touches: &[InternedTouch],
    ) -> Result<()> {
        let bad = |reason: &str| Error::param("journey_set", reason, "consistent columns");
        let (converted, value, conversion_ts) = outcome;
        let cat = &self.catalog;
        let in_range = |id: u32, names: &Interner| id == NONE_ID || (id as usize) < names.len();
        if touches.iter().any(|t| {
            t.channel.index() >= cat.channels.len()
                || !in_range(t.campaign, &cat.campaigns)
                || !in_range(t.content, &cat.contents)
        }) {
            return Err(bad("an id outside the catalog"));
        }
        if touches.windows(2).any(|w| w[0].ts > w[1].ts) {
            return Err(bad("touches not sorted by time"));
        }
        if !(0..=MAX_MINOR).contains(&value) {
            return Err(bad("an amount outside 0..=2^53 minor units"));
        }
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        // column by column: one capacity check per column, not per touch
        self.channel.extend(touches.iter().map(|t| t.channel));
        self.ts.extend(touches.iter().map(|t| t.ts));
        self.campaign.extend(touches.iter().map(|t| t.campaign));
        self.content.extend(touches.iter().map(|t| t.content));
        self.milestone.extend(touches.iter().map(|t| t.milestone));
        self.cost.extend(touches.iter().map(|t| t.cost));
        self.ids.push(id);
        self.converted.push(converted);
        self.converted_count += u64::from(converted);
        self.value.push(if converted { value } else { 0 });
        self.conversion_ts.push(conversion_ts);
        self.offsets.push(self.channel.len());
        Ok(())
    }

    /// Empties the set's journeys (the catalog is kept, and the buffer of
    /// a one-journey set's id) and lends its touch columns and catalog, so
    /// that one journey's touches are written straight into the columns
    /// (the streaming credit path: no intermediate list, no copy);
    /// [`seal_staged`](Self::seal_staged) then records the journey. Until
    /// it does, the set is not consistent: a caller that fails in between
    /// must [`clear_journeys`](Self::clear_journeys).
    #[inline]
    pub(crate) fn staging(&mut self) -> Staging<'_> {
        self.clear_columns();
        Staging {
            channel: &mut self.channel,
            ts: &mut self.ts,
            campaign: &mut self.campaign,
            content: &mut self.content,
            milestone: &mut self.milestone,
            cost: &mut self.cost,
            catalog: &mut self.catalog,
        }
    }

    /// Records the journey whose touches [`staging`](Self::staging) lent
    /// the columns for: the set then holds exactly that journey (its id in
    /// the reused buffer).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`journey_set`) when the touch columns
    /// are not of one length or the value is outside `0..=2^53` minor
    /// units; the set is then empty.
    #[inline]
    pub(crate) fn seal_staged(
        &mut self,
        id: &str,
        (converted, value, conversion_ts): (bool, i64, Option<i64>),
    ) -> Result<()> {
        let n = self.channel.len();
        let consistent = self.ts.len() == n
            && self.campaign.len() == n
            && self.content.len() == n
            && self.milestone.len() == n
            && self.cost.len() == n;
        if !consistent || !(0..=MAX_MINOR).contains(&value) {
            self.clear_journeys();
            return Err(Error::param(
                "journey_set",
                "a staged journey with inconsistent columns or value",
                "consistent columns",
            ));
        }
        debug_assert!(self.ts.windows(2).all(|w| w[0] <= w[1]));
        if self.ids.len() == 1 {
            if let Some(buf) = self.ids.first_mut() {
                buf.clear();
                buf.push_str(id);
            }
        } else {
            self.ids.clear();
            self.ids.push(id.to_owned());
        }
        self.offsets.extend([0, n]);
        self.converted.push(converted);
        self.converted_count = u64::from(converted);
        self.value.push(if converted { value } else { 0 });
        self.conversion_ts.push(conversion_ts);
        Ok(())
    }

    /// Removes every journey but keeps the catalog (ids stay valid).
    pub(crate) fn clear_journeys(&mut self) {
        self.ids.clear();
        self.clear_columns();
        self.offsets.push(0);
    }

    /// Empties every column but the ids (offsets included: the caller
    /// pushes the first one).
    fn clear_columns(&mut self) {
        self.offsets.clear();
        self.converted.clear();
        self.value.clear();
        self.conversion_ts.clear();
        self.channel.clear();
        self.ts.clear();
        self.campaign.clear();
        self.content.clear();
        self.milestone.clear();
        self.cost.clear();
        self.converted_count = 0;
    }

    /// An empty set with this set's catalog and currency.
    pub(crate) fn catalog_only(&self) -> JourneySet {
        JourneySet {
            catalog: self.catalog.clone(),
            currency: self.currency,
            ..JourneySet::new()
        }
    }

    /// The catalog, mutably (for interning names ahead of journeys).
    pub(crate) fn catalog_mut(&mut self) -> &mut Catalog {
        &mut self.catalog
    }

    /// The raw columns data-driven fits count from, without building a view
    /// per journey: journey offsets into the touch columns (`len() + 1`
    /// entries), channel ids per touch, converted flags and values (minor
    /// units) per journey.
    pub(crate) fn fit_columns(&self) -> (&[usize], &[ChannelId], &[bool], &[i64]) {
        (&self.offsets, &self.channel, &self.converted, &self.value)
    }

    /// Number of journeys.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the set holds no journey.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Total number of touches.
    pub fn touch_count(&self) -> usize {
        self.channel.len()
    }

    /// Number of converted journeys.
    pub fn conversions(&self) -> u64 {
        self.converted_count
    }

    /// The names behind the ids.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The currency amounts are kept in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The `i`-th journey, in insertion order.
    #[inline]
    pub fn get(&self, i: usize) -> Option<JourneyView<'_>> {
        if i >= self.ids.len() {
            return None;
        }
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        Some(JourneyView {
            set: self,
            index: i,
            start: a,
            end: b,
        })
    }

    /// All journeys, in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = JourneyView<'_>> + '_ {
        // walk the offsets pairwise: no per-journey bounds checks
        self.offsets
            .windows(2)
            .take(self.ids.len())
            .enumerate()
            .map(move |(index, w)| JourneyView {
                set: self,
                index,
                start: w[0],
                end: w[1],
            })
    }
}

/// One journey of a [`JourneySet`], borrowed: its touches sorted by time,
/// channels as [`ChannelId`]s, times as Unix milliseconds, the value in
/// minor currency units.
///
/// A view is a small `Copy` handle (the set, the journey's index and its
/// range of touches); its accessors slice the set's columns.
#[derive(Clone, Copy)]
pub struct JourneyView<'a> {
    set: &'a JourneySet,
    index: usize,
    start: usize,
    end: usize,
}

impl fmt::Debug for JourneyView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JourneyView")
            .field("index", &self.index)
            .field("id", &self.id())
            .field("converted", &self.converted())
            .field("value_minor", &self.value_minor())
            .field("conversion_ts", &self.conversion_ts())
            .field("channels", &self.channels())
            .field("timestamps", &self.timestamps())
            .field("campaigns", &self.campaign_ids())
            .field("contents", &self.content_ids())
            .field("milestones", &self.milestones())
            .field("costs", &self.costs())
            .finish()
    }
}

impl<'a> JourneyView<'a> {
    /// Position of the journey in its set.
    #[inline]
    pub fn index(&self) -> usize {
        self.index
    }
    /// The journey's id.
    #[inline]
    pub fn id(&self) -> &'a str {
        &self.set.ids[self.index]
    }
    /// Whether it converted.
    #[inline]
    pub fn converted(&self) -> bool {
        self.set.converted[self.index]
    }
    /// Its conversion value in minor units (0 when not converted).
    #[inline]
    pub fn value_minor(&self) -> i64 {
        self.set.value[self.index]
    }
    /// The currency of [`value_minor`](Self::value_minor).
    #[inline]
    pub fn currency(&self) -> Currency {
        self.set.currency
    }
    /// When it converted (Unix ms), if known.
    #[inline]
    pub fn conversion_ts(&self) -> Option<i64> {
        self.set.conversion_ts[self.index]
    }
    /// The moment time-based rules measure back from: the conversion time,
    /// else the last touch, else `None` for an empty journey.
    #[inline]
    pub fn reference_ts(&self) -> Option<i64> {
        self.conversion_ts()
            .or_else(|| self.timestamps().last().copied())
    }
    /// Number of touches.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    /// Whether it has no touch.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
    /// Channel ids, in time order.
    #[inline]
    pub fn channels(&self) -> &'a [ChannelId] {
        &self.set.channel[self.start..self.end]
    }
    /// Touch times (Unix ms), ascending.
    #[inline]
    pub fn timestamps(&self) -> &'a [i64] {
        &self.set.ts[self.start..self.end]
    }
    /// Milestones per touch.
    #[inline]
    pub fn milestones(&self) -> &'a [Option<Milestone>] {
        &self.set.milestone[self.start..self.end]
    }
    /// Costs per touch in minor units.
    #[inline]
    pub fn costs(&self) -> &'a [Option<i64>] {
        &self.set.cost[self.start..self.end]
    }
    /// The catalog the ids refer to.
    #[inline]
    pub fn catalog(&self) -> &'a Catalog {
        &self.set.catalog
    }
    /// The channel name of touch `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.len()`.
    #[inline]
    pub fn channel_name(&self, i: usize) -> &'a str {
        self.set.catalog.channel_name(self.channels()[i])
    }
    /// The campaign of touch `i`, if any.
    #[inline]
    pub fn campaign(&self, i: usize) -> Option<&'a str> {
        self.campaign_ids()
            .get(i)
            .filter(|&&c| c != NONE_ID)
            .and_then(|&c| self.set.catalog.campaigns.name(c))
    }
    /// The content asset of touch `i`, if any.
    #[inline]
    pub fn content(&self, i: usize) -> Option<&'a str> {
        self.content_ids()
            .get(i)
            .filter(|&&c| c != NONE_ID)
            .and_then(|&c| self.set.catalog.contents.name(c))
    }
    /// Campaign ids per touch (`u32::MAX` = none).
    #[inline]
    pub(crate) fn campaign_ids(&self) -> &'a [u32] {
        &self.set.campaign[self.start..self.end]
    }
    /// Content ids per touch (`u32::MAX` = none).
    #[inline]
    pub(crate) fn content_ids(&self) -> &'a [u32] {
        &self.set.content[self.start..self.end]
    }
    /// Touch time `i` as a `DateTime`.
    #[inline]
    pub fn timestamp(&self, i: usize) -> Option<DateTime<Utc>> {
        self.timestamps()
            .get(i)
            .and_then(|&ms| DateTime::from_timestamp_millis(ms))
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use crate::journey::SimpleJourney;
    use crate::touchpoint::SimpleTouch;

    fn set() -> JourneySet {
        let t = "2024-01-01T00:00:00Z".parse().unwrap();
        let j = SimpleJourney::new("a")
            .touch(SimpleTouch::new("email", t).campaign("q1"))
            .touch(SimpleTouch::new("direct", t))
            .converted(2.0);
        JourneySet::from_journeys([&j]).unwrap()
    }

    #[test]
    fn round_trip_and_default() {
        let s = set();
        let back: JourneySet = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let d = serde_json::to_string(&JourneySet::default()).unwrap();
        let back: JourneySet = serde_json::from_str(&d).unwrap();
        assert!(back.is_empty() && back.get(0).is_none());
    }

    #[test]
    fn inconsistent_columns_are_rejected() {
        let good = serde_json::to_value(set()).unwrap();
        let cases: [(&str, serde_json::Value); 8] = [
            ("offsets", serde_json::json!([0, 3])), // past the touches: slicing panicked
            ("offsets", serde_json::json!([0])),
            ("channel", serde_json::json!([0, 7])), // outside the catalog
            ("campaign", serde_json::json!([5, 4294967295_u32])),
            ("value", serde_json::json!([-1])),
            ("ts", serde_json::json!([i64::MAX, i64::MAX])),
            ("ts", serde_json::json!([5, 1])),
            ("converted_count", serde_json::json!(0)),
        ];
        for (field, v) in cases {
            let mut bad = good.clone();
            bad[field] = v.clone();
            assert!(
                serde_json::from_value::<JourneySet>(bad).is_err(),
                "{field} = {v} accepted"
            );
        }
    }
}
