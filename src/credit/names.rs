//! [`NameTable`]: the streaming paths' cache from a short name to an id.
//!
//! Observing user journeys one at a time looks every channel (campaign,
//! content) name up. A general hash map hashes the bytes, probes, then
//! compares the stored `String` with a call to `memcmp`. Names of at most
//! 16 bytes (nearly every channel, campaign and content name) are instead
//! keyed by their length and four overlapping 4-byte words (packed in two
//! 8-byte words), which together determine the name exactly: a lookup is
//! four loads, a multiply and a comparison of three words, with no branch
//! on the name's length, and the table never reads a stored string.
//! Longer names are not cached (the caller's own map answers them).
//!
//! The table only caches ids the caller assigned (first appearance, in the
//! caller's own order); its hash is fixed and seedless and its order never
//! reaches a result.

/// One cached name: its key and id (`tag == 0`: an empty slot).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    lo: u64,
    hi: u64,
    /// The name's length plus one.
    tag: u32,
    id: u32,
}

/// Names of at most 16 bytes mapped to ids (open addressing, linear
/// probing, at most a quarter full).
///
/// A quarter, not a half: whether a name sits in its home slot or one
/// further is a branch taken at random per lookup. With the bench's 12
/// channel names in 32 slots (half full) about one lookup in six probed a
/// second slot, about one mispredicted branch per streamed journey in
/// callgrind's branch simulation; in 64 slots, next to none. The table
/// costs 24 bytes a slot (a few kilobytes for the names a stream
/// usually carries).
#[derive(Debug, Clone, Default)]
pub(crate) struct NameTable {
    slots: Vec<Slot>,
    len: usize,
    /// Whether a name was looked up and missed (then interned by the
    /// caller, who may have grown its catalog) since
    /// [`take_missed`](Self::take_missed).
    missed: bool,
}

/// Most names cached (beyond, lookups fall back to the caller's map).
const MAX_CACHED: usize = 1 << 16;

