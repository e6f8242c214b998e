//! Integration tests: one binary, one module per area.
mod models;
mod rules;
mod datadriven;
mod funnel;
mod sim;
mod incremental;
