//! [`ModelSpec`]: a rule-based model as plain, serializable data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::AttributionModel;
use crate::models::{
    FirstTouch, FullPath, LastNonDirect, LastTouch, Linear, Participation, PositionBased,
    PositionWeights, TimeDecay, WShaped,
};

/// A rule-based model and its options as plain data: what a query engine
/// puts in its plan so that every executor rebuilds the same model.
///
/// Every built-in model describes itself through
/// [`AttributionModel::spec`]; [`build`](Self::build) turns the description
/// back into a model with the same [`fingerprint`](AttributionModel::fingerprint)
/// (so partials made from a rebuilt model merge with the original's).
/// Closures ([`FnModel`](crate::models::FnModel)) and fitted models have no
/// spec: they travel as code, not data.
///
/// The serde form is internally tagged by `model`, for example
/// `{"model":"time_decay","half_life_ms":604800000.0}`. A deserialized spec
/// is checked when built: [`build`](Self::build) runs the model's own
/// constructor, so a spec read from the wire is never trusted blindly.
///
/// # Example
///
/// ```
/// use touchpoint::AttributionModel;
/// use touchpoint::models::{ModelSpec, TimeDecay};
///
/// let model = TimeDecay::with_half_life_days(3.0)?;
/// let spec = model.spec().expect("built-in models have a spec");
/// let text = serde_json::to_string(&spec)?;
/// let back: ModelSpec = serde_json::from_str(&text)?;
/// assert_eq!(back.build()?.fingerprint(), model.fingerprint());
/// assert_eq!("j_shaped".parse::<ModelSpec>()?, ModelSpec::JShaped { lead_anchored: false });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ModelSpec {
    /// [`FirstTouch`].
    FirstTouch,
    /// [`LastTouch`].
    LastTouch,
    /// [`LastNonDirect`] with its direct channel names.
    LastNonDirect {
        /// The channel names counted as direct.
        direct: Vec<String>,
    },
    /// [`Linear`].
    Linear,
    /// [`TimeDecay`] with its half-life in milliseconds (kept in the unit
    /// the model computes in, so the rebuilt model is bit-identical).
    TimeDecay {
        /// The half-life, milliseconds.
        half_life_ms: f64,
    },
    /// [`PositionBased`] under the name `position_based` (U-shaped or
    /// custom shares).
    PositionBased {
        /// Share of the first touch.
        first: f64,
        /// Share of the last (or lead-creation) touch.
        last: f64,
        /// Share of the first touch in two-touch journeys.
        two_touch_first: f64,
        /// The lead-anchored CRM variant.
        lead_anchored: bool,
    },
    /// [`PositionBased::j_shaped`].
    JShaped {
        /// The lead-anchored CRM variant.
        lead_anchored: bool,
    },
    /// [`PositionBased::inverse_j`].
    InverseJ {
        /// The lead-anchored CRM variant.
        lead_anchored: bool,
    },
    /// [`WShaped`] with its anchor shares.
    WShaped {
        /// Share of the first touch.
        first: f64,
        /// Share of the lead-creation touch.
        lead: f64,
        /// Share of the opportunity-creation touch.
        opportunity: f64,
    },
    /// [`FullPath`] with its anchor shares.
    FullPath {
        /// Share of the first touch.
        first: f64,
        /// Share of the lead-creation touch.
        lead: f64,
        /// Share of the opportunity-creation touch.
        opportunity: f64,
        /// Share of the close touch.
        close: f64,
    },
    /// [`Participation`].
    Participation,
    /// [`PositionWeights`]: relative weights by position.
    PositionWeights {
        /// The weights as given.
        weights: Vec<f64>,
        /// Whether positions count back from the last touch.
        from_end: bool,
    },
}

