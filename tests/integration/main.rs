//! Integration tests: one binary, one module per area.

/// The example programs' readers, tested by `readers` and used by `peers`.
#[path = "../../examples/common/mod.rs"]
mod common;

mod audit;
mod datadriven;
mod funnel;
mod golden;
mod incremental;
mod markov_orders;
mod models;
mod peers;
mod readers;
mod readme;
mod robustness;
mod rules;
mod sim;
mod story;
