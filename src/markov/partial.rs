//! Accumulating: the packed state keys and the integer transition counts
//! of a [`MarkovPartial`], and every way to observe journeys into it.

use serde::{Deserialize, Serialize};

use super::config::MarkovConfig;
use super::model::Markov;
use super::table::IndexMap64;
use super::{SYM_CONV, SYM_NULL, lane_bits, max_channels};
use crate::dataset::{ChannelId, JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;
use crate::paths::{
    JourneyScratch, LocalNames, add_outcomes, check_currency, map_column_names, read_journey,
    validate_path, walk_columns,
};

/// The overflow error of a count, built only when it happens (an error
/// value built and dropped on every count costs a call per count).
#[cold]
#[inline(never)]
fn overflow(what: &'static str) -> Error {
    Error::Overflow { what }
}

/// Number of channel lanes used in a packed state key with lanes of
/// `bits` bits ([`lane_bits`]).
#[inline]
pub(super) fn lanes(key: u64, bits: u32) -> u32 {
    let used = 64 - key.leading_zeros();
    // constant divisors for the common widths (no division instruction)
    match bits {
        16 => used.div_ceil(16),
        12 => used.div_ceil(12),
        10 => used.div_ceil(10),
        b => used.div_ceil(b),
    }
}

/// Appends channel `c` to the packed state `key` (lanes of `bits` bits),
/// keeping the last `order`. `c + 1` must fit in a lane: the fit's channel
/// limit ([`max_channels`]) guarantees it.
#[inline]
pub(super) fn push_lane(key: u64, c: u32, order: u32, bits: u32) -> u64 {
    let v = u64::from(c + 1);
    let len = lanes(key, bits);
    if len < order {
        key | (v << (bits * len))
    } else {
        (key >> bits) | (v << (bits * (order - 1)))
    }
}

/// The channel ids of a packed key (lanes of `bits` bits), oldest first.
pub(super) fn unpack(key: u64, bits: u32) -> Vec<u32> {
    let mask = (1u64 << bits) - 1;
    (0..lanes(key, bits))
        .map(|i| {
            let v = ((key >> (bits * i)) & mask) as u32;
            v - 1
        })
        .collect()
}

/// The packed key of channel ids (oldest first) with lanes of `bits` bits.
pub(super) fn pack(ids: &[u32], bits: u32) -> u64 {
    ids.iter()
        .enumerate()
        .fold(0, |k, (i, &c)| k | (u64::from(c + 1) << (bits * i as u32)))
}

/// Integer totals of a fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Totals {
    /// Journeys with at least one touch that converted.
    pub(super) conversions: u64,
    /// Journeys with at least one touch that did not convert.
    pub(super) nulls: u64,
    /// Value of `conversions`, minor units.
    pub(super) value_minor: i128,
    /// Converted journeys with no touch.
    pub(super) empty_conversions: u64,
    /// Non-converted journeys with no touch.
    pub(super) empty_nulls: u64,
    /// Value of `empty_conversions`, minor units.
    pub(super) empty_value_minor: i128,
}

impl Totals {
    pub(super) fn merge(&mut self, o: &Totals) -> Result<()> {
        add_outcomes(
            (
                &mut self.conversions,
                &mut self.nulls,
                &mut self.value_minor,
            ),
            (o.conversions, o.nulls, o.value_minor),
        )?;
        add_outcomes(
            (
                &mut self.empty_conversions,
                &mut self.empty_nulls,
                &mut self.empty_value_minor,
            ),
            (o.empty_conversions, o.empty_nulls, o.empty_value_minor),
        )
    }

    pub(super) fn journeys(&self) -> u64 {
        self.conversions
            .saturating_add(self.nulls)
            .saturating_add(self.empty_conversions)
            .saturating_add(self.empty_nulls)
    }
}

