//! Money: spend, ROI, ROAS, cost per lead / MQL / SQL / opportunity, CAC,
//! under any attribution model, and budget scenarios.
//!
//! Pure computation. A [`RoiReport`] combines a [`Report`] (from
//! [`attribute`](crate::attribute), any model) with a [`Spend`] book, and
//! optionally [`FunnelMetrics`] sliced the same way (by channel or by
//! campaign) for the funnel counts.
//!
//! # Definitions
//!
//! For one channel (or campaign), with spend `S`, attributed revenue `R`
//! and attributed conversions (customers) `C`:
//!
//! - `ROI = (R - S) / S`, `ROAS = R / S`;
//! - cost per lead / MQL / SQL / opportunity = `S /` the count of records
//!   whose source is that channel (from the funnel metrics);
//! - `CAC = S / C`.
//!
//! Every ratio is a [`funnel::Ratio`](crate::funnel::Ratio): [`Ratio::Undefined`](crate::funnel::Ratio::Undefined) when its denominator is
//! zero (a channel with no spend has an undefined ROI), never NaN or a panic.
//!
//! # Budget scenarios
//!
//! [`RoiReport::move_spend`] moves an amount of spend from one line to
//! another and reports the expected change in conversions and revenue,
//! **assuming each line keeps its current average return per unit of spend**
//! (linear response: the current averages are taken as the marginal rates).
//! Real response curves saturate; treat the result as a first-order estimate.
//!
//! # Example
//!
//! ```
//! use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::FirstTouch};
//! use touchpoint::funnel::Ratio;
//! use touchpoint::roi::{RoiReport, Spend};
//!
//! let t = "2024-01-05T00:00:00Z".parse()?;
//! let j = SimpleJourney::new("a").touch(SimpleTouch::new("search", t)).converted(3000.0);
//! let report = attribute(&FirstTouch, &JourneySet::from_journeys([&j])?)?;
//! let mut spend = Spend::new();
//! spend.add("search", None, "2024-01", 1000.0)?;
//! spend.add("events", None, "2024-01", 0.0)?;
//! let roi = RoiReport::by_channel(&report, &spend, None)?;
//! let search = roi.line("search").unwrap();
//! assert_eq!(search.roi, Ratio::Defined(2.0));   // (3000 - 1000) / 1000
//! assert_eq!(search.roas, Ratio::Defined(3.0));
//! assert_eq!(roi.line("events").unwrap().roi, Ratio::Undefined); // no spend
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credit::{Breakdown, Report};
use crate::error::{Error, Result};
use crate::funnel::{FunnelMetrics, SliceBy};
use crate::money::Currency;

use crate::funnel::Ratio as FRatio;

/// Former second path of [`funnel::Ratio`](crate::funnel::Ratio): one type,
/// one path now.
#[deprecated(since = "0.2.0", note = "use `touchpoint::funnel::Ratio`")]
pub type Ratio = crate::funnel::Ratio;

/// Spend per channel, campaign and period, in minor units.
///
/// # Example
///
/// ```
/// use touchpoint::roi::Spend;
///
/// let mut s = Spend::new();
/// s.add("search", Some("brand"), "2024-Q1", 1200.50)?;
/// s.add("search", Some("generic"), "2024-Q1", 800.0)?;
/// assert_eq!(s.channel_minor("search"), 200_050);
/// assert!(s.add("search", None, "2024-Q1", -1.0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SpendWire", try_from = "SpendWire")]
pub struct Spend {
    currency: Currency,
    lines: BTreeMap<(String, String, String), i128>,
}

/// The serialized form of [`Spend`]: one entry per (channel, campaign,
/// period), in key order (JSON maps cannot have tuple keys).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SpendWire {
    currency: Currency,
    lines: Vec<SpendLine>,
}

/// One serialized spend entry; `campaign` is `""` for channel-level spend.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SpendLine {
    channel: String,
    campaign: String,
    period: String,
    minor: i128,
}

