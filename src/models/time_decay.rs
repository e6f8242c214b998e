//! Time decay.

use crate::error::Error;
use crate::{AttributionModel, JourneyView, Result, Weights};

const MS_PER_DAY: f64 = 86_400_000.0;

/// Credit halves for every half-life a touch lies before the conversion.
///
/// Formula: `w(i) = 2^(-age(i) / half_life)`, `share(i) = w(i) / Σ w`, where
/// `age` is measured back from the conversion time (or the last touch when
/// the journey has none). Default half-life: 7 days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeDecay {
    half_life_ms: f64,
}

impl Default for TimeDecay {
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
    /// [`Error::InvalidParameter`] (`half_life`) if `days` is not finite and > 0.
    pub fn with_half_life_days(days: f64) -> Result<TimeDecay> {
        if !(days.is_finite() && days > 0.0) {
            return Err(Error::param(
                "half_life",
                days,
                "a finite number of days > 0",
            ));
        }
        Ok(TimeDecay {
            half_life_ms: days * MS_PER_DAY,
        })
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
    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        // Shares are invariant to a common factor, so measure ages from the
        // youngest touch: the largest weight is 1 and none underflows to an
        // all-zero journey, however old the touches.
        let reference = j.reference_ts().unwrap_or(0);
        let ts = j.timestamps();
        let youngest = ts
            .iter()
            .map(|&t| (reference - t).max(0))
            .min()
            .unwrap_or(0);
        let w = out.weighted();
        for &t in ts {
            let age = ((reference - t).max(0) - youngest) as f64;
            w.push((-age / self.half_life_ms).exp2());
        }
        Ok(())
    }
    fn fingerprint(&self) -> String {
        format!("time_decay(half_life_ms={})", self.half_life_ms)
    }
}
