//! Model specifications: which model a `tp_*` function runs, with its
//! options, as one short string that travels in the query plan.
//!
//! Grammar: an optional model name followed by `key=value` pairs separated
//! by spaces, e.g. `'time_decay half_life_days=3'`, `'order=2'`,
//! `'variant=rate'`, `'recency_days=14 last_touch=true'`. Every kind accepts
//! `decimals=N` (the currency's minor-unit digits, default 2). The
//! canonical form ([`ModelSpec::canonical`]) sorts the options, so two
//! spellings of the same configuration give the same partials.

use std::collections::BTreeMap;
use std::fmt;

use datafusion_common::{DataFusionError, Result, plan_err};
use serde::{Deserialize, Serialize};

/// The family of model a function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// Rule-based credit (`first_touch`, `linear`, `time_decay`, ...).
    Credit,
    /// The Markov removal-effect model of order k.
    Markov,
    /// Shapley value attribution (each variant).
    Shapley,
    /// The incremental (causal lift) model.
    Incremental,
    /// B2B funnel metrics over lead rows (stages reached, conversion
    /// rates, time in stage, revenue sourced and influenced).
    Funnel,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 5] = [
        Kind::Credit,
        Kind::Markov,
        Kind::Shapley,
        Kind::Incremental,
        Kind::Funnel,
    ];

    /// The short name used in function names (`tp_<name>`) and specs.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Credit => "credit",
            Kind::Markov => "markov",
            Kind::Shapley => "shapley",
            Kind::Incremental => "incremental",
            Kind::Funnel => "funnel",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The option keys this kind accepts (besides `decimals`).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Credit => &[
                "half_life_days",
                "first",
                "last",
                "two_touch_first",
                "lead",
                "opportunity",
                "close",
                "direct",
                "breakdowns",
            ],
            Kind::Markov => &["order", "collapse_repeats"],
            Kind::Shapley => &["variant", "exact_limit"],
            Kind::Incremental => &[
                "max_iterations",
                "tolerance",
                "count_cap",
                "last_touch",
                "recency_days",
            ],
            Kind::Funnel => &[
                "slice",
                "period",
                "backfill",
                "out_of_order",
                "sla_days",
                "source",
                "cycle_start",
                "sales_channels",
                "as_of",
                "stages",
                "exits",
            ],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model and its options, checked and in canonical order.
///
/// # Example
///
/// ```
/// use touchpoint_datafusion::{Kind, ModelSpec};
///
/// let a = ModelSpec::parse(Kind::Credit, "time_decay  half_life_days=3 decimals=2")?;
/// let b = ModelSpec::parse(Kind::Credit, "time_decay decimals=2 half_life_days=3")?;
/// assert_eq!(a.canonical(), b.canonical());
/// assert_eq!(a.canonical(), "credit:time_decay decimals=2 half_life_days=3");
/// # Ok::<(), datafusion_common::DataFusionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelSpec {
    kind: Kind,
    model: String,
    options: BTreeMap<String, String>,
}

impl ModelSpec {
    /// Parses `text` for a function of kind `kind`. The model name is
    /// required for [`Kind::Credit`] (e.g. `linear`); for the other kinds
    /// a leading word equal to the kind's name is accepted and ignored.
    ///
    /// # Errors
    ///
    /// A plan error naming the problem: an unknown key, a malformed
    /// `key=value`, a repeated key, a missing model name. Values are
    /// checked when the function first builds the model.
    pub fn parse(kind: Kind, text: &str) -> Result<ModelSpec> {
        let mut words = text.split_whitespace().peekable();
        let mut model = kind.name().to_owned();
        if let Some(first) = words.peek()
            && !first.contains('=')
        {
            let first = words.next().unwrap_or_default();
            if kind == Kind::Credit {
                model = first.to_owned();
            } else if first != kind.name() {
                return plan_err!(
                    "tp_{kind}: model spec '{text}' starts with '{first}'; expected key=value options ({})",
                    kind.keys().join(", ")
                );
            }
        } else if kind == Kind::Credit {
            return plan_err!(
                "tp_credit: model spec '{text}' names no model; start it with a model name such as 'linear' or 'time_decay'"
            );
        }
        let mut options = BTreeMap::new();
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                return plan_err!("tp_{kind}: model spec word '{w}' is not key=value");
            };
            if k != "decimals" && !kind.keys().contains(&k) {
                return plan_err!(
                    "tp_{kind}: unknown option '{k}' in model spec '{text}' (known: decimals, {})",
                    kind.keys().join(", ")
                );
            }
            if v.is_empty() {
                return plan_err!("tp_{kind}: option '{k}' has no value in model spec '{text}'");
            }
            if options.insert(k.to_owned(), v.to_owned()).is_some() {
                return plan_err!("tp_{kind}: option '{k}' given twice in model spec '{text}'");
            }
        }
        Ok(ModelSpec {
            kind,
            model,
            options,
        })
    }

    /// Reads a canonical string written by [`canonical`](Self::canonical).
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), or if the kind prefix is unknown.
    pub fn from_canonical(text: &str) -> Result<ModelSpec> {
        let Some((kind, rest)) = text.split_once(':') else {
            return plan_err!("model spec '{text}' has no kind prefix (credit:, markov:, ...)");
        };
        let Some(kind) = Kind::from_name(kind) else {
            return plan_err!("model spec '{text}' has an unknown kind '{kind}'");
        };
        ModelSpec::parse(kind, rest)
    }

    /// The kind of model.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The model's name (`linear`, `time_decay`; the kind's name for the
    /// fitted models).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The option `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    /// The option `key` parsed as `T`, if given.
    ///
    /// # Errors
    ///
    /// A plan error naming the key and the value that does not parse.
    pub fn parsed<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                DataFusionError::Plan(format!(
                    "tp_{}: option {key}={v} is not a valid {}",
                    self.kind,
                    std::any::type_name::<T>()
                ))
            }),
        }
    }

    /// The same spec with `key=value` set (replacing a value given).
    pub(crate) fn with_option(mut self, key: &str, value: &str) -> ModelSpec {
        self.options.insert(key.to_owned(), value.to_owned());
        self
    }

    /// `kind:model k=v ...`, options sorted by key: the form stored in
    /// partials and in serialized plans.
    pub fn canonical(&self) -> String {
        let mut s = format!("{}:{}", self.kind, self.model);
        for (k, v) in &self.options {
            s.push(' ');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_options_and_round_trips() {
        let s = ModelSpec::parse(Kind::Markov, "markov order=3 collapse_repeats=true").unwrap();
        assert_eq!(s.canonical(), "markov:markov collapse_repeats=true order=3");
        assert_eq!(ModelSpec::from_canonical(&s.canonical()).unwrap(), s);
        assert_eq!(s.parsed::<u8>("order").unwrap(), Some(3));
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let e = ModelSpec::parse(Kind::Markov, "order=2 lookback=3").unwrap_err();
        assert!(e.to_string().contains("unknown option 'lookback'"), "{e}");
        let e = ModelSpec::parse(Kind::Credit, "half_life_days=3").unwrap_err();
        assert!(e.to_string().contains("names no model"), "{e}");
        let e = ModelSpec::parse(Kind::Shapley, "variant=rate variant=ordered").unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = ModelSpec::parse(Kind::Markov, "order").unwrap_err();
        assert!(e.to_string().contains("starts with 'order'"), "{e}");
        let s = ModelSpec::parse(Kind::Markov, "order=x").unwrap();
        assert!(s.parsed::<u8>("order").is_err());
    }
}
