//! The [`Touchpoint`] trait and the ready-made [`SimpleTouch`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::name::Name;

/// A B2B milestone that a touchpoint can mark.
///
/// W-shaped and full-path models anchor credit on these; the funnel module
/// uses them to tell marketing-influenced opportunities.
///
/// Serialized in `snake_case` (`"lead_created"`, `"opportunity_created"`,
/// `"closed"`), as in the JSON-lines format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The touch that created the lead (a form fill, a sign-up).
    LeadCreated,
    /// The touch at which an opportunity was created.
    OpportunityCreated,
    /// The touch at which the deal closed.
    Closed,
}

impl Milestone {
    /// The name used in the JSON-lines format.
    ///
    /// ```
    /// assert_eq!(touchpoint::Milestone::LeadCreated.as_str(), "lead_created");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::LeadCreated => "lead_created",
            Milestone::OpportunityCreated => "opportunity_created",
            Milestone::Closed => "closed",
        }
    }
}

/// One marketing touch: a channel at a time, with optional campaign,
/// content asset, cost and milestone.
///
/// Implement it on your own row type to attribute your data without copying
/// it; only [`channel`](Touchpoint::channel) and
/// [`timestamp`](Touchpoint::timestamp) are required.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use touchpoint::Touchpoint;
///
/// struct CrmRow { source: String, at: DateTime<Utc> }
///
/// impl Touchpoint for CrmRow {
///     fn channel(&self) -> &str { &self.source }
///     fn timestamp(&self) -> DateTime<Utc> { self.at }
/// }
/// let row = CrmRow { source: "email".into(), at: DateTime::UNIX_EPOCH };
/// assert_eq!(row.channel(), "email");
/// assert_eq!(row.campaign(), None);
/// ```
pub trait Touchpoint {
    /// The channel (e.g. `"paid_search"`).
    fn channel(&self) -> &str;
    /// When the touch happened.
    fn timestamp(&self) -> DateTime<Utc>;
    /// The campaign or offer, if known.
    fn campaign(&self) -> Option<&str> {
        None
    }
    /// The content asset (whitepaper, webinar, page), if known.
    fn content(&self) -> Option<&str> {
        None
    }
    /// The cost of this touch in major currency units, if known. Must be
    /// finite and `>= 0` where given.
    fn cost(&self) -> Option<f64> {
        None
    }
    /// The B2B milestone this touch marks, if any.
    fn milestone(&self) -> Option<Milestone> {
        None
    }
}

impl<T: Touchpoint + ?Sized> Touchpoint for &T {
    fn channel(&self) -> &str {
        (**self).channel()
    }
    fn timestamp(&self) -> DateTime<Utc> {
        (**self).timestamp()
    }
    fn campaign(&self) -> Option<&str> {
        (**self).campaign()
    }
    fn content(&self) -> Option<&str> {
        (**self).content()
    }
    fn cost(&self) -> Option<f64> {
        (**self).cost()
    }
    fn milestone(&self) -> Option<Milestone> {
        (**self).milestone()
    }
}

/// A ready-made, serde-ready touchpoint matching the JSON-lines format
/// (`channel`, `ts`, and optional `campaign`, `content`, `cost`,
/// `milestone`). Unknown fields are ignored when deserializing.
///
/// Its names are [`Name`]s: up to 24 bytes are kept inside the touch, so a
/// touch is one place in memory and building or reading one allocates
/// nothing per name (see [`Name`] for what that does to streaming).
///
/// # Example
///
/// ```
/// use touchpoint::{SimpleTouch, Touchpoint};
///
/// let t = SimpleTouch::new("email", "2024-03-02T18:40:05Z".parse()?);
/// assert_eq!(t.channel(), "email");
/// assert_eq!(t.channel, "email"); // a `Name` compares with a `&str`
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleTouch {
    /// The channel.
    pub channel: Name,
    /// When the touch happened.
    pub ts: DateTime<Utc>,
    /// The campaign or offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Name>,
    /// The content asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Name>,
    /// The cost of the touch, in major currency units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The B2B milestone the touch marks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<Milestone>,
}

impl SimpleTouch {
    /// A touch on `channel` at `ts`, with no campaign, content, cost or milestone.
    pub fn new(channel: impl Into<Name>, ts: DateTime<Utc>) -> SimpleTouch {
        SimpleTouch {
            channel: channel.into(),
            ts,
            campaign: None,
            content: None,
            cost: None,
            milestone: None,
        }
    }

    /// Sets the campaign.
    #[must_use]
    pub fn campaign(self, campaign: impl Into<Name>) -> SimpleTouch {
        SimpleTouch {
            campaign: Some(campaign.into()),
            ..self
        }
    }

    /// Sets the content asset.
    #[must_use]
    pub fn content(self, content: impl Into<Name>) -> SimpleTouch {
        SimpleTouch {
            content: Some(content.into()),
            ..self
        }
    }

    /// Sets the cost (major currency units).
    #[must_use]
    pub fn cost(self, cost: f64) -> SimpleTouch {
        SimpleTouch {
            cost: Some(cost),
            ..self
        }
    }

    /// Sets the milestone.
    #[must_use]
    pub fn milestone(self, milestone: Milestone) -> SimpleTouch {
        SimpleTouch {
            milestone: Some(milestone),
            ..self
        }
    }
}

impl Touchpoint for SimpleTouch {
    fn channel(&self) -> &str {
        &self.channel
    }
    fn timestamp(&self) -> DateTime<Utc> {
        self.ts
    }
    fn campaign(&self) -> Option<&str> {
        self.campaign.as_deref()
    }
    fn content(&self) -> Option<&str> {
        self.content.as_deref()
    }
    fn cost(&self) -> Option<f64> {
        self.cost
    }
    fn milestone(&self) -> Option<Milestone> {
        self.milestone
    }
}
