//! Integration tests: incremental.
