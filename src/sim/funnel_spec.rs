//! The funnel section of a simulator configuration ([`FunnelSpec`]) and
//! the key of the funnel stream. Kept apart from `leads` (which draws leads
//! with the generator) so that `config` -> `funnel_spec` has no way back:
//! the modules form no circle.

use super::config::{Channel, Delay};
use super::rng::{key_of, splitmix64};
use crate::Result;
use crate::error::Error;

/// The ASCII bytes of `"funnel"`, the domain tag of the funnel stream.
const FUNNEL_TAG: u64 = 0x6675_6e6e_656c;

/// The key of the funnel stream of `seed`: the journey key with each of its
/// four 64-bit words XORed with a SplitMix64 output of [`FUNNEL_TAG`].
pub(crate) fn funnel_key(seed: u64) -> [u8; 32] {
    let mut key = key_of(seed);
    let mut state = FUNNEL_TAG;
    for chunk in key.chunks_exact_mut(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w) ^ splitmix64(&mut state);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    key
}

/// How simulated journeys become funnel leads (the optional funnel section
/// of a [`Config`](super::Config), see [`ConfigBuilder::funnel`](super::ConfigBuilder::funnel)).
///
/// Each journey is one lead with the default funnel stages of
/// [`Stages::default`](crate::funnel::Stages) (`inquiry -> mql -> sal ->
/// sql -> opportunity -> closed_won`, exits `closed_lost`, `disqualified`):
///
/// - **How far it gets.** A converted journey is won. Otherwise, with
///   [`Milestones`](super::Milestones) configured, a journey with an
///   `opportunity_created` touch reaches the opportunity, one with only a
///   `lead_created` touch reaches MQL, then SAL with probability `sal_rate`
///   and SQL with `sql_rate` after that, and one with neither stays an
///   inquiry. Without milestones the chain of rates decides: MQL with
///   `mql_rate`, then SAL with `sal_rate`, SQL with `sql_rate`,
///   opportunity with `opportunity_rate`.
/// - **When.** Inquiry at the first touch. The opportunity at the
///   `opportunity_created` touch (without one, at the last touch). MQL at
///   the `lead_created` touch (without one, at a uniformly drawn fraction
///   of the time from the first touch to the end `T`, where `T` is the
///   opportunity for leads that reach it and the last touch otherwise), SAL
///   at a drawn fraction of the time from MQL to `T`, SQL likewise from SAL.
///   Closed won at the journey's conversion time. Stage dates therefore
///   never decrease along the funnel.
/// - **Amount.** A won lead's amount is the journey's value. An open or
///   lost opportunity's amount is drawn from the configuration's
///   [`ValueDist`](super::ValueDist) (on the funnel stream). Leads before the opportunity
///   have none.
/// - **Exits.** An opportunity that is not won is `closed_lost` with
///   probability `lost_rate` (else it stays open), `exit_delay` after the
///   opportunity. A lead that stops before the opportunity is
///   `disqualified` with probability `disqualify_rate`, `exit_delay` after
///   its last touch, with a reason drawn uniformly from `reasons` (none if
///   the list is empty).
/// - **Owner.** Sales-sourced when the first touch is on one of the
///   `sales_channels`, otherwise with probability `sales_share`;
///   marketing-sourced else.
/// - **Segment.** Drawn from `segments` with probability proportional to
///   the weights (no segment when the list is empty).
///
/// Defaults: no sales channels, `sales_share` 0.2, segments `smb` (6),
/// `mid_market` (3), `enterprise` (1), rates MQL 0.4, SAL 0.7, SQL 0.6,
/// opportunity 0.5, `lost_rate` 0.6, `disqualify_rate` 0.3, exit delay
/// uniform on 1 ..= 30 days, reasons `no_budget`, `not_a_fit`,
/// `no_response`.
///
/// ```
/// use touchpoint::sim::{Delay, FunnelSpec};
///
/// let spec = FunnelSpec::new()
///     .sales_channels(["sales_call"])
///     .sales_share(0.1)
///     .segments([("smb", 3.0), ("enterprise", 1.0)])
///     .progression(0.5, 0.8, 0.6, 0.4)
///     .exits(0.7, 0.2)
///     .exit_delay(Delay::Uniform { min_secs: 86_400, max_secs: 864_000 })
///     .reasons(["no_budget"]);
/// assert_eq!(spec.sales_channel_names(), ["sales_call"]);
/// assert_eq!(spec.rates(), [0.5, 0.8, 0.6, 0.4]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSpec {
    pub(crate) sales_channels: Vec<String>,
    pub(crate) sales_share: f64,
    pub(crate) segments: Vec<(String, f64)>,
    pub(crate) rates: [f64; 4],
    pub(crate) lost_rate: f64,
    pub(crate) disqualify_rate: f64,
    pub(crate) exit_delay: Delay,
    pub(crate) reasons: Vec<String>,
}