/// A partial Markov fit: integer transition counts over some journeys or
/// aggregated paths. The identity of [`merge`](Self::merge) is
/// [`MarkovPartial::new`]; [`finish`](Self::finish) solves the chain.
///
/// Serializes (serde) to a name-keyed, sorted form with the format version
/// and configuration fingerprint; two fits compare equal when their
/// serialized forms do.
///
/// # Example: two shards, merged
///
/// ```
/// use touchpoint::markov::{MarkovConfig, MarkovPartial};
///
/// let config = MarkovConfig::new(1)?;
/// let mut a = MarkovPartial::new(config);
/// a.observe_path(&["C1", "C2", "C3"], 1, 10_000, 0)?;
/// let mut b = MarkovPartial::new(config);
/// b.observe_path(&["C1"], 0, 0, 1)?;
/// b.observe_path(&["C2", "C3"], 0, 0, 1)?;
/// a.merge(&b)?;
/// let m = a.finish()?;
/// assert!((m.conversion_probability() - 1.0 / 3.0).abs() < 1e-15);
/// assert_eq!(m.removal_effect("C1"), Some(0.5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MarkovPartial {
    pub(super) config: MarkovConfig,
    /// Channel names by local id.
    pub(super) names: LocalNames,
    /// Packed state keys; index 0 is the start state (key 0).
    pub(super) states: IndexMap64,
    /// `(state << 32) | symbol` -> transition index.
    pub(super) trans: IndexMap64,
    pub(super) counts: Vec<u64>,
    pub(super) next: Vec<u32>,
    pub(super) totals: Totals,
    /// Scratch: catalog id -> local id, for `observe_set`.
    cache: Vec<u32>,
    scratch: JourneyScratch,
    /// Dense cache `(state, channel) -> [transition index, target state]`
    /// in rows of `wcap` columns, while it fits in [`DENSE_BUDGET`] cells;
    /// `wcap == 0` when off. Derived data only.
    dense: Vec<[u32; 2]>,
    wcap: usize,
    /// Per state, the index of its transition to the conversion and to
    /// null (`u32::MAX`: none yet), kept as states and transitions are
    /// made (`intern_state`, `add_slow`; neither table is ever rebuilt).
    /// Derived data only, always on: a journey's end is counted through
    /// this small array (8 bytes a state) instead of a cell of the state's
    /// row in the dense cache.
    ends: Vec<[u32; 2]>,
}

/// Most cells of the dense transition cache (32 MiB).
///
/// A cell holds the transition's index and its target state side by side:
/// walking a path, the next state comes from the cell itself, so the
/// chain of dependent loads per touch is one cell (not a cell, then the
/// `next` column), and the count's update is off that chain.
const DENSE_BUDGET: usize = 1 << 22;

/// Cells of a dense cache small enough to rebuild at the exact width
/// its channels need (see `sync_dense`).
const SMALL_DENSE: usize = 1 << 16;

/// An empty cell of the dense cache (no transition yet).
const EMPTY_CELL: [u32; 2] = [u32::MAX, u32::MAX];

/// Journeys walked side by side when counting a [`JourneySet`].
const WALKERS: usize = 4;

/// Cells of the dense cache (8 bytes each: 4 MiB, about a core's own
/// cache) past which [`MarkovPartial::count_range`] walks journeys side
/// by side.
const INTERLEAVE_CELLS: usize = 1 << 19;

/// Journeys counted one at a time before the dense cache's size is
/// looked at again.
const INTERLEAVE_CHUNK: usize = 4096;

/// What [`MarkovPartial::count_cached`] stopped at.
enum Step {
    /// Every journey is counted.
    Done,
    /// Walker `k`'s next touch, channel `c`, is not in the dense cache.
    Miss(usize, u32),
    /// Walker `k` ended its journey and the cache cannot count its end.
    End(usize),
    /// Journey `j` has no touches.
    Empty(usize),
}

/// One journey being walked by [`MarkovPartial::count_range`]: its
/// remaining touches `pos..end` in the set's columns, the state reached
/// and the last channel counted.
#[derive(Debug, Clone, Copy, Default)]
struct Walker {
    pos: usize,
    end: usize,
    journey: usize,
    state: u32,
    prev: u32,
}

/// A [`JourneySet`]'s fit columns, with the fit's local id of every
/// catalog channel.
struct Columns<'a> {
    offsets: &'a [usize],
    channels: &'a [ChannelId],
    converted: &'a [bool],
    values: &'a [i64],
    local: &'a [u32],
}

impl Columns<'_> {
    /// Journey `j`'s value (0 unless it converted, as `feed` counts it).
    #[inline]
    fn value(&self, j: usize) -> i64 {
        if self.converted[j] { self.values[j] } else { 0 }
    }
}

impl PartialEq for MarkovPartial {
    fn eq(&self, other: &MarkovPartial) -> bool {
        self.wire() == other.wire()
    }
}

impl MarkovPartial {
    /// An empty fit (the identity of [`merge`](Self::merge)).
    pub fn new(config: MarkovConfig) -> MarkovPartial {
        let mut states = IndexMap64::default();
        states.insert_new(0);
        MarkovPartial {
            config,
            names: LocalNames::new(
                max_channels(config.order),
                "distinct channels in a Markov fit (at this order)",
            ),
            states,
            trans: IndexMap64::default(),
            counts: Vec::new(),
            next: Vec::new(),
            totals: Totals::default(),
            cache: Vec::new(),
            scratch: JourneyScratch::default(),
            dense: vec![EMPTY_CELL; 16],
            wcap: 16,
            ends: vec![EMPTY_CELL],
        }
    }

    /// Bits per channel in this fit's state keys ([`lane_bits`]).
    #[inline]
    pub(super) fn lane_bits(&self) -> u32 {
        lane_bits(self.config.order)
    }

    /// The slot of an absorbing symbol in [`ends`](Self::ends)
    /// (`SYM_CONV` 0, `SYM_NULL` 1).
    #[inline]
    fn end_slot(sym: u32) -> usize {
        usize::from(sym == SYM_NULL)
    }

