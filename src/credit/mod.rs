//! The attribution engine: exact integer credit, mergeable partial reports,
//! and the [`Report`] by channel, campaign and content.
//!
//! | file | what it holds |
//! |---|---|
//! | `apportion.rs` | the largest-remainder split and the per-touch [`Crediter`] |
//! | `partial.rs` | [`CreditConfig`], [`Breakdowns`] and the mergeable [`CreditPartial`] |
//! | `report.rs` | [`Report`], [`Breakdown`], [`Credit`], [`attribute`], [`compare`] |
//! | `wire.rs` | the serialized form of a partial and its one validation |
//!
//! # How weights become money
//!
//! For each converted journey with touches, the model's weights are
//! normalized to shares `s_i = w_i / Σw`. The journey's value `V` (an
//! integer count of minor units) is split by the *largest-remainder*
//! method: every touch first gets `floor(s_i · V)`, then the units left over
//! go one each to the touches with the largest fractional parts, ties to the
//! earlier touch. The journey's one conversion is split the same way in
//! units of 10⁻⁹ ([`CONVERSION_UNITS`]). So each journey's credit sums to
//! exactly its value, every sum after that is an integer sum, and a report
//! is the same bit for bit however the journeys were split, ordered or
//! merged.
//!
//! A converted journey with no touch is credited to the explicit
//! *unassigned* bucket of each breakdown (see [`Breakdown::unassigned`]),
//! never lost: `Σ lines + unassigned = total` holds exactly, in every
//! breakdown. Touches without a campaign (or content asset) put their credit
//! in that breakdown's unassigned bucket too.
//!
//! # Performance
//!
//! One pass over the journeys, no allocation per journey. The engine
//! branches on the shape of the weights a model sets: "all to touch k"
//! (first, last, last non-direct) credits one touch in O(1) whatever the
//! journey's length, "equal" (linear) splits inline, and general weights go
//! through the largest-remainder split, which for journeys of up to 24
//! touches splits value and conversion in one pass over the weights and
//! hands out leftover units by rank, without sorting or unpredictable
//! branches (the same result as the sort, tested against it); the split of
//! one conversion is reused while a model's weights repeat. Each breakdown
//! keeps the unassigned bucket in its slot 0, so a touch without a campaign
//! costs no branch, and the breakdowns asked for are chosen once per run.
//! Non-converted journeys cost a counter increment. Models are
//! monomorphized when [`attribute`] is called with a concrete type; through
//! `&dyn AttributionModel` each journey costs one virtual call. Streaming
//! ([`CreditPartial::observe`]) interns each journey into reused buffers
//! of the partial (names of up to 16 bytes through a table keyed by their
//! bytes, without hashing or comparing strings), then runs the same code.
//! DESIGN.md ("How the engine stays fast") lists the choices.

mod apportion;
pub(crate) mod names;
mod partial;
mod report;
mod wire;

pub use self::apportion::Crediter;
pub(crate) use self::apportion::apportion_weighted;
pub use self::partial::{Breakdowns, CodedTouch, CreditConfig, CreditPartial};
#[expect(deprecated, reason = "re-exported until its removal")]
pub use self::report::attribute_partial;
pub use self::report::{Breakdown, Comparison, Credit, Report, attribute, attribute_with, compare};

/// One conversion, in the fixed-point units fractional conversions are
/// counted in: 10⁹, so a channel's attributed conversions are exact to 1e-9
/// per journey and their sum over channels is exact.
pub const CONVERSION_UNITS: u64 = 1_000_000_000;