impl Default for FunnelSpec {
    fn default() -> FunnelSpec {
        FunnelSpec {
            sales_channels: Vec::new(),
            sales_share: 0.2,
            segments: vec![
                ("smb".to_owned(), 6.0),
                ("mid_market".to_owned(), 3.0),
                ("enterprise".to_owned(), 1.0),
            ],
            rates: [0.4, 0.7, 0.6, 0.5],
            lost_rate: 0.6,
            disqualify_rate: 0.3,
            exit_delay: Delay::Uniform {
                min_secs: 86_400,
                max_secs: 30 * 86_400,
            },
            reasons: vec![
                "no_budget".to_owned(),
                "not_a_fit".to_owned(),
                "no_response".to_owned(),
            ],
        }
    }
}

impl FunnelSpec {
    /// The defaults listed on [`FunnelSpec`].
    pub fn new() -> FunnelSpec {
        FunnelSpec::default()
    }

    /// Channels whose first touch makes a lead sales-sourced (e.g. SDR
    /// calls). They must be channels of the configuration. Sorted and
    /// deduplicated.
    #[must_use]
    pub fn sales_channels<S: Into<String>>(self, channels: impl IntoIterator<Item = S>) -> Self {
        let mut v: Vec<String> = channels.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        FunnelSpec {
            sales_channels: v,
            ..self
        }
    }

    /// Probability that a lead whose first touch is not a sales channel is
    /// sales-sourced anyway, in `[0, 1]`.
    #[must_use]
    pub fn sales_share(self, share: f64) -> Self {
        FunnelSpec {
            sales_share: share,
            ..self
        }
    }

    /// Segments with their relative weights (replaces the list; empty: no
    /// segment).
    #[must_use]
    pub fn segments<S: Into<String>>(self, segments: impl IntoIterator<Item = (S, f64)>) -> Self {
        FunnelSpec {
            segments: segments.into_iter().map(|(s, w)| (s.into(), w)).collect(),
            ..self
        }
    }

    /// Stage-to-stage probabilities of non-converting leads: inquiry -> MQL,
    /// MQL -> SAL, SAL -> SQL, SQL -> opportunity (each in `[0, 1]`; with
    /// milestones only SAL and SQL are used, see [`FunnelSpec`]).
    #[must_use]
    pub fn progression(self, mql: f64, sal: f64, sql: f64, opportunity: f64) -> Self {
        FunnelSpec {
            rates: [mql, sal, sql, opportunity],
            ..self
        }
    }

    /// Exit probabilities: an opportunity that is not won is closed lost
    /// with probability `lost`, a lead that stops before the opportunity is
    /// disqualified with probability `disqualified` (each in `[0, 1]`).
    #[must_use]
    pub fn exits(self, lost: f64, disqualified: f64) -> Self {
        FunnelSpec {
            lost_rate: lost,
            disqualify_rate: disqualified,
            ..self
        }
    }

    /// Time from the last touch (or the opportunity) to an exit.
    #[must_use]
    pub fn exit_delay(self, delay: Delay) -> Self {
        FunnelSpec {
            exit_delay: delay,
            ..self
        }
    }

