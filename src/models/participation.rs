//! Participation (full credit to every channel that took part).

use crate::dataset::JourneyView;
use crate::error::Result;
use crate::model::{AttributionModel, CreditKind, Weights};
use crate::models::ModelSpec;

/// Journeys up to this length find repeated channels by scanning; longer
/// ones sort.
const SCAN_LIMIT: usize = 32;

/// Every distinct channel in a converted journey gets the journey's full
/// value and one full conversion. **Credits do not sum to one** per journey
/// (nor to the report's totals): a channel's line reads "value of the
/// conversions this channel took part in".
///
/// Formula: `credit(c) = 1` for every channel `c` that occurs in the journey
/// (once, however many times it occurs); `kind()` is [`CreditKind::Full`].
/// Technically the weight 1 goes to the first touch of each distinct
/// channel and 0 to its repeats, so campaign and content breakdowns credit
/// the campaign and content of that first touch.
///
/// Edge cases: one touch gets 100%; `email, email` gives e-mail 100% once
/// (not 200%); `email, display` gives each 100%.
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example
///
/// E-mail, display, e-mail, $30: e-mail $30 and display $30 (total credited
/// $60 for a $30 conversion).
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::Participation};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .converted(30.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&Participation, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[3000, 3000, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Participation;

impl AttributionModel for Participation {
    fn name(&self) -> &str {
        "participation"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::Participation)
    }

    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let chans = j.channels();
        let n = chans.len();
        if n == 1 {
            out.all_to(0);
            return Ok(());
        }
        let w = out.weighted();
        if n <= SCAN_LIMIT {
            for (i, c) in chans.iter().enumerate() {
                w.push(if chans[..i].contains(c) { 0.0 } else { 1.0 });
            }
        } else {
            w.resize(n, 0.0);
            let mut order: Vec<(u32, usize)> =
                chans.iter().enumerate().map(|(i, c)| (c.0, i)).collect();
            order.sort_unstable();
            let mut prev = None;
            for (c, i) in order {
                if prev != Some(c) {
                    w[i] = 1.0;
                    prev = Some(c);
                }
            }
        }
        Ok(())
    }

    fn kind(&self) -> CreditKind {
        CreditKind::Full
    }
}
