//! Placeholder: filled by the simulator work.
fn main() {}
