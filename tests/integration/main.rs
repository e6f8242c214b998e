//! Integration tests: one binary, one module per area.
mod audit;
mod datadriven;
mod funnel;
mod incremental;
mod models;
mod peers;
mod robustness;
mod rules;
mod sim;
mod story;
