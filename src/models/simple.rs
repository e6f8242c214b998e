//! First touch, last touch and linear.

use crate::dataset::JourneyView;
use crate::error::Result;
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;

/// All credit to the first touch (by time).
///
/// Formula: `share(1) = 1`, every other touch 0.
///
/// Edge cases: one touch gets 100%. With equal timestamps the first touch is
/// the one given first (sorting is stable). Journeys with no touch never
/// reach a model: the engine credits them to the unassigned bucket.
///
/// # Worked example
///
/// Display, then e-mail, $50: display gets $50.00, e-mail $0.
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
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::FirstTouch)
    }
    #[inline]
    fn weights(&self, _: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.all_to(0);
        Ok(())
    }
}

/// All credit to the last touch (by time).
///
/// Formula: `share(n) = 1`, every other touch 0.
///
/// Edge cases: one touch gets 100%. With equal timestamps the last touch is
/// the one given last (sorting is stable).
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example
///
/// Display, then e-mail, $50: display $0, e-mail $50.00.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::LastTouch};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(50.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&LastTouch, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[0, 5000]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastTouch;

impl AttributionModel for LastTouch {
    fn name(&self) -> &str {
        "last_touch"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::LastTouch)
    }
    #[inline]
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.all_to(j.len().saturating_sub(1));
        Ok(())
    }
}

/// Equal credit to every touch (repeats of a channel count once each, so a
/// channel touched twice gets two shares).
///
/// Formula: `share(i) = 1 / n`.
///
/// Edge cases: one touch gets 100%, two get 50% each. In minor units the
/// value splits as evenly as integers allow; leftover units go one each to
/// the earliest touches (largest remainder, ties to the earlier touch).
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example
///
/// Three touches of a $1.00 conversion: 34, 33 and 33 cents.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::Linear};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(1.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&Linear, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[34, 33, 33]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Linear;

impl AttributionModel for Linear {
    fn name(&self) -> &str {
        "linear"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::Linear)
    }
    #[inline]
    fn weights(&self, _: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        out.equal();
        Ok(())
    }
}
