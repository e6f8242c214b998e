//! [`IncrementalPartial`]: the mergeable sufficient statistics of the fit.
//!
//! # Memory layout
//!
//! A pattern key is packed into a few `u32` words: a header (the number of
//! distinct channels), one word per channel (`channel id << 10 | count << 3
//! | rank << 1 | recent`, so the numeric order of the words is the order of
//! `(channel, count, rank, recent)`), then two words per order pair
//! (`a`, `b << 7 | count`). Keys live back to back in one arena
//! (`Vec<u32>`) with an end offset each; an open-addressing table of `u32`
//! pattern indices (load <= 1/2) finds them; counts sit in a parallel
//! `Vec<Cell>`. No allocation per pattern or per journey: about 70 bytes per
//! distinct pattern on the sample-like presets (12 channels), where a
//! `HashMap<(Vec, Vec), Cell>` needed about three times that.

use serde::{Deserialize, Serialize};

use super::config::{IncrementalConfig, Pairs};
use super::fit::{self, Incremental};
use super::shape::Shape;
use crate::dataset::{Interner, JourneySet, JourneyView};
use crate::error::{Error, Result};
use crate::journey::Journey;

/// Format version of serialized partials.
const VERSION: u32 = 1;

/// Bits of an item word below the channel id: count (7), rank (2), recent (1).
const ITEM_LOW: u32 = 10;
/// Mask of the low bits of an item word.
const ITEM_MASK: u32 = (1 << ITEM_LOW) - 1;
/// Bits of the second word of a pair below the channel id: the count.
const PAIR_LOW: u32 = 7;
/// Mask of the count of a pair word.
const PAIR_MASK: u32 = (1 << PAIR_LOW) - 1;
/// Channels a partial can hold (ids packed in 22 bits); far above what a
/// fit accepts ([`MAX_FEATURES`](super::MAX_FEATURES)).
pub(crate) const MAX_CHANNELS: usize = 1 << (32 - ITEM_LOW);
/// Largest stored count or rank a packed key holds.
const MAX_COUNT: u16 = 64;
const MAX_RANK: u16 = 2;
/// Empty slot of the index table.
const EMPTY: u32 = u32::MAX;

/// Packs one item; `count <= 64`, `rank <= 2`, `ch < MAX_CHANNELS`.
fn pack_item(ch: u32, count: u16, rank: u16, recent: bool) -> u32 {
    ch << ITEM_LOW | u32::from(count) << 3 | u32::from(rank) << 1 | u32::from(recent)
}

/// The items (one word each) and pairs (two words each) of a packed key.
pub(crate) fn key_parts(key: &[u32]) -> (&[u32], &[u32]) {
    let n = key.first().map_or(0, |&n| n as usize);
    let items = key.get(1..=n).unwrap_or(&[]);
    let pairs = key.get(n + 1..).unwrap_or(&[]);
    (items, pairs)
}

/// Decodes an item word.
pub(crate) fn item_of(w: u32) -> KeyItem {
    KeyItem {
        ch: w >> ITEM_LOW,
        count: (w >> 3 & 0x7F) as u16,
        rank: (w >> 1 & 3) as u16,
        recent: w & 1 == 1,
    }
}

/// Decodes the pair starting at `pair[0]`: `(a, b, count)`.
pub(crate) fn pair_of(pair: &[u32]) -> (u32, u32, u16) {
    (pair[0], pair[1] >> PAIR_LOW, (pair[1] & PAIR_MASK) as u16)
}

/// The order of canonical keys: items, then pairs (the order of [`Key`]).
fn cmp_keys(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    let (ia, pa) = key_parts(a);
    let (ib, pb) = key_parts(b);
    ia.cmp(ib).then_with(|| pa.cmp(pb))
}

/// Rewrites `key` with channel ids mapped by `map` into `out`, items and
/// pairs re-sorted. `pairs` is scratch.
fn remap_key(
    key: &[u32],
    map: impl Fn(u32) -> u32,
    out: &mut Vec<u32>,
    pairs: &mut Vec<(u32, u32)>,
) {
    let (items, pw) = key_parts(key);
    out.clear();
    out.push(key.first().copied().unwrap_or(0));
    out.extend(
        items
            .iter()
            .map(|&w| map(w >> ITEM_LOW) << ITEM_LOW | (w & ITEM_MASK)),
    );
    out[1..].sort_unstable();
    pairs.clear();
    pairs.extend(pw.chunks_exact(2).map(|p| {
        (
            map(p[0]),
            map(p[1] >> PAIR_LOW) << PAIR_LOW | (p[1] & PAIR_MASK),
        )
    }));
    pairs.sort_unstable();
    for &(a, b) in pairs.iter() {
        out.push(a);
        out.push(b);
    }
}

