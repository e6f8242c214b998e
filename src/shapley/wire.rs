//! The serialized form of a [`ShapleyPartial`]: canonical (channels sorted
//! by name, coalitions sorted), checked when read.

use serde::{Deserialize, Serialize};

use super::FORMAT_VERSION;
use super::config::{ShapleyConfig, ShapleyVariant};
use super::partial::{Cell, ShapleyPartial};
use crate::money::MAX_MINOR;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Wire {
    pub(super) version: u32,
    pub(super) fingerprint: String,
    pub(super) config: ShapleyConfig,
    pub(super) channels: Vec<String>,
    pub(super) coalitions: Vec<(Vec<u32>, Cell)>,
    pub(super) empty: Cell,
}

impl Serialize for ShapleyPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ShapleyPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let w = Wire::deserialize(d)?;
        if w.version != FORMAT_VERSION || w.fingerprint != w.config.fingerprint() {
            return Err(D::Error::custom(format!(
                "unsupported Shapley fit {} / {}",
                w.version, w.fingerprint
            )));
        }
        let mut f = ShapleyPartial::new(w.config);
        for c in &w.channels {
            f.names.intern(c).map_err(D::Error::custom)?;
        }
        // a repeated name would leave indices past the interned channels
        if f.names.len() != w.channels.len() {
            return Err(D::Error::custom("a repeated channel name"));
        }
        let n = u32::try_from(w.channels.len()).unwrap_or(u32::MAX);
        // what observing guarantees: value 0..=MAX_MINOR per conversion and
        // none without one; no coalition without a journey
        let value_ok = |c: &Cell| {
            c.value_minor >= 0
                && c.value_minor <= i128::from(c.conversions) * i128::from(MAX_MINOR)
                && (c.conversions > 0 || c.value_minor == 0)
        };
        if !value_ok(&w.empty) {
            return Err(D::Error::custom(format!(
                "value {} minor units for {} conversions with no touch",
                w.empty.value_minor, w.empty.conversions
            )));
        }
        let ordered = w.config.variant == ShapleyVariant::Ordered;
        for (k, c) in w.coalitions {
            if k.is_empty() || k.iter().any(|&i| i >= n) {
                return Err(D::Error::custom("coalition out of range"));
            }
            if !value_ok(&c) || (c.conversions == 0 && c.nulls == 0) {
                return Err(D::Error::custom(format!(
                    "coalition {k:?}: value {} minor units for {} conversions and {} nulls",
                    c.value_minor, c.conversions, c.nulls
                )));
            }
            let mut dedup = k.clone();
            dedup.sort_unstable();
            dedup.dedup();
            if dedup.len() != k.len() || f.cells.contains_key(k.as_slice()) {
                return Err(D::Error::custom("repeated channel or coalition"));
            }
            // unordered coalitions are kept sorted (observing sorts them)
            if !ordered && dedup != k {
                return Err(D::Error::custom(format!("coalition {k:?} not sorted")));
            }
            f.cells.insert(k.into_boxed_slice(), c);
        }
        f.empty = w.empty;
        Ok(f)
    }
}
