//! The configuration of a Shapley fit.

use serde::{Deserialize, Serialize};

use super::{FORMAT_VERSION, MAX_EXACT_LIMIT};
use crate::error::{Error, Result};
use crate::money::Currency;

/// Which coalition value function (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ShapleyVariant {
    /// Conversions of journeys whose channel set is within the coalition;
    /// closed form.
    #[default]
    Simplified,
    /// Conversion rate of journeys whose channel set is exactly the
    /// coalition; exact over all subsets.
    Rate,
    /// Simplified, on ordered coalitions, credited by position.
    Ordered,
}

impl ShapleyVariant {
    pub(super) fn name(self) -> &'static str {
        match self {
            ShapleyVariant::Simplified => "shapley_simplified",
            ShapleyVariant::Rate => "shapley_rate",
            ShapleyVariant::Ordered => "shapley_ordered",
        }
    }
}

/// Permutation sampling past the exact limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sampling {
    /// Number of random channel orders.
    pub permutations: u32,
    /// Seed of the splitmix64 generator.
    pub seed: u64,
}

/// Configuration of a Shapley fit.
///
/// # Example
///
/// ```
/// use touchpoint::shapley::{Sampling, ShapleyConfig, ShapleyVariant};
///
/// let c = ShapleyConfig::new(ShapleyVariant::Rate)
///     .exact_limit(16)?
///     .sampling(Some(Sampling { permutations: 2000, seed: 7 }));
/// assert_eq!(c.variant(), ShapleyVariant::Rate);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ShapleyConfigWire")]
pub struct ShapleyConfig {
    pub(super) variant: ShapleyVariant,
    pub(super) exact_limit: u8,
    pub(super) sampling: Option<Sampling>,
    pub(super) currency: Currency,
}

/// The serialized form of a [`ShapleyConfig`], whose exact limit is checked
/// as by [`ShapleyConfig::exact_limit`] when read (an unchecked limit let
/// the rate game enumerate `2^|J|` subsets of up to 128 channels).
#[derive(Deserialize)]
struct ShapleyConfigWire {
    variant: ShapleyVariant,
    exact_limit: u8,
    sampling: Option<Sampling>,
    currency: Currency,
}

impl TryFrom<ShapleyConfigWire> for ShapleyConfig {
    type Error = Error;
    fn try_from(w: ShapleyConfigWire) -> Result<ShapleyConfig> {
        Ok(ShapleyConfig::new(w.variant)
            .exact_limit(w.exact_limit)?
            .sampling(w.sampling)
            .with_currency(w.currency))
    }
}

impl Default for ShapleyConfig {
    fn default() -> ShapleyConfig {
        ShapleyConfig::new(ShapleyVariant::Simplified)
    }
}

impl ShapleyConfig {
    /// `variant`, exact limit 20 channels, no sampling, 2 decimals.
    pub fn new(variant: ShapleyVariant) -> ShapleyConfig {
        ShapleyConfig {
            variant,
            exact_limit: 20,
            sampling: None,
            currency: Currency::default(),
        }
    }

    /// The most channels the rate variant solves exactly (default 20).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] above [`MAX_EXACT_LIMIT`].
    pub fn exact_limit(self, limit: u8) -> Result<ShapleyConfig> {
        if limit > MAX_EXACT_LIMIT {
            return Err(Error::param("exact_limit", limit, "at most 22 channels"));
        }
        Ok(ShapleyConfig {
            exact_limit: limit,
            ..self
        })
    }

    /// Permutation sampling past the exact limit (default `None`: a
    /// [`Error::TooLarge`] instead).
    #[must_use]
    pub fn sampling(self, sampling: Option<Sampling>) -> ShapleyConfig {
        ShapleyConfig { sampling, ..self }
    }

    /// The currency values are kept in (default: 2 decimals).
    #[must_use]
    pub fn with_currency(self, currency: Currency) -> ShapleyConfig {
        ShapleyConfig { currency, ..self }
    }

    /// The value function.
    pub fn variant(&self) -> ShapleyVariant {
        self.variant
    }

    /// A string identifying the configuration and format version.
    pub fn fingerprint(&self) -> String {
        format!(
            "shapley;v{FORMAT_VERSION};variant={};exact_limit={};sampling={};decimals={}",
            self.variant.name(),
            self.exact_limit,
            self.sampling.map_or_else(
                || "none".into(),
                |s| format!("{}@{}", s.permutations, s.seed)
            ),
            self.currency.decimals()
        )
    }
}