impl From<Spend> for SpendWire {
    fn from(s: Spend) -> SpendWire {
        SpendWire {
            currency: s.currency,
            lines: s
                .lines
                .into_iter()
                .map(|((channel, campaign, period), minor)| SpendLine {
                    channel,
                    campaign,
                    period,
                    minor,
                })
                .collect(),
        }
    }
}

impl TryFrom<SpendWire> for Spend {
    type Error = Error;
    fn try_from(w: SpendWire) -> Result<Spend> {
        let currency = Currency::new(w.currency.decimals())?;
        let mut lines = BTreeMap::new();
        for l in w.lines {
            if l.channel.is_empty() {
                return Err(Error::param("channel", "\"\"", "a non-empty channel name"));
            }
            if !(0..=i128::from(crate::MAX_MINOR) * i128::from(u32::MAX)).contains(&l.minor) {
                return Err(Error::param("amount", l.minor, "spend in minor units >= 0"));
            }
            let e = lines
                .entry((l.channel, l.campaign, l.period))
                .or_insert(0_i128);
            *e = e
                .checked_add(l.minor)
                .ok_or(Error::Overflow { what: "spend" })?;
        }
        Ok(Spend { currency, lines })
    }
}

impl Spend {
    /// An empty book in the default currency (cents).
    pub fn new() -> Spend {
        Spend::default()
    }
    /// An empty book in `currency`.
    pub fn with_currency(currency: Currency) -> Spend {
        Spend {
            currency,
            lines: BTreeMap::new(),
        }
    }
    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds spend (major units) on `channel`, optionally a `campaign`, in
    /// `period` (any label, e.g. `2024-03`). Repeated keys add up.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for an amount that is NaN, infinite,
    /// negative or above 2^53 minor units, or an empty channel name;
    /// [`Error::Overflow`] if a sum overflows.
    pub fn add(
        &mut self,
        channel: &str,
        campaign: Option<&str>,
        period: &str,
        amount: f64,
    ) -> Result<()> {
        if channel.is_empty() {
            return Err(Error::param("channel", "\"\"", "a non-empty channel name"));
        }
        let minor = self.currency.to_minor(amount)?.ok_or_else(|| {
            Error::param(
                "amount",
                amount,
                "a finite amount >= 0 (at most 2^53 minor units)",
            )
        })?;
        let e = self
            .lines
            .entry((
                channel.to_owned(),
                campaign.unwrap_or("").to_owned(),
                period.to_owned(),
            ))
            .or_insert(0);
        *e = e
            .checked_add(i128::from(minor))
            .ok_or(Error::Overflow { what: "spend" })?;
        Ok(())
    }

    /// The spend of one period only.
    #[must_use]
    pub fn for_period(&self, period: &str) -> Spend {
        Spend {
            currency: self.currency,
            lines: self
                .lines
                .iter()
                .filter(|((_, _, p), _)| p == period)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }

    /// Total spend on `channel`, minor units.
    pub fn channel_minor(&self, channel: &str) -> i128 {
        self.lines
            .iter()
            .filter(|((c, _, _), _)| c == channel)
            .map(|(_, v)| v)
            .sum()
    }
    /// Total spend on `campaign`, minor units.
    pub fn campaign_minor(&self, campaign: &str) -> i128 {
        self.lines
            .iter()
            .filter(|((_, c, _), _)| c == campaign)
            .map(|(_, v)| v)
            .sum()
    }
    /// The channels with a spend line (even of 0), sorted, each once.
    pub fn channels(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.lines.keys().map(|(c, _, _)| c.as_str()).collect();
        v.dedup();
        v
    }

    /// Total spend, minor units.
    pub fn total_minor(&self) -> i128 {
        self.lines.values().sum()
    }
    /// Total spend on `channel`, major units.
    pub fn channel_spend(&self, channel: &str) -> f64 {
        self.currency.to_major_wide(self.channel_minor(channel))
    }
    /// Total spend on `campaign`, major units.
    pub fn campaign_spend(&self, campaign: &str) -> f64 {
        self.currency.to_major_wide(self.campaign_minor(campaign))
    }
    /// Total spend, major units.
    pub fn total(&self) -> f64 {
        self.currency.to_major_wide(self.total_minor())
    }

    fn by(&self, campaign: bool) -> BTreeMap<&str, i128> {
        let mut m = BTreeMap::new();
        for ((ch, cp, _), v) in &self.lines {
            let k = if campaign { cp.as_str() } else { ch.as_str() };
            if campaign && k.is_empty() {
                continue;
            }
            *m.entry(k).or_insert(0) += v;
        }
        m
    }
}

/// Funnel counts of one line (records whose source is the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelCounts {
    /// Leads (records).
    pub leads: u64,
    /// MQLs.
    pub mqls: u64,
    /// SQLs.
    pub sqls: u64,
    /// Opportunities.
    pub opportunities: u64,
}

