//! The configuration of a Markov fit.

use serde::{Deserialize, Serialize};

use super::{FORMAT_VERSION, MAX_ORDER};
use crate::error::{Error, Result};
use crate::money::Currency;

/// Configuration of a Markov fit: order, repeat handling and currency.
///
/// # Example
///
/// ```
/// use touchpoint::markov::MarkovConfig;
///
/// let c = MarkovConfig::new(2)?.collapse_repeats(true);
/// assert_eq!(c.order(), 2);
/// assert!(MarkovConfig::new(0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MarkovConfigWire")]
pub struct MarkovConfig {
    pub(super) order: u8,
    pub(super) collapse_repeats: bool,
    pub(super) currency: Currency,
}

/// The serialized form of a [`MarkovConfig`], whose order is checked as by
/// [`MarkovConfig::new`] when read (order 0 underflowed the state keys).
#[derive(Deserialize)]
struct MarkovConfigWire {
    order: u8,
    collapse_repeats: bool,
    currency: Currency,
}

impl TryFrom<MarkovConfigWire> for MarkovConfig {
    type Error = Error;
    fn try_from(w: MarkovConfigWire) -> Result<MarkovConfig> {
        Ok(MarkovConfig::new(w.order)?
            .collapse_repeats(w.collapse_repeats)
            .with_currency(w.currency))
    }
}

impl Default for MarkovConfig {
    /// Order 1, repeats kept, 2 decimals.
    fn default() -> MarkovConfig {
        MarkovConfig {
            order: 1,
            collapse_repeats: false,
            currency: Currency::default(),
        }
    }
}

impl MarkovConfig {
    /// Order `order` (1 to [`MAX_ORDER`], that is 6), repeats kept, 2
    /// decimals.
    ///
    /// The order bounds the channels a fit can hold
    /// ([`max_channels`](super::max_channels)): 65,534 for orders 1 to 4,
    /// 4,094 at order 5, 1,022 at order 6 (a fit that meets more fails with
    /// [`Error::TooLarge`]). States, memory and solve time grow with the
    /// order (see the module docs for measured costs).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `1 <= order <= 6`.
    pub fn new(order: u8) -> Result<MarkovConfig> {
        if !(1..=MAX_ORDER).contains(&order) {
            return Err(Error::param("order", order, "an integer from 1 to 6"));
        }
        Ok(MarkovConfig {
            order,
            ..MarkovConfig::default()
        })
    }

    /// Whether consecutive touches of the same channel collapse into one
    /// before counting. Default: `false` (repeats are self-transitions).
    #[must_use]
    pub fn collapse_repeats(self, collapse: bool) -> MarkovConfig {
        MarkovConfig {
            collapse_repeats: collapse,
            ..self
        }
    }

    /// The currency values are kept in (default: 2 decimals). Journeys
    /// observed must use the same.
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> MarkovConfig {
        MarkovConfig { currency, ..self }
    }

    /// The order `k`.
    pub fn order(&self) -> u8 {
        self.order
    }

    /// The most distinct channels a fit with this configuration can hold
    /// ([`max_channels`](super::max_channels) of the order).
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::markov::MarkovConfig;
    ///
    /// assert_eq!(MarkovConfig::new(5)?.max_channels(), 4_094);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_channels(&self) -> usize {
        super::max_channels(self.order)
    }

    /// Whether repeats are collapsed.
    pub fn collapses_repeats(&self) -> bool {
        self.collapse_repeats
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// A string identifying the configuration and format version; partials
    /// with different fingerprints refuse to merge.
    pub fn fingerprint(&self) -> String {
        format!(
            "markov;v{FORMAT_VERSION};order={};collapse_repeats={};decimals={}",
            self.order,
            self.collapse_repeats,
            self.currency.decimals()
        )
    }
}
