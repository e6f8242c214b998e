//! Content performance: MQLs, opportunities and revenue per content asset.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::FunnelConfig;
use super::lead::Lead;
use super::normalize::{Record, Resolved, RuleCounts, normalize};
use crate::credit::{CONVERSION_UNITS, CreditPartial};
use crate::error::{Error, Result};
use crate::journey::{Journey, Outcome};
use crate::model::AttributionModel;
use crate::touchpoint::SimpleTouch;

/// A prefix of a record's touches seen as a journey.
struct Window<'a> {
    id: &'a str,
    touches: &'a [SimpleTouch],
    value: f64,
}

impl Journey for Window<'_> {
    type Touch = SimpleTouch;
    fn id(&self) -> &str {
        self.id
    }
    fn touchpoints(&self) -> &[SimpleTouch] {
        self.touches
    }
    fn outcome(&self) -> Outcome {
        Outcome::converted(self.value)
    }
}

/// A mergeable content-performance partial.
///
/// For each funnel record (see [`FunnelConfig`]):
/// - **MQLs per asset**: every distinct content asset touched in the
///   record's window up to its MQL date counts one MQL (a participation
///   count: an MQL that read two assets counts for both; MQLs with no
///   content touch are counted apart).
/// - **Opportunities per asset**: the record's touches up to its
///   opportunity date form a journey converting once; the model splits that
///   one opportunity over the touches, so opportunities per asset sum to the
///   opportunities (plus the unassigned bucket for touches with no asset).
/// - **Revenue per asset**: the touches up to the win form a journey
///   converting for the deal amount, credited the same way, exact in minor
///   units.
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleTouch, models::Linear};
/// use touchpoint::funnel::{ContentPartial, FunnelConfig, Lead};
///
/// let t = |d: &str| format!("2024-{d}T00:00:00Z").parse::<chrono::DateTime<chrono::Utc>>();
/// let lead = Lead::new("a")
///     .with_amount(1000.0)
///     .touch(SimpleTouch::new("web", t("01-01")?).content("ebook"))
///     .touch(SimpleTouch::new("web", t("01-03")?).content("webinar"))
///     .stage("mql", t("01-02")?)
///     .stage("opportunity", t("01-04")?)
///     .stage("closed_won", t("02-01")?);
/// let mut p = ContentPartial::new(&Linear, FunnelConfig::default());
/// p.observe(&Linear, &lead)?;
/// let r = p.finish();
/// let ebook = r.line("ebook").unwrap();
/// assert_eq!(ebook.mqls, 1);
/// assert_eq!(ebook.opportunities, 0.5);
/// assert_eq!(ebook.revenue_minor, 50_000);
/// assert_eq!(r.line("webinar").unwrap().mqls, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentPartial {
    config: FunnelConfig,
    rules: RuleCounts,
    mqls: u64,
    mqls_without_content: u64,
    mql_assets: BTreeMap<String, u64>,
    opportunities: CreditPartial,
    revenue: CreditPartial,
    #[serde(skip)]
    resolved: Vec<Resolved>,
    #[serde(skip)]
    records: Vec<Record>,
}

impl ContentPartial {
    /// An empty partial for `model` (the identity of merge).
    pub fn new<M: AttributionModel + ?Sized>(model: &M, config: FunnelConfig) -> ContentPartial {
        ContentPartial {
            opportunities: CreditPartial::with_currency(model, config.currency),
            revenue: CreditPartial::with_currency(model, config.currency),
            config,
            rules: RuleCounts::default(),
            mqls: 0,
            mqls_without_content: 0,
            mql_assets: BTreeMap::new(),
            resolved: Vec::new(),
            records: Vec::new(),
        }
    }