impl ModelSpec {
    /// The default configuration of the model named `name` (one of
    /// [`NAMES`](crate::models::NAMES); `u_shaped` is an alias of
    /// `position_based`). Also available as `name.parse::<ModelSpec>()`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] (kind `"model"`) for any other name.
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::ModelSpec;
    ///
    /// assert_eq!(ModelSpec::from_name("linear")?, ModelSpec::Linear);
    /// assert!(ModelSpec::from_name("markov").is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn from_name(name: &str) -> Result<ModelSpec> {
        let spec = match name {
            "first_touch" => ModelSpec::FirstTouch,
            "last_touch" => ModelSpec::LastTouch,
            "last_non_direct" => ModelSpec::LastNonDirect {
                direct: vec!["direct".to_owned()],
            },
            "linear" => ModelSpec::Linear,
            "time_decay" => ModelSpec::TimeDecay {
                half_life_ms: 7.0 * 86_400_000.0,
            },
            "position_based" | "u_shaped" => ModelSpec::PositionBased {
                first: 0.4,
                last: 0.4,
                two_touch_first: 0.5,
                lead_anchored: false,
            },
            "j_shaped" => ModelSpec::JShaped {
                lead_anchored: false,
            },
            "inverse_j" => ModelSpec::InverseJ {
                lead_anchored: false,
            },
            "w_shaped" => ModelSpec::WShaped {
                first: 0.3,
                lead: 0.3,
                opportunity: 0.3,
            },
            "full_path" => ModelSpec::FullPath {
                first: 0.225,
                lead: 0.225,
                opportunity: 0.225,
                close: 0.225,
            },
            "participation" => ModelSpec::Participation,
            _ => {
                return Err(Error::UnknownName {
                    kind: "model",
                    name: name.to_owned(),
                });
            }
        };
        Ok(spec)
    }

    /// The model's name (as [`AttributionModel::name`] of the built model).
    pub fn name(&self) -> &'static str {
        match self {
            ModelSpec::FirstTouch => "first_touch",
            ModelSpec::LastTouch => "last_touch",
            ModelSpec::LastNonDirect { .. } => "last_non_direct",
            ModelSpec::Linear => "linear",
            ModelSpec::TimeDecay { .. } => "time_decay",
            ModelSpec::PositionBased { .. } => "position_based",
            ModelSpec::JShaped { .. } => "j_shaped",
            ModelSpec::InverseJ { .. } => "inverse_j",
            ModelSpec::WShaped { .. } => "w_shaped",
            ModelSpec::FullPath { .. } => "full_path",
            ModelSpec::Participation => "participation",
            ModelSpec::PositionWeights { .. } => "position_weights",
        }
    }

    /// Builds the model, through its own constructor (so a spec read from
    /// untrusted data is checked exactly as a model built in code). The box
    /// is `Send + Sync` ([`AttributionModel`] requires both), so it moves
    /// to any executor thread; `Arc::from` shares it.
    ///
    /// # Errors
    ///
    /// The constructor's [`Error::InvalidParameter`] for options out of
    /// range (a half-life under a millisecond, shares summing past one, an
    /// empty direct set, ...).
    ///
    /// # Example
    ///
    /// ```
    /// use touchpoint::models::ModelSpec;
    ///
    /// let w = ModelSpec::WShaped { first: 0.4, lead: 0.4, opportunity: 0.1 }.build()?;
    /// assert_eq!(w.name(), "w_shaped");
    /// assert!(ModelSpec::TimeDecay { half_life_ms: -1.0 }.build().is_err());
    /// # Ok::<(), touchpoint::Error>(())
    /// ```
    pub fn build(&self) -> Result<Box<dyn AttributionModel>> {
        let anchored = |m: PositionBased, lead: bool| if lead { m.lead_anchored() } else { m };
        Ok(match self {
            ModelSpec::FirstTouch => Box::new(FirstTouch),
            ModelSpec::LastTouch => Box::new(LastTouch),
            ModelSpec::LastNonDirect { direct } => Box::new(LastNonDirect::new(direct.clone())?),
            ModelSpec::Linear => Box::new(Linear),
            ModelSpec::TimeDecay { half_life_ms } => {
                Box::new(TimeDecay::with_half_life_ms(*half_life_ms)?)
            }
            ModelSpec::PositionBased {
                first,
                last,
                two_touch_first,
                lead_anchored,
            } => Box::new(anchored(
                PositionBased::new(*first, *last, *two_touch_first)?,
                *lead_anchored,
            )),
            ModelSpec::JShaped { lead_anchored } => {
                Box::new(anchored(PositionBased::j_shaped(), *lead_anchored))
            }
            ModelSpec::InverseJ { lead_anchored } => {
                Box::new(anchored(PositionBased::inverse_j(), *lead_anchored))
            }
            ModelSpec::WShaped {
                first,
                lead,
                opportunity,
            } => Box::new(WShaped::new(*first, *lead, *opportunity)?),
            ModelSpec::FullPath {
                first,
                lead,
                opportunity,
                close,
            } => Box::new(FullPath::new(*first, *lead, *opportunity, *close)?),
            ModelSpec::Participation => Box::new(Participation),
            ModelSpec::PositionWeights { weights, from_end } => Box::new(if *from_end {
                PositionWeights::from_end(weights.clone())?
            } else {
                PositionWeights::new(weights.clone())?
            }),
        })
    }
}

