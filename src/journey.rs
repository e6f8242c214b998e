//! The [`Journey`] trait and the ready-made [`SimpleJourney`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::touchpoint::{SimpleTouch, Touchpoint};

/// How a journey ended.
///
/// `value` is ignored when `converted` is false. `conversion_ts` is the
/// moment time-decay models measure back from (the last touch when absent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Whether the journey ended in a conversion.
    pub converted: bool,
    /// The conversion value (revenue) in major currency units; finite, `>= 0`.
    pub value: f64,
    /// When it converted, if known.
    pub conversion_ts: Option<DateTime<Utc>>,
}

impl Outcome {
    /// The value in minor units of `currency` (0 when not converted): the
    /// one check every way of taking in a journey makes.
    #[inline]
    pub(crate) fn value_minor(
        &self,
        journey: &str,
        currency: crate::Currency,
    ) -> crate::Result<i64> {
        if !self.converted {
            return Ok(0);
        }
        currency
            .to_minor(self.value)?
            .ok_or_else(|| crate::Error::InvalidValue {
                journey: journey.to_owned(),
                value: self.value,
            })
    }

    /// A journey that did not convert.
    pub const fn not_converted() -> Outcome {
        Outcome {
            converted: false,
            value: 0.0,
            conversion_ts: None,
        }
    }

    /// A journey that converted for `value`, with no conversion time.
    pub const fn converted(value: f64) -> Outcome {
        Outcome {
            converted: true,
            value,
            conversion_ts: None,
        }
    }
}

/// One buyer's (person's, lead's or account's) sequence of touches and its
/// outcome.
///
/// Implement it on your own types to attribute them without copying: the
/// crate reads the touchpoints through the borrowed slice. Touchpoints may
/// come in any order; the crate sorts them by time (stable: equal timestamps
/// keep their input order) before use.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use touchpoint::{Journey, Outcome, SimpleTouch};
///
/// struct Deal { id: String, touches: Vec<SimpleTouch>, won: Option<f64> }
///
/// impl Journey for Deal {
///     type Touch = SimpleTouch;
///     fn id(&self) -> &str { &self.id }
///     fn touchpoints(&self) -> &[SimpleTouch] { &self.touches }
///     fn outcome(&self) -> Outcome {
///         match self.won {
///             Some(v) => Outcome::converted(v),
///             None => Outcome::not_converted(),
///         }
///     }
/// }
/// let d = Deal { id: "d1".into(), touches: vec![], won: Some(10.0) };
/// assert!(d.outcome().converted);
/// ```
pub trait Journey {
    /// The touchpoint type.
    type Touch: Touchpoint;
    /// The journey's id (a person, lead or account).
    fn id(&self) -> &str;
    /// The touchpoints, in any order.
    fn touchpoints(&self) -> &[Self::Touch];
    /// How the journey ended.
    fn outcome(&self) -> Outcome;
}

impl<J: Journey + ?Sized> Journey for &J {
    type Touch = J::Touch;
    fn id(&self) -> &str {
        (**self).id()
    }
    fn touchpoints(&self) -> &[Self::Touch] {
        (**self).touchpoints()
    }
    fn outcome(&self) -> Outcome {
        (**self).outcome()
    }
}

/// A ready-made, serde-ready journey matching one line of the JSON-lines
/// format: `id`, `converted`, `value` (default 0), `conversion_ts`
/// (optional) and `touchpoints`. Unknown fields are ignored.
///
/// # Example
///
/// ```
/// use touchpoint::{Journey, SimpleJourney, SimpleTouch};
///
/// let j = SimpleJourney::new("j1")
///     .touch(SimpleTouch::new("paid_search", "2024-02-27T09:15:00Z".parse()?))
///     .touch(SimpleTouch::new("email", "2024-03-02T18:40:05Z".parse()?))
///     .converted(129.5);
/// assert_eq!(j.touchpoints().len(), 2);
/// assert_eq!(j.outcome().value, 129.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleJourney {
    /// The journey's id.
    pub id: String,
    /// Whether it converted.
    pub converted: bool,
    /// The conversion value, in major currency units.
    #[serde(default)]
    pub value: f64,
    /// When it converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_ts: Option<DateTime<Utc>>,
    /// The touches, in any order.
    pub touchpoints: Vec<SimpleTouch>,
}

impl SimpleJourney {
    /// An empty, non-converting journey with id `id`.
    pub fn new(id: impl Into<String>) -> SimpleJourney {
        SimpleJourney {
            id: id.into(),
            converted: false,
            value: 0.0,
            conversion_ts: None,
            touchpoints: Vec::new(),
        }
    }

    /// Appends a touch.
    #[must_use]
    pub fn touch(mut self, touch: SimpleTouch) -> SimpleJourney {
        self.touchpoints.push(touch);
        self
    }

    /// Marks the journey converted for `value`.
    #[must_use]
    pub fn converted(self, value: f64) -> SimpleJourney {
        SimpleJourney {
            converted: true,
            value,
            ..self
        }
    }

    /// Sets the conversion time.
    #[must_use]
    pub fn converted_at(self, ts: DateTime<Utc>) -> SimpleJourney {
        SimpleJourney {
            conversion_ts: Some(ts),
            ..self
        }
    }
}

impl Journey for SimpleJourney {
    type Touch = SimpleTouch;
    fn id(&self) -> &str {
        &self.id
    }
    fn touchpoints(&self) -> &[SimpleTouch] {
        &self.touchpoints
    }
    fn outcome(&self) -> Outcome {
        Outcome {
            converted: self.converted,
            value: self.value,
            conversion_ts: self.conversion_ts,
        }
    }
}