    /// Rebuilds the dense cache with `wcap` columns (or turns it off).
    fn rebuild_dense(&mut self, wcap: usize) {
        self.dense.clear();
        if self.states.len().saturating_mul(wcap) > DENSE_BUDGET {
            self.wcap = 0;
            self.dense.shrink_to_fit();
            return;
        }
        self.wcap = wcap;
        self.dense.resize(self.states.len() * wcap, EMPTY_CELL);
        for (e, &key) in self.trans.keys().iter().enumerate() {
            let s = (key >> 32) as usize;
            let c = key as u32;
            if c >= SYM_CONV {
                continue;
            }
            self.dense[s * wcap + c as usize] = [
                u32::try_from(e).unwrap_or(u32::MAX),
                self.next.get(e).copied().unwrap_or(u32::MAX),
            ];
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MarkovConfig {
        &self.config
    }

    /// The configuration fingerprint (see [`MarkovConfig::fingerprint`]): two
    /// partials merge only when theirs are equal.
    pub fn fingerprint(&self) -> String {
        self.config.fingerprint()
    }

    /// Number of journeys observed (paths count their conversions plus nulls).
    pub fn journeys(&self) -> u64 {
        self.totals.journeys()
    }

    /// Number of distinct states seen, excluding the start state.
    pub fn state_count(&self) -> usize {
        self.states.len() - 1
    }

    /// Approximate heap bytes held.
    pub fn size_bytes(&self) -> usize {
        self.states.size_bytes()
            + self.trans.size_bytes()
            + self.counts.capacity() * 8
            + self.next.capacity() * 4
            + self.names.size_bytes()
            + self.cache.capacity() * 4
            + self.scratch.size_bytes()
            + self.dense.capacity() * 8
            + self.ends.capacity() * 8
    }

    pub(super) fn intern(&mut self, name: &str) -> Result<u32> {
        let i = self.names.intern(name)?;
        self.sync_dense();
        Ok(i)
    }

    /// Widens the dense cache after new channels (derived data only).
    ///
    /// Rows are as wide as the channels need (in steps of 8 columns) while
    /// the cache is small, as when a [`JourneySet`]'s channels are all
    /// interned before its first journey: narrower rows are fewer pages
    /// and cache lines for the same states. A large cache grows by half
    /// its width at least, so names arriving one by one while streaming
    /// rebuild it a bounded number of times.
    #[inline]
    fn sync_dense(&mut self) {
        let need = self.names.len();
        if self.wcap == 0 || need <= self.wcap {
            return;
        }
        let exact = need.next_multiple_of(8);
        let wcap = if self.states.len().saturating_mul(exact) <= SMALL_DENSE {
            exact
        } else {
            exact.max((self.wcap + self.wcap / 2).next_multiple_of(8))
        };
        self.rebuild_dense(wcap);
    }

    /// Adds `w` to transition `(s, sym)`, creating it (and its target state)
    /// if new; returns the target state (`u32::MAX` for absorbing symbols).
    #[inline(always)]
    pub(super) fn add(&mut self, s: u32, sym: u32, w: u64) -> Result<u32> {
        let fast = if sym >= SYM_CONV {
            self.end_fast(s, Self::end_slot(sym), w)
        } else {
            self.step_fast(s, sym as usize, w)
        };
        match fast {
            Some(t) => Ok(t),
            None => self.add_slow(s, sym, w),
        }
    }

    /// The transition index of `(s, sym)`, if it exists: from the dense
    /// cache while it is on (it then holds every transition), else from
    /// the hash index.
    fn find(&mut self, s: u32, sym: u32) -> Option<u32> {
        if sym >= SYM_CONV {
            let e = self.ends.get(s as usize)?[Self::end_slot(sym)];
            return (e != u32::MAX).then_some(e);
        }
        if self.wcap != 0 {
            let i = s as usize * self.wcap + sym as usize;
            if let Some(&[e, _]) = self.dense.get(i) {
                return (e != u32::MAX).then_some(e);
            }
        }
        self.trans.index_all();
        self.trans.get((u64::from(s) << 32) | u64::from(sym))
    }

    /// [`add`](Self::add) past the dense cache: a new transition (or the
    /// cache is off, or the count overflows).
    #[inline(never)]
    fn add_slow(&mut self, s: u32, sym: u32, w: u64) -> Result<u32> {
        if let Some(e) = self.find(s, sym) {
            let e = e as usize;
            self.counts[e] = self.counts[e]
                .checked_add(w)
                .ok_or_else(|| overflow("transition count"))?;
            return Ok(self.next[e]);
        }
        let target = if sym >= SYM_CONV {
            u32::MAX
        } else {
            let k = push_lane(
                self.states.keys()[s as usize],
                sym,
                u32::from(self.config.order),
                self.lane_bits(),
            );
            self.intern_state(k)
        };
        let key = (u64::from(s) << 32) | u64::from(sym);
        // while the dense cache is on it answers every lookup of a
        // transition: the hash index is filled only when it turns off
        let e = if self.wcap != 0 {
            self.trans.push_unindexed(key)
        } else {
            self.trans.insert_new(key)
        };
        self.counts.push(w);
        self.next.push(target);
        if sym >= SYM_CONV {
            if let Some(end) = self.ends.get_mut(s as usize) {
                end[Self::end_slot(sym)] = e;
            }
        } else if self.wcap != 0 {
            let i = s as usize * self.wcap + sym as usize;
            if let Some(cell) = self.dense.get_mut(i) {
                *cell = [e, target];
            }
        }
        Ok(target)
    }

    /// Interns a packed state key, growing the dense cache by a row.
    pub(super) fn intern_state(&mut self, key: u64) -> u32 {
        let (s, new) = self.states.intern(key);
        if new {
            self.ends.push(EMPTY_CELL);
        }
        if new && self.wcap != 0 {
            let rows = self.states.len();
            if rows.saturating_mul(self.wcap) > DENSE_BUDGET {
                self.wcap = 0;
                self.dense = Vec::new();
            } else {
                self.dense.resize(rows * self.wcap, EMPTY_CELL);
            }
        }
        s
    }

    /// Fills the hash index of the transitions (the dense cache answered
    /// lookups until now), for readers that look transitions up in `trans`.
    pub(super) fn index_transitions(&mut self) {
        self.trans.index_all();
    }

    /// Adds `w` to state `s`'s transition to the conversion (`slot` 0) or
    /// to null (1) and returns `u32::MAX`, if it exists (`None`: not yet,
    /// or the count would overflow; [`add_slow`](Self::add_slow) then
    /// decides).
    #[inline(always)]
    fn end_fast(&mut self, s: u32, slot: usize, w: u64) -> Option<u32> {
        let e = self.ends.get(s as usize)?[slot];
        let count = self.counts.get_mut(e as usize)?;
        *count = count.checked_add(w)?;
        Some(u32::MAX)
    }

    /// Adds `w` to the cached transition in column `col` of state `s` and
    /// returns its target, if the dense cache holds it (`None`: not cached,
    /// cache off, or the count would overflow; [`add_slow`](Self::add_slow)
    /// then decides).
    #[inline(always)]
    fn step_fast(&mut self, s: u32, col: usize, w: u64) -> Option<u32> {
        // the cache is empty when off (`wcap == 0`): every lookup misses
        let [e, next] = *self.dense.get(s as usize * self.wcap + col)?;
        let count = self.counts.get_mut(e as usize)?;
        *count = count.checked_add(w)?;
        Some(next)
    }

    /// Walks `ids` from the start state, adding `w` to each transition, and
    /// returns the last state.
    #[inline(always)]
    fn walk<I: Iterator<Item = u32>>(&mut self, mut ids: I, w: u64) -> Result<u32> {
        let collapse = self.config.collapse_repeats;
        let mut s = 0u32;
        let mut prev = u32::MAX;
        loop {
            // cached transitions on local slices; the first miss leaves
            let miss = {
                let wcap = self.wcap;
                let dense = &self.dense[..];
                let counts = &mut self.counts[..];
                let mut miss = None;
                for c in ids.by_ref() {
                    if collapse && c == prev {
                        continue;
                    }
                    prev = c;
                    // an empty cell's index (u32::MAX) is past `counts`
                    let hit = dense
                        .get(s as usize * wcap + c as usize)
                        .and_then(|&[e, next]| {
                            let n = counts.get_mut(e as usize)?;
                            *n = n.checked_add(w)?;
                            Some(next)
                        });
                    match hit {
                        Some(next) => s = next,
                        None => {
                            miss = Some(c);
                            break;
                        }
                    }
                }
                miss
            };
            match miss {
                None => return Ok(s),
                Some(c) => s = self.add_slow(s, c, w)?,
            }
        }
    }

    #[inline]
    fn feed<I: ExactSizeIterator<Item = u32>>(
        &mut self,
        ids: I,
        conversions: u64,
        nulls: u64,
        value: i64,
    ) -> Result<()> {
        let w = conversions
            .checked_add(nulls)
            .ok_or_else(|| overflow("path weight"))?;
        if ids.len() == 0 {
            let t = Totals {
                empty_conversions: conversions,
                empty_nulls: nulls,
                empty_value_minor: i128::from(value),
                ..Totals::default()
            };
            return self.totals.merge(&t);
        }
        if w == 0 {
            return Ok(());
        }
        let s = self.walk(ids, w)?;
        if conversions > 0 {
            self.add(s, SYM_CONV, conversions)?;
        }
        if nulls > 0 {
            self.add(s, SYM_NULL, nulls)?;
        }
        let t = &mut self.totals;
        match (
            t.conversions.checked_add(conversions),
            t.nulls.checked_add(nulls),
            t.value_minor.checked_add(i128::from(value)),
        ) {
            (Some(c), Some(n), Some(v)) => {
                (t.conversions, t.nulls, t.value_minor) = (c, n, v);
                Ok(())
            }
            _ => Err(Error::Overflow {
                what: "journey totals",
            }),
        }
    }

    /// [`feed`](Self::feed) of one journey (weight 1): one absorbing
    /// transition, chosen by the outcome.
    #[inline(always)]
    fn feed_one(&mut self, ids: &[u32], converted: bool, value: i64) -> Result<()> {
        let t = &mut self.totals;
        if ids.is_empty() {
            // as `Totals::merge` of this one journey (same errors)
            let (c, what) = if converted {
                (&mut t.empty_conversions, "conversion count")
            } else {
                (&mut t.empty_nulls, "null count")
            };
            *c = c.checked_add(1).ok_or_else(|| overflow(what))?;
            t.empty_value_minor = t
                .empty_value_minor
                .checked_add(i128::from(value))
                .ok_or_else(|| overflow("total value"))?;
            return Ok(());
        }
        let s = self.walk(ids.iter().copied(), 1)?;
        self.count_outcome(s, converted, value)
    }

    /// The end of one journey with touches whose walk ended in state `s`:
    /// its absorbing transition and its totals.
    #[inline(always)]
    fn count_outcome(&mut self, s: u32, converted: bool, value: i64) -> Result<()> {
        self.add(s, if converted { SYM_CONV } else { SYM_NULL }, 1)?;
        let t = &mut self.totals;
        let n = if converted {
            &mut t.conversions
        } else {
            &mut t.nulls
        };
        match (
            n.checked_add(1),
            t.value_minor.checked_add(i128::from(value)),
        ) {
            (Some(c), Some(v)) => {
                (*n, t.value_minor) = (c, v);
                Ok(())
            }
            _ => Err(overflow("journey totals")),
        }
    }

    /// Observes one journey of your own type: validated as
    /// [`JourneySet::push`] validates (value, costs), its touches put in
    /// time order (stable), its channel names looked up in the fit's own
    /// table. No [`JourneySet`] is built: this is the streaming path.
    ///
    /// # Errors
    ///
    /// The journey's validation errors ([`Error::InvalidValue`],
    /// [`Error::InvalidCost`]); [`Error::TooLarge`] past
    /// [`max_channels`](super::max_channels)`(order)` channels; [`Error::Overflow`] if a count overflows.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let r = read_journey(
            journey,
            self.config.currency,
            &mut self.names,
            &mut self.scratch,
        );
        // names may have been interned even when the journey is refused
        self.sync_dense();
        let o = r?;
        let ids = std::mem::take(&mut self.scratch.ids);
        let r = self.feed_one(&ids, o.converted, o.value_minor);
        self.scratch.ids = ids;
        r
    }