/// A fast, fixed (seedless) hash of a packed key. Results never depend on
/// it: the fit reads patterns in sorted order.
fn hash_words(words: &[u32]) -> u64 {
    let mut h = words.len() as u64;
    for &w in words {
        h = (h.rotate_left(5) ^ u64::from(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    // murmur3 finalizer: good low bits for the power-of-two table
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ h >> 33
}

/// Packed keys back to back, their counts, and (when used for lookups) an
/// open-addressing index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// Packed keys, back to back.
    words: Vec<u32>,
    /// End offset of each key in `words`.
    ends: Vec<u32>,
    /// Counts, one per key (empty in a sorted copy, see [`Sorted`]).
    cells: Vec<Cell>,
    /// Pattern indices, [`EMPTY`] when free; a power of two long, at most
    /// half full (empty when the store is not indexed).
    slots: Vec<u32>,
}

impl Store {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn key(&self, i: usize) -> &[u32] {
        let a = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.words[a..self.ends[i] as usize]
    }

    fn heap_bytes(&self) -> usize {
        self.words.capacity() * 4
            + self.ends.capacity() * 4
            + self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.slots.capacity() * 4
    }

    /// Appends a key (no lookup).
    fn push_key(&mut self, key: &[u32]) -> Result<()> {
        let end = self.words.len() + key.len();
        let end32 = u32::try_from(end).map_err(|_| Error::TooLarge {
            what: "words of incremental patterns",
            found: end,
            limit: u32::MAX as usize,
        })?;
        if self.ends.len() >= EMPTY as usize {
            return Err(Error::TooLarge {
                what: "incremental patterns",
                found: self.ends.len() + 1,
                limit: EMPTY as usize - 1,
            });
        }
        self.words.extend_from_slice(key);
        self.ends.push(end32);
        Ok(())
    }

    /// Adds `cell` to the counts of `key`, inserting it if new.
    fn add(&mut self, key: &[u32], cell: &Cell) -> Result<()> {
        if (self.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        #[expect(clippy::cast_possible_truncation, reason = "masked hash")]
        let mut s = hash_words(key) as usize & mask;
        loop {
            let idx = self.slots[s];
            if idx == EMPTY {
                self.push_key(key)?;
                self.cells.push(*cell);
                self.slots[s] = u32::try_from(self.len() - 1).unwrap_or(EMPTY);
                return Ok(());
            }
            if self.key(idx as usize) == key {
                return self.cells[idx as usize].checked_add(cell);
            }
            s = (s + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(64);
        let mask = cap - 1;
        let mut slots = vec![EMPTY; cap];
        for i in 0..self.len() {
            #[expect(clippy::cast_possible_truncation, reason = "masked hash")]
            let mut s = hash_words(self.key(i)) as usize & mask;
            while slots[s] != EMPTY {
                s = (s + 1) & mask;
            }
            slots[s] = u32::try_from(i).unwrap_or(EMPTY);
        }
        self.slots = slots;
    }
}

/// The patterns of a partial in canonical form for the fit: channel ids
/// are indices into the sorted used names, keys sorted (the order of
/// [`Key`]); `src[i]` is the partial's index of sorted pattern `i`.
#[derive(Debug)]
pub(crate) struct Sorted<'a> {
    pub(crate) partial: &'a IncrementalPartial,
    pub(crate) channels: Vec<String>,
    pub(crate) keys: Store,
    pub(crate) src: Vec<u32>,
}

impl Sorted<'_> {
    /// Counts of sorted pattern `i`.
    pub(crate) fn cell(&self, i: usize) -> &Cell {
        &self.partial.store.cells[self.src[i] as usize]
    }
    pub(crate) fn config(&self) -> &IncrementalConfig {
        &self.partial.config
    }
    pub(crate) fn totals(&self) -> &Cell {
        &self.partial.totals
    }
    pub(crate) fn capped_journeys(&self) -> u64 {
        self.partial.capped_journeys
    }
    pub(crate) fn currency_decimals(&self) -> u8 {
        self.partial.currency_decimals.unwrap_or(2)
    }
}

/// One distinct channel of a pattern (the serialized form of an item word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct KeyItem {
    /// Channel id (local to the partial, or an index into sorted names).
    pub(crate) ch: u32,
    /// Stored (capped) count.
    pub(crate) count: u16,
    /// Rank by last occurrence, capped at 2 (0 = last touch); 0 when the
    /// last-touch features are off.
    pub(crate) rank: u16,
    /// Recency flag (false when off).
    pub(crate) recent: bool,
}

/// A distinct feature pattern: items sorted by channel, pairs sorted (the
/// serialized form of a packed key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Key {
    pub(crate) items: Vec<KeyItem>,
    /// "a before b" pairs, as channel ids, with the stored count of `b`
    /// touches after the first `a` touch.
    pub(crate) pairs: Vec<(u32, u32, u16)>,
}

impl Key {
    /// The packed form (items and pairs sorted), or `None` if a field is
    /// out of the packed range.
    pub(crate) fn pack(&self) -> Option<Vec<u32>> {
        let ok = |ch: u32| (ch as usize) < MAX_CHANNELS;
        let mut out = vec![u32::try_from(self.items.len()).ok()?];
        for it in &self.items {
            if !ok(it.ch) || it.count > MAX_COUNT || it.rank > MAX_RANK {
                return None;
            }
            out.push(pack_item(it.ch, it.count, it.rank, it.recent));
        }
        out[1..].sort_unstable();
        let mut pairs = Vec::with_capacity(self.pairs.len());
        for &(a, b, n) in &self.pairs {
            if !ok(a) || !ok(b) || n > MAX_COUNT {
                return None;
            }
            pairs.push((a, b << PAIR_LOW | u32::from(n)));
        }
        pairs.sort_unstable();
        for (a, b) in pairs {
            out.push(a);
            out.push(b);
        }
        Some(out)
    }

    /// The key of packed words.
    fn unpack(key: &[u32]) -> Key {
        let (items, pairs) = key_parts(key);
        Key {
            items: items.iter().map(|&w| item_of(w)).collect(),
            pairs: pairs.chunks_exact(2).map(pair_of).collect(),
        }
    }
}

/// Integer counts of one pattern.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cell {
    /// Journeys (weighted).
    pub(crate) journeys: u64,
    /// Converted journeys (weighted).
    pub(crate) conversions: u64,
    /// Converted value, minor units (weighted).
    pub(crate) value: i128,
}