impl FromStr for ModelSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<ModelSpec> {
        ModelSpec::from_name(s)
    }
}

impl fmt::Display for ModelSpec {
    /// The model's name (options are not shown; the serde form has them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::NAMES;

    #[test]
    fn every_named_model_round_trips_with_its_fingerprint() {
        for name in NAMES {
            let model = crate::models::by_name(name).unwrap();
            let spec = model.spec().unwrap();
            assert_eq!(spec, ModelSpec::from_name(name).unwrap(), "{name}");
            let text = serde_json::to_string(&spec).unwrap();
            let back: ModelSpec = serde_json::from_str(&text).unwrap();
            let rebuilt = back.build().unwrap();
            assert_eq!(rebuilt.fingerprint(), model.fingerprint(), "{name}");
            assert_eq!(rebuilt.name(), name);
        }
    }

    #[test]
    fn options_travel() {
        let models: Vec<Box<dyn AttributionModel>> = vec![
            Box::new(TimeDecay::with_half_life_days(0.3).unwrap()),
            Box::new(LastNonDirect::new(["direct", "(none)"]).unwrap()),
            Box::new(PositionBased::new(0.1, 0.7, 0.2).unwrap().lead_anchored()),
            Box::new(PositionBased::j_shaped().lead_anchored()),
            Box::new(PositionBased::inverse_j()),
            Box::new(WShaped::new(0.5, 0.2, 0.1).unwrap()),
            Box::new(FullPath::new(0.1, 0.2, 0.3, 0.35).unwrap()),
            Box::new(PositionWeights::from_end(vec![3.0, 0.5, 1.0]).unwrap()),
            Box::new(PositionWeights::new(vec![1.0, 2.0]).unwrap()),
        ];
        for m in models {
            let spec = m.spec().unwrap();
            let back: ModelSpec =
                serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
            assert_eq!(back.build().unwrap().fingerprint(), m.fingerprint());
        }
    }

    #[test]
    fn bad_specs_are_constructor_errors() {
        let bad = [
            r#"{"model":"time_decay","half_life_ms":0.0}"#,
            r#"{"model":"time_decay","half_life_ms":1e-300}"#,
            r#"{"model":"last_non_direct","direct":[]}"#,
            r#"{"model":"w_shaped","first":0.5,"lead":0.5,"opportunity":0.5}"#,
            r#"{"model":"position_weights","weights":[1.7976931348623157e308],"from_end":false}"#,
            r#"{"model":"position_based","first":-1,"last":0.5,"two_touch_first":0.5,"lead_anchored":false}"#,
        ];
        for text in bad {
            let spec: ModelSpec = serde_json::from_str(text).unwrap();
            assert!(
                matches!(spec.build(), Err(Error::InvalidParameter { .. })),
                "{text}"
            );
        }
        assert!(serde_json::from_str::<ModelSpec>(r#"{"model":"markov"}"#).is_err());
        assert!(
            serde_json::from_str::<ModelSpec>(r#"{"model":"time_decay","half_life_ms":1.0,"x":1}"#)
                .is_err()
        );
    }
}
