//! The crate's fixed, seedless hash functions, in one place.
//!
//! Nothing here depends on a random seed or the platform, so whatever uses
//! them (held-out splits, Monte Carlo streams, fingerprints, hash tables
//! whose order never reaches a result) gives the same bits everywhere.
//!
//! - [`splitmix64`]: the SplitMix64 generator step (Steele, Lea, Flood 2014);
//! - [`fmix64`]: the 64-bit finalizer of MurmurHash3, a bijective mixer;
//! - [`fnv1a`]: 64-bit FNV-1a over bytes (held-out splits, fingerprints);
//! - [`WordHasher`] / [`WordBuild`]: a word-at-a-time hasher for the hash
//!   tables of the fitted models (channel names, coalitions), whose order
//!   never reaches a result.

use std::hash::{BuildHasherDefault, Hasher};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One SplitMix64 step: advances `state` and returns the next output.
#[inline]
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64's output for state `z` (one step from `z`, stateless): the
/// keyed draws of the bootstrap and the incremental model's folds.
#[inline]
pub(crate) fn splitmix64_at(z: u64) -> u64 {
    let mut state = z;
    splitmix64(&mut state)
}

/// fmix64 from MurmurHash3: a fixed, seedless, bijective 64-bit mixer.
#[inline]
pub(crate) fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// 64-bit FNV-1a of `bytes`.
#[inline]
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write(bytes);
    h.finish()
}

/// A streaming 64-bit FNV-1a [`Hasher`] (seedless).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(FNV_OFFSET)
    }
}

impl Hasher for Fnv {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A seedless word-at-a-time [`Hasher`] for hash tables keyed by short
/// strings or small integer slices (channel names, coalitions): eight bytes
/// per multiply, finished by [`fmix64`]. Only for tables whose iteration
/// order never reaches a result (the fitted models sort before they
/// finish or serialize).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordHasher(u64);

const WORD_K: u64 = 0x517c_c1b7_2722_0a95;

impl WordHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(WORD_K);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // the length first: a name and its zero-padded extension differ
        self.add(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fmix64(self.0)
    }
}

/// `HashMap<K, V, WordBuild>`: see [`WordHasher`].
pub(crate) type WordBuild = BuildHasherDefault<WordHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // FNV-1a test vectors (Fowler, Noll, Vo)
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        // SplitMix64 from state 0: the reference implementation's first outputs
        let mut s = 0;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut s), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(fmix64(0), 0);
        assert_ne!(fmix64(1), 1);
        // the word hasher tells apart names that differ past 8 bytes, and
        // a name from its prefix padded with zero bytes (str hashing adds a
        // terminator)
        let h = |s: &str| {
            use std::hash::BuildHasher;
            WordBuild::default().hash_one(s)
        };
        assert_ne!(h("organic_search"), h("organic_social"));
        assert_ne!(h("a"), h("a\0"));
    }
}
