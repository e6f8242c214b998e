//! `touchpoint`'s attribution models as Apache DataFusion aggregate
//! functions, run on many cores by DataFusion and on many machines by
//! Apache Ballista, with the same bits as one process.
//!
//! Every function's accumulator state is the core crate's mergeable partial,
//! serialized into one `BINARY` value (a `TPDF` header, a version byte, the
//! model spec, the core's serde form). DataFusion's partial aggregation and
//! Ballista's shuffles only ever merge those partials, and the core's
//! partials merge exactly (integer counts keyed by channel name, canonical
//! order at the end), so the result does not depend on how the rows were
//! split, ordered or distributed.
//!
//! # Functions
//!
//! | function | returns |
//! |---|---|
//! | `tp_credit(channels, timestamps, converted, value, 'model [k=v ...]')` | report of a rule-based model (`first_touch`, `linear`, `time_decay half_life_days=3`, `position_based first=0.3 last=0.5`, ...) |
//! | `tp_markov(..., 'order=2 collapse_repeats=true')` | Markov removal-effect credit of order k (1-6) |
//! | `tp_shapley(..., 'variant=rate')` | Shapley credit (`simplified`, `rate`, `ordered`) |
//! | `tp_incremental(..., 'recency_days=14')` | the incremental (lift) model's per-channel effects |
//! | `tp_funnel(lead_id, stages, stage_times, amount, 'slice=channel'[, extras])` | B2B funnel metrics over lead rows ([`FunnelLine`]s) |
//! | `tp_<kind>_partial(...)` | the same configuration's raw partial, `BINARY` |
//! | `tp_merge(partial)` | aggregate: merges stored partials of one configuration |
//! | `tp_report(partial)` | scalar: finishes an attribution partial into the report |
//! | `tp_funnel_report(partial)` | scalar: finishes a funnel partial into the funnel report |
//!
//! A report is `LIST<STRUCT<channel VARCHAR, conversions DOUBLE,
//! conversion_units BIGINT, value DOUBLE, value_minor BIGINT, weight DOUBLE,
//! journeys UBIGINT, breakdown VARCHAR, name VARCHAR>>` (see [`Line`]), one
//! line per channel sorted by name, then a line with a NULL channel for
//! converted journeys no channel could be credited with (if any); then,
//! when the query gave campaigns or contents, the campaign and content
//! breakdowns (`breakdown` = `campaign` / `content`, the name in `name`).
//! `conversion_units` and `value_minor` are the core's exact integers;
//! columns a model does not have are NULL.
//!
//! Input, journey form: `channels LIST<VARCHAR>` (plain or
//! dictionary-encoded: dictionary codes are read directly, no string is
//! copied per touch), `timestamps LIST<TIMESTAMP>` (any unit, or
//! `LIST<BIGINT>` Unix ms) in time order, `converted BOOLEAN`, `value
//! DOUBLE` (major currency units), then the spec, then (`tp_credit` only)
//! an optional STRUCT of `campaigns`, `contents`, `milestones` (lists, one
//! item per touch) and `conversion_ts`, e.g.
//! `named_struct('campaigns', campaigns, 'milestones', milestones)`.
//! Path form (`tp_credit`, credited by weight, `tp_markov`, `tp_shapley`,
//! `tp_incremental`, counted as weighted journeys):
//! `path LIST<VARCHAR>, conversions BIGINT, value DOUBLE, nulls BIGINT`.
//! Lead form (`tp_funnel`): `lead_id VARCHAR, stages LIST<VARCHAR>,
//! stage_times LIST<TIMESTAMP>, amount DOUBLE`, the spec, and an optional
//! STRUCT of the lead's touches (`channels`, `timestamps`, `campaigns`,
//! `contents`), `reasons`, `segment`, `owner`, `account`.
//! The spec argument is a string literal (see [`ModelSpec`]); it is part of
//! the plan, so every executor builds the same model.
//!
//! Bad rows (a NULL or empty channel, a negative or non-finite value,
//! timestamps out of order within a row, channel and timestamp lists of
//! different lengths, a partial of another version or configuration) fail
//! the query with an error naming the problem and the row in its batch;
//! nothing is dropped.
//!
//! Journey rows from a touch-level table:
//!
//! ```sql
//! SELECT journey_id,
//!        array_agg(channel ORDER BY ts) AS channels,
//!        array_agg(ts ORDER BY ts)      AS timestamps,
//!        bool_or(converted)             AS converted,
//!        max(value)                     AS value
//! FROM touches GROUP BY journey_id
//! ```
//!
//! # Example
//!
//! ```
//! use datafusion_expr::registry::MemoryFunctionRegistry;
//! use datafusion_expr::registry::FunctionRegistry;
//!
//! let mut registry = MemoryFunctionRegistry::new();
//! touchpoint_datafusion::register_all(&mut registry)?;
//! assert!(registry.udaf("tp_markov").is_ok());
//! assert!(registry.udaf("tp_funnel").is_ok());
//! assert!(registry.udf("tp_report").is_ok());
//! assert!(registry.udf("tp_funnel_report").is_ok());
//! # Ok::<(), datafusion_common::DataFusionError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use datafusion_common::Result;
use datafusion_expr::registry::FunctionRegistry;
use datafusion_expr::{AggregateUDF, ScalarUDF};

#[cfg(feature = "codec")]
pub mod codec;
mod core;
mod funnel;
mod input;
pub mod spec;
mod udaf;

pub use crate::core::Line;
pub use crate::funnel::{FunnelLine, funnel_report_type};
pub use crate::spec::{Kind, ModelSpec};
pub use crate::udaf::{
    Output, PARTIAL_MAGIC, PARTIAL_VERSION, TpAggregate, TpMerge, TpReport, report_type,
};

/// Every aggregate function: `tp_<kind>` and `tp_<kind>_partial` for each
/// [`Kind`], and `tp_merge`.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        out.push(AggregateUDF::from(TpAggregate::new(kind, Output::Report)));
        out.push(AggregateUDF::from(TpAggregate::new(kind, Output::Partial)));
    }
    out.push(AggregateUDF::from(TpMerge::new()));
    out
}

/// Every scalar function: `tp_report` and `tp_funnel_report`.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(TpReport::new()),
        ScalarUDF::from(TpReport::funnel()),
    ]
}

/// Registers every `tp_*` function in `registry` (a `SessionContext`, a
/// `SessionState`, a Ballista executor's registry).
///
/// # Errors
///
/// The registry's own registration errors.
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for f in aggregate_functions() {
        registry.register_udaf(Arc::new(f))?;
    }
    for f in scalar_functions() {
        registry.register_udf(Arc::new(f))?;
    }
    Ok(())
}

/// A function named `name` that runs `spec` and takes no spec argument,
/// e.g. `preset("tp_markov3", &ModelSpec::parse(Kind::Markov, "order=3")?,
/// Output::Report)`. Register it on the client; with the
/// [`codec`] installed, the scheduler and executors rebuild it from the
/// plan.
///
/// # Errors
///
/// A plan error if the spec names an invalid model.
pub fn preset(name: &str, spec: &ModelSpec, output: Output) -> Result<AggregateUDF> {
    Ok(AggregateUDF::from(TpAggregate::preset(name, spec, output)?))
}
