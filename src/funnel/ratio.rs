//! A ratio that may be undefined.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A ratio (rate, ROI, cost per lead, average) that is undefined when its
/// denominator is zero: no NaN, no infinity, no panic.
///
/// # Example
///
/// ```
/// use touchpoint::funnel::Ratio;
///
/// assert_eq!(Ratio::of(1.0, 4.0), Ratio::Defined(0.25));
/// assert_eq!(Ratio::of(1.0, 0.0), Ratio::Undefined);
/// assert_eq!(Ratio::of(1.0, 0.0).value(), None);
/// assert_eq!(format!("{:.1}", Ratio::Undefined), "n/a");
/// assert_eq!(format!("{:>5.1}", Ratio::Defined(0.25)), "  0.2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ratio {
    /// A finite value.
    Defined(f64),
    /// The denominator is zero (e.g. ROI of a channel with no spend, a
    /// conversion rate from a stage nobody reached).
    Undefined,
}

impl Ratio {
    /// `num / den`, or [`Ratio::Undefined`] when `den` is zero or the
    /// quotient is not finite.
    pub fn of(num: f64, den: f64) -> Ratio {
        if den == 0.0 {
            return Ratio::Undefined;
        }
        let r = num / den;
        if r.is_finite() {
            Ratio::Defined(r)
        } else {
            Ratio::Undefined
        }
    }

    /// The value, `None` when undefined.
    pub fn value(self) -> Option<f64> {
        match self {
            Ratio::Defined(v) => Some(v),
            Ratio::Undefined => None,
        }
    }

    /// Whether the ratio is defined.
    pub fn is_defined(self) -> bool {
        matches!(self, Ratio::Defined(_))
    }

    /// Applies `f` to a defined value.
    #[must_use]
    pub fn map(self, f: impl FnOnce(f64) -> f64) -> Ratio {
        match self {
            Ratio::Defined(v) => {
                let r = f(v);
                if r.is_finite() {
                    Ratio::Defined(r)
                } else {
                    Ratio::Undefined
                }
            }
            Ratio::Undefined => Ratio::Undefined,
        }
    }
}

impl fmt::Display for Ratio {
    /// The value with the formatter's precision and width, or `n/a`
    /// (right-aligned to the width).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ratio::Defined(v) => fmt::Display::fmt(v, f),
            Ratio::Undefined => {
                let w = f.width().unwrap_or(0);
                write!(f, "{:>w$}", "n/a")
            }
        }
    }
}