    /// Observes one journey of your own type.
    ///
    /// # Errors
    ///
    /// As [`observe`](Self::observe).
    #[deprecated(since = "0.2.0", note = "use `observe`, which takes your journey type")]
    pub fn observe_journey<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        self.observe(journey)
    }

    /// Observes one journey of a [`JourneySet`] (a view).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the journey's currency differs from
    /// the configuration's; [`Error::TooLarge`] past
    /// [`max_channels`](super::max_channels)`(order)` channels; [`Error::Overflow`] if a count overflows.
    pub fn observe_view(&mut self, journey: &JourneyView<'_>) -> Result<()> {
        check_currency(journey.currency(), self.config.currency)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.names.intern_into(
            (0..journey.len()).map(|i| journey.channel_name(i)),
            &mut scratch.ids,
        );
        self.sync_dense();
        let r = r.and_then(|()| {
            let ids = scratch.ids.iter().copied();
            if journey.converted() {
                self.feed(ids, 1, 0, journey.value_minor())
            } else {
                self.feed(ids, 0, 1, 0)
            }
        });
        self.scratch = scratch;
        r
    }

    /// Observes every journey of `set` (the fast path: channel names are
    /// looked up once per set, not per touch).
    ///
    /// # Errors
    ///
    /// As [`observe`](Self::observe). After an error the fit holds part of
    /// the set (several journeys are counted side by side, so not always
    /// a prefix of it): drop it.
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        self.observe_range(set, 0, set.len())
    }

    pub(super) fn observe_range(&mut self, set: &JourneySet, from: usize, to: usize) -> Result<()> {
        check_currency(set.currency(), self.config.currency)?;
        let mut cache = std::mem::take(&mut self.cache);
        let mut r = self.names.map_catalog(set, &mut cache);
        self.sync_dense();
        if r.is_ok() {
            let (offsets, channels, converted, values) = set.fit_columns();
            let to = to.min(converted.len());
            r = self.count_range(
                &Columns {
                    offsets,
                    channels,
                    converted,
                    values,
                    local: &cache,
                },
                from,
                to,
            );
        }
        self.cache = cache;
        r
    }

    /// Counts journeys `from..to` of `cols`.
    ///
    /// With the dense cache on, [`WALKERS`] journeys are walked side by
    /// side, one touch of each in turn: each touch's cell is a dependent
    /// load (the next state comes from the cell), usually a miss in a
    /// cache of many states, and interleaving independent walks lets those
    /// misses overlap instead of queueing one after the other. Counts are
    /// sums, so the order of the additions changes nothing; states and
    /// transitions are numbered in a different order, which nothing reads
    /// (the wire form and [`finish`](Self::finish) sort them by key).
    fn count_range(&mut self, cols: &Columns<'_>, from: usize, to: usize) -> Result<()> {
        // while the cache is small its cells are in a near cache and one
        // walk at a time is cheaper (fewer instructions per touch): the
        // choice is made per chunk of journeys, the cache growing as they
        // are counted
        let mut from = from;
        while from < to && self.dense.len() < INTERLEAVE_CELLS {
            let end = to.min(from.saturating_add(INTERLEAVE_CHUNK));
            self.count_range_in_turn(cols, from, end)?;
            from = end;
        }
        if self.wcap == 0 {
            return self.count_range_in_turn(cols, from, to);
        }
        let mut w = [Walker::default(); WALKERS];
        let mut live = 0;
        let mut next = from;
        loop {
            match self.count_cached(cols, &mut w, &mut live, &mut next, to) {
                Step::Done => return Ok(()),
                Step::Miss(k, c) => {
                    let wk = &mut w[k];
                    wk.state = self.add_slow(wk.state, c, 1)?;
                    wk.prev = c;
                    wk.pos += 1;
                }
                Step::End(k) => {
                    let j = w[k].journey;
                    self.count_outcome(w[k].state, cols.converted[j], cols.value(j))?;
                    live -= 1;
                    w.swap(k, live);
                }
                Step::Empty(j) => self.feed_one(&[], cols.converted[j], cols.value(j))?,
            }
        }
    }

    /// The part of [`count_range`](Self::count_range) that the dense
    /// cache answers: walks `w[..live]` one touch each in turn, ends their
    /// journeys and starts the next ones (from `next`, up to `to`) in
    /// their place, until a step needs the slow path or no journey is
    /// left. Changes nothing for the step it returns.
    #[inline(always)]
    fn count_cached(
        &mut self,
        cols: &Columns<'_>,
        w: &mut [Walker; WALKERS],
        live: &mut usize,
        next: &mut usize,
        to: usize,
    ) -> Step {
        let collapse = self.config.collapse_repeats;
        let wcap = self.wcap;
        let dense = &self.dense[..];
        let ends = &self.ends[..];
        let counts = &mut self.counts[..];
        let totals = &mut self.totals;
        loop {
            while *live < WALKERS && *next < to {
                let j = *next;
                let (a, b) = (cols.offsets[j], cols.offsets[j + 1]);
                *next += 1;
                if a == b {
                    return Step::Empty(j);
                }
                w[*live] = Walker {
                    pos: a,
                    end: b,
                    journey: j,
                    state: 0,
                    prev: u32::MAX,
                };
                *live += 1;
            }
            if *live == 0 {
                return Step::Done;
            }
            let mut k = 0;
            while k < *live {
                let wk = &mut w[k];
                let Some(c) = cols.channels.get(wk.pos..wk.end).and_then(<[_]>::first) else {
                    // the journey's end: its absorbing transition and totals
                    let j = wk.journey;
                    let converted = cols.converted[j];
                    let slot = usize::from(!converted);
                    let (n, v) = if converted {
                        (
                            totals.conversions.checked_add(1),
                            totals.value_minor.checked_add(i128::from(cols.values[j])),
                        )
                    } else {
                        (totals.nulls.checked_add(1), Some(totals.value_minor))
                    };
                    let (Some(n), Some(v), Some(end)) = (n, v, ends.get(wk.state as usize)) else {
                        return Step::End(k);
                    };
                    let Some(count) = counts.get_mut(end[slot] as usize) else {
                        return Step::End(k);
                    };
                    let Some(c1) = count.checked_add(1) else {
                        return Step::End(k);
                    };
                    *count = c1;
                    if converted {
                        totals.conversions = n;
                    } else {
                        totals.nulls = n;
                    }
                    totals.value_minor = v;
                    // the next journey with touches takes its place
                    *live -= 1;
                    w.swap(k, *live);
                    if *live < WALKERS && *next < to {
                        break;
                    }
                    continue;
                };
                let c = cols.local[c.index()];
                if collapse && c == wk.prev {
                    wk.pos += 1;
                    k += 1;
                    continue;
                }
                // an empty cell's index (u32::MAX) is past `counts`
                let hit =
                    dense
                        .get(wk.state as usize * wcap + c as usize)
                        .and_then(|&[e, next]| {
                            let n = counts.get_mut(e as usize)?;
                            *n = n.checked_add(1)?;
                            Some(next)
                        });
                let Some(s) = hit else {
                    return Step::Miss(k, c);
                };
                wk.state = s;
                wk.prev = c;
                wk.pos += 1;
                k += 1;
            }
        }
    }

    /// [`count_range`](Self::count_range) one journey after the other
    /// (the dense cache off).
    fn count_range_in_turn(&mut self, cols: &Columns<'_>, from: usize, to: usize) -> Result<()> {
        for j in from..to {
            let ids = cols.channels[cols.offsets[j]..cols.offsets[j + 1]]
                .iter()
                .map(|c| cols.local[c.index()]);
            let (converted, value) = (cols.converted[j], cols.value(j));
            if ids.len() == 0 {
                self.feed_one(&[], converted, value)?;
            } else {
                let s = self.walk(ids, 1)?;
                self.count_outcome(s, converted, value)?;
            }
        }
        Ok(())
    }

    /// Observes an aggregated path: the channel sequence, how many journeys
    /// with this path converted (and their total value in minor units) and
    /// how many did not. Equivalent, bit for bit, to observing the same
    /// journeys one by one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] if `value_minor` is negative or above
    /// [`MAX_MINOR`](crate::MAX_MINOR), or positive with no conversion;
    /// [`Error::InvalidJourney`] for an empty channel name; as
    /// [`observe`](Self::observe) otherwise.
    pub fn observe_path<S: AsRef<str>>(
        &mut self,
        path: &[S],
        conversions: u64,
        value_minor: i64,
        nulls: u64,
    ) -> Result<()> {
        validate_path(path, conversions, value_minor)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self
            .names
            .intern_into(path.iter().map(AsRef::as_ref), &mut scratch.ids);
        self.sync_dense();
        let r = r
            .and_then(|()| self.feed(scratch.ids.iter().copied(), conversions, nulls, value_minor));
        self.scratch = scratch;
        r
    }

    /// Observes journeys given as Arrow-layout columns, with no copying of
    /// strings: journey `i` has touches `offsets[i]..offsets[i + 1]` of
    /// `codes` (indices into `names`, already in time order), converted flag
    /// `converted[i]` and value `values_minor[i]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the columns are inconsistent (lengths,
    /// decreasing or negative offsets, codes out of range); as
    /// [`observe_path`](Self::observe_path) for values.
    pub fn observe_columns(
        &mut self,
        offsets: &[i32],
        codes: &[u32],
        names: &[&str],
        converted: &[bool],
        values_minor: &[i64],
    ) -> Result<()> {
        let map = map_column_names(names, &mut self.names);
        self.sync_dense();
        let map = map?;
        walk_columns(
            offsets,
            codes,
            names.len(),
            converted,
            values_minor,
            |path, conv, v| {
                let ids = path.iter().map(|&c| map[c as usize]);
                if conv {
                    self.feed(ids, 1, 0, v)
                } else {
                    self.feed(ids, 0, 1, 0)
                }
            },
        )
    }

    /// Adds `other`'s counts into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations differ;
    /// [`Error::Overflow`] if a count overflows; [`Error::TooLarge`] past
    /// [`max_channels`](super::max_channels)`(order)` channels.
    pub fn merge(&mut self, other: &MarkovPartial) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatiblePartials {
                left: self.config.fingerprint(),
                right: other.config.fingerprint(),
            });
        }
        let mut remap = Vec::with_capacity(other.names.len());
        for n in other.names.names() {
            remap.push(self.intern(n)?);
        }
        let bits = self.lane_bits();
        let mut state_map = Vec::with_capacity(other.states.len());
        for &k in other.states.keys() {
            let ids: Vec<u32> = unpack(k, bits)
                .into_iter()
                .map(|c| remap[c as usize])
                .collect();
            state_map.push(self.intern_state(pack(&ids, bits)));
        }
        for (e, &key) in other.trans.keys().iter().enumerate() {
            let s = (key >> 32) as u32;
            let sym = key as u32;
            let sym = if sym >= SYM_CONV {
                sym
            } else {
                remap[sym as usize]
            };
            self.add(state_map[s as usize], sym, other.counts[e])?;
        }
        self.totals.merge(&other.totals)
    }

    /// Solves the chain: conversion probability, removal effects.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientData`] if no journey with touches was observed
    /// or none converted; [`Error::NotConverged`] if an iterative solve of a
    /// component larger than 96 states does not settle.
    pub fn finish(&self) -> Result<Markov> {
        let canon = self.canon();
        Markov::build(self.config, canon, self.totals)
    }
}

