//! Rule-based attribution models.
//!
//! Each model is a small `Copy` value implementing
//! [`AttributionModel`](crate::AttributionModel).

mod simple;
mod time_decay;

pub use self::simple::{FirstTouch, LastTouch, Linear};
pub use self::time_decay::TimeDecay;