/// ROI of one channel or campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoiLine {
    /// Channel or campaign.
    pub name: String,
    /// Spend, minor units.
    pub spend_minor: i128,
    /// Attributed revenue, minor units.
    pub revenue_minor: i128,
    /// Attributed conversions (customers).
    pub conversions: f64,
    /// Funnel counts, when funnel metrics were given.
    pub funnel: Option<FunnelCounts>,
    /// `(revenue - spend) / spend`.
    pub roi: FRatio,
    /// `revenue / spend`.
    pub roas: FRatio,
    /// Spend per lead, major units; undefined ("n/a") with no lead or no
    /// spend recorded (likewise every cost ratio below).
    pub cost_per_lead: FRatio,
    /// Spend per MQL, major units.
    pub cost_per_mql: FRatio,
    /// Spend per SQL, major units.
    pub cost_per_sql: FRatio,
    /// Spend per opportunity, major units.
    pub cost_per_opportunity: FRatio,
    /// Customer acquisition cost: spend per attributed conversion, major units.
    pub cac: FRatio,
    /// The currency of the amounts.
    #[serde(default)]
    pub currency: Currency,
}

impl RoiLine {
    /// Spend in major units (`spend_minor` in the line's currency).
    pub fn spend(&self) -> f64 {
        self.currency.to_major_wide(self.spend_minor)
    }
    /// Attributed revenue in major units.
    pub fn revenue(&self) -> f64 {
        self.currency.to_major_wide(self.revenue_minor)
    }
}

impl RoiLine {
    #[expect(clippy::cast_precision_loss, reason = "ratios")]
    fn new(
        name: &str,
        spend_minor: i128,
        revenue_minor: i128,
        conversions: f64,
        funnel: Option<FunnelCounts>,
        currency: Currency,
    ) -> RoiLine {
        let s = currency.to_major_wide(spend_minor);
        let r = currency.to_major_wide(revenue_minor);
        // No spend recorded: every cost ratio is unknown, not zero.
        let per = |n: Option<u64>| match n {
            Some(n) if spend_minor != 0 => FRatio::of(s, n as f64),
            _ => FRatio::Undefined,
        };
        RoiLine {
            name: name.to_owned(),
            spend_minor,
            revenue_minor,
            conversions,
            funnel,
            roi: FRatio::of(r - s, s),
            roas: FRatio::of(r, s),
            cost_per_lead: per(funnel.map(|f| f.leads)),
            cost_per_mql: per(funnel.map(|f| f.mqls)),
            cost_per_sql: per(funnel.map(|f| f.sqls)),
            cost_per_opportunity: per(funnel.map(|f| f.opportunities)),
            cac: if spend_minor == 0 {
                FRatio::Undefined
            } else {
                FRatio::of(s, conversions)
            },
            currency,
        }
    }
}

/// The expected effect of moving spend between two lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetScenario {
    /// Line spend is taken from.
    pub from: String,
    /// Line spend is moved to.
    pub to: String,
    /// Amount moved, minor units.
    pub amount_minor: i128,
    /// Expected change in conversions at `from` (negative).
    pub from_conversions: f64,
    /// Expected change in conversions at `to`.
    pub to_conversions: f64,
    /// Net expected change in conversions.
    pub conversions_change: f64,
    /// Expected change in revenue at `from`, major units (negative).
    pub from_revenue: f64,
    /// Expected change in revenue at `to`, major units.
    pub to_revenue: f64,
    /// Net expected change in revenue, major units.
    pub revenue_change: f64,
    /// The assumption the numbers rest on.
    pub assumption: String,
    /// The currency of the amounts.
    #[serde(default)]
    pub currency: Currency,
}

