//! The [`Report`] by channel, campaign and content, [`attribute`] (the
//! in-memory path) and [`compare`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::credit::CONVERSION_UNITS;
use crate::credit::partial::{Breakdowns, CreditConfig, CreditPartial};
use crate::dataset::JourneySet;
use crate::error::Result;
use crate::model::AttributionModel;
use crate::money::Currency;

/// Credit of one line (a channel, campaign or content asset): attributed
/// conversions (fractional, fixed point) and value (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    name: String,
    units: u128,
    value_minor: i128,
    currency: Currency,
}

impl Credit {
    pub(crate) fn new(name: String, units: u128, value_minor: i128, currency: Currency) -> Credit {
        Credit {
            name,
            units,
            value_minor,
            currency,
        }
    }

    /// The line's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Attributed conversions (fractional).
    pub fn conversions(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "display conversion")]
        let c = self.units as f64 / CONVERSION_UNITS as f64;
        c
    }
    /// Attributed conversions in [`CONVERSION_UNITS`] (exact).
    pub fn conversion_units(&self) -> u128 {
        self.units
    }
    /// Attributed value in minor units (exact).
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
    /// Attributed value in major units.
    pub fn value(&self) -> f64 {
        self.currency.to_major_wide(self.value_minor)
    }
}

/// A breakdown of credit along one dimension: one [`Credit`] line per name,
/// sorted by name, plus the unassigned bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    lines: Vec<Credit>,
    unassigned: Credit,
}

impl Breakdown {
    pub(crate) fn new(lines: Vec<Credit>, unassigned: Credit) -> Breakdown {
        Breakdown { lines, unassigned }
    }

    /// The lines, sorted by name (byte order).
    pub fn lines(&self) -> &[Credit] {
        &self.lines
    }
    /// The line named `name`.
    pub fn get(&self, name: &str) -> Option<&Credit> {
        self.lines
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.lines[i])
    }
    /// Credit that belongs to no line: converted journeys with no touch, and
    /// (in the campaign and content breakdowns) touches without a campaign
    /// or content asset.
    pub fn unassigned(&self) -> &Credit {
        &self.unassigned
    }
}

/// The credit of one model over many journeys, by channel, by campaign and
/// by content asset.
///
/// For share-based models, in every computed breakdown
/// `Σ lines.value_minor + unassigned.value_minor == value_minor()` exactly,
/// and the same for conversion units against `conversions() · 10⁹`. A
/// breakdown that was not asked for ([`Breakdowns`]) is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    model: String,
    full_credit: bool,
    currency: Currency,
    #[serde(default, skip_serializing_if = "Breakdowns::is_all")]
    breakdowns: Breakdowns,
    journeys: u64,
    conversions: u64,
    value_minor: i128,
    channels: Breakdown,
    campaigns: Breakdown,
    contents: Breakdown,
}

impl Report {
    /// A channel-level report of a fitted model (Markov, Shapley), whose
    /// lines were apportioned by the model: `lines` are `(channel,
    /// conversion units, value minor)` sorted by name, `unassigned` the
    /// converted journeys with no touch. Campaigns and contents have no
    /// lines (a channel-level model does not see them): their unassigned
    /// bucket holds the totals, so every breakdown still reconciles.
    pub(crate) fn from_channel_totals(
        model: String,
        currency: Currency,
        (journeys, conversions, value_minor): (u64, u64, i128),
        lines: Vec<(String, u128, i128)>,
        unassigned: (u128, i128),
    ) -> Report {
        let credit = |name: String, (units, value_minor): (u128, i128)| Credit {
            name,
            units,
            value_minor,
            currency,
        };
        let everything = || Breakdown {
            lines: Vec::new(),
            unassigned: credit(
                "(unassigned)".to_owned(),
                (
                    u128::from(conversions) * u128::from(CONVERSION_UNITS),
                    value_minor,
                ),
            ),
        };
        Report {
            channels: Breakdown {
                lines: lines
                    .into_iter()
                    .map(|(name, u, v)| credit(name, (u, v)))
                    .collect(),
                unassigned: credit("(unassigned)".to_owned(), unassigned),
            },
            campaigns: everything(),
            contents: everything(),
            model,
            full_credit: false,
            breakdowns: Breakdowns::ALL,
            currency,
            journeys,
            conversions,
            value_minor,
        }
    }

    pub(crate) fn new(
        model: String,
        full_credit: bool,
        currency: Currency,
        breakdowns: Breakdowns,
        (journeys, conversions, value_minor): (u64, u64, i128),
        [channels, campaigns, contents]: [Breakdown; 3],
    ) -> Report {
        Report {
            model,
            full_credit,
            currency,
            breakdowns,
            journeys,
            conversions,
            value_minor,
            channels,
            campaigns,
            contents,
        }
    }

