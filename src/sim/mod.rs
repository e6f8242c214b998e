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
//! This is the definition of `*.truth.json` in the shared `FORMAT.md`. A
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
//! # Presets
//!
//! [`Preset`] lists ready-made configurations: the shape of the shipped
//! sample ([`Preset::SampleLike`]), weak effects, B2B with long paths and
//! strong late-stage channels, order effects (a dominant closer and a
//! channel that only works after another), a useless channel present
//! everywhere, and 36 channels with sparse paths.

mod config;
mod detmath;
mod generate;
mod leads;
mod presets;
mod rng;
mod truth;

pub use self::config::{
    Channel, Config, ConfigBuilder, Delay, Milestones, PathLength, Response, ValueDist,
};
pub use self::generate::{Journeys, Simulator};
pub use self::leads::{FunnelSpec, Leads};
pub use self::presets::Preset;
pub use self::truth::{ChannelTruth, GroundTruth, PROBABILITY_UNITS, TruthPartial};
