//! A small open-addressing map from `u64` keys to dense `u32` indices.
//!
//! Keys live in a side vector in insertion order; the map only stores
//! `index + 1` per slot (0 = empty). Nothing in results depends on its
//! iteration order: callers sort keys in `finish`.
//!
//! Keys may also be appended *unindexed* ([`IndexMap64::push_unindexed`]):
//! the Markov fit does so while its dense cache answers every lookup of a
//! transition, and the slots are filled only when a lookup needs them
//! ([`IndexMap64::index_all`]). [`IndexMap64::get`] stays correct either way
//! (it scans the unindexed tail), only slower.

use crate::hash::fmix64 as mix64;

/// `u64` key -> insertion index.
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexMap64 {
    slots: Vec<u32>,
    keys: Vec<u64>,
    /// `keys[..placed]` are in `slots`; the rest were pushed unindexed.
    placed: usize,
}

impl IndexMap64 {
    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The index of `key`, if present (the unindexed tail is scanned).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        if self.placed < self.keys.len() {
            if let Some(i) = self.keys[self.placed..].iter().position(|&k| k == key) {
                return u32::try_from(self.placed + i).ok();
            }
        }
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = (mix64(key) as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if self.keys[(s - 1) as usize] == key {
                return Some(s - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts `key` (which must be absent) and returns its index.
    pub(crate) fn insert_new(&mut self, key: u64) -> u32 {
        self.index_all();
        if (self.keys.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let idx = u32::try_from(self.keys.len()).expect("fewer than 2^32 keys");
        self.keys.push(key);
        self.place(key, idx);
        self.placed = self.keys.len();
        idx
    }

    /// Appends `key` (which must be absent) without indexing it, and
    /// returns its index: for a caller that finds keys by other means until
    /// it calls [`index_all`](Self::index_all).
    #[inline]
    pub(crate) fn push_unindexed(&mut self, key: u64) -> u32 {
        let idx = u32::try_from(self.keys.len()).expect("fewer than 2^32 keys");
        self.keys.push(key);
        idx
    }

    /// Indexes every key pushed by [`push_unindexed`](Self::push_unindexed).
    #[inline]
    pub(crate) fn index_all(&mut self) {
        if self.placed < self.keys.len() {
            self.index_tail();
        }
    }

    #[inline(never)]
    fn index_tail(&mut self) {
        if self.keys.len() * 2 > self.slots.len() {
            // `grow` places every key
            let cap = self.keys.len().next_power_of_two() * 2;
            self.rebuild(cap.max(64));
        } else {
            for i in self.placed..self.keys.len() {
                let k = self.keys[i];
                self.place(k, i as u32);
            }
        }
        self.placed = self.keys.len();
    }

    /// The index of `key`, inserting it if new.
    #[inline]
    pub(crate) fn intern(&mut self, key: u64) -> (u32, bool) {
        match self.get(key) {
            Some(i) => (i, false),
            None => (self.insert_new(key), true),
        }
    }

    fn place(&mut self, key: u64, idx: u32) {
        let mask = self.slots.len() - 1;
        let mut i = (mix64(key) as usize) & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = idx + 1;
    }

    fn grow(&mut self) {
        self.rebuild((self.slots.len() * 2).max(64));
    }

    /// Places every key into `cap` fresh slots (a power of two).
    fn rebuild(&mut self, cap: usize) {
        self.slots = vec![0; cap];
        for i in 0..self.keys.len() {
            let k = self.keys[i];
            self.place(k, i as u32);
        }
    }

    pub(crate) fn size_bytes(&self) -> usize {
        self.slots.capacity() * 4 + self.keys.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_and_get() {
        let mut m = IndexMap64::default();
        for k in 0..1000u64 {
            assert_eq!(m.intern(k * 7919).0, u32::try_from(k).unwrap());
        }
        for k in 0..1000u64 {
            assert_eq!(m.get(k * 7919), Some(u32::try_from(k).unwrap()));
        }
        assert_eq!(m.get(3), None);
        assert_eq!(m.len(), 1000);
    }

    #[test]
    fn unindexed_keys_are_found_before_and_after_indexing() {
        let mut m = IndexMap64::default();
        assert_eq!(m.insert_new(5), 0);
        // past several growths of the slots, unindexed
        for k in 1..300u64 {
            assert_eq!(m.push_unindexed(k * 31 + 7), u32::try_from(k).unwrap());
        }
        assert_eq!(m.get(5), Some(0));
        assert_eq!(m.get(7 * 31 + 7), Some(7));
        assert_eq!(m.get(4), None);
        // an indexed insert indexes the tail first
        assert_eq!(m.insert_new(4), 300);
        assert_eq!(m.intern(7 * 31 + 7), (7, false));
        assert_eq!(m.push_unindexed(1), 301);
        m.index_all();
        m.index_all();
        for k in 1..300u64 {
            assert_eq!(m.get(k * 31 + 7), Some(u32::try_from(k).unwrap()));
        }
        assert_eq!((m.get(4), m.get(1), m.get(2)), (Some(300), Some(301), None));
        assert_eq!(m.len(), 302);
    }
}
