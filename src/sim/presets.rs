//! Ready-made simulation configurations.

use std::fmt;
use std::str::FromStr;

use super::config::{Channel, Config, Delay, Milestones, PathLength, Response, ValueDist};
use super::funnel_spec::FunnelSpec;
use crate::{Error, Result};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Ready-made configurations, each a different challenge for attribution
/// models. [`Preset::config`] gives the configuration for a seed.
///
/// ```
/// use touchpoint::sim::{Preset, Simulator};
///
/// let preset: Preset = "useless_everywhere".parse()?;
/// let sim = Simulator::new(preset.config(1));
/// let truth = sim.ground_truth(2_000)?;
/// assert_eq!(truth.channel("display").unwrap().share, 0.0); // on most paths, no effect
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Preset {
    /// The shape of the shipped sample (`data/sample.jsonl`, 50,000 journeys
    /// from seed 11): 12 channels with presence effects and diminishing
    /// returns, about 12.6% conversion.
    ///
    /// | channel | weight | beta |
    /// |---|---|---|
    /// | paid_search | 18 | 0.45 |
    /// | organic_search | 16 | 0.30 |
    /// | paid_social | 12 | 0.35 |
    /// | email | 12 | 0.55 |
    /// | display | 10 | 0.02 |
    /// | referral | 6 | 0.25 |
    /// | webinar | 4 | 0.90 |
    /// | direct | 8 | 0.05 |
    /// | affiliate | 4 | 0.15 |
    /// | video | 4 | 0.00 |
    /// | partner | 3 | 0.30 |
    /// | events | 3 | 0.70 |
    ///
    /// Baseline log-odds -3.2, [`Response::Log2`]; path length geometric
    /// (min 1, continue 0.705, max 50; mean 3.4); gaps uniform 1 hour..=10
    /// days; conversion 1 minute..=2 days after the last touch; value
    /// log-normal (mu 4.2, sigma 0.7; mean 85); first touches over 300 days
    /// from 2025-01-01; ids `b2c12-{seed}-{index:07}`.
    ///
    /// These parameters were read off the shipped sample: its path lengths,
    /// channel frequencies, gaps, lags and values match these distributions,
    /// and this outcome model applied to the sample's own 50,000 paths
    /// reproduces every `lost_conversions` of its `sample.truth.json` (and
    /// its expected conversions, 6,268.9). The journeys themselves differ:
    /// the shipped file was drawn by another implementation.
    SampleLike,
    /// The sample's shape with every effect a fifth as strong (betas × 0.2,
    /// baseline -2.2): weak effects, about 12% conversion.
    WeakEffects,
    /// B2B: long paths (min 3, continue 0.85, max 200; mean about 8.7),
    /// gaps exponential (mean 4 days, cap 60), 10 channels where early ones
    /// (display, paid_social, content_syndication) are weak and a few
    /// late-stage ones are strong and appear mostly near the end
    /// (sales_call beta 0.9, demo 1.2, events 0.5, webinar 0.4), costs per
    /// touch, milestones (lead at 30% of the path, opportunity at 70%; 50%
    /// of non-converting journeys become leads and 30% of those
    /// opportunities), geometric response (decay 0.6), baseline -4.6,
    /// value log-normal (mu 10, sigma 0.8; mean about 30,000), conversion
    /// 1..=30 days after the last touch; funnel leads with the default
    /// [`FunnelSpec`] and `sales_call` as the sales channel (a lead whose
    /// first touch is a sales call is sales-sourced).
    B2b,
    /// Order matters: `paid_search` adds a closing bonus of 1.5 log-odds when
    /// it is the last touch (one dominant closer, small presence effect 0.1),
    /// and `retargeting` (beta 0.8) only works after a `display` touch
    /// (display itself 0.05). Others: email 0.3, organic_search 0.25,
    /// paid_social 0.1. Baseline -3.2, otherwise the sample's shape.
    OrderMatters,
    /// A channel that is everywhere and does nothing: `display` has 40% of
    /// all touches (on about 80% of paths) and beta 0. Others: paid_search
    /// 0.5, email 0.6, paid_social 0.3, direct 0.1, webinar 1.0, referral 0.4.
    /// Paths of at least 2 touches (continue 0.7), baseline -3.3.
    UselessEverywhere,
    /// Many channels, sparse paths: 36 channels `ch01`..`ch36` with weights
    /// `1 / k^0.8` and betas `(7k mod 10) / 10` (so `ch10`, `ch20`, `ch30`
    /// have no effect), path length geometric (min 1, continue 0.55; mean
    /// 2.2), baseline -2.9.
    ManyChannels,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 6] = [
        Preset::SampleLike,
        Preset::WeakEffects,
        Preset::B2b,
        Preset::OrderMatters,
        Preset::UselessEverywhere,
        Preset::ManyChannels,
    ];

    /// The preset's name (`sample_like`, `weak_effects`, `b2b`,
    /// `order_matters`, `useless_everywhere`, `many_channels`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::SampleLike => "sample_like",
            Preset::WeakEffects => "weak_effects",
            Preset::B2b => "b2b",
            Preset::OrderMatters => "order_matters",
            Preset::UselessEverywhere => "useless_everywhere",
            Preset::ManyChannels => "many_channels",
        }
    }

    /// The preset's configuration with `seed`.
    pub fn config(self, seed: u64) -> Config {
        self.try_config(seed)
            .unwrap_or_else(|e| unreachable!("preset {} is valid: {e}", self.name()))
    }

    fn try_config(self, seed: u64) -> Result<Config> {
        let sample_channels = |scale: f64| {
            [
                ("paid_search", 18.0, 0.45),
                ("organic_search", 16.0, 0.30),
                ("paid_social", 12.0, 0.35),
                ("email", 12.0, 0.55),
                ("display", 10.0, 0.02),
                ("referral", 6.0, 0.25),
                ("webinar", 4.0, 0.90),
                ("direct", 8.0, 0.05),
                ("affiliate", 4.0, 0.15),
                ("video", 4.0, 0.00),
                ("partner", 3.0, 0.30),
                ("events", 3.0, 0.70),
            ]
            .map(|(n, w, b)| Channel::new(n, w, b * scale))
        };
        let sample_shape = || {
            Config::builder()
                .response(Response::Log2)
                .path_length(PathLength::Geometric {
                    min: 1,
                    continue_prob: 0.705,
                    max: 50,
                })
                .gap(Delay::Uniform {
                    min_secs: HOUR,
                    max_secs: 10 * DAY,
                })
                .conversion_lag(Delay::Uniform {
                    min_secs: 60,
                    max_secs: 2 * DAY,
                })
                .value(ValueDist::LogNormal {
                    mu: 4.2,
                    sigma: 0.7,
                })
                .seed(seed)
        };
        match self {
            Preset::SampleLike => sample_shape()
                .channels(sample_channels(1.0))
                .baseline(-3.2)
                .id_prefix("b2c12")
                .build(),
            Preset::WeakEffects => sample_shape()
                .channels(sample_channels(0.2))
                .baseline(-2.2)
                .id_prefix("weak")
                .build(),
            Preset::B2b => Config::builder()
                .channels([
                    Channel::new("display", 10.0, 0.05)
                        .late_weight(2.0)
                        .cost(2.0),
                    Channel::new("paid_social", 10.0, 0.10)
                        .late_weight(3.0)
                        .cost(3.0),
                    Channel::new("organic_search", 12.0, 0.20).late_weight(6.0),
                    Channel::new("content_syndication", 8.0, 0.10)
                        .late_weight(2.0)
                        .cost(40.0),
                    Channel::new("email", 12.0, 0.15)
                        .late_weight(12.0)
                        .cost(0.5),
                    Channel::new("webinar", 6.0, 0.40)
                        .late_weight(6.0)
                        .cost(80.0),
                    Channel::new("events", 3.0, 0.50)
                        .late_weight(4.0)
                        .cost(400.0),
                    Channel::new("sales_call", 1.0, 0.90)
                        .late_weight(14.0)
                        .cost(150.0),
                    Channel::new("demo", 0.5, 1.20).late_weight(8.0).cost(300.0),
                    Channel::new("direct", 4.0, 0.05).late_weight(8.0),
                ])
                .baseline(-4.6)
                .response(Response::Geometric { decay: 0.6 })
                .path_length(PathLength::Geometric {
                    min: 3,
                    continue_prob: 0.85,
                    max: 200,
                })
                .gap(Delay::Exponential {
                    mean_secs: 4.0 * DAY as f64,
                    max_secs: 60 * DAY,
                })
                .conversion_lag(Delay::Uniform {
                    min_secs: DAY,
                    max_secs: 30 * DAY,
                })
                .value(ValueDist::LogNormal {
                    mu: 10.0,
                    sigma: 0.8,
                })
                .milestones(Milestones {
                    lead_at: 0.3,
                    opportunity_at: 0.7,
                    lead_rate: 0.5,
                    opportunity_rate: 0.3,
                })
                .funnel(FunnelSpec::new().sales_channels(["sales_call"]))
                .id_prefix("b2b")
                .seed(seed)
                .build(),
            Preset::OrderMatters => sample_shape()
                .channels([
                    Channel::new("paid_search", 20.0, 0.10).closing_bonus(1.5),
                    Channel::new("display", 20.0, 0.05),
                    Channel::new("retargeting", 12.0, 0.80).requires("display"),
                    Channel::new("email", 15.0, 0.30),
                    Channel::new("organic_search", 18.0, 0.25),
                    Channel::new("paid_social", 15.0, 0.10),
                ])
                .baseline(-3.2)
                .id_prefix("order")
                .build(),
            Preset::UselessEverywhere => sample_shape()
                .channels([
                    Channel::new("display", 40.0, 0.0),
                    Channel::new("paid_search", 15.0, 0.5),
                    Channel::new("email", 12.0, 0.6),
                    Channel::new("paid_social", 12.0, 0.3),
                    Channel::new("direct", 10.0, 0.1),
                    Channel::new("webinar", 6.0, 1.0),
                    Channel::new("referral", 5.0, 0.4),
                ])
                .path_length(PathLength::Geometric {
                    min: 2,
                    continue_prob: 0.7,
                    max: 50,
                })
                .baseline(-3.3)
                .id_prefix("useless")
                .build(),
            Preset::ManyChannels => sample_shape()
                .channels((1..=36u32).map(|k| {
                    Channel::new(
                        format!("ch{k:02}"),
                        super::detmath::exp(-0.8 * super::detmath::ln(f64::from(k))),
                        f64::from((7 * k) % 10) / 10.0,
                    )
                }))
                .path_length(PathLength::Geometric {
                    min: 1,
                    continue_prob: 0.55,
                    max: 50,
                })
                .baseline(-2.9)
                .id_prefix("many")
                .build(),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = Error;

    /// Parses a preset name as given by [`Preset::name`].
    fn from_str(s: &str) -> Result<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::UnknownName {
                kind: "preset",
                name: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_and_parses() {
        for p in Preset::ALL {
            assert!(p.try_config(1).is_ok(), "{p}");
            assert_eq!(p.name().parse::<Preset>().ok(), Some(p));
        }
        assert!(matches!(
            "nope".parse::<Preset>(),
            Err(Error::UnknownName { kind: "preset", .. })
        ));
    }
}