impl BudgetScenario {
    /// The amount moved, major units.
    pub fn amount(&self) -> f64 {
        self.currency.to_major_wide(self.amount_minor)
    }
}

/// The assumption of [`BudgetScenario`]s.
pub const BUDGET_ASSUMPTION: &str = "each line keeps its current average return per unit of \
spend (attributed conversions and revenue per unit spent), taken as its marginal rate; \
response is linear, with no saturation";

/// ROI per channel or per campaign under one attribution model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoiReport {
    model: String,
    currency: Currency,
    lines: Vec<RoiLine>,
    total: RoiLine,
}

impl RoiReport {
    /// ROI per channel: attributed revenue and conversions from `report`'s
    /// channel breakdown, spend summed over campaigns and periods, funnel
    /// counts from `funnel` (sliced by [`SliceBy::Channel`]). One line per
    /// channel with spend or credit, sorted by name; the total includes
    /// unassigned credit.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when the currencies differ or the
    /// funnel metrics are not sliced by channel.
    pub fn by_channel(
        report: &Report,
        spend: &Spend,
        funnel: Option<&FunnelMetrics>,
    ) -> Result<RoiReport> {
        RoiReport::build(report, report.channels(), spend, false, funnel)
    }

    /// ROI per campaign (spend without a campaign counts only in the total),
    /// funnel counts from metrics sliced by [`SliceBy::Campaign`].
    ///
    /// # Errors
    ///
    /// As [`by_channel`](Self::by_channel).
    pub fn by_campaign(
        report: &Report,
        spend: &Spend,
        funnel: Option<&FunnelMetrics>,
    ) -> Result<RoiReport> {
        RoiReport::build(report, report.campaigns(), spend, true, funnel)
    }

