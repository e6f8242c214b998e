//! Time decay.

use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;

const MS_PER_DAY: f64 = 86_400_000.0;

/// Credit halves for every half-life a touch lies before the conversion.
///
/// Formula: `w(i) = 2^(-age(i) / half_life)`, `share(i) = w(i) / Σ w`, where
/// `age(i) = reference − t(i)` is measured back from the conversion time, or
/// from the last touch when the journey has no conversion time
/// ([`JourneyView::reference_ts`]). Default half-life: 7 days.
///
/// Edge cases: one touch gets 100%. Touches with equal timestamps get equal
/// shares. A touch *after* the conversion time counts as age 0 (full
/// weight; drop such touches first with the journey rules if they should
/// not count). Because shares are invariant to a common factor, ages are
/// measured from the youngest touch internally, so very old journeys never
/// underflow to all-zero weights. A later touch never gets less than an
/// earlier one.
/// Of two touches `Δ` apart the later gets `1 / (1 + 2^(-Δ/h))` and the
/// earlier the rest (`Δ = h`: 2/3 and 1/3). A converted journey with no touch never reaches the model: the
/// engine credits it to the report's unassigned bucket.
///
/// # Worked example (the published one)
///
/// Half-life 7 days, touches 9, 6, 0 and 0 days before a $100 conversion:
/// weights `2^(-9/7) = 0.4102`, `2^(-6/7) = 0.5520`, `1`, `1`, sum `2.9622`,
/// so shares 13.85%, 18.64%, 33.76%, 33.76% (the published 13.8%, 18.6%,
/// 33.8%, 33.8%): $13.85, $18.63, $33.76, $33.76 after largest-remainder
/// rounding (exact values 1384.67, 1863.62, 3375.86, 3375.86 cents).
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch, models::TimeDecay};
/// let day = |d: i64| chrono::DateTime::from_timestamp(d * 86_400, 0).unwrap();
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", day(1)))
///     .touch(SimpleTouch::new("social", day(4)))
///     .touch(SimpleTouch::new("email", day(10)))
///     .touch(SimpleTouch::new("search", day(10)))
///     .converted(100.0)
///     .converted_at(day(10));
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&TimeDecay::default(), &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[1385, 1863, 3376, 3376]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeDecay {
    half_life_ms: f64,
}

impl Default for TimeDecay {
    /// A half-life of 7 days.
    fn default() -> TimeDecay {
        TimeDecay {
            half_life_ms: 7.0 * MS_PER_DAY,
        }
    }
}

impl TimeDecay {
    /// Time decay with a half-life of `days`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`half_life`) if `days` is not finite or
    /// is under one millisecond (`1 / 86_400_000` days): timestamps are
    /// kept in milliseconds, and a shorter half-life would make the weights
    /// NaN or underflow.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::TimeDecay;
    ///
    /// assert_eq!(TimeDecay::with_half_life_days(30.0)?.half_life_days(), 30.0);
    /// assert!(TimeDecay::with_half_life_days(-1.0).is_err());
    /// assert!(TimeDecay::with_half_life_days(5e-324).is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn with_half_life_days(days: f64) -> Result<TimeDecay> {
        let ms = days * MS_PER_DAY;
        if !(days.is_finite() && ms.is_finite() && ms >= 1.0) {
            return Err(Error::param(
                "half_life",
                days,
                "a finite number of days of at least one millisecond",
            ));
        }
        Ok(TimeDecay { half_life_ms: ms })
    }

    /// Time decay with a half-life of `ms` milliseconds (what
    /// [`ModelSpec::TimeDecay`] carries).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`half_life`) unless `ms` is finite and
    /// at least 1.
    pub(crate) fn with_half_life_ms(ms: f64) -> Result<TimeDecay> {
        if !(ms.is_finite() && ms >= 1.0) {
            return Err(Error::param(
                "half_life",
                ms / MS_PER_DAY,
                "a finite number of days of at least one millisecond",
            ));
        }
        Ok(TimeDecay { half_life_ms: ms })
    }

    /// The half-life in days.
    pub fn half_life_days(&self) -> f64 {
        self.half_life_ms / MS_PER_DAY
    }
}

impl AttributionModel for TimeDecay {
    fn name(&self) -> &str {
        "time_decay"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::TimeDecay {
            half_life_ms: self.half_life_ms,
        })
    }

    #[inline]
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let ts = j.timestamps();
        let Some(&last) = ts.last() else {
            out.all_to(0);
            return Ok(());
        };
        if ts.len() == 1 {
            out.all_to(0);
            return Ok(());
        }
        // Touches are sorted, so the youngest is the last; shares do not
        // change when every age drops by the same amount.
        let reference = j.reference_ts().unwrap_or(last);
        let youngest = reference.saturating_sub(last).max(0);
        let scale = -1.0 / self.half_life_ms;
        let w = out.weighted();
        let mut sum = 0.0;
        // every touch but the last: a touch tied with the last has age 0,
        // and `exp2(-0.0)` is 1 exactly, the last touch's weight
        for &t in &ts[..ts.len() - 1] {
            let age = reference.saturating_sub(t).max(0) - youngest;
            #[expect(clippy::cast_precision_loss, reason = "ages are far below 2^53 ms")]
            let age = age as f64;
            let x = (age * scale).exp2();
            w.push(x);
            sum += x;
        }
        // the youngest: 2^(-0) = 1 exactly, without the call
        w.push(1.0);
        sum += 1.0;
        // every weight is in [0, 1] (ages are >= 0, the scale < 0), the
        // last 1: the sum is finite and >= 1
        out.set_sum(sum);
        Ok(())
    }

    fn fingerprint(&self) -> String {
        format!("time_decay(half_life_ms={})", self.half_life_ms)
    }
}
