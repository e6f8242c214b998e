//! touchpoint's models as Apache DataFusion aggregate functions (work in progress).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
