//! # touchpoint
//!
//! Exact, reproducible marketing attribution and B2B funnel analytics, in
//! pure Rust, with no I/O.
//!
//! A buyer meets ads, e-mails, webinars, content and sales calls over weeks;
//! revenue comes from the whole sequence. `touchpoint` answers which
//! channels, campaigns and content earned it, under every model a marketer
//! knows, and reconciles every report to the cent.
//!
//! ```
//! use touchpoint::{attribute, JourneySet, SimpleJourney, SimpleTouch, models::Linear};
//!
//! let j = SimpleJourney::new("j1")
//!     .touch(SimpleTouch::new("paid_search", "2024-02-27T09:15:00Z".parse()?))
//!     .touch(SimpleTouch::new("email", "2024-03-02T18:40:05Z".parse()?))
//!     .converted(129.50);
//! let set = JourneySet::from_journeys([&j])?;
//! let report = attribute(&Linear, &set)?;
//! assert_eq!(report.channels().get("email").unwrap().value(), 64.75);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Overview
//!
//! - Bring journeys as your own types through the [`Journey`] and
//!   [`Touchpoint`] traits, or as [`SimpleJourney`] / [`SimpleTouch`] (serde).
//! - Intern them once into a [`JourneySet`].
//! - Attribute with any [`AttributionModel`] ([`models`]) through
//!   [`attribute`] (in memory), or stream and merge [`CreditPartial`]s made
//!   from a [`CreditConfig`] (the model, as a serializable
//!   [`ModelSpec`](models::ModelSpec) for the built-in ones).
//! - Read the [`Report`]: credit by channel, campaign and content, exact in
//!   minor currency units ([`Currency`]).
//!
//! ## Modules
//!
//! | module | what it gives |
//! |---|---|
//! | [`models`] | every rule-based model: first, last, last non-direct, linear, time decay, U/J/inverse J (and the lead-anchored CRM variant), W-shaped, full path, participation, custom weights, closures |
//! | [`rules`] | journey clean-up steps that report what they changed |
//! | [`markov`] | Markov chain removal effects of order 1 to 6, solved exactly |
//! | [`shapley`] | Shapley values: simplified, coalition conversion rate, ordered |
//! | [`incremental`] | a regularized logistic conversion model credited by counterfactual removal |
//! | [`bootstrap`] | seeded, reproducible confidence intervals for every model |
//! | [`funnel`] | `inquiry` -> `mql` -> `sal` -> `sql` -> `opportunity` -> `closed_won` metrics |
//! | [`roi`] | ROI, ROAS, cost per stage, CAC, budget moves |
//! | [`audit`] | a data audit before attribution: completeness, consistency, engagement, tracking breaks, sufficiency |
//! | [`story`] | typed findings from the reports and an English renderer |
//! | `sim` | a seeded journey simulator with known causal effects (feature `sim`) |
//! | [`design`] | the design notes (`DESIGN.md`) |
//! | [`format`](mod@format) | the journey file format the examples read (`docs/FORMAT.md`) |
//!
//! ## Merging
//!
//! Every aggregate ([`CreditPartial`], `MarkovPartial`, `ShapleyPartial`,
//! `IncrementalPartial`, `FunnelPartial`) has an empty value, `observe`,
//! `merge` and `finish`, is keyed by names and serializes with serde, so
//! threads, partitions and machines merge to the same bits as one pass.
//!
//! ## Crate features
//!
//! - `sim` (default): the [`sim`](crate#modules) module.
//! - `rayon`: parallel fits and bootstrap replicates, bit-identical to the
//!   serial path.
//!
//! ## Rust version
//!
//! Edition 2024; the minimum supported Rust version is 1.85.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod aggregate;
mod credit;
mod dataset;
mod error;
mod hash;
mod journey;
mod model;
mod money;
mod name;
mod paths;
mod touchpoint;

pub mod models;

// ---- journey rules (issue: foundation)
pub mod rules;

// ---- data-driven models (issue: Markov and Shapley)
pub mod markov;
pub mod shapley;

// ---- funnel and money (issue: B2B funnel)
pub mod funnel;
pub mod roi;

// ---- data audit and findings narrative (issue 12)
pub mod audit;
pub mod story;

// ---- simulator (issue: simulator)
#[cfg(feature = "sim")]
pub mod sim;

// ---- incrementality and confidence intervals (issue: incrementality)
pub mod bootstrap;
pub mod incremental;

/// The `chrono` crate, re-exported so that a project using `touchpoint`
/// needs no other dependency to build timestamps
/// (`touchpoint::chrono::DateTime<Utc>`) for [`SimpleTouch`] and the
/// [`Touchpoint`] trait.
pub use chrono;

pub use crate::aggregate::{Aggregate, JourneyAggregate};
pub use crate::credit::CodedTouch;
#[expect(deprecated, reason = "kept as a deprecated path until 0.3")]
pub use crate::credit::attribute_partial;
pub use crate::credit::{
    Breakdown, Breakdowns, CONVERSION_UNITS, Comparison, Credit, CreditConfig, CreditPartial,
    Crediter, Report, attribute, attribute_with, compare,
};
pub use crate::dataset::{Catalog, ChannelId, JourneySet, JourneyView};
pub use crate::error::{Error, Result};
pub use crate::journey::{Journey, Outcome, SimpleJourney};
pub use crate::model::{AttributionModel, Binding, ChannelList, ChannelMap, CreditKind, Weights};
pub use crate::money::{Currency, MAX_MINOR};
pub use crate::name::Name;
pub use crate::touchpoint::{Milestone, SimpleTouch, Touchpoint};

/// Design notes: the questions a careful user asks, and the crate's answers
/// (the repository's `DESIGN.md`).
#[doc = include_str!("../DESIGN.md")]
pub mod design {}

/// The journey file format the example programs read and write (the
/// repository's `docs/FORMAT.md`): JSON lines, aggregated paths, ground
/// truth, and what `examples/attribute` prints. The library itself does no
/// I/O.
#[doc = include_str!("../docs/FORMAT.md")]
pub mod format {}

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