impl Cell {
    fn checked_add(&mut self, o: &Cell) -> Result<()> {
        self.journeys = self
            .journeys
            .checked_add(o.journeys)
            .ok_or(Error::Overflow {
                what: "pattern journeys",
            })?;
        self.conversions = self
            .conversions
            .checked_add(o.conversions)
            .ok_or(Error::Overflow {
                what: "pattern conversions",
            })?;
        self.value = self.value.checked_add(o.value).ok_or(Error::Overflow {
            what: "pattern value",
        })?;
        Ok(())
    }
}

/// The canonical form: names sorted, keys use indices into them, patterns
/// sorted. What serde writes and what [`fit`] reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Canonical {
    pub(crate) version: u32,
    pub(crate) config: IncrementalConfig,
    pub(crate) channels: Vec<String>,
    pub(crate) patterns: Vec<(Key, Cell)>,
    pub(crate) totals: Cell,
    pub(crate) capped_journeys: u64,
    pub(crate) currency_decimals: u8,
}

/// The mergeable state of an [`incremental`](crate::incremental) fit: the
/// distinct feature patterns of the journeys seen, each with integer counts
/// (journeys, conversions, value in minor units), keyed by channel *names*.
///
/// It follows the crate's merge rules: an empty partial is the identity of
/// [`merge`](Self::merge); [`observe`](Self::observe) adds one journey;
/// partials built on any split of the data merge to the same state; and
/// [`finish`](Self::finish) fits on the patterns in sorted order, so the
/// fitted model is the same bit for bit however the data was split, ordered
/// or merged. Memory grows with the number of distinct patterns, not with
/// journeys. Serialized (serde) in canonical, name-sorted form.
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleJourney, SimpleTouch};
/// use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let config = IncrementalConfig::new();
/// let mut left = IncrementalPartial::new(&config);
/// let mut right = IncrementalPartial::new(&config);
/// for i in 0..40 {
///     let mut j = SimpleJourney::new(format!("j{i}"));
///     if i % 2 == 0 { j = j.touch(SimpleTouch::new("email", t)); }
///     if i % 5 < 2 { j = j.converted(10.0); }
///     if i < 20 { left.observe(&j)? } else { right.observe(&j)? }
/// }
/// left.merge(&right)?;
/// assert_eq!(left.journeys(), 40);
/// assert_eq!(left.patterns(), 2); // {email} and {}
/// let model = left.finish()?;
/// assert_eq!(model.effects()[0].name(), "email");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct IncrementalPartial {
    config: IncrementalConfig,
    names: Interner,
    store: Store,
    totals: Cell,
    capped_journeys: u64,
    currency_decimals: Option<u8>,
    shape: Shape,
    scratch: JourneySet,
    /// Partial ids of `scratch`'s catalog channels (its catalog only grows).
    scratch_map: Vec<u32>,
    /// Per-journey scratch: touches, packed key, pairs.
    touches: Vec<(u32, u32)>,
    key: Vec<u32>,
    pair_buf: Vec<(u32, u32)>,
}

