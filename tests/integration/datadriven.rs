//! Integration tests: datadriven.
