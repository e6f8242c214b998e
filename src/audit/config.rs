//! The audit's thresholds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::funnel::Stages;

const MS_PER_DAY: f64 = 86_400_000.0;

/// The thresholds of an [`audit`](super::audit), each validated when set
/// and when read from serde.
///
/// | setting | default | used by |
/// |---|---|---|
/// | [`dormancy_days`](Self::dormancy_days) | 183 (six months) | engagement: gaps a dormancy split would cut |
/// | [`sla_days`](Self::sla_days) | 30 | engagement: leads stalled past the SLA |
/// | [`as_of`](Self::as_of) | none | future timestamps and stalled leads (both skipped without it) |
/// | [`oldest`](Self::oldest) | 2000-01-01 | implausibly old timestamps |
/// | [`unknown_channels`](Self::unknown_channels) | `direct`, `unknown`, `none`, `(none)`, `(direct)`, `not set`, `(not set)` | completeness: share of touches no campaign can explain |
/// | [`share_warning`](Self::share_warning) | 0.05 | a completeness share (dark conversions, missing values, campaigns, content) above it is a warning, else info |
/// | [`unknown_share_warning`](Self::unknown_share_warning) | 0.20 | a share of touches on unknown channels above it is a warning (some direct traffic is normal) |
/// | [`min_conversions`](Self::min_conversions) | 30 | sufficiency: converting (and non-converting) journeys a model family needs per channel |
/// | [`level`](Self::level) | 0.90 | sufficiency: the interval level, and 1 - level is the error rate of "no evidence it converts" |
/// | [`min_weekly`](Self::min_weekly) | 5 | tracking breaks: the weekly volume below which a channel is too small to judge |
/// | [`examples`](Self::examples) | 5 | example ids kept per finding |
/// | [`stages`](Self::stages) | [`Stages::default`] | leads: valid stage names and the opportunity stage |
///
/// # Example
///
/// ```
/// use touchpoint::audit::AuditConfig;
///
/// let c = AuditConfig::new().dormancy_days(90.0)?.sla_days(14)?;
/// assert_eq!(c.get_sla_days(), 14);
/// assert!(AuditConfig::new().sla_days(0).is_err());
/// assert!(AuditConfig::new().level(1.0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AuditConfigWire")]
pub struct AuditConfig {
    dormancy_days: f64,
    sla_days: u32,
    as_of: Option<DateTime<Utc>>,
    oldest: DateTime<Utc>,
    unknown_channels: Vec<String>,
    share_warning: f64,
    unknown_share_warning: f64,
    min_conversions: u64,
    level: f64,
    min_weekly: u64,
    examples: usize,
    stages: Stages,
}

/// The serialized form, checked by the setters on read.
#[derive(Deserialize)]
struct AuditConfigWire {
    dormancy_days: f64,
    sla_days: u32,
    as_of: Option<DateTime<Utc>>,
    oldest: DateTime<Utc>,
    unknown_channels: Vec<String>,
    share_warning: f64,
    unknown_share_warning: f64,
    min_conversions: u64,
    level: f64,
    min_weekly: u64,
    examples: usize,
    stages: Stages,
}

impl TryFrom<AuditConfigWire> for AuditConfig {
    type Error = Error;
    fn try_from(w: AuditConfigWire) -> Result<AuditConfig> {
        let mut c = AuditConfig::new()
            .dormancy_days(w.dormancy_days)?
            .sla_days(w.sla_days)?
            .oldest(w.oldest)
            .unknown_channels(w.unknown_channels)
            .share_warning(w.share_warning)?
            .unknown_share_warning(w.unknown_share_warning)?
            .min_conversions(w.min_conversions)?
            .level(w.level)?
            .min_weekly(w.min_weekly)?
            .examples(w.examples)
            .stages(w.stages);
        if let Some(t) = w.as_of {
            c = c.as_of(t);
        }
        Ok(c)
    }
}

