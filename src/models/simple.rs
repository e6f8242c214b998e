//! First touch, last touch and linear.

use crate::{AttributionModel, JourneyView, Result, Weights};

/// All credit to the first touch (by time).
///
/// Formula: `share(1) = 1`, every other touch 0.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::FirstTouch};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(50.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&FirstTouch, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[5000, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstTouch;

impl AttributionModel for FirstTouch {
    fn name(&self) -> &str {
        "first_touch"
    }
    fn weights(&self, _: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.all_to(0);
        Ok(())
    }
}

/// All credit to the last touch (by time).
///
/// Formula: `share(n) = 1`, every other touch 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastTouch;

impl AttributionModel for LastTouch {
    fn name(&self) -> &str {
        "last_touch"
    }
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.all_to(j.len().saturating_sub(1));
        Ok(())
    }
}

/// Equal credit to every touch (repeats of a channel count once each).
///
/// Formula: `share(i) = 1 / n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Linear;

impl AttributionModel for Linear {
    fn name(&self) -> &str {
        "linear"
    }
    fn weights(&self, _: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.equal();
        Ok(())
    }
}
