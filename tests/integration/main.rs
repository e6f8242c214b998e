//! Integration tests: one binary, one module per area.
mod datadriven;
mod funnel;
mod golden;
mod incremental;
mod models;
mod peers;
mod readers;
mod readme;
mod robustness;
mod rules;
mod sim;