impl IncrementalPartial {
    /// An empty partial for `config` (the identity of merge).
    pub fn new(config: &IncrementalConfig) -> IncrementalPartial {
        IncrementalPartial {
            config: config.clone(),
            names: Interner::default(),
            store: Store::default(),
            totals: Cell::default(),
            capped_journeys: 0,
            currency_decimals: None,
            shape: Shape::default(),
            scratch: JourneySet::new(),
            scratch_map: Vec::new(),
            touches: Vec::new(),
            key: Vec::new(),
            pair_buf: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IncrementalConfig {
        &self.config
    }

    /// Format version and configuration fingerprint; partials merge only
    /// when these are equal.
    pub fn fingerprint(&self) -> String {
        format!("v{VERSION};{}", self.config.fingerprint())
    }

    /// Journeys observed (weighted).
    pub fn journeys(&self) -> u64 {
        self.totals.journeys
    }

    /// Converted journeys observed (weighted).
    pub fn conversions(&self) -> u64 {
        self.totals.conversions
    }

    /// Number of distinct feature patterns held.
    pub fn patterns(&self) -> usize {
        self.store.len()
    }

    /// Heap bytes allocated for the patterns and channel names (the
    /// capacity of the pattern arena, counts and index table).
    pub fn size_bytes(&self) -> usize {
        self.store.heap_bytes() + self.names.iter().map(|n| n.len() + 24).sum::<usize>()
    }

    /// Adds one journey of your own type.
    ///
    /// # Errors
    ///
    /// The journey's validation errors (see [`JourneySet::push`]);
    /// [`Error::Overflow`] if a count overflows.
    pub fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        let mut set = std::mem::take(&mut self.scratch);
        let mut map = std::mem::take(&mut self.scratch_map);
        set.clear_journeys();
        let r = set.push(journey).and_then(|()| {
            self.check_currency(&set)?;
            // the scratch catalog only grows: intern its new channels only
            for n in set.catalog().channels.iter().skip(map.len()) {
                map.push(self.names.try_intern(n)?);
            }
            for view in set.iter() {
                self.observe_view(&view, &map, 1)?;
            }
            Ok(())
        });
        self.scratch = set;
        self.scratch_map = map;
        r
    }

    /// Adds every journey of `set`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if `set` uses another currency than
    /// journeys seen before; [`Error::Overflow`] if a count overflows.
    pub fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        let map = self.catalog_map(set)?;
        for view in set.iter() {
            self.observe_view(&view, &map, 1)?;
        }
        Ok(())
    }

    /// Adds every journey of `set` with an integer frequency weight each
    /// (`weights[i]` copies of journey `i`; 0 leaves it out). This is how
    /// a bootstrap replicate is fitted.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`weights`) if `weights.len() != set.len()`;
    /// otherwise as [`observe_set`](Self::observe_set).
    pub fn observe_weighted(&mut self, set: &JourneySet, weights: &[u32]) -> Result<()> {
        if weights.len() != set.len() {
            return Err(Error::param(
                "weights",
                weights.len(),
                "one weight per journey of the set",
            ));
        }
        let map = self.catalog_map(set)?;
        for (view, &w) in set.iter().zip(weights) {
            if w > 0 {
                self.observe_view(&view, &map, u64::from(w))?;
            }
        }
        Ok(())
    }