/// The exact key of a name of at most 16 bytes: its bytes in two words
/// and the length plus one.
///
/// A name of 4 to 16 bytes is read as four 4-byte words at offsets `0`,
/// `a = min(4, m)`, `m - a` and `m` (`m = n - 4`): words at `0` and `a`
/// cover the first 8 bytes (or the whole name), words at `m - a` and `m`
/// the last 8, so together every byte; the offsets depend on the length
/// alone, so the key determines the name. One code path for every such
/// length, with no branch on it: channel names of 5 to 14 bytes drawn at
/// random made a branch between an 8-byte and a 4-byte path mispredict
/// about 1.7 times per streamed journey (callgrind's branch simulation).
/// The two extra loads cost about 70 instructions per journey and still
/// won: first touch and W-shaped streamed about 3% faster.
#[inline(always)]
fn key(name: &[u8]) -> Option<(u64, u64, u32)> {
    let n = name.len();
    let word = |o: usize| {
        // always 4 bytes in range (`o <= n - 4`)
        name.get(o..o + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    let (lo, hi) = match n {
        4..=16 => {
            let m = n - 4;
            let a = m.min(4);
            (word(0) | word(a) << 32, word(m - a) | word(m) << 32)
        }
        1..=3 => (
            u64::from(name[0]) | u64::from(name[n / 2]) << 8 | u64::from(name[n - 1]) << 16,
            0,
        ),
        0 => (0, 0),
        _ => return None,
    };
    // n <= 16
    #[expect(clippy::cast_possible_truncation, reason = "n <= 16")]
    let tag = n as u32 + 1;
    Some((lo, hi, tag))
}

/// The home slot of a key in a table of `mask + 1` slots.
#[inline(always)]
fn home(lo: u64, hi: u64, tag: u32, mask: usize) -> usize {
    let h = (lo ^ hi.rotate_left(29) ^ (u64::from(tag) << 56)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // the top bits are the well-mixed ones
    usize::try_from(h >> 32).unwrap_or(0) & mask
}

/// The exact key of a name, computed apart from the lookup
/// ([`NameTable::key`]) so that a caller can read every name of a journey
/// first (independent loads, which the processor overlaps) and probe the
/// table afterwards. A name longer than 16 bytes has no key (`tag == 0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Key {
    lo: u64,
    hi: u64,
    tag: u32,
}

impl NameTable {
    /// The key of `name` (no key for a name longer than 16 bytes).
    #[inline(always)]
    pub(crate) fn key(name: &str) -> Key {
        match key(name.as_bytes()) {
            Some((lo, hi, tag)) => Key { lo, hi, tag },
            None => Key::default(),
        }
    }

    /// The cached id of the name of key `k`, if any (never for a name
    /// without a key).
    #[inline]
    pub(crate) fn get_key(&self, k: Key) -> Option<u32> {
        if k.tag == 0 {
            return None;
        }
        self.probe(k.lo, k.hi, k.tag)
    }

    /// The cached id of `name`, if any.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        let (lo, hi, tag) = key(name.as_bytes())?;
        self.probe(lo, hi, tag)
    }

    #[inline(always)]
    fn probe(&self, lo: u64, hi: u64, tag: u32) -> Option<u32> {
        // an empty table's mask is all ones: its first `get` is `None`
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = home(lo, hi, tag, mask);
        loop {
            let s = self.slots.get(i)?;
            if s.tag == tag && s.lo == lo && s.hi == hi {
                return Some(s.id);
            }
            if s.tag == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Caches `name -> id` (a name longer than 16 bytes, or past the
    /// table's capacity, is not cached).
    pub(crate) fn insert(&mut self, name: &str, id: u32) {
        self.insert_key(NameTable::key(name), id);
    }

    /// Caches `k -> id` (nothing for a name without a key, or past the
    /// table's capacity).
    pub(crate) fn insert_key(&mut self, k: Key, id: u32) {
        // every miss comes here (a name without a key too)
        self.missed = true;
        let Key { lo, hi, tag } = k;
        if tag == 0 || self.len >= MAX_CACHED {
            return;
        }
        // at most a quarter full (see the type's docs)
        if (self.len + 1) * 4 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = home(lo, hi, tag, mask);
        while let Some(s) = self.slots.get_mut(i) {
            if s.tag == 0 {
                *s = Slot { lo, hi, tag, id };
                self.len += 1;
                return;
            }
            if s.tag == tag && s.lo == lo && s.hi == hi {
                s.id = id;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Forgets every name.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.len = 0;
        self.missed = true;
    }

    /// Whether a name missed the table (or the table was cleared) since
    /// the last call: when not, every name looked up since was already
    /// cached, so the caller's catalog cannot have grown.
    #[inline(always)]
    pub(crate) fn take_missed(&mut self) -> bool {
        std::mem::take(&mut self.missed)
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(32);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); size]);
        let mask = size - 1;
        for s in old.into_iter().filter(|s| s.tag != 0) {
            let mut i = home(s.lo, s.hi, s.tag, mask);
            while self.slots.get(i).is_some_and(|t| t.tag != 0) {
                i = (i + 1) & mask;
            }
            if let Some(t) = self.slots.get_mut(i) {
                *t = s;
            }
        }
    }

    /// Approximate heap bytes.
    pub(crate) fn size_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_every_short_name_apart() {
        // names that share words, prefixes, lengths or bytes at the probed
        // positions, and every length from 0 to 17
        let mut names: Vec<String> = vec![
            "organic_search".into(),
            "organic_social".into(),
            "paid_search".into(),
            "a".into(),
            "a\0".into(),
            "\0".into(),
            "".into(),
            "ab".into(),
            "ba".into(),
            "aba".into(),
            "aaa".into(),
            "abcdefgh".into(),
            "abcdefghi".into(),
            "abcdefgha".into(),
            "abcdXfgh".into(),
        ];
        names.extend((1..=17).map(|n| "x".repeat(n)));
        names.extend((1..=17).map(|n| "y".repeat(n)));
        let mut t = NameTable::default();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.get(n), None, "{n:?} before insert");
            t.insert(n, u32::try_from(i).unwrap());
        }
        for (i, n) in names.iter().enumerate() {
            let want = (n.len() <= 16).then(|| u32::try_from(i).unwrap());
            assert_eq!(t.get(n), want, "{n:?}");
        }
        assert_eq!(t.get("organic_searcH"), None);
        assert_eq!(t.get("zzzz"), None);
    }

    /// Two names of the same length that differ in one byte have
    /// different keys, at every position of every length up to 16.
    #[test]
    fn every_byte_is_in_the_key() {
        for n in 1..=16_usize {
            let base: Vec<u8> = (0..n).map(|i| b'a' + u8::try_from(i).unwrap()).collect();
            let k = key(&base).unwrap();
            for p in 0..n {
                let mut other = base.clone();
                other[p] = b'Z';
                assert_ne!(key(&other).unwrap(), k, "length {n}, byte {p}");
            }
        }
    }

    #[test]
    fn keys_find_what_names_find() {
        let mut t = NameTable::default();
        let names = [
            "email",
            "paid_search",
            "x",
            "",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
        ];
        for (i, n) in names.iter().enumerate() {
            t.insert(n, u32::try_from(i).unwrap());
        }
        for n in names.iter().chain(&["emaim", "nope", "abcdefghijklmnoq"]) {
            assert_eq!(t.get_key(NameTable::key(n)), t.get(n), "{n:?}");
        }
        // a name past 16 bytes has no key, and a key-less lookup finds nothing
        assert_eq!(NameTable::key("abcdefghijklmnopq"), Key::default());
        assert_eq!(t.get_key(Key::default()), None);
        assert_eq!(t.get_key(NameTable::key("paid_search")), Some(1));
    }

    #[test]
    fn grows_and_keeps_every_id() {
        let mut t = NameTable::default();
        for i in 0..5000_u32 {
            t.insert(&format!("campaign_{i}"), i);
        }
        for i in 0..5000_u32 {
            assert_eq!(t.get(&format!("campaign_{i}")), Some(i));
        }
        assert_eq!(t.get("campaign_5000"), None);
        t.clear();
        assert_eq!(t.get("campaign_1"), None);
    }
}