impl Default for AuditConfig {
    fn default() -> AuditConfig {
        AuditConfig {
            dormancy_days: 183.0,
            sla_days: 30,
            as_of: None,
            oldest: DateTime::from_timestamp(946_684_800, 0).unwrap_or_default(),
            unknown_channels: [
                "direct",
                "unknown",
                "none",
                "(none)",
                "(direct)",
                "not set",
                "(not set)",
            ]
            .map(String::from)
            .to_vec(),
            share_warning: 0.05,
            unknown_share_warning: 0.2,
            min_conversions: 30,
            level: 0.90,
            min_weekly: 5,
            examples: 5,
            stages: Stages::default(),
        }
    }
}

impl AuditConfig {
    /// The defaults (see the table above).
    pub fn new() -> AuditConfig {
        AuditConfig::default()
    }

    /// The gap between two touches of one journey past which a dormancy
    /// split would start a new journey.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `days` is finite, at least one
    /// millisecond and at most about 290 million years.
    pub fn dormancy_days(self, days: f64) -> Result<AuditConfig> {
        if !(days.is_finite() && days * MS_PER_DAY >= 1.0 && days * MS_PER_DAY < 9.0e18) {
            return Err(Error::param(
                "dormancy_days",
                days,
                "a finite number of days, at least one millisecond",
            ));
        }
        Ok(AuditConfig {
            dormancy_days: days,
            ..self
        })
    }

    /// The service level: a lead idle this long before the opportunity
    /// stage would be recycled.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for 0 days.
    pub fn sla_days(self, days: u32) -> Result<AuditConfig> {
        if days == 0 {
            return Err(Error::param("sla_days", days, "at least 1 day"));
        }
        Ok(AuditConfig {
            sla_days: days,
            ..self
        })
    }

    /// The audit's "now": touches after it are in the future, leads idle
    /// since more than the SLA before it are stalled. Without it both
    /// checks are skipped (the crate reads no clock).
    #[must_use]
    pub fn as_of(self, at: DateTime<Utc>) -> AuditConfig {
        AuditConfig {
            as_of: Some(at),
            ..self
        }
    }

    /// Touches before this moment are implausibly old.
    #[must_use]
    pub fn oldest(self, at: DateTime<Utc>) -> AuditConfig {
        AuditConfig { oldest: at, ..self }
    }

    /// Channel names that carry no attribution information (compared after
    /// the same normalization as the name-variant check).
    #[must_use]
    pub fn unknown_channels<S: Into<String>>(
        self,
        names: impl IntoIterator<Item = S>,
    ) -> AuditConfig {
        AuditConfig {
            unknown_channels: names.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// A completeness share (dark conversions, touches without campaign,
    /// unknown channels) above which the finding is a warning.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `0 <= share <= 1`.
    pub fn share_warning(self, share: f64) -> Result<AuditConfig> {
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::param("share_warning", share, "a share in [0, 1]"));
        }
        Ok(AuditConfig {
            share_warning: share,
            ..self
        })
    }

