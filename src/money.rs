//! Exact money: amounts in minor currency units.
//!
//! Inputs arrive as `f64` major units (`129.5` dollars). The crate converts
//! each amount once, at the edge, to an integer count of minor units
//! (`12950` cents) with [`Currency::to_minor`]; every sum, merge and
//! apportionment after that is integer arithmetic, so reports reconcile to
//! the cent and do not depend on summation order.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest amount, in minor units, that converts exactly from `f64`: 2^53.
pub const MAX_MINOR: i64 = 1 << 53;

/// How many decimal places the currency's minor unit has (2 for cents,
/// 0 for yen, 3 for dinar).
///
/// # Example
///
/// ```
/// use touchpoint::Currency;
///
/// let usd = Currency::default();
/// assert_eq!(usd.to_minor(129.5)?, Some(12950));
/// assert_eq!(usd.to_major(12950), 129.5);
/// assert_eq!(usd.to_minor(f64::NAN)?, None);
/// # Ok::<(), touchpoint::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "CurrencyWire")]
pub struct Currency {
    decimals: u8,
}

/// The serialized form, validated by [`Currency::new`] when read (an
/// unchecked `decimals` would overflow [`Currency::scale`]).
#[derive(Deserialize)]
struct CurrencyWire {
    decimals: u8,
}

impl TryFrom<CurrencyWire> for Currency {
    type Error = Error;
    fn try_from(w: CurrencyWire) -> Result<Currency> {
        Currency::new(w.decimals)
    }
}

impl Default for Currency {
    /// Two decimal places (cents).
    fn default() -> Currency {
        Currency { decimals: 2 }
    }
}

impl Currency {
    /// A currency whose minor unit has `decimals` decimal places.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `decimals > 6`.
    pub fn new(decimals: u8) -> Result<Currency> {
        if decimals > 6 {
            return Err(Error::param("decimals", decimals, "0 to 6"));
        }
        Ok(Currency { decimals })
    }

    /// Decimal places of the minor unit.
    pub fn decimals(self) -> u8 {
        self.decimals
    }

    /// Minor units per major unit (100 for cents).
    #[inline]
    pub fn scale(self) -> i64 {
        // `decimals` is at most 6 (checked by `new` and when read)
        const POW10: [i64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
        POW10
            .get(usize::from(self.decimals))
            .copied()
            .unwrap_or(1_000_000)
    }

    /// Converts a major-unit amount to minor units, rounding half away from
    /// zero. `Ok(None)` when the amount is NaN, infinite, negative or above
    /// [`MAX_MINOR`] minor units: the caller turns that into the error that
    /// names the place.
    ///
    /// # Errors
    ///
    /// Never fails today; the `Result` keeps room for currencies with rules.
    #[inline]
    pub fn to_minor(self, amount: f64) -> Result<Option<i64>> {
        let x = amount * self.scale() as f64;
        // NaN and negative amounts fail the first test, infinite ones the
        // second (two comparisons: `is_finite` compiles to a dozen integer
        // instructions). Then `x.round()` without its library call (x86-64
        // has no rounding instruction before SSE4.1): for `0 <= x < 2^62`
        // the integer part converts exactly and `x - floor(x)` is exact, so
        // this is `floor(x + 1/2)`, half away from zero, as `round` gives
        if !(amount >= 0.0 && x < (1_u64 << 62) as f64) {
            return Ok(None);
        }
        let floor = x as i64;
        let rounded = floor + i64::from(x - floor as f64 >= 0.5);
        if rounded > MAX_MINOR {
            return Ok(None);
        }
        Ok(Some(rounded))
    }

    /// Converts minor units to major units as `f64` (for display and ratios).
    pub fn to_major(self, minor: i64) -> f64 {
        minor as f64 / self.scale() as f64
    }

    /// Converts an `i128` total in minor units to major units as `f64`.
    pub fn to_major_wide(self, minor: i128) -> f64 {
        minor as f64 / self.scale() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialize_validates_decimals() {
        let ok: Currency = serde_json::from_str(r#"{"decimals":3}"#).unwrap();
        assert_eq!(ok.scale(), 1000);
        // 10^255 used to overflow in `scale` after an unchecked read
        assert!(serde_json::from_str::<Currency>(r#"{"decimals":255}"#).is_err());
        assert!(serde_json::from_str::<Currency>(r#"{"decimals":7}"#).is_err());
    }

    /// `to_minor` is `round` (half away from zero) with the `MAX_MINOR`
    /// limit: known answers at the halves and the edges, where
    /// `x + 0.5` would round wrongly.
    #[test]
    fn to_minor_rounds_half_away_from_zero() {
        let cents = Currency::default();
        assert_eq!(cents.scale(), 100);
        let m = |a: f64| cents.to_minor(a).unwrap();
        assert_eq!(m(0.125), Some(13)); // 12.5 -> 13
        assert_eq!(m(0.124), Some(12));
        assert_eq!(m(-0.0), Some(0));
        assert_eq!(m(0.0), Some(0));
        // 0.49999999999999994 cents: `x + 0.5` is 1.0 in floating point
        assert_eq!(m(0.004_999_999_999_999_999), Some(0));
        assert_eq!(m(0.005), Some(1));
        let max = MAX_MINOR as f64 / 100.0;
        assert_eq!(m(max), Some(MAX_MINOR));
        assert_eq!(m(max * 2.0), None);
        assert_eq!(m(f64::MAX), None);
        assert_eq!(m(f64::INFINITY), None);
        assert_eq!(m(f64::NAN), None);
        assert_eq!(m(-0.01), None);
        let units = Currency::new(0).unwrap();
        assert_eq!(units.to_minor(2.5).unwrap(), Some(3));
        assert_eq!(units.to_minor(9_007_199_254_740_994.0).unwrap(), None);
        assert_eq!(units.to_minor(0.499_999_999_999_999_94).unwrap(), Some(0));
        // the same as `round` on many values
        for k in 0..10_000_u32 {
            let a = f64::from(k) * 0.001_37;
            let want = (a * 100.0).round() as i64;
            assert_eq!(m(a), Some(want), "{a}");
        }
    }
}