    /// Observes one lead.
    ///
    /// # Errors
    ///
    /// As [`FunnelPartial::observe`](super::FunnelPartial::observe);
    /// [`Error::IncompatiblePartials`] when `model` is not the partial's
    /// model; the model's errors. On error the partial may hold part of the
    /// lead's credit: discard it.
    pub fn observe<M: AttributionModel + ?Sized>(&mut self, model: &M, lead: &Lead) -> Result<()> {
        let mut rules = RuleCounts::default();
        normalize(
            lead,
            &self.config,
            &mut self.resolved,
            &mut self.records,
            &mut rules,
        )?;
        self.rules.merge(&rules)?;
        let st = &self.config.stages;
        let (mql, opp, won) = (st.mql_index(), st.opportunity_index(), st.won_index());
        let touches = lead.touches();
        let upto = |start: usize, ts: i64| {
            let w = &touches[start..];
            &w[..w.partition_point(|t| t.ts.timestamp_millis() <= ts)]
        };
        // checked: a deserialized partial can carry counts near the limits
        let of = || Error::Overflow { what: "MQL counts" };
        for r in &self.records {
            if r.reached(mql) {
                self.mqls = self.mqls.checked_add(1).ok_or_else(of)?;
                let mut seen: Vec<&str> = upto(r.touch_start, r.ts[mql])
                    .iter()
                    .filter_map(|t| t.content.as_deref())
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                if seen.is_empty() {
                    self.mqls_without_content =
                        self.mqls_without_content.checked_add(1).ok_or_else(of)?;
                }
                for c in seen {
                    match self.mql_assets.get_mut(c) {
                        Some(n) => *n = n.checked_add(1).ok_or_else(of)?,
                        None => {
                            self.mql_assets.insert(c.to_owned(), 1);
                        }
                    }
                }
            }
            let is_won = r.reached(won);
            if r.reached(opp) || is_won {
                let ts = if r.reached(opp) { r.ts[opp] } else { r.ts[won] };
                self.opportunities.observe_with(
                    model,
                    &Window {
                        id: lead.id(),
                        touches: upto(r.touch_start, ts),
                        value: 0.0,
                    },
                )?;
            }
            if is_won {
                self.revenue.observe_with(
                    model,
                    &Window {
                        id: lead.id(),
                        touches: upto(r.touch_start, r.ts[won]),
                        value: lead.amount().unwrap_or(0.0),
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Adds `other` into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`] for different funnel configurations
    /// or models; [`Error::Overflow`].
    pub fn merge(&mut self, other: &ContentPartial) -> Result<()> {
        if self.config.fingerprint() != other.config.fingerprint() {
            return Err(Error::IncompatiblePartials {
                left: self.config.fingerprint(),
                right: other.config.fingerprint(),
            });
        }
        self.opportunities.merge(&other.opportunities)?;
        self.revenue.merge(&other.revenue)?;
        self.rules.merge(&other.rules)?;
        let of = || Error::Overflow { what: "MQL counts" };
        self.mqls = self.mqls.checked_add(other.mqls).ok_or_else(of)?;
        self.mqls_without_content = self
            .mqls_without_content
            .checked_add(other.mqls_without_content)
            .ok_or_else(of)?;
        for (k, v) in &other.mql_assets {
            let e = self.mql_assets.entry(k.clone()).or_insert(0);
            *e = e.checked_add(*v).ok_or_else(of)?;
        }
        Ok(())
    }

    /// The report: one line per asset, sorted by name.
    pub fn finish(&self) -> ContentReport {
        let opp = self.opportunities.finish();
        let rev = self.revenue.finish();
        let mut lines: BTreeMap<&str, ContentLine> = BTreeMap::new();
        let blank = |n: &str| ContentLine {
            asset: n.to_owned(),
            mqls: 0,
            opportunities: 0.0,
            opportunity_units: 0,
            revenue_minor: 0,
        };
        for (k, v) in &self.mql_assets {
            lines.entry(k).or_insert_with(|| blank(k)).mqls = *v;
        }
        for c in opp.contents().lines() {
            let l = lines.entry(c.name()).or_insert_with(|| blank(c.name()));
            l.opportunity_units = c.conversion_units();
            l.opportunities = c.conversions();
        }
        for c in rev.contents().lines() {
            lines
                .entry(c.name())
                .or_insert_with(|| blank(c.name()))
                .revenue_minor = c.value_minor();
        }
        #[expect(clippy::cast_precision_loss, reason = "display value")]
        let unassigned_opps =
            opp.contents().unassigned().conversion_units() as f64 / CONVERSION_UNITS as f64;
        ContentReport {
            model: opp.model().to_owned(),
            currency_decimals: self.config.currency.decimals(),
            mqls: self.mqls,
            mqls_without_content: self.mqls_without_content,
            opportunities: opp.conversions(),
            revenue_minor: rev.value_minor(),
            unassigned_opportunities: unassigned_opps,
            unassigned_revenue_minor: rev.contents().unassigned().value_minor(),
            lines: lines.into_values().collect(),
            rules: self.rules,
        }
    }
}

/// One content asset's performance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentLine {
    /// The asset.
    pub asset: String,
    /// MQLs that touched it before becoming MQL.
    pub mqls: u64,
    /// Attributed opportunities.
    pub opportunities: f64,
    /// Attributed opportunities in 10⁻⁹ units (exact).
    pub opportunity_units: u128,
    /// Attributed revenue, minor units (exact).
    pub revenue_minor: i128,
}

/// Content performance under one attribution model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentReport {
    /// The model's name.
    pub model: String,
    /// Decimal places of the currency's minor unit.
    pub currency_decimals: u8,
    /// Records that reached MQL.
    pub mqls: u64,
    /// Of those, how many touched no content asset before MQL.
    pub mqls_without_content: u64,
    /// Opportunities.
    pub opportunities: u64,
    /// Revenue won, minor units.
    pub revenue_minor: i128,
    /// Opportunities credited to touches with no asset (or no touch).
    pub unassigned_opportunities: f64,
    /// Revenue credited to touches with no asset (or no touch), minor units.
    pub unassigned_revenue_minor: i128,
    /// One line per asset, sorted by name.
    pub lines: Vec<ContentLine>,
    /// What the normalization rules changed.
    pub rules: RuleCounts,
}

impl ContentReport {
    /// The line of `asset`.
    pub fn line(&self, asset: &str) -> Option<&ContentLine> {
        self.lines
            .binary_search_by(|l| l.asset.as_str().cmp(asset))
            .ok()
            .map(|i| &self.lines[i])
    }
}
