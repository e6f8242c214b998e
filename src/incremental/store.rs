//! The packed pattern keys of the incremental fit and their store.
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

use super::config::IncrementalConfig;
use super::shape::{Item, Shape};
use crate::error::{Error, Result};

/// Format version of serialized partials.
pub(super) const VERSION: u32 = 1;

/// Bits of an item word below the channel id: count (7), rank (2), recent (1).
pub(super) const ITEM_LOW: u32 = 10;
/// Mask of the low bits of an item word.
pub(super) const ITEM_MASK: u32 = (1 << ITEM_LOW) - 1;
/// Bits of the second word of a pair below the channel id: the count.
pub(super) const PAIR_LOW: u32 = 7;
/// Mask of the count of a pair word.
pub(super) const PAIR_MASK: u32 = (1 << PAIR_LOW) - 1;
/// Channels a partial can hold (ids packed in 22 bits); far above what a
/// fit accepts ([`MAX_FEATURES`](super::MAX_FEATURES)).
pub(crate) const MAX_CHANNELS: usize = 1 << (32 - ITEM_LOW);
/// Largest stored count or rank a packed key holds.
pub(super) const MAX_COUNT: u16 = 64;
pub(super) const MAX_RANK: u16 = 2;
/// Empty slot of the index table.
pub(super) const EMPTY: u32 = u32::MAX;

/// Packs one item; `count <= 64`, `rank <= 2`, `ch < MAX_CHANNELS`.
pub(super) fn pack_item(ch: u32, count: u16, rank: u16, recent: bool) -> u32 {
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
pub(super) fn cmp_keys(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    let (ia, pa) = key_parts(a);
    let (ib, pb) = key_parts(b);
    ia.cmp(ib).then_with(|| pa.cmp(pb))
}

/// Rewrites `key` with channel ids mapped by `map` into `out`, items and
/// pairs re-sorted. `pairs` is scratch.
pub(super) fn remap_key(
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
pub(super) fn hash_words(words: &[u32]) -> u64 {
    let mut h = words.len() as u64;
    for &w in words {
        h = (h.rotate_left(5) ^ u64::from(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    // murmur3 finalizer: good low bits for the power-of-two table
    crate::hash::fmix64(h)
}

/// Packed keys back to back, their counts, and (when used for lookups) an
/// open-addressing index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// Packed keys, back to back.
    pub(super) words: Vec<u32>,
    /// End offset of each key in `words`.
    pub(super) ends: Vec<u32>,
    /// Counts, one per key (empty in a sorted copy, see [`Sorted`]).
    pub(super) cells: Vec<Cell>,
    /// Pattern indices, [`EMPTY`] when free; a power of two long, at most
    /// half full (empty when the store is not indexed).
    pub(super) slots: Vec<u32>,
}

impl Store {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn key(&self, i: usize) -> &[u32] {
        let a = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.words[a..self.ends[i] as usize]
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.words.capacity() * 4
            + self.ends.capacity() * 4
            + self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.slots.capacity() * 4
    }

    /// Appends a key (no lookup).
    pub(super) fn push_key(&mut self, key: &[u32]) -> Result<()> {
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
    pub(super) fn add(&mut self, key: &[u32], cell: &Cell) -> Result<()> {
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
    /// The partial's counts, by its own pattern index.
    pub(crate) cells: &'a [Cell],
    pub(crate) config: &'a IncrementalConfig,
    pub(crate) totals: Cell,
    pub(crate) capped_journeys: u64,
    pub(crate) currency_decimals: Option<u8>,
    pub(crate) channels: Vec<String>,
    pub(crate) keys: Store,
    pub(crate) src: Vec<u32>,
}

impl Sorted<'_> {
    /// Counts of sorted pattern `i`.
    pub(crate) fn cell(&self, i: usize) -> &Cell {
        &self.cells[self.src[i] as usize]
    }
    pub(crate) fn config(&self) -> &IncrementalConfig {
        self.config
    }
    pub(crate) fn totals(&self) -> &Cell {
        &self.totals
    }
    pub(crate) fn capped_journeys(&self) -> u64 {
        self.capped_journeys
    }
    pub(crate) fn currency_decimals(&self) -> u8 {
        self.currency_decimals.unwrap_or(2)
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
    pub(super) fn unpack(key: &[u32]) -> Key {
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
    pub(super) fn checked_add(&mut self, o: &Cell) -> Result<()> {
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

/// The shape of a canonical packed key (channel ids are indices into the
/// sorted names), into `shape`.
pub(crate) fn key_shape(key: &[u32], shape: &mut Shape) {
    let (items, pairs) = key_parts(key);
    shape.items.clear();
    shape.pairs.clear();
    shape.items.extend(items.iter().map(|&w| {
        let it = item_of(w);
        Item {
            key: it.ch,
            ch: it.ch,
            count: it.count,
            touches: u32::from(it.count),
            recent: it.recent,
            rank: it.rank,
            first: 0,
            last: 0,
        }
    }));
    // items are sorted by channel (the channel id is the top of the word)
    let pos = |ch: u32| {
        items
            .binary_search_by_key(&ch, |&w| item_of(w).ch)
            .map_or(u16::MAX, |i| u16::try_from(i).unwrap_or(u16::MAX))
    };
    shape.pairs.extend(pairs.chunks_exact(2).map(|p| {
        let (a, b, n) = pair_of(p);
        (pos(a), pos(b), n)
    }));
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
