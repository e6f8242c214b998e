//! The one shape of every mergeable state: [`Aggregate`] and
//! [`JourneyAggregate`].
//!
//! Every model and metric of the crate is computed by a *partial*: an empty
//! value made from its configuration (the identity of `merge`), `observe`
//! for one record, `merge` for another partial, `finish` for the result.
//! One thread, `rayon`, a query engine's partitions and a cluster's machines
//! all go through the same calls, so they give the same bits.
//!
//! | state | config | observes | finishes into |
//! |---|---|---|---|
//! | [`CreditPartial`](crate::CreditPartial) | [`CreditConfig`](crate::CreditConfig) (a model and a currency) | [`Journey`] | [`Report`](crate::Report) |
//! | [`MarkovPartial`](crate::markov::MarkovPartial) | [`MarkovConfig`](crate::markov::MarkovConfig) | [`Journey`] | [`Markov`](crate::markov::Markov) |
//! | [`ShapleyPartial`](crate::shapley::ShapleyPartial) | [`ShapleyConfig`](crate::shapley::ShapleyConfig) | [`Journey`] | [`Shapley`](crate::shapley::Shapley) |
//! | [`IncrementalPartial`](crate::incremental::IncrementalPartial) | [`IncrementalConfig`](crate::incremental::IncrementalConfig) | [`Journey`] | [`Incremental`](crate::incremental::Incremental) |
//! | [`FunnelPartial`](crate::funnel::FunnelPartial) | [`FunnelConfig`](crate::funnel::FunnelConfig) | [`Lead`](crate::funnel::Lead) | [`FunnelMetrics`](crate::funnel::FunnelMetrics) |
//! | `sim::TruthPartial` | `sim::Simulator` | a range of simulated journeys | `sim::GroundTruth` |
//!
//! Every module with a partial also has a free `fit(&set, config)` that
//! observes a whole [`JourneySet`] in one pass and finishes (the in-memory
//! path); streaming callers use the partial directly.
//!
//! # Example
//!
//! A generic helper that shards journeys, fits each shard and merges,
//! whatever the model:
//!
//! ```
//! use touchpoint::{Aggregate, JourneyAggregate, SimpleJourney, SimpleTouch};
//! use touchpoint::markov::{MarkovConfig, MarkovPartial};
//!
//! fn sharded<A: JourneyAggregate>(config: A::Config, journeys: &[SimpleJourney]) -> touchpoint::Result<A::Output> {
//!     let mut total = A::new(config.clone());
//!     for shard in journeys.chunks(2) {
//!         let mut part = A::new(config.clone());
//!         for j in shard {
//!             part.observe(j)?;
//!         }
//!         total.merge(&part)?;
//!     }
//!     total.finish()
//! }
//!
//! let t = "2024-01-01T00:00:00Z".parse()?;
//! let journeys = vec![
//!     SimpleJourney::new("a").touch(SimpleTouch::new("email", t)).converted(10.0),
//!     SimpleJourney::new("b").touch(SimpleTouch::new("display", t)),
//!     SimpleJourney::new("c").touch(SimpleTouch::new("email", t)),
//! ];
//! let markov = sharded::<MarkovPartial>(MarkovConfig::default(), &journeys)?;
//! assert_eq!(markov.journeys(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::dataset::JourneySet;
use crate::error::Result;
use crate::journey::Journey;

/// A mergeable state: the identity made from a configuration, `merge`,
/// `finish`, and a serde form that carries a format version and a
/// configuration fingerprint.
///
/// The laws every implementation keeps (and the crate's property tests
/// check):
///
/// - `A::new(c)` merged into anything made from `c` changes nothing;
/// - `merge` is associative and commutative: any merge tree of any
///   partitioning of the records finishes to the same bits as one pass;
/// - a serde round trip changes nothing, and a deserialized state is
///   checked as its constructor checks (a mangled state is an error, never a
///   panic later);
/// - merging states of different configurations is
///   [`Error::IncompatiblePartials`](crate::Error::IncompatiblePartials).
pub trait Aggregate: Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync {
    /// What the state is made from.
    type Config: Clone + fmt::Debug;
    /// What [`finish`](Aggregate::finish) returns.
    type Output;

    /// An empty state (the identity of [`merge`](Aggregate::merge)).
    fn new(config: Self::Config) -> Self;

    /// The configuration fingerprint, format version included: two states
    /// merge only when their fingerprints are equal.
    fn fingerprint(&self) -> String;

    /// How many records (journeys, leads) have been observed.
    fn observed(&self) -> u64;

    /// An estimate of the bytes the state holds.
    fn size_bytes(&self) -> usize;

    /// Adds `other` into `self`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatiblePartials`](crate::Error::IncompatiblePartials)
    /// for states of different configurations;
    /// [`Error::Overflow`](crate::Error::Overflow) if a count overflows.
    fn merge(&mut self, other: &Self) -> Result<()>;

    /// The result over everything observed and merged so far.
    ///
    /// # Errors
    ///
    /// The model's own errors (a solve that does not converge, a fit with no
    /// data); see each implementation.
    fn finish(&self) -> Result<Self::Output>;
}

/// An [`Aggregate`] that observes journeys: every attribution model.
pub trait JourneyAggregate: Aggregate {
    /// Adds one journey of the caller's own type.
    ///
    /// # Errors
    ///
    /// The journey's validation errors (see
    /// [`JourneySet::push`](crate::JourneySet::push)) and the model's own.
    fn observe<J: Journey + ?Sized>(&mut self, journey: &J) -> Result<()>;

    /// Adds every journey of an interned set (the fast batch path).
    ///
    /// # Errors
    ///
    /// As [`observe`](JourneyAggregate::observe).
    fn observe_set(&mut self, set: &JourneySet) -> Result<()>;
}

/// Implements [`Aggregate`] and [`JourneyAggregate`] for a journey partial
/// whose inherent methods of the same names do the work (`fingerprint`,
/// `journeys` for `observed`, `size_bytes`, `merge`, `observe`,
/// `observe_set`), so every model's trait surface is one line of its
/// module and cannot drift from its inherent API. `new` and `finish` are
/// given as expressions, since their shapes differ (a config taken by
/// reference, a `finish` that cannot fail).
macro_rules! journey_aggregate {
    (
        $state:ident: $config:ty => $output:ty,
        new($c:ident) = $new:expr,
        finish($s:ident) = $finish:expr $(,)?
    ) => {
        impl $crate::aggregate::Aggregate for $state {
            type Config = $config;
            type Output = $output;

            fn new($c: $config) -> $state {
                $new
            }
            fn fingerprint(&self) -> String {
                $state::fingerprint(self)
            }
            fn observed(&self) -> u64 {
                $state::journeys(self)
            }
            fn size_bytes(&self) -> usize {
                $state::size_bytes(self)
            }
            fn merge(&mut self, other: &$state) -> $crate::error::Result<()> {
                $state::merge(self, other)
            }
            fn finish(&self) -> $crate::error::Result<$output> {
                let $s = self;
                $finish
            }
        }

        impl $crate::aggregate::JourneyAggregate for $state {
            fn observe<J: $crate::journey::Journey + ?Sized>(
                &mut self,
                journey: &J,
            ) -> $crate::error::Result<()> {
                $state::observe(self, journey)
            }
            fn observe_set(
                &mut self,
                set: &$crate::dataset::JourneySet,
            ) -> $crate::error::Result<()> {
                $state::observe_set(self, set)
            }
        }
    };
}
pub(crate) use journey_aggregate;
