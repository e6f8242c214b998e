//! Rule-based attribution models.
//!
//! Every model implements [`AttributionModel`]: it fills the weights of one
//! journey's touches (sorted by time), and the engine
//! ([`attribute`](crate::attribute)) turns them into exact integer credit.
//!
//! | name (`by_name`)  | type                                  | definition |
//! |-------------------|---------------------------------------|------------|
//! | `first_touch`     | [`FirstTouch`]                        | 100% to the first touch |
//! | `last_touch`      | [`LastTouch`]                         | 100% to the last touch |
//! | `last_non_direct` | [`LastNonDirect`]                     | 100% to the last touch not in the direct set (default `{"direct"}`); the last touch when all are direct |
//! | `linear`          | [`Linear`]                            | `1/n` to each touch |
//! | `time_decay`      | [`TimeDecay`]                         | `∝ 2^(−age/half_life)`, age back from the conversion (or last touch); half-life 7 days |
//! | `position_based`  | [`PositionBased::u_shaped`]           | 40% first, 40% last, 20% shared by the middle; 2 touches 50/50 |
//! | `j_shaped`        | [`PositionBased::j_shaped`]           | 20% first, 60% last, 20% middle; 2 touches 25/75 |
//! | `inverse_j`       | [`PositionBased::inverse_j`]          | 60% first, 20% last, 20% middle; 2 touches 75/25 |
//! | `w_shaped`        | [`WShaped`]                           | 30% first, 30% lead creation, 30% opportunity creation, 10% the rest |
//! | `full_path`       | [`FullPath`]                          | 22.5% each first, lead, opportunity, close; 10% the rest |
//! | `participation`   | [`Participation`]                     | 100% to every distinct channel (does not sum to one) |
//!
//! Custom models: [`PositionWeights`] (relative weights by position) and
//! [`FnModel`] (a closure). [`all`] lists every rule-based model with its
//! defaults; [`by_name`] builds one by name.
//!
//! # Design notes
//!
//! - **One touch, one rule.** Every model gives a one-touch journey 100%.
//!   Journeys with no touch never reach a model: the engine credits a
//!   converted empty journey to the report's unassigned bucket.
//! - **Time order is the only order.** Touches are stably sorted by time
//!   when the [`JourneySet`](crate::JourneySet) is built, so "first",
//!   "last" and "middle" follow time and, for equal timestamps, input order.
//! - **Models give weights, the engine gives money.** A model only says
//!   "all to touch k", "equal", or a relative weight per touch; the engine
//!   normalizes them and apportions the value and the conversion by largest
//!   remainder, so every journey's credit sums exactly to its value.
//!   Rounding leftovers go to the largest fractional parts, ties to the
//!   earlier touch.
//! - **Two-touch journeys in position models** use the configured two-touch
//!   split instead of the three-part rule (the middle share has no touch).
//! - **Milestone models** anchor on the first touch carrying each milestone;
//!   a missing milestone's share goes to the present anchors in proportion,
//!   a touch that is two anchors gets both shares, and with no rest touch
//!   the rest share goes to the anchors in proportion (see [`WShaped`]).
//! - **The lead-anchored position model** credits the path up to and
//!   including the lead-creation touch and nothing after it; without a lead
//!   touch it falls back to the whole journey.
//! - **Participation** is the one model whose credit does not sum to one
//!   ([`CreditKind::Full`](crate::CreditKind::Full)); its report says so
//!   ([`Report::is_full_credit`](crate::Report::is_full_credit)).
//! - **Fingerprints carry parameters** (half-life, shares, direct set), so
//!   partial reports of differently configured models refuse to merge.
//! - **Hot loops compare integers.** Channel names are resolved to ids at
//!   most once per journey (last non-direct), never per touch.

mod custom;
mod last_non_direct;
mod milestone;
mod participation;
mod position;
mod simple;
mod spec;
mod time_decay;

use crate::error::Result;
use crate::model::AttributionModel;

pub use self::custom::{FnModel, PositionWeights};
pub use self::last_non_direct::LastNonDirect;
pub use self::milestone::{FullPath, WShaped};
pub use self::participation::Participation;
pub use self::position::PositionBased;
pub use self::simple::{FirstTouch, LastTouch, Linear};
pub use self::spec::ModelSpec;
pub use self::time_decay::TimeDecay;

/// The names [`by_name`] accepts, in the order of [`all`].
pub const NAMES: [&str; 11] = [
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "j_shaped",
    "inverse_j",
    "w_shaped",
    "full_path",
    "participation",
];

/// Every rule-based model in its default configuration, in the order of
/// [`NAMES`]: first touch, last touch, last non-direct, linear, time decay
/// (7 days), U-shaped (`position_based`), J-shaped, inverse J, W-shaped,
/// full path, participation.
///
/// # Example
///
/// ```
/// use touchpoint::models;
///
/// let names: Vec<String> = models::all().iter().map(|m| m.name().to_owned()).collect();
/// assert_eq!(names, models::NAMES);
/// ```
pub fn all() -> Vec<Box<dyn AttributionModel>> {
    NAMES
        .iter()
        .map(|n| by_name(n).expect("every listed name is known"))
        .collect()
}

/// The default configuration of the model named `name` (one of [`NAMES`];
/// `u_shaped` is accepted as an alias of `position_based`).
///
/// # Errors
///
/// [`Error::UnknownName`](crate::Error::UnknownName) (kind `"model"`)
/// for any other name.
///
/// # Example
///
/// ```
/// use touchpoint::{models, Error};
///
/// assert_eq!(models::by_name("j_shaped")?.name(), "j_shaped");
/// assert!(matches!(models::by_name("markov2"), Err(Error::UnknownName { kind: "model", .. })));
/// # Ok::<(), touchpoint::Error>(())
/// ```
pub fn by_name(name: &str) -> Result<Box<dyn AttributionModel>> {
    ModelSpec::from_name(name)?.build()
}
