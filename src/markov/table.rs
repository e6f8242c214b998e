//! A small open-addressing map from `u64` keys to dense `u32` indices.
//!
//! Keys live in a side vector in insertion order; the map only stores
//! `index + 1` per slot (0 = empty). Nothing in results depends on its
//! iteration order: callers sort keys in `finish`.

use crate::hash::fmix64 as mix64;

/// `u64` key -> insertion index.
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexMap64 {
    slots: Vec<u32>,
    keys: Vec<u64>,
}

impl IndexMap64 {
    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
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
        if (self.keys.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let idx = u32::try_from(self.keys.len()).expect("fewer than 2^32 keys");
        self.keys.push(key);
        self.place(key, idx);
        idx
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
        let cap = (self.slots.len() * 2).max(64);
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
}