crate::aggregate::journey_aggregate!(
    MarkovPartial: MarkovConfig => Markov,
    new(config) = MarkovPartial::new(config),
    finish(p) = MarkovPartial::finish(p),
);

#[cfg(test)]
mod dense_tests {
    use super::*;
    use crate::hash::fmix64;

    fn feed_all(f: &mut MarkovPartial, n: u64) {
        let mut s = 7u64;
        for _ in 0..n {
            s = fmix64(s.wrapping_add(1));
            let len = 1 + (s % 6) as usize;
            let path: Vec<String> = (0..len)
                .map(|i| format!("c{}", fmix64(s ^ i as u64) % 40))
                .collect();
            f.observe_path(&path, s % 2, 0, 1 - s % 2).unwrap();
        }
    }

    /// A set whose dense cache outgrows [`INTERLEAVE_CELLS`]: 60 channels
    /// at order 3, journeys of 0 to 7 touches (repeats included).
    fn wide_set(n: u64) -> JourneySet {
        let t0 = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut set = JourneySet::new();
        let mut s = 11u64;
        for i in 0..n {
            s = fmix64(s.wrapping_add(i));
            let mut j = crate::SimpleJourney::new(format!("j{i}"));
            for k in 0..(s % 8) {
                let c = fmix64(s ^ k) % 60;
                // a repeat now and then, for `collapse_repeats`
                let c = if k % 3 == 2 {
                    fmix64(s ^ (k - 1)) % 60
                } else {
                    c
                };
                j = j.touch(crate::SimpleTouch::new(
                    format!("c{c}"),
                    t0 + chrono::Duration::seconds(k as i64),
                ));
            }
            if s % 3 == 0 {
                j = j.converted(f64::from((s % 500) as u32) + 0.25);
            }
            set.push(&j).unwrap();
        }
        set
    }

