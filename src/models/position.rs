//! Position-based models: U-shaped, J-shaped, inverse J, and the CRM
//! variant anchored on the lead-creation touch.

use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;
use crate::touchpoint::Milestone;

/// Fixed shares for the first touch, the last touch, and the touches in
/// between; a separate split for two-touch journeys.
///
/// Formula, for a journey of `n` touches with configured `first`, `last`
/// and `two_touch_first`:
///
/// | `n`  | first touch        | middle touches (each)           | last touch             |
/// |------|--------------------|---------------------------------|------------------------|
/// | 1    | 1                  | –                               | (same touch)           |
/// | 2    | `two_touch_first`  | –                               | `1 − two_touch_first`  |
/// | ≥ 3  | `first`            | `(1 − first − last) / (n − 2)`  | `last`                 |
///
/// So in a two-touch journey the middle share has nowhere to go: the
/// two-touch split replaces the three-part rule entirely.
///
/// Presets ([`name`](AttributionModel::name) in brackets):
///
/// | preset                                | first | last | middle | 2 touches |
/// |---------------------------------------|-------|------|--------|-----------|
/// | [`u_shaped`](Self::u_shaped) (`position_based`) | 40% | 40% | 20% | 50/50 |
/// | [`j_shaped`](Self::j_shaped) (`j_shaped`)       | 20% | 60% | 20% | 25/75 |
/// | [`inverse_j`](Self::inverse_j) (`inverse_j`)    | 60% | 20% | 20% | 75/25 |
///
/// Custom shares come from [`new`](Self::new) (name `position_based`).
///
/// **Lead-anchored (CRM) variant** ([`lead_anchored`](Self::lead_anchored)):
/// the "last" anchor is the lead-creation touch (the first touch whose
/// milestone is [`Milestone::LeadCreated`]) instead of the last touch. The
/// rule above is applied to the touches up to and including that touch;
/// touches after lead creation get nothing (as in CRM U-shaped models,
/// which describe how the lead was won). When the journey has no
/// lead-creation touch, the model falls back to the whole journey (last
/// touch as the anchor). When the lead-creation touch is the first touch,
/// that touch gets 100%.
///
/// Edge cases: one touch gets 100%; equal timestamps keep input order, so
/// "first" and "last" are the first and last given.
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example (the published J-shaped one)
///
/// J-shaped over 4 touches of a $50 conversion: first 20% = $10, the two
/// middle touches share 20% = $5 each, last 60% = $30.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::PositionBased};
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("social", t))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("search", t))
///     .converted(50.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&PositionBased::j_shaped(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[1000, 500, 500, 3000]);
/// c.credit(&PositionBased::u_shaped(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[2000, 500, 500, 2000]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionBased {
    first: f64,
    last: f64,
    two_touch_first: f64,
    name: &'static str,
    lead_anchored: bool,
}

impl Default for PositionBased {
    /// [`PositionBased::u_shaped`].
    fn default() -> PositionBased {
        PositionBased::u_shaped()
    }
}

impl PositionBased {
    /// U-shaped: 40% first, 40% last, 20% shared by the middle; 50/50 for
    /// two touches. Name `position_based`.
    pub const fn u_shaped() -> PositionBased {
        PositionBased {
            first: 0.4,
            last: 0.4,
            two_touch_first: 0.5,
            name: "position_based",
            lead_anchored: false,
        }
    }

    /// J-shaped: 20% first, 60% last, 20% shared by the middle; 25/75 for
    /// two touches. Name `j_shaped`.
    pub const fn j_shaped() -> PositionBased {
        PositionBased {
            first: 0.2,
            last: 0.6,
            two_touch_first: 0.25,
            name: "j_shaped",
            lead_anchored: false,
        }
    }

    /// Inverse J: 60% first, 20% last, 20% shared by the middle; 75/25 for
    /// two touches. Name `inverse_j`.
    pub const fn inverse_j() -> PositionBased {
        PositionBased {
            first: 0.6,
            last: 0.2,
            two_touch_first: 0.75,
            name: "inverse_j",
            lead_anchored: false,
        }
    }