    /// Adds journeys given as Arrow-layout columns, with no copy into a
    /// [`JourneySet`]: journey `j` owns touches `offsets[j]..offsets[j+1]`;
    /// `channels` are codes into `names`; `timestamps` are Unix ms (sorted
    /// stably per journey here); `converted` and `values_minor` (minor
    /// units, ignored when not converted) are per journey.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the column lengths disagree, offsets
    /// are negative or decreasing, or a code is out of range;
    /// [`Error::InvalidValue`] for a negative value of a converted journey;
    /// [`Error::Overflow`] if a count overflows.
    pub fn observe_columns(
        &mut self,
        offsets: &[i32],
        channels: &[u32],
        names: &[&str],
        timestamps: &[i64],
        converted: &[bool],
        values_minor: &[i64],
    ) -> Result<()> {
        let n = offsets.len().saturating_sub(1);
        if offsets.is_empty() || converted.len() != n || values_minor.len() != n {
            return Err(Error::param(
                "offsets",
                offsets.len(),
                "journeys + 1 offsets, and one converted flag and value per journey",
            ));
        }
        if channels.len() != timestamps.len() {
            return Err(Error::param(
                "timestamps",
                timestamps.len(),
                "one timestamp per channel code",
            ));
        }
        let bad_offset = || {
            Error::param(
                "offsets",
                "out of order",
                "non-decreasing offsets within the columns",
            )
        };
        let map: Vec<u32> = names
            .iter()
            .map(|s| self.names.try_intern(s))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = Vec::new();
        let mut local: Vec<(u32, u32)> = Vec::new();
        let mut ts: Vec<i64> = Vec::new();
        for j in 0..n {
            let a = usize::try_from(offsets[j]).map_err(|_| bad_offset())?;
            let b = usize::try_from(offsets[j + 1]).map_err(|_| bad_offset())?;
            if a > b || b > channels.len() {
                return Err(bad_offset());
            }
            order.clear();
            order.extend(a..b);
            order.sort_by_key(|&i| timestamps[i]); // stable
            local.clear();
            ts.clear();
            for &i in &order {
                let code = channels[i] as usize;
                let id = *map
                    .get(code)
                    .ok_or_else(|| Error::param("channels", code, "codes below names.len()"))?;
                local.push((id, id));
                ts.push(timestamps[i]);
            }
            let value = if converted[j] { values_minor[j] } else { 0 };
            if value < 0 {
                return Err(Error::InvalidValue {
                    journey: format!("#{j}"),
                    #[expect(clippy::cast_precision_loss, reason = "error message")]
                    value: value as f64,
                });
            }
            self.observe_local(&local, &ts, converted[j], value, 1)?;
        }
        Ok(())
    }

    /// One pass over `set` counting journey `i` into partial `fold[i]` of
    /// `k` partials (all with `config`).
    pub(crate) fn observe_folds(
        set: &JourneySet,
        config: &IncrementalConfig,
        fold: &[usize],
        k: usize,
    ) -> Result<Vec<IncrementalPartial>> {
        let mut parts: Vec<IncrementalPartial> =
            (0..k).map(|_| IncrementalPartial::new(config)).collect();
        let maps: Vec<Vec<u32>> = parts
            .iter_mut()
            .map(|p| p.catalog_map(set))
            .collect::<Result<_>>()?;
        for (view, &f) in set.iter().zip(fold) {
            parts[f].observe_view(&view, &maps[f], 1)?;
        }
        Ok(parts)
    }

    fn catalog_map(&mut self, set: &JourneySet) -> Result<Vec<u32>> {
        self.check_currency(set)?;
        set.catalog()
            .channels
            .iter()
            .map(|n| self.names.try_intern(n))
            .collect()
    }

    fn check_currency(&mut self, set: &JourneySet) -> Result<()> {
        let d = set.currency().decimals();
        match self.currency_decimals {
            Some(x) if x != d => {
                return Err(Error::IncompatiblePartials {
                    left: format!("decimals={x}"),
                    right: format!("decimals={d}"),
                });
            }
            _ => {}
        }
        if !set.is_empty() {
            self.currency_decimals = Some(d);
        }
        Ok(())
    }

    fn observe_view(&mut self, view: &JourneyView<'_>, map: &[u32], weight: u64) -> Result<()> {
        let mut local = std::mem::take(&mut self.touches);
        local.clear();
        local.extend(view.channels().iter().map(|c| {
            let id = map[c.index()];
            (id, id)
        }));
        let r = self.observe_local(
            &local,
            view.timestamps(),
            view.converted(),
            view.value_minor(),
            weight,
        );
        self.touches = local;
        r
    }