    fn build(
        report: &Report,
        credit: &Breakdown,
        spend: &Spend,
        campaign: bool,
        funnel: Option<&FunnelMetrics>,
    ) -> Result<RoiReport> {
        let currency = report.currency();
        if currency != spend.currency() {
            return Err(Error::param(
                "spend",
                format!("{} decimals", spend.currency().decimals()),
                "spend in the report's currency",
            ));
        }
        let want = if campaign {
            SliceBy::Campaign
        } else {
            SliceBy::Channel
        };
        if let Some(f) = funnel
            && f.config().slice() != want
        {
            return Err(Error::param(
                "funnel",
                format!("{:?}", f.config().slice()),
                "funnel metrics sliced like the ROI report (channel or campaign)",
            ));
        }
        let counts = |name: Option<&str>| {
            funnel.map(|f| {
                let s = match name {
                    Some(n) => f.slice(n),
                    None => Some(f.total()),
                };
                s.map_or(
                    FunnelCounts {
                        leads: 0,
                        mqls: 0,
                        sqls: 0,
                        opportunities: 0,
                    },
                    |s| {
                        let st = f.config().stages();
                        FunnelCounts {
                            leads: s.records(),
                            mqls: s.reached(st.mql()).unwrap_or(0),
                            sqls: s.reached(st.sql()).unwrap_or(0),
                            opportunities: s.opportunities(),
                        }
                    },
                )
            })
        };
        let spend_by = spend.by(campaign);
        let mut names: Vec<&str> = spend_by.keys().copied().collect();
        names.extend(credit.lines().iter().map(|c| c.name()));
        names.sort_unstable();
        names.dedup();
        let lines = names
            .into_iter()
            .map(|n| {
                let c = credit.get(n);
                RoiLine::new(
                    n,
                    spend_by.get(n).copied().unwrap_or(0),
                    c.map_or(0, |c| c.value_minor()),
                    c.map_or(0.0, |c| c.conversions()),
                    counts(Some(n)),
                    currency,
                )
            })
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "display value")]
        let total = RoiLine::new(
            "(total)",
            spend.total_minor(),
            report.value_minor(),
            report.conversions() as f64,
            counts(None),
            currency,
        );
        Ok(RoiReport {
            model: report.model().to_owned(),
            currency,
            lines,
            total,
        })
    }

    /// The attribution model's name.
    pub fn model(&self) -> &str {
        &self.model
    }
    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// The lines, sorted by name.
    pub fn lines(&self) -> &[RoiLine] {
        &self.lines
    }
    /// The line named `name`.
    pub fn line(&self, name: &str) -> Option<&RoiLine> {
        self.lines
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.lines[i])
    }
    /// The total over all spend and all attributed revenue.
    pub fn total(&self) -> &RoiLine {
        &self.total
    }

    /// Moves `amount` (major units) of spend from line `from` to line `to`
    /// and estimates the change in conversions and revenue under
    /// [`BUDGET_ASSUMPTION`].
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for an unknown line;
    /// [`Error::InvalidParameter`] for an invalid amount, an amount above
    /// `from`'s spend, `from == to`, or a `to` line with no spend (its
    /// return per unit of spend is undefined).
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::FirstTouch};
    /// use touchpoint::roi::{RoiReport, Spend};
    ///
    /// let t = "2024-01-05T00:00:00Z".parse()?;
    /// let a = SimpleJourney::new("a").touch(SimpleTouch::new("search", t)).converted(4000.0);
    /// let b = SimpleJourney::new("b").touch(SimpleTouch::new("social", t)).converted(1000.0);
    /// let report = attribute(&FirstTouch, &JourneySet::from_journeys([&a, &b])?)?;
    /// let mut spend = Spend::new();
    /// spend.add("search", None, "2024-01", 1000.0)?;
    /// spend.add("social", None, "2024-01", 1000.0)?;
    /// let s = RoiReport::by_channel(&report, &spend, None)?.move_spend("social", "search", 500.0)?;
    /// assert_eq!(s.revenue_change, 1500.0); // -500 x 1 + 500 x 4
    /// assert_eq!(s.conversions_change, 0.0); // -0.5 + 0.5
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[expect(clippy::cast_precision_loss, reason = "expected values")]
    pub fn move_spend(&self, from: &str, to: &str, amount: f64) -> Result<BudgetScenario> {
        let find = |n: &str| {
            self.line(n).ok_or_else(|| Error::UnknownName {
                kind: "line",
                name: n.to_owned(),
            })
        };
        let (f, t) = (find(from)?, find(to)?);
        if from == to {
            return Err(Error::param("to", to, "a line other than `from`"));
        }
        let minor = self
            .currency
            .to_minor(amount)?
            .ok_or_else(|| Error::param("amount", amount, "a finite amount >= 0"))?;
        let minor = i128::from(minor);
        if minor > f.spend_minor {
            return Err(Error::param(
                "amount",
                amount,
                "at most the spend of the `from` line",
            ));
        }
        if t.spend_minor == 0 {
            return Err(Error::param(
                "to",
                to,
                "a line with spend > 0 (its return per unit of spend is undefined otherwise)",
            ));
        }
        let m = minor as f64;
        let rate = |l: &RoiLine, x: f64| {
            if l.spend_minor == 0 {
                0.0
            } else {
                x / l.spend_minor as f64
            }
        };
        let fc = -m * rate(f, f.conversions);
        let tc = m * rate(t, t.conversions);
        let fr = -(m * rate(f, self.currency.to_major_wide(f.revenue_minor)));
        let tr = m * rate(t, self.currency.to_major_wide(t.revenue_minor));
        Ok(BudgetScenario {
            from: from.to_owned(),
            to: to.to_owned(),
            amount_minor: minor,
            from_conversions: fc,
            to_conversions: tc,
            conversions_change: fc + tc,
            from_revenue: fr,
            to_revenue: tr,
            revenue_change: fr + tr,
            assumption: BUDGET_ASSUMPTION.to_owned(),
            currency: self.currency,
        })
    }
}
