//! The serialized form of a [`CreditPartial`]: name-keyed sums, checked
//! when read by the one [`NamedPartial::validate`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credit::CONVERSION_UNITS;
use crate::credit::partial::{Acc, Breakdowns, CreditConfig, CreditPartial, PARTIAL_VERSION};
use crate::credit::report::{Breakdown, Credit, Report};
use crate::error::{Error, Result};
use crate::model::CreditKind;
use crate::models::ModelSpec;
use crate::money::Currency;

/// One breakdown keyed by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NamedDim {
    pub(crate) lines: BTreeMap<String, Acc>,
    pub(crate) unassigned: Acc,
}

impl NamedDim {
    fn breakdown(&self, currency: Currency) -> Breakdown {
        let line = |name: &str, a: &Acc| Credit::new(name.to_owned(), a.units, a.value, currency);
        Breakdown::new(
            self.lines.iter().map(|(k, a)| line(k, a)).collect(),
            line("(unassigned)", &self.unassigned),
        )
    }

    fn accs(&self) -> impl Iterator<Item = &Acc> + '_ {
        self.lines.values().chain(std::iter::once(&self.unassigned))
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.unassigned == Acc::default()
    }
}

/// The wire form of a [`CreditPartial`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NamedPartial {
    pub(crate) version: u32,
    pub(crate) model: String,
    pub(crate) fingerprint: String,
    pub(crate) full_credit: bool,
    pub(crate) currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<ModelSpec>,
    #[serde(default, skip_serializing_if = "Breakdowns::is_all")]
    pub(crate) breakdowns: Breakdowns,
    pub(crate) journeys: u64,
    pub(crate) conversions: u64,
    pub(crate) value: i128,
    pub(crate) channel: NamedDim,
    pub(crate) campaign: NamedDim,
    pub(crate) content: NamedDim,
}

impl NamedPartial {
    /// Every invariant a partial keeps (see [`CreditPartial`]'s docs):
    /// checked when a partial is read.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`credit_partial`) naming the first
    /// invariant broken.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(Error::param(
                "credit_partial",
                reason,
                "a partial whose sums agree with its totals",
            ))
        };
        if self.version != PARTIAL_VERSION {
            return bad(format!("unsupported partial version {}", self.version));
        }
        let dims = [
            ("channel", &self.channel, true),
            ("campaign", &self.campaign, self.breakdowns.campaigns()),
            ("content", &self.content, self.breakdowns.contents()),
        ];
        for (name, d, _) in &dims {
            if !d.accs().all(Acc::within_limit) {
                return bad(format!(
                    "a {name} sum exceeds 2^120 (the limit that keeps further adds exact)"
                ));
            }
            if d.accs().any(|a| a.value < 0) {
                return bad(format!("a negative credited value in the {name} breakdown"));
            }
        }
        if self.value < 0 {
            return bad(format!("a negative total value {}", self.value));
        }
        if self.conversions > self.journeys {
            return bad(format!(
                "{} conversions out of {} journeys",
                self.conversions, self.journeys
            ));
        }
        let units = u128::from(self.conversions) * u128::from(CONVERSION_UNITS);
        for (name, d, computed) in dims {
            if !computed {
                if !d.is_empty() {
                    return bad(format!(
                        "lines in the {name} breakdown, which is not computed"
                    ));
                }
                continue;
            }
            if self.full_credit {
                // full credit: a journey's value may count once per touch
                // (a campaign on several touches), so no upper bound holds
                continue;
            }
            let (u, v) = d.accs().fold((0_u128, 0_i128), |(u, v), a| {
                (u.saturating_add(a.units), v.saturating_add(a.value))
            });
            if u != units || v != self.value {
                return bad(format!(
                    "{name} lines sum to {u} conversion units and {v} minor units, \
                     the totals are {units} and {}",
                    self.value
                ));
            }
        }
        Ok(())
    }

    /// The report over these sums.
    pub(crate) fn into_report(self) -> Report {
        Report::new(
            self.model,
            self.full_credit,
            self.currency,
            self.breakdowns,
            (self.journeys, self.conversions, self.value),
            [
                self.channel.breakdown(self.currency),
                self.campaign.breakdown(self.currency),
                self.content.breakdown(self.currency),
            ],
        )
    }
}

impl TryFrom<NamedPartial> for CreditPartial {
    type Error = Error;
    fn try_from(named: NamedPartial) -> Result<CreditPartial> {
        named.validate()?;
        let kind = if named.full_credit {
            CreditKind::Full
        } else {
            CreditKind::Shares
        };
        let config = CreditConfig::from_wire(
            named.model.clone(),
            named.fingerprint.clone(),
            kind,
            named.spec.clone(),
            named.currency,
            named.breakdowns,
        )?;
        CreditPartial::from_named(config, &named)
    }
}

impl Serialize for CreditPartial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.named().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CreditPartial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let named = NamedPartial::deserialize(d)?;
        CreditPartial::try_from(named).map_err(serde::de::Error::custom)
    }
}