    /// Custom shares: `first` to the first touch, `last` to the last, the
    /// rest `1 − first − last` shared by the middle touches; in two-touch
    /// journeys `two_touch_first` to the first touch and the rest to the
    /// last. Name `position_based`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if a share is not finite or negative
    /// (`first`, `last`, `two_touch_first`), if `first + last > 1`
    /// (`first + last`), or if `two_touch_first > 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::PositionBased;
    ///
    /// let m = PositionBased::new(0.3, 0.5, 0.4)?;
    /// assert_eq!(m.shares(), (0.3, 0.5, 0.4));
    /// assert!(PositionBased::new(0.7, 0.5, 0.5).is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn new(first: f64, last: f64, two_touch_first: f64) -> Result<PositionBased> {
        let share = |p: &'static str, x: f64| {
            if x.is_finite() && (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(Error::param(p, x, "a finite share in [0, 1]"))
            }
        };
        share("first", first)?;
        share("last", last)?;
        share("two_touch_first", two_touch_first)?;
        // a little slack so that 0.1 + 0.9 style sums pass
        if first + last > 1.0 + 1e-12 {
            return Err(Error::param(
                "first + last",
                first + last,
                "shares of the first and last touch summing to at most 1",
            ));
        }
        Ok(PositionBased {
            first,
            last,
            two_touch_first,
            name: "position_based",
            lead_anchored: false,
        })
    }

    /// The CRM variant: anchored on the first touch and the lead-creation
    /// touch instead of the last touch (see the type docs for journeys
    /// without a lead-creation touch). Keeps the name and the shares.
    ///
    /// # Example
    ///
    /// U-shaped, lead created at the second of four touches, $10: the first
    /// two touches get $5 each, the touches after lead creation nothing.
    ///
    /// ```
    /// # use touchpoint::{Crediter, JourneySet, Milestone, SimpleJourney, SimpleTouch};
    /// use touchpoint::models::PositionBased;
    /// # let t = "2024-01-01T00:00:00Z".parse()?;
    /// let j = SimpleJourney::new("j")
    ///     .touch(SimpleTouch::new("display", t))
    ///     .touch(SimpleTouch::new("webinar", t).milestone(Milestone::LeadCreated))
    ///     .touch(SimpleTouch::new("email", t))
    ///     .touch(SimpleTouch::new("sales", t))
    ///     .converted(10.0);
    /// # let set = JourneySet::from_journeys([&j])?;
    /// # let mut c = Crediter::new();
    /// c.credit(&PositionBased::u_shaped().lead_anchored(), &set.get(0).unwrap())?;
    /// assert_eq!(c.values(), &[500, 500, 0, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn lead_anchored(self) -> PositionBased {
        PositionBased {
            lead_anchored: true,
            ..self
        }
    }

    /// Whether this is the lead-anchored variant.
    pub const fn is_lead_anchored(&self) -> bool {
        self.lead_anchored
    }

    /// `(first, last, two_touch_first)`.
    pub const fn shares(&self) -> (f64, f64, f64) {
        (self.first, self.last, self.two_touch_first)
    }
}

impl AttributionModel for PositionBased {
    fn name(&self) -> &str {
        self.name
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(match self.name {
            "j_shaped" => ModelSpec::JShaped {
                lead_anchored: self.lead_anchored,
            },
            "inverse_j" => ModelSpec::InverseJ {
                lead_anchored: self.lead_anchored,
            },
            _ => ModelSpec::PositionBased {
                first: self.first,
                last: self.last,
                two_touch_first: self.two_touch_first,
                lead_anchored: self.lead_anchored,
            },
        })
    }

    #[inline]
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let n = j.len();
        // number of touches the rule covers (a prefix of the journey)
        let m = if self.lead_anchored {
            j.milestones()
                .iter()
                .position(|&m| m == Some(Milestone::LeadCreated))
                .map_or(n, |k| k + 1)
        } else {
            n
        };
        match m {
            0 | 1 => out.all_to(0),
            2 => {
                let f = self.two_touch_first;
                if f >= 1.0 {
                    out.all_to(0);
                } else if f <= 0.0 {
                    out.all_to(1);
                } else {
                    let w = out.weighted();
                    w.resize(n, 0.0);
                    w[0] = f;
                    w[1] = 1.0 - f;
                }
            }
            _ => {
                #[expect(clippy::cast_precision_loss, reason = "journey lengths are small")]
                let mid = (1.0 - self.first - self.last).max(0.0) / (m - 2) as f64;
                let w = out.weighted();
                w.resize(n, 0.0);
                w[0] = self.first;
                w[1..m - 1].fill(mid);
                w[m - 1] = self.last;
            }
        }
        Ok(())
    }

    fn fingerprint(&self) -> String {
        format!(
            "{}(first={},last={},two_touch_first={},lead_anchored={})",
            self.name, self.first, self.last, self.two_touch_first, self.lead_anchored
        )
    }
}
