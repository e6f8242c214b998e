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
        if !amount.is_finite() || amount < 0.0 {
            return Ok(None);
        }
        let scaled = (amount * self.scale() as f64).round();
        if scaled > MAX_MINOR as f64 {
            return Ok(None);
        }
        Ok(Some(scaled as i64))
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
}