    /// Disqualification reasons, drawn uniformly (replaces the list; empty:
    /// no reason recorded).
    #[must_use]
    pub fn reasons<S: Into<String>>(self, reasons: impl IntoIterator<Item = S>) -> Self {
        FunnelSpec {
            reasons: reasons.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// The sales channels, sorted.
    pub fn sales_channel_names(&self) -> &[String] {
        &self.sales_channels
    }

    /// The share of non-sales-channel leads that are sales-sourced.
    pub fn sales_share_value(&self) -> f64 {
        self.sales_share
    }

    /// The segments and weights.
    pub fn segment_weights(&self) -> &[(String, f64)] {
        &self.segments
    }

    /// The progression rates `[mql, sal, sql, opportunity]`.
    pub fn rates(&self) -> [f64; 4] {
        self.rates
    }

    /// The exit probabilities `(lost, disqualified)`.
    pub fn exit_rates(&self) -> (f64, f64) {
        (self.lost_rate, self.disqualify_rate)
    }

    /// The exit delay.
    pub fn exit_delay_dist(&self) -> Delay {
        self.exit_delay
    }

    /// The disqualification reasons.
    pub fn reason_names(&self) -> &[String] {
        &self.reasons
    }

    /// Validates against the configuration's channels.
    pub(crate) fn validate(&self, channels: &[Channel]) -> Result<()> {
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        for ch in &self.sales_channels {
            if !channels.iter().any(|c| &c.name == ch) {
                return Err(Error::UnknownName {
                    kind: "channel",
                    name: ch.clone(),
                });
            }
        }
        if !unit(self.sales_share) {
            return Err(Error::param(
                "funnel.sales_share",
                self.sales_share,
                "a probability in [0, 1]",
            ));
        }
        if !self.rates.iter().all(|&r| unit(r)) {
            return Err(Error::param(
                "funnel.progression",
                format!("{:?}", self.rates),
                "probabilities in [0, 1]",
            ));
        }
        if !(unit(self.lost_rate) && unit(self.disqualify_rate)) {
            return Err(Error::param(
                "funnel.exits",
                format!(
                    "lost {}, disqualified {}",
                    self.lost_rate, self.disqualify_rate
                ),
                "probabilities in [0, 1]",
            ));
        }
        let mut names: Vec<&str> = Vec::with_capacity(self.segments.len());
        for (name, w) in &self.segments {
            if name.is_empty() {
                return Err(Error::param(
                    "funnel.segments",
                    "\"\"",
                    "non-empty segment names",
                ));
            }
            if !(w.is_finite() && *w >= 0.0) {
                return Err(Error::param(
                    "funnel.segments",
                    format!("{name}: {w}"),
                    "finite weights >= 0",
                ));
            }
            names.push(name);
        }
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::param(
                "funnel.segments",
                w[0],
                "distinct segment names",
            ));
        }
        let total: f64 = self.segments.iter().map(|s| s.1).sum();
        let usable = total > 0.0 && total.is_finite();
        if !self.segments.is_empty() && !usable {
            return Err(Error::param(
                "funnel.segments",
                "all zero",
                "at least one weight > 0 (and a finite sum)",
            ));
        }
        if self.reasons.iter().any(String::is_empty) {
            return Err(Error::param("funnel.reasons", "\"\"", "non-empty reasons"));
        }
        super::config::check_delay("funnel.exit_delay", self.exit_delay)
    }

    pub(super) fn segment(&self, u: f64) -> Option<&str> {
        let total: f64 = self.segments.iter().map(|s| s.1).sum();
        let x = u * total;
        let mut acc = 0.0;
        let mut last_positive = None;
        for (name, w) in &self.segments {
            acc += w;
            if *w > 0.0 {
                last_positive = Some(name.as_str());
            }
            if x < acc {
                return Some(name);
            }
        }
        last_positive
    }
}