    #[test]
    fn walking_journeys_side_by_side_changes_nothing() {
        let set = wide_set(40_000);
        for collapse in [false, true] {
            let config = MarkovConfig::new(3).unwrap().collapse_repeats(collapse);
            let mut a = MarkovPartial::new(config);
            a.observe_set(&set).unwrap();
            assert!(
                a.dense.len() >= INTERLEAVE_CELLS,
                "the side-by-side walk ran"
            );
            // one journey at a time, the cache off
            let mut b = MarkovPartial::new(config);
            b.wcap = 0;
            b.dense.clear();
            for j in set.iter() {
                b.observe_view(&j).unwrap();
            }
            assert_eq!(a.journeys(), 40_000);
            assert_eq!(a, b);
            assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        }
    }

    /// Every state's end slots name its conversion and null transitions.
    fn check_ends(p: &MarkovPartial) {
        assert_eq!(p.ends.len(), p.states.len());
        let mut want = vec![EMPTY_CELL; p.states.len()];
        for (e, &key) in p.trans.keys().iter().enumerate() {
            let sym = key as u32;
            if sym >= SYM_CONV {
                want[(key >> 32) as usize][MarkovPartial::end_slot(sym)] = e as u32;
            }
        }
        assert_eq!(p.ends, want);
    }

