//! The crate's fixed, seedless hash functions, in one place.
//!
//! Nothing here depends on a random seed or the platform, so whatever uses
//! them (held-out splits, Monte Carlo streams, fingerprints, hash tables
//! whose order never reaches a result) gives the same bits everywhere.
//!
//! - [`splitmix64`]: the SplitMix64 generator step (Steele, Lea, Flood 2014);
//! - [`fmix64`]: the 64-bit finalizer of MurmurHash3, a bijective mixer;
//! - [`fnv1a`]: 64-bit FNV-1a over bytes, and [`FnvBuild`], a
//!   [`BuildHasher`](std::hash::BuildHasher) for `HashMap`s keyed by short
//!   strings (channel names).

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

/// `HashMap<String, _, FnvBuild>`: fast lookups of short names. Only for
/// maps whose iteration order never reaches a result.
pub(crate) type FnvBuild = BuildHasherDefault<Fnv>;

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
    }
}
