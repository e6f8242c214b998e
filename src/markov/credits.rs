//! Channel-level credit of a fitted data-driven model, exact in integers.

use serde::{Deserialize, Serialize};

use crate::credit::{CONVERSION_UNITS, apportion_weighted};
use crate::error::{Error, Result};
use crate::money::Currency;

/// One channel's attributed conversions and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelCredit {
    channel: String,
    weight: f64,
    units: i64,
    value_minor: i64,
    currency: Currency,
}

impl ChannelCredit {
    /// The channel's name.
    pub fn channel(&self) -> &str {
        &self.channel
    }
    /// The learned weight the totals were shared by (a removal effect, a
    /// Shapley value, ...).
    pub fn weight(&self) -> f64 {
        self.weight
    }
    /// Attributed conversions (fractional).
    pub fn conversions(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "display conversion")]
        let c = self.units as f64 / CONVERSION_UNITS as f64;
        c
    }
    /// Attributed conversions in [`CONVERSION_UNITS`] (exact).
    pub fn conversion_units(&self) -> i64 {
        self.units
    }
    /// Attributed value in minor units (exact).
    pub fn value_minor(&self) -> i64 {
        self.value_minor
    }
    /// Attributed value in major units.
    pub fn value(&self) -> f64 {
        self.currency.to_major(self.value_minor)
    }
}

/// Attributed conversions and value per channel of a fitted data-driven
/// model.
///
/// The totals (conversions of journeys with at least one touch, and their
/// value) are shared among channels in proportion to the model's weights by
/// the largest-remainder method, in units of 10⁻⁹ conversion and in minor
/// currency units, ties to the channel first by name. So
/// `Σ lines + unassigned == totals` holds exactly, in integers.
/// Converted journeys with no touch are in [`unassigned`](Self::unassigned_value_minor).
///
/// # Example
///
/// ```
/// use touchpoint::markov::{MarkovConfig, MarkovFit};
///
/// let mut fit = MarkovFit::new(MarkovConfig::new(1)?);
/// fit.observe_path(&["C1", "C2", "C3"], 1, 10_000, 0)?; // 100.00
/// fit.observe_path(&["C1"], 0, 0, 1)?;
/// fit.observe_path(&["C2", "C3"], 0, 0, 1)?;
/// let credits = fit.finish()?.credits()?;
/// // removal effects 0.5 / 1 / 1: shares 0.2 / 0.4 / 0.4
/// let cents: Vec<i64> = credits.lines().iter().map(|l| l.value_minor()).collect();
/// assert_eq!(cents, [2000, 4000, 4000]);
/// assert_eq!(credits.get("C2").unwrap().conversions(), 0.4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelCredits {
    model: String,
    currency: Currency,
    conversions: u64,
    value_minor: i64,
    unassigned_conversions: u64,
    unassigned_value_minor: i64,
    lines: Vec<ChannelCredit>,
}

impl ChannelCredits {
    /// Shares the totals by `weights` (one per channel, names sorted).
    #[expect(clippy::too_many_arguments, reason = "internal constructor")]
    pub(crate) fn share(
        model: String,
        currency: Currency,
        channels: &[String],
        weights: &[f64],
        conversions: u64,
        value_minor: i128,
        unassigned_conversions: u64,
        unassigned_value_minor: i128,
    ) -> Result<ChannelCredits> {
        let sum: f64 = weights.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) || weights.iter().any(|w| w.is_nan() || *w < 0.0) {
            return Err(Error::InsufficientData {
                reason: format!("{model}: channel weights sum to {sum}, nothing to share by"),
            });
        }
        let overflow = || Error::Overflow {
            what: "attributed totals",
        };
        let units_total = i64::try_from(conversions)
            .ok()
            .and_then(|c| c.checked_mul(i64::try_from(CONVERSION_UNITS).ok()?))
            .ok_or_else(overflow)?;
        let value_total = i64::try_from(value_minor).map_err(|_| overflow())?;
        if value_total < 0 {
            // only a hand-edited serialized fit can carry one; apportioning
            // a negative total is undefined
            return Err(Error::param(
                "value_minor",
                value_total,
                "a total value >= 0 minor units",
            ));
        }
        let mut units = vec![0; weights.len()];
        let mut values = vec![0; weights.len()];
        let mut scratch = Vec::new();
        apportion_weighted(units_total, weights, sum, &mut units, &mut scratch);
        apportion_weighted(value_total, weights, sum, &mut values, &mut scratch);
        let lines = channels
            .iter()
            .zip(weights)
            .zip(units.into_iter().zip(values))
            .map(|((c, &w), (u, v))| ChannelCredit {
                channel: c.clone(),
                weight: w,
                units: u,
                value_minor: v,
                currency,
            })
            .collect();
        Ok(ChannelCredits {
            model,
            currency,
            conversions,
            value_minor: value_total,
            unassigned_conversions,
            unassigned_value_minor: i64::try_from(unassigned_value_minor)
                .map_err(|_| overflow())?,
            lines,
        })
    }

    /// Lines from integer units already apportioned (they must sum to the totals).
    #[expect(clippy::too_many_arguments, reason = "internal constructor")]
    pub(crate) fn from_units(
        model: String,
        currency: Currency,
        channels: &[String],
        weights: &[f64],
        units: &[i64],
        values: &[i64],
        conversions: u64,
        value_minor: i128,
        unassigned_conversions: u64,
        unassigned_value_minor: i128,
    ) -> Result<ChannelCredits> {
        let overflow = || Error::Overflow {
            what: "attributed totals",
        };
        let lines = channels
            .iter()
            .enumerate()
            .map(|(i, c)| ChannelCredit {
                channel: c.clone(),
                weight: weights[i],
                units: units[i],
                value_minor: values[i],
                currency,
            })
            .collect();
        Ok(ChannelCredits {
            model,
            currency,
            conversions,
            value_minor: i64::try_from(value_minor).map_err(|_| overflow())?,
            unassigned_conversions,
            unassigned_value_minor: i64::try_from(unassigned_value_minor)
                .map_err(|_| overflow())?,
            lines,
        })
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.model
    }
    /// The lines, one per channel, sorted by name.
    pub fn lines(&self) -> &[ChannelCredit] {
        &self.lines
    }
    /// The line of `channel`.
    pub fn get(&self, channel: &str) -> Option<&ChannelCredit> {
        self.lines
            .binary_search_by(|l| l.channel.as_str().cmp(channel))
            .ok()
            .map(|i| &self.lines[i])
    }
    /// Conversions shared among channels (converted journeys with touches).
    pub fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Value shared among channels, minor units.
    pub fn value_minor(&self) -> i64 {
        self.value_minor
    }
    /// Converted journeys with no touch (not credited to any channel).
    pub fn unassigned_conversions(&self) -> u64 {
        self.unassigned_conversions
    }
    /// Value of converted journeys with no touch, minor units.
    pub fn unassigned_value_minor(&self) -> i64 {
        self.unassigned_value_minor
    }
    /// The currency of the values.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}
