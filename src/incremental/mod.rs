//! Incrementality: a model that credits what each channel *adds*.
//!
//! (module docs: see the end of this file's development; filled below)

mod config;
mod fit;
mod partial;
mod shape;

pub use self::config::{CreditRule, Exposure, IncrementalConfig, Pairs};
pub use self::fit::{
    ChannelEffect, CreditDiagnostics, FitDiagnostics, Incremental, SHAPLEY_EXACT_LIMIT,
    bootstrap_credit, bootstrap_effects,
};
pub use self::partial::IncrementalPartial;