    /// The share of touches on unknown channels (`direct`, ...) above which
    /// the finding is a warning.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `0 <= share <= 1`.
    pub fn unknown_share_warning(self, share: f64) -> Result<AuditConfig> {
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::param(
                "unknown_share_warning",
                share,
                "a share in [0, 1]",
            ));
        }
        Ok(AuditConfig {
            unknown_share_warning: share,
            ..self
        })
    }

    /// Converting (and non-converting) journeys per channel a model family
    /// needs before the audit calls the data enough.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for 0.
    pub fn min_conversions(self, n: u64) -> Result<AuditConfig> {
        if n == 0 {
            return Err(Error::param("min_conversions", n, "at least 1"));
        }
        Ok(AuditConfig {
            min_conversions: n,
            ..self
        })
    }

    /// The interval level of the sufficiency widths; `1 - level` is the
    /// error rate of the "no evidence it converts" test.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `0.5 <= level < 1`.
    pub fn level(self, level: f64) -> Result<AuditConfig> {
        if !(0.5..1.0).contains(&level) {
            return Err(Error::param("level", level, "a level in [0.5, 1)"));
        }
        Ok(AuditConfig { level, ..self })
    }

    /// The smallest weekly volume (mean of the four previous active weeks)
    /// at which a channel's drop to zero or tenfold jump is reported.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for 0.
    pub fn min_weekly(self, n: u64) -> Result<AuditConfig> {
        if n == 0 {
            return Err(Error::param("min_weekly", n, "at least 1"));
        }
        Ok(AuditConfig {
            min_weekly: n,
            ..self
        })
    }

    /// How many example ids each finding keeps (0 keeps none).
    #[must_use]
    pub fn examples(self, n: usize) -> AuditConfig {
        AuditConfig {
            examples: n,
            ..self
        }
    }

    /// The funnel stages leads are checked against.
    #[must_use]
    pub fn stages(self, stages: Stages) -> AuditConfig {
        AuditConfig { stages, ..self }
    }

    /// See [`dormancy_days`](Self::dormancy_days).
    pub fn get_dormancy_days(&self) -> f64 {
        self.dormancy_days
    }
    /// See [`sla_days`](Self::sla_days).
    pub fn get_sla_days(&self) -> u32 {
        self.sla_days
    }
    /// See [`as_of`](Self::as_of).
    pub fn get_as_of(&self) -> Option<DateTime<Utc>> {
        self.as_of
    }
    /// See [`oldest`](Self::oldest).
    pub fn get_oldest(&self) -> DateTime<Utc> {
        self.oldest
    }
    /// See [`unknown_channels`](Self::unknown_channels).
    pub fn get_unknown_channels(&self) -> &[String] {
        &self.unknown_channels
    }
    /// See [`share_warning`](Self::share_warning).
    pub fn get_share_warning(&self) -> f64 {
        self.share_warning
    }
    /// See [`unknown_share_warning`](Self::unknown_share_warning).
    pub fn get_unknown_share_warning(&self) -> f64 {
        self.unknown_share_warning
    }
    /// See [`min_conversions`](Self::min_conversions).
    pub fn get_min_conversions(&self) -> u64 {
        self.min_conversions
    }
    /// See [`level`](Self::level).
    pub fn get_level(&self) -> f64 {
        self.level
    }
    /// See [`min_weekly`](Self::min_weekly).
    pub fn get_min_weekly(&self) -> u64 {
        self.min_weekly
    }
    /// See [`examples`](Self::examples).
    pub fn get_examples(&self) -> usize {
        self.examples
    }
    /// See [`stages`](Self::stages).
    pub fn get_stages(&self) -> &Stages {
        &self.stages
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "range checked by the setter"
    )]
    pub(crate) fn dormancy_ms(&self) -> i64 {
        (self.dormancy_days * MS_PER_DAY).round() as i64
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9 over (0, 1)).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.95) - 1.644_853_6).abs() < 1e-6);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!(normal_quantile(0.5).abs() < 1e-12);
        assert!((normal_quantile(0.01) + 2.326_347_9).abs() < 1e-6);
    }

    #[test]
    fn boundaries_rejected_on_read_as_in_the_setters() {
        let ok = serde_json::to_value(AuditConfig::new()).unwrap();
        let with = |k: &str, v: serde_json::Value| {
            let mut x = ok.clone();
            x[k] = v;
            serde_json::from_value::<AuditConfig>(x)
        };
        assert!(with("sla_days", 0.into()).is_err());
        assert!(with("sla_days", 1.into()).is_ok());
        assert!(with("level", 1.0.into()).is_err());
        assert!(with("level", 0.49.into()).is_err());
        assert!(with("level", 0.5.into()).is_ok());
        assert!(with("dormancy_days", 0.0.into()).is_err());
        assert!(with("dormancy_days", 1e-300.into()).is_err());
        assert!(with("share_warning", 1.5.into()).is_err());
        assert!(with("share_warning", (-0.01).into()).is_err());
        assert!(with("share_warning", 1.0.into()).is_ok());
        assert!(with("unknown_share_warning", 1.01.into()).is_err());
        assert!(with("min_conversions", 0.into()).is_err());
        assert!(with("min_weekly", 0.into()).is_err());
        assert_eq!(
            serde_json::from_value::<AuditConfig>(ok).unwrap(),
            AuditConfig::new()
        );
    }
}
