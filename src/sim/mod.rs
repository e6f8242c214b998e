//! A seeded journey simulator whose channels have known causal effects, so
//! attribution models can be checked against the truth.
//!
//! Nobody observes the true contribution of a channel on real data. On
//! simulated data it is known: [`Simulator`] draws journeys from a causal
//! model, and [`Simulator::ground_truth`] computes what each channel causes.
//!
//! # The causal model
//!
//! Journey `i` is drawn from its own random stream (below). It gets a
//! number of touches `n` from the [`PathLength`] distribution, a start time
//! uniform over the configured window, gaps between touches from the gap
//! [`Delay`], and for each touch a channel drawn with probability
//! proportional to the channel's weight (its reach; with
//! [`Channel::late_weight`] the weight moves linearly from `weight` at the
//! first touch to `late_weight` at the last). Then the outcome:
//!
//! ```text
//! logit p = baseline + Σ_c beta_c · g(n_c) + bonus(last touch's channel)
//! converted  ⇔  u < p,   u ~ Uniform[0, 1) drawn once per journey
//! ```
//!
//! where `n_c` is the number of touches of channel `c` that count (all of
//! them, or with [`Channel::requires`] only those after the first touch of
//! the required channel), `g` the [`Response`] with diminishing returns
//! (`g(0) = 0`, `g(1) = 1`, e.g. `log2(1 + n)`), and the closing bonus that
//! of the channel of the last touch ([`Channel::closing_bonus`]). Every
//! journey also draws a value (from [`ValueDist`], in cents) and a conversion
//! lag; a converted journey reports that value and `conversion_ts` = last
//! touch + lag. Optional [`Milestones`] mark `lead_created`,
//! `opportunity_created` and `closed` on touches; optional costs per touch
//! are written on every touch of a channel.
//!
//! # Ground truth
//!
//! The true contribution of channel `c` is the expected number of
//! conversions (and value) lost when `c` is removed from every journey, all
//! other random draws held fixed (common random numbers: the same touches
//! minus those of `c`, the same `u`, the same value). Since a journey
//! converts iff `u < p`, the expected loss of journey `j` is exactly
//! `p_j(full) - p_j(without c)`, so
//!
//! ```text
//! lost_conversions_c = Σ_j  p_j(full) - p_j(without c)
//! lost_value_c       = Σ_j (p_j(full) - p_j(without c)) · value_j
//! share_c            = lost_conversions_c / Σ_k lost_conversions_k
//! value_share_c      = lost_value_c / Σ_k lost_value_k
//! ```
//!
//! This is the definition of `*.truth.json` in [`format`](mod@crate::format). A
//! channel with `beta = 0` (and no bonus, and no channel requiring it) has
//! exactly zero contribution. With `requires`, removing the required
//! channel also removes the dependent channel's effect, so both are
//! credited with the interaction; shares still sum to one. With closing
//! bonuses a channel's loss can be negative: removing it can hand the last
//! touch to a channel with a larger bonus (in [`Preset::OrderMatters`],
//! removing a touch that came after `paid_search` makes `paid_search` the
//! closer). Its share is then negative, the others' add up to more than
//! one, and the total is still one. Shares do not
//! include the baseline (conversions that happen with no channel at all),
//! so `Σ lost_conversions` is less than the expected conversions. A model's
//! accuracy is [`GroundTruth::error_pp`]: the sum over channels of the
//! absolute difference between its share of credited conversions and the
//! true share, in percentage points.
//!
//! Probabilities are summed as integers (units of 10^-12 conversion, see
//! [`TruthPartial`]): ground truth computed over shards and merged equals
//! one pass, bit for bit.
//!
//! # Reproducibility
//!
//! - Journey `i` uses a ChaCha8 stream (from `rand_chacha`, whose output is
//!   fixed by the ChaCha specification) keyed by four SplitMix64 outputs of
//!   the seed, with stream number `i`. Any index range can be generated
//!   alone ([`Simulator::journeys_in`]); order of generation never matters.
//! - Floats come from `u64`s by `(x >> 11) as f64 * 2^-53`; normals by
//!   Marsaglia's polar method; exponentials by inversion; `exp` and `ln` are
//!   the crate's own, built from IEEE basic operations only, so journeys do
//!   not depend on the platform's math library.
//! - The draw order of one journey is: path length, start, then per touch
//!   (gap, phase if late weights are set, channel), conversion uniform,
//!   value, lag, milestone uniforms. Changing it changes every journey and
//!   is a breaking change.
//! - Funnel leads draw from a second ChaCha8 stream per journey (see
//!   [Funnel leads](#funnel-leads)) in the fixed order documented on
//!   [`Simulator::lead_of`]; journeys never read it.
//! - The key depends on the seed only, so two configurations run with the
//!   same seed share their raw draws (common random numbers across
//!   configurations): presets with the same path-length distribution get
//!   the same path lengths, and comparing a configuration with a variant of
//!   it (weaker effects, one channel more) isolates the change. Use
//!   different seeds for independent samples.
//!
//! # Worked example
//!
//! One channel present on every journey (one touch each), baseline log-odds
//! `b = -2`, `beta = 1`: `p(full) = σ(-1) = 0.268941`, `p(without) = σ(-2)
//! = 0.119203`, so over 1,000 journeys the channel's true loss is
//! `1000 · 0.149738 = 149.738` conversions, and its share is 1.
//!
//! ```
//! use touchpoint::sim::{Channel, Config, PathLength, Simulator, ValueDist};
//!
//! let config = Config::builder()
//!     .channel(Channel::new("email", 1.0, 1.0))
//!     .baseline(-2.0)
//!     .path_length(PathLength::Uniform { min: 1, max: 1 })
//!     .value(ValueDist::Fixed(10.0))
//!     .seed(42)
//!     .build()?;
//! let sim = Simulator::new(config);
//! let truth = sim.ground_truth(1_000)?;
//! let email = truth.channel("email").unwrap();
//! let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
//! let expected = 1_000.0 * (sigmoid(-1.0) - sigmoid(-2.0));
//! assert!((email.lost_conversions - expected).abs() < 1e-6);
//! assert!((email.lost_value - 10.0 * expected).abs() < 1e-5);
//! assert_eq!(email.share, 1.0);
//!
//! // The journeys themselves stream: nothing is held between items.
//! let converted = sim.journeys(1_000).filter(|j| j.converted).count() as u64;
//! assert_eq!(converted, truth.observed_conversions);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Funnel leads
//!
//! [`Simulator::lead`] turns journey `i` into a [`funnel::Lead`](crate::funnel::Lead)
//! (same id, same touches): inquiry at the first touch, MQL, SAL and SQL at
//! drawn dates between the lead's creation (the `lead_created` milestone,
//! or the first touch) and the opportunity (the `opportunity_created`
//! milestone, or the last touch), closed won at the conversion with the
//! journey's value as amount, and for some of the others `closed_lost` or
//! `disqualified` exits; owner and segment drawn too. [`FunnelSpec`] (the
//! optional funnel section of the [`Config`]) sets the rates, segments,
//! sales channels and exits; [`Simulator::funnel_config`] gives a matching
//! [`FunnelConfig`](crate::funnel::FunnelConfig). [`Simulator::leads`]
//! streams them; [`Simulator::lead_of`] maps an already generated journey
//! without drawing it again.
//!
//! The funnel's random draws come from their own stream per journey (a key
//! derived from the seed with the domain tag `"funnel"`, stream number
//! `i`), never from the journey's: adding or changing the funnel section
//! leaves every journey and the ground truth bit-identical.
//!
//! Worked example: one channel, three touches a day apart, a conversion
//! two days after the last one (the baseline of 50 log-odds makes every
//! journey convert), value 100, the lead milestone at the first touch and
//! the opportunity at the second. Every lead is then an inquiry and MQL at
//! touch 0, an opportunity at touch 1 (day 1, SAL and SQL in between), and
//! won on day 4 with amount 100:
//!
//! ```
//! use touchpoint::funnel::{FunnelPartial, Lead};
//! use touchpoint::sim::{Channel, Config, Delay, Milestones, PathLength, Simulator, ValueDist};
//!
//! const DAY: i64 = 86_400;
//! let config = Config::builder()
//!     .channel(Channel::new("email", 1.0, 0.0))
//!     .baseline(50.0)
//!     .path_length(PathLength::Uniform { min: 3, max: 3 })
//!     .gap(Delay::Uniform { min_secs: DAY, max_secs: DAY })
//!     .conversion_lag(Delay::Uniform { min_secs: 2 * DAY, max_secs: 2 * DAY })
//!     .value(ValueDist::Fixed(100.0))
//!     .milestones(Milestones { lead_at: 0.0, opportunity_at: 0.5, lead_rate: 1.0, opportunity_rate: 1.0 })
//!     .build()?;
//! let sim = Simulator::new(config);
//! let lead: Lead = sim.lead(0);
//! let t0 = sim.journey(0).touchpoints[0].ts;
//! let day = |d: i64| t0 + chrono::Duration::days(d);
//! let stages: Vec<&str> = lead.entries().iter().map(|e| e.stage.as_str()).collect();
//! assert_eq!(stages, ["inquiry", "mql", "sal", "sql", "opportunity", "closed_won"]);
//! assert_eq!(lead.entries()[1].at, day(0)); // MQL at the lead_created touch
//! assert!(lead.entries()[2].at >= day(0) && lead.entries()[3].at <= day(1));
//! assert_eq!(lead.entries()[4].at, day(1)); // the opportunity_created touch
//! assert_eq!(lead.entries()[5].at, day(4)); // conversion: last touch + 2 days
//! assert_eq!(lead.amount(), Some(100.0));
//!
//! let mut partial = FunnelPartial::new(sim.funnel_config());
//! for lead in sim.leads(1_000) {
//!     partial.observe(&lead)?;
//! }
//! let m = partial.finish();
//! assert_eq!(m.total().reached("closed_won")?, 1_000);
//! assert_eq!(m.total().lead_to_revenue().revenue_minor, 1_000 * 100_00);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Presets
//!
//! [`Preset`] lists ready-made configurations: the shape of the shipped
//! sample ([`Preset::SampleLike`]), weak effects, B2B with long paths and
//! strong late-stage channels, order effects (a dominant closer and a
//! channel that only works after another), a useless channel present
//! everywhere, and 36 channels with sparse paths.

mod config;
mod detmath;
mod funnel_spec;
mod generate;
mod leads;
mod presets;
mod rng;
mod truth;

pub use self::config::{
    Channel, Config, ConfigBuilder, Delay, Milestones, PathLength, Response, ValueDist,
};
pub use self::funnel_spec::FunnelSpec;
pub use self::generate::{Journeys, Simulator};
pub use self::leads::Leads;
pub use self::presets::Preset;
pub use self::truth::{ChannelTruth, GroundTruth, PROBABILITY_UNITS, TruthPartial};
