//! The crate's one error type.
//!
//! Every public entry point that can fail returns [`Result<T>`], whose error
//! is [`Error`]. Variants carry what was wrong and where (journey id,
//! touchpoint index, parameter name), so a caller can report it without
//! guessing. The enum is `#[non_exhaustive]`: new variants may appear in
//! minor releases.

use thiserror::Error as ThisError;

/// A `Result` whose error is the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in `touchpoint`.
///
/// # Example
///
/// ```
/// use touchpoint::{Error, models::TimeDecay};
///
/// let err = TimeDecay::with_half_life_days(0.0).unwrap_err();
/// assert!(matches!(err, Error::InvalidParameter { parameter: "half_life", .. }));
/// ```
#[derive(Debug, Clone, PartialEq, ThisError)]
#[non_exhaustive]
pub enum Error {
    // ----------------------------------------------------------------- input
    /// A conversion value is NaN, infinite, negative or too large to be
    /// represented exactly in minor currency units.
    #[error(
        "journey {journey:?}: conversion value {value} is not a finite amount >= 0 (at most 2^53 minor units)"
    )]
    InvalidValue {
        /// The journey's id.
        journey: String,
        /// The offending value.
        value: f64,
    },

    /// A touchpoint cost is NaN, infinite, negative or too large.
    #[error("journey {journey:?}, touchpoint {touch}: cost {cost} is not a finite amount >= 0")]
    InvalidCost {
        /// The journey's id.
        journey: String,
        /// Index of the touchpoint in the journey as given (before sorting).
        touch: usize,
        /// The offending cost.
        cost: f64,
    },

    /// A journey is malformed in a way not covered by a more specific
    /// variant (for example a timestamp out of the representable range).
    #[error("journey {journey:?}: {reason}")]
    InvalidJourney {
        /// The journey's id.
        journey: String,
        /// What is wrong with it.
        reason: String,
    },

    // ------------------------------------------------------- configuration
    /// A model, rule or metric parameter is out of its valid range
    /// (zero or negative half-life or window, negative weight, weights that
    /// do not sum to one, an order of 0, ...).
    #[error("invalid parameter {parameter}: {value} ({expected})")]
    InvalidParameter {
        /// The parameter's name, as in the constructor's docs.
        parameter: &'static str,
        /// The value given, rendered as text.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },

    /// A model produced weights that cannot be turned into credit
    /// (negative, NaN, wrong length, or all zero). Built-in models never do;
    /// custom models and closures can.
    #[error("model {model}: invalid weights for journey {journey:?}: {reason}")]
    InvalidWeights {
        /// The model's name.
        model: String,
        /// The journey's id.
        journey: String,
        /// What is wrong with the weights.
        reason: String,
    },

    /// A name (channel, stage, preset, ...) is not known where it was looked up.
    ///
    /// For kinds whose valid names are fixed (`"model"`: the rule-based
    /// models of [`models::NAMES`](crate::models::NAMES)), the message lists
    /// them.
    #[error("unknown {kind} {name:?}{}", valid_choices(kind))]
    UnknownName {
        /// What kind of name it is (`"channel"`, `"stage"`, ...).
        kind: &'static str,
        /// The name that was not found.
        name: String,
    },

    // ------------------------------------------------------------ partials
    /// Two partial fits or reports were made with different configurations
    /// (model, order, windows, weights, currency) or format versions and
    /// cannot be merged.
    #[error("cannot merge partials: configuration {left:?} differs from {right:?}")]
    IncompatiblePartials {
        /// Fingerprint of the receiving partial.
        left: String,
        /// Fingerprint of the partial being merged in.
        right: String,
    },

    /// A checked integer sum overflowed (counts or minor currency units).
    #[error("integer overflow while accumulating {what}")]
    Overflow {
        /// What was being summed.
        what: &'static str,
    },

    // ------------------------------------------------ data-driven models
    /// An exact computation would be too large (for example exact Shapley
    /// values over more channels than the exact limit).
    #[error("{what}: {found} exceeds the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// The size found.
        found: usize,
        /// The largest size handled.
        limit: usize,
    },

    /// A model was asked for a result that needs data it was not given
    /// (no journeys, no conversions, no non-converting journeys, ...).
    #[error("not enough data: {reason}")]
    InsufficientData {
        /// What is missing.
        reason: String,
    },

    /// An iterative solver or fit did not reach its stated tolerance.
    #[error("{what} did not converge after {iterations} iterations (residual {residual:e})")]
    NotConverged {
        /// What was being solved or fitted.
        what: &'static str,
        /// Iterations performed.
        iterations: usize,
        /// The last residual or change.
        residual: f64,
    },

    // -------------------------------------------------------------- funnel
    /// A lead's funnel data breaks a rule that has no documented repair
    /// (see the `funnel` module).
    #[error("lead {lead:?}: {reason}")]
    InvalidLead {
        /// The lead's id.
        lead: String,
        /// What is wrong.
        reason: String,
    },

    // ------------------------------------------------------------ partials
    /// A partial that was deserialized without its model (a closure or a
    /// fitted model has no [`ModelSpec`](crate::models::ModelSpec)) was asked
    /// to observe: attach the model first (for example
    /// [`CreditPartial::with_model`](crate::CreditPartial::with_model)).
    #[error("partial of model {fingerprint:?} has no model attached: attach it before observing")]
    ModelNotAttached {
        /// The model fingerprint the partial was made for.
        fingerprint: String,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub(crate) fn param(
        parameter: &'static str,
        value: impl std::fmt::Display,
        expected: &'static str,
    ) -> Error {
        Error::InvalidParameter {
            parameter,
            value: value.to_string(),
            expected,
        }
    }
}

/// The fixed list of valid names of `kind`, as a message suffix (empty for
/// kinds whose names depend on the data, such as channels and stages).
fn valid_choices(kind: &str) -> String {
    match kind {
        "model" => format!(" (expected one of: {})", crate::models::NAMES.join(", ")),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn messages_name_the_place() {
        let e = Error::InvalidCost {
            journey: "j1".into(),
            touch: 3,
            cost: -1.0,
        };
        let s = e.to_string();
        assert!(s.contains("\"j1\"") && s.contains("touchpoint 3") && s.contains("-1"));
    }

    #[test]
    fn unknown_model_lists_the_valid_names() {
        let e = Error::UnknownName {
            kind: "model",
            name: "linaer".into(),
        };
        assert_eq!(
            e.to_string(),
            "unknown model \"linaer\" (expected one of: first_touch, last_touch, last_non_direct, \
             linear, time_decay, position_based, j_shaped, inverse_j, w_shaped, full_path, participation)"
        );
        let e = Error::UnknownName {
            kind: "channel",
            name: "x".into(),
        };
        assert_eq!(e.to_string(), "unknown channel \"x\"");
    }
}