    fn observe_local(
        &mut self,
        touches: &[(u32, u32)],
        ts: &[i64],
        converted: bool,
        value: i64,
        weight: u64,
    ) -> Result<()> {
        let mut shape = std::mem::take(&mut self.shape);
        let names = &self.names;
        let config = &self.config;
        shape.build(config, touches.iter().copied(), ts, |a, b| {
            match &config.pairs {
                Pairs::None => false,
                Pairs::All => true,
                Pairs::Only(list) => {
                    let (na, nb) = (names.name(a.ch), names.name(b.ch));
                    list.iter()
                        .any(|(x, y)| Some(x.as_str()) == na && Some(y.as_str()) == nb)
                }
            }
        });
        // the packed key: header, sorted item words, sorted pair words
        let mut key = std::mem::take(&mut self.key);
        let mut pairs = std::mem::take(&mut self.pair_buf);
        key.clear();
        pairs.clear();
        key.push(u32::try_from(shape.items.len()).unwrap_or(u32::MAX));
        let mut too_many = None;
        for it in &shape.items {
            if it.ch as usize >= MAX_CHANNELS {
                too_many = Some(it.ch as usize + 1);
            }
            key.push(pack_item(
                it.ch,
                it.count.min(MAX_COUNT),
                it.rank.min(MAX_RANK),
                it.recent,
            ));
        }
        key[1..].sort_unstable();
        pairs.extend(shape.pairs.iter().map(|&(i, j, n)| {
            (
                shape.items[i as usize].ch,
                shape.items[j as usize].ch << PAIR_LOW | u32::from(n.min(MAX_COUNT)),
            )
        }));
        pairs.sort_unstable();
        for &(a, b) in &pairs {
            key.push(a);
            key.push(b);
        }
        let capped = shape.capped;
        self.shape = shape;
        self.pair_buf = pairs;
        if let Some(found) = too_many {
            self.key = key;
            return Err(Error::TooLarge {
                what: "channels of an incremental partial",
                found,
                limit: MAX_CHANNELS,
            });
        }
        let cell = Cell {
            journeys: weight,
            conversions: if converted { weight } else { 0 },
            value: if converted {
                i128::from(value) * i128::from(weight)
            } else {
                0
            },
        };
        self.totals.checked_add(&cell)?;
        if capped {
            self.capped_journeys = self.capped_journeys.saturating_add(weight);
        }
        let r = self.store.add(&key, &cell);
        self.key = key;
        r
    }

    /// Adds `other`'s counts into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] if the configurations (or currencies)
    /// differ; [`Error::Overflow`] if a count overflows.
    pub fn merge(&mut self, other: &IncrementalPartial) -> Result<()> {
        if self.fingerprint() != other.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.fingerprint(),
                right: other.fingerprint(),
            });
        }
        match (self.currency_decimals, other.currency_decimals) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::IncompatiblePartials {
                    left: format!("decimals={a}"),
                    right: format!("decimals={b}"),
                });
            }
            (None, b) => self.currency_decimals = b,
            _ => {}
        }
        let map: Vec<u32> = other
            .names
            .iter()
            .map(|n| self.names.try_intern(n))
            .collect::<Result<_>>()?;
        if self.names.len() > MAX_CHANNELS {
            return Err(Error::TooLarge {
                what: "channels of an incremental partial",
                found: self.names.len(),
                limit: MAX_CHANNELS,
            });
        }
        let (mut key, mut pairs) = (Vec::new(), Vec::new());
        for i in 0..other.store.len() {
            remap_key(
                other.store.key(i),
                |id| map[id as usize],
                &mut key,
                &mut pairs,
            );
            self.store.add(&key, &other.store.cells[i])?;
        }
        self.totals.checked_add(&other.totals)?;
        self.capped_journeys = self
            .capped_journeys
            .checked_add(other.capped_journeys)
            .ok_or(Error::Overflow {
                what: "capped journeys",
            })?;
        Ok(())
    }

    /// The patterns in canonical form: used channel names sorted, keys
    /// rewritten with indices into them and sorted.
    pub(crate) fn sorted(&self) -> Sorted<'_> {
        let mut used: Vec<bool> = vec![false; self.names.len()];
        for i in 0..self.store.len() {
            for &w in key_parts(self.store.key(i)).0 {
                used[(w >> ITEM_LOW) as usize] = true;
            }
        }
        let mut channels: Vec<(&str, u32)> = self
            .names
            .iter()
            .enumerate()
            .filter(|(i, _)| used[*i])
            .map(|(i, n)| (n, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        channels.sort_unstable();
        let mut to_sorted = vec![u32::MAX; self.names.len()];
        for (pos, (_, id)) in channels.iter().enumerate() {
            to_sorted[*id as usize] = u32::try_from(pos).unwrap_or(u32::MAX);
        }
        // rewrite every key (same lengths as the partial's: no size error)
        let n = self.store.len();
        let mut remapped = Store {
            words: Vec::with_capacity(self.store.words.len()),
            ends: Vec::with_capacity(n),
            ..Store::default()
        };
        let (mut key, mut pairs) = (Vec::new(), Vec::new());
        for i in 0..n {
            remap_key(
                self.store.key(i),
                |id| to_sorted[id as usize],
                &mut key,
                &mut pairs,
            );
            let _ = remapped.push_key(&key);
        }
        let mut src: Vec<u32> = (0..n).map(|i| u32::try_from(i).unwrap_or(EMPTY)).collect();
        // keys are distinct: the unstable sort is deterministic
        src.sort_unstable_by(|&a, &b| cmp_keys(remapped.key(a as usize), remapped.key(b as usize)));
        let mut keys = Store {
            words: Vec::with_capacity(remapped.words.len()),
            ends: Vec::with_capacity(n),
            ..Store::default()
        };
        for &i in &src {
            let _ = keys.push_key(remapped.key(i as usize));
        }
        Sorted {
            partial: self,
            channels: channels.into_iter().map(|(n, _)| n.to_owned()).collect(),
            keys,
            src,
        }
    }

    /// The serialized form.
    pub(crate) fn canonical(&self) -> Canonical {
        let sorted = self.sorted();
        let patterns = (0..sorted.keys.len())
            .map(|i| (Key::unpack(sorted.keys.key(i)), *sorted.cell(i)))
            .collect();
        Canonical {
            version: VERSION,
            config: self.config.clone(),
            channels: sorted.channels,
            patterns,
            totals: self.totals,
            capped_journeys: self.capped_journeys,
            currency_decimals: self.currency_decimals.unwrap_or(2),
        }
    }

    /// A partial from the serialized form (validated by the caller, except
    /// for the ranges of the packed fields, checked here).
    pub(crate) fn from_canonical(c: Canonical) -> Result<IncrementalPartial> {
        let mut p = IncrementalPartial::new(&c.config);
        for n in &c.channels {
            p.names.try_intern(n)?;
        }
        for (k, cell) in &c.patterns {
            let key = k.pack().ok_or_else(|| {
                Error::param(
                    "patterns",
                    "out of range",
                    "channel ids below 2^22, counts <= 64 and ranks <= 2",
                )
            })?;
            p.store.add(&key, cell)?;
        }
        p.totals = c.totals;
        p.capped_journeys = c.capped_journeys;
        // an empty partial has no currency yet (it is written with the
        // default 2): it stays the identity of merge after a round trip
        p.currency_decimals = if c.totals == Cell::default() && c.patterns.is_empty() {
            None
        } else {
            Some(c.currency_decimals)
        };
        Ok(p)
    }

    /// Fits the model on the patterns, in sorted order.
    ///
    /// # Errors
    ///
    /// - [`Error::InsufficientData`] with no journeys, or without both
    ///   converting and non-converting journeys, or (only with `l2 = 0`)
    ///   when the features are collinear or separate the outcome so the
    ///   Newton system is singular;
    /// - [`Error::NotConverged`] if the Newton iterations do not reach the
    ///   tolerance within the iteration limit;
    /// - [`Error::TooLarge`] with more than
    ///   [`MAX_FEATURES`](super::MAX_FEATURES) active features, or more than
    ///   2048 channels with pair features.
    pub fn finish(&self) -> Result<Incremental> {
        fit::fit(&self.sorted())
    }

    /// [`finish`](Self::finish) with Newton started from `prev`'s
    /// coefficients (same configuration): the same optimum to the
    /// tolerance, in fewer iterations.
    pub(crate) fn finish_from(&self, prev: &Incremental) -> Result<Incremental> {
        fit::fit_from(&self.sorted(), Some(prev))
    }
}