    /// The per-state end slots follow every way states and transitions
    /// arrive: counting with the cache on and off, rows widened by new
    /// channels, merging, and a fit read back from its serialized form and
    /// then fed more journeys.
    #[test]
    fn end_slots_follow_every_way_a_fit_grows() {
        let config = MarkovConfig::new(2).unwrap();
        let mut a = MarkovPartial::new(config);
        feed_all(&mut a, 1500);
        check_ends(&a);
        let mut b =
            serde_json::from_str::<MarkovPartial>(&serde_json::to_string(&a).unwrap()).unwrap();
        check_ends(&b);
        // more journeys, with channels the first ones did not have
        let more = |f: &mut MarkovPartial| {
            for i in 0..1500u64 {
                let path = [format!("n{}", i % 7), format!("c{}", i % 40)];
                f.observe_path(&path, i % 3, 0, 1 + i % 2).unwrap();
            }
        };
        more(&mut a);
        more(&mut b);
        check_ends(&a);
        check_ends(&b);
        assert_eq!(a, b);
        assert_eq!(
            a.finish().unwrap().conversion_probability().to_bits(),
            b.finish().unwrap().conversion_probability().to_bits()
        );
        let mut c = MarkovPartial::new(config);
        c.wcap = 0;
        c.dense.clear();
        c.merge(&a).unwrap();
        check_ends(&c);
        assert_eq!(c, a);
    }

    #[test]
    fn dense_cache_changes_nothing() {
        let config = MarkovConfig::new(3).unwrap();
        let mut a = MarkovPartial::new(config);
        feed_all(&mut a, 3000);
        let mut b = MarkovPartial::new(config);
        b.wcap = 0;
        b.dense.clear();
        feed_all(&mut b, 3000);
        assert!(a.wcap != 0);
        assert_eq!(a, b);
        assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        // merging into a fit whose cache is off, and the reverse
        let mut c = MarkovPartial::new(config);
        c.merge(&b).unwrap();
        assert_eq!(c, a);
        let mut d = b.clone();
        d.merge(&a).unwrap();
        let mut e = a.clone();
        e.merge(&b).unwrap();
        assert_eq!(d, e);
    }
}
