//! Integration tests: funnel.