impl crate::aggregate::Aggregate for IncrementalPartial {
    type Config = IncrementalConfig;
    type Output = Incremental;

    fn new(config: IncrementalConfig) -> IncrementalPartial {
        IncrementalPartial::new(&config)
    }
    fn fingerprint(&self) -> String {
        IncrementalPartial::fingerprint(self)
    }
    fn observed(&self) -> u64 {
        self.journeys()
    }
    fn size_bytes(&self) -> usize {
        IncrementalPartial::size_bytes(self)
    }
    fn merge(&mut self, other: &IncrementalPartial) -> Result<()> {
        IncrementalPartial::merge(self, other)
    }
    fn finish(&self) -> Result<Incremental> {
        IncrementalPartial::finish(self)
    }
}

impl crate::aggregate::JourneyAggregate for IncrementalPartial {
    fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()> {
        IncrementalPartial::observe(self, journey)
    }
    fn observe_set(&mut self, set: &JourneySet) -> Result<()> {
        IncrementalPartial::observe_set(self, set)
    }
}

impl Serialize for IncrementalPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.canonical().serialize(s)
    }
}

impl<'de> Deserialize<'de> for IncrementalPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let c = Canonical::deserialize(d)?;
        if c.version != VERSION {
            return Err(serde::de::Error::custom(format!(
                "unsupported partial version {}",
                c.version
            )));
        }
        if c.currency_decimals > 6 {
            return Err(serde::de::Error::custom(format!(
                "currency_decimals {} out of range (0 to 6)",
                c.currency_decimals
            )));
        }
        let n = c.channels.len();
        let mut names: Vec<&str> = c.channels.iter().map(String::as_str).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            // keys index into `channels`; interning would drop the repeat
            return Err(serde::de::Error::custom("repeated channel name"));
        }
        if c.patterns
            .iter()
            .any(|(_, cell)| cell.conversions > cell.journeys || cell.value < 0)
        {
            return Err(serde::de::Error::custom(
                "pattern with more conversions than journeys or a negative value",
            ));
        }
        let mut sum = Cell::default();
        for (_, cell) in &c.patterns {
            sum.checked_add(cell).map_err(serde::de::Error::custom)?;
        }
        if sum != c.totals {
            return Err(serde::de::Error::custom(
                "totals differ from the sum of the patterns",
            ));
        }
        let bad = c.patterns.iter().any(|(k, _)| {
            k.items.iter().any(|it| it.ch as usize >= n)
                || k.pairs.iter().any(|&(a, b, _)| {
                    a == b
                        || !k.items.iter().any(|it| it.ch == a)
                        || !k.items.iter().any(|it| it.ch == b)
                })
        });
        if bad {
            return Err(serde::de::Error::custom(
                "pattern refers to an unknown channel",
            ));
        }
        IncrementalPartial::from_canonical(c).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(items: &[(u32, u16, u16, bool)], pairs: &[(u32, u32, u16)]) -> Key {
        let mut items: Vec<KeyItem> = items
            .iter()
            .map(|&(ch, count, rank, recent)| KeyItem {
                ch,
                count,
                rank,
                recent,
            })
            .collect();
        items.sort_unstable();
        let mut pairs = pairs.to_vec();
        pairs.sort_unstable();
        Key { items, pairs }
    }

    /// The packed words sort exactly like the keys (the fit's pattern order,
    /// hence its bits, depends on it) and unpack to the same key.
    #[test]
    fn packed_order_matches_key_order() {
        let mut keys = vec![
            key(&[], &[]),
            key(&[(0, 1, 0, false)], &[]),
            key(&[(0, 1, 0, true)], &[]),
            key(&[(0, 1, 1, false)], &[]),
            key(&[(0, 2, 0, false)], &[]),
            key(&[(0, 64, 2, true)], &[]),
            key(&[(1, 1, 0, false)], &[]),
            key(&[(0, 1, 0, false), (1, 1, 0, false)], &[]),
            key(&[(0, 1, 0, false), (1, 1, 0, false)], &[(0, 1, 1)]),
            key(&[(0, 1, 0, false), (1, 1, 0, false)], &[(0, 1, 2)]),
            key(&[(0, 1, 0, false), (1, 1, 0, false)], &[(1, 0, 1)]),
            key(
                &[(0, 1, 0, false), (1, 1, 0, false)],
                &[(0, 1, 1), (1, 0, 1)],
            ),
            key(&[(MAX_CHANNELS as u32 - 1, 3, 2, false)], &[]),
            key(&[(7, 3, 1, true), (900, 10, 0, false)], &[(900, 7, 64)]),
        ];
        keys.sort();
        let packed: Vec<Vec<u32>> = keys.iter().map(|k| k.pack().unwrap()).collect();
        for (a, (ka, pa)) in keys.iter().zip(&packed).enumerate() {
            assert_eq!(&Key::unpack(pa), ka);
            for (b, (kb, pb)) in keys.iter().zip(&packed).enumerate() {
                assert_eq!(cmp_keys(pa, pb), ka.cmp(kb), "{a} {b}");
            }
        }
        assert!(key(&[(0, 65, 0, false)], &[]).pack().is_none());
        assert!(key(&[(0, 1, 3, false)], &[]).pack().is_none());
        assert!(
            key(&[(MAX_CHANNELS as u32, 1, 0, false)], &[])
                .pack()
                .is_none()
        );
    }

    /// The index table finds every key again across growth and adds counts.
    #[test]
    fn store_adds_counts_across_growth() {
        let mut s = Store::default();
        let one = Cell {
            journeys: 1,
            conversions: 1,
            value: 5,
        };
        for round in 0..3_u64 {
            for i in 0..1000_u32 {
                let k = key(&[(i % 37, 1, 0, false), (100 + i / 37, 2, 0, true)], &[]);
                s.add(&k.pack().unwrap(), &one).unwrap();
            }
            assert_eq!(s.len(), 1000);
            assert!(s.cells.iter().all(|c| c.journeys == round + 1));
        }
        assert!(s.slots.len() >= 2000 && s.slots.len().is_power_of_two());
        assert_eq!(s.cells.iter().map(|c| c.value).sum::<i128>(), 15_000);
    }
}