    /// The breakdowns computed (channels always; campaigns and contents
    /// unless the [`CreditConfig`] said otherwise).
    pub fn breakdowns(&self) -> Breakdowns {
        self.breakdowns
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.model
    }
    /// Whether the model gives full credit to every touch (participation),
    /// so lines do not sum to the totals.
    pub fn is_full_credit(&self) -> bool {
        self.full_credit
    }
    /// The currency amounts are in.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// Journeys seen, converted or not.
    pub fn journeys(&self) -> u64 {
        self.journeys
    }
    /// Converted journeys.
    pub fn conversions(&self) -> u64 {
        self.conversions
    }
    /// Total converted value, minor units.
    pub fn value_minor(&self) -> i128 {
        self.value_minor
    }
    /// Total converted value, major units.
    pub fn value(&self) -> f64 {
        self.currency.to_major_wide(self.value_minor)
    }
    /// Credit by channel.
    pub fn channels(&self) -> &Breakdown {
        &self.channels
    }
    /// Credit by campaign.
    pub fn campaigns(&self) -> &Breakdown {
        &self.campaigns
    }
    /// Credit by content asset.
    pub fn contents(&self) -> &Breakdown {
        &self.contents
    }
}

/// Attributes every journey of `set` with `model`: the one way to credit
/// journeys held in memory (stream with a [`CreditPartial`]).
///
/// Cost: one pass, O(touches), no allocation per journey. The model is
/// monomorphized when `attribute` is called with a concrete type. Every
/// breakdown is computed; [`attribute_with`] takes a [`CreditConfig`] to
/// compute channels only.
///
/// # Errors
///
/// The model's errors, and [`Error::InvalidWeights`](crate::Error::InvalidWeights)
/// for weights that cannot be normalized (custom models only).
///
/// # Example
///
/// ```
/// use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::LastTouch};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(20.0);
/// let report = attribute(&LastTouch, &JourneySet::from_journeys([&j])?)?;
/// assert_eq!(report.channels().get("email").unwrap().value(), 20.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn attribute<M: AttributionModel + ?Sized>(model: &M, set: &JourneySet) -> Result<Report> {
    let mut p = CreditPartial::with_currency(model, set.currency());
    p.observe_set_with(model, set)?;
    Ok(p.finish())
}

/// [`attribute`] under a [`CreditConfig`]: its model and breakdowns (the
/// config's currency is replaced by the set's).
///
/// # Errors
///
/// As [`attribute`];
/// [`Error::ModelNotAttached`](crate::Error::ModelNotAttached) for a
/// config without its model.
///
/// # Example
///
/// ```
/// use touchpoint::{attribute_with, Breakdowns, CreditConfig, JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::models::Linear;
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j").touch(SimpleTouch::new("email", t)).converted(20.0);
/// let config = CreditConfig::new(Linear).with_breakdowns(Breakdowns::CHANNELS);
/// let report = attribute_with(&config, &JourneySet::from_journeys([&j])?)?;
/// assert_eq!(report.channels().get("email").unwrap().value(), 20.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn attribute_with(config: &CreditConfig, set: &JourneySet) -> Result<Report> {
    let mut p = CreditPartial::new(config.clone().with_currency(set.currency()));
    p.observe_set(set)?;
    Ok(p.finish())
}

/// Like [`attribute`], but returns the mergeable partial.
///
/// # Errors
///
/// As [`attribute`].
#[deprecated(
    since = "0.2.0",
    note = "make a `CreditPartial::new(config)` and call `observe_set(&set)`"
)]
pub fn attribute_partial<M: AttributionModel + ?Sized>(
    model: &M,
    set: &JourneySet,
) -> Result<CreditPartial> {
    let mut p = CreditPartial::with_currency(model, set.currency());
    p.observe_set_with(model, set)?;
    Ok(p)
}

/// Several models' reports over the same journeys, side by side.
///
/// `Display` prints a table of attributed conversions per channel (rows)
/// and model (columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    reports: Vec<Report>,
}

impl Comparison {
    /// The reports, in the order the models were given.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// Every channel named in any report, sorted.
    pub fn channels(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .reports
            .iter()
            .flat_map(|r| r.channels.lines.iter().map(|c| c.name.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .reports
            .iter()
            .map(|r| r.model.len())
            .max()
            .unwrap_or(0)
            .max(8);
        let chans = self.channels();
        let cw = chans.iter().map(|c| c.len()).max().unwrap_or(0).max(12);
        write!(f, "{:<cw$}", "channel")?;
        for r in &self.reports {
            write!(f, " {:>width$}", r.model)?;
        }
        writeln!(f)?;
        for ch in chans {
            write!(f, "{ch:<cw$}")?;
            for r in &self.reports {
                let c = r.channels.get(ch).map_or(0.0, Credit::conversions);
                write!(f, " {c:>width$.2}")?;
            }
            writeln!(f)?;
        }
        write!(f, "{:<cw$}", "(unassigned)")?;
        for r in &self.reports {
            write!(f, " {:>width$.2}", r.channels.unassigned.conversions())?;
        }
        writeln!(f)
    }
}

/// Attributes `set` under each model.
///
/// # Errors
///
/// The first model error, as [`attribute`].
///
/// # Example
///
/// ```
/// use touchpoint::{compare, AttributionModel, JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::models::{FirstTouch, LastTouch};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(20.0);
/// let models: [&dyn AttributionModel; 2] = [&FirstTouch, &LastTouch];
/// let cmp = compare(&models, &JourneySet::from_journeys([&j])?)?;
/// assert_eq!(cmp.reports()[0].channels().get("display").unwrap().conversions(), 1.0);
/// println!("{cmp}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(models: &[&dyn AttributionModel], set: &JourneySet) -> Result<Comparison> {
    let reports = models
        .iter()
        .map(|m| attribute(*m, set))
        .collect::<Result<Vec<_>>>()?;
    Ok(Comparison { reports })
}
