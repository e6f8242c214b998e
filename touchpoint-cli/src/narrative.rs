//! Plain-language findings for the report: the core's narrative
//! (`touchpoint::story`), typed findings rendered by its English renderer.
//!
//! The core decides what is said and how sure it is (top channels by
//! credited revenue under linear credit, where position-based credit and
//! the incremental model disagree, the funnel's largest drop, acceptance,
//! time to close, velocity, ROI leaders and laggards, a budget move, and
//! the audit's caveats); this module only renders each finding as one
//! sentence, keeping the `Vec<String>` shape the HTML report shows.

use touchpoint::JourneySet;
use touchpoint::audit::AuditReport;

use crate::commands::CompareOut;
use crate::engine::{self, FunnelOut};
use crate::error::Result;

/// The prefix of amounts: a currency code is followed by a space
/// (`USD 1,200.00`), a symbol is not (`$1,200.00`).
fn symbol(currency: &str) -> String {
    if currency.chars().all(char::is_alphabetic) && !currency.is_empty() {
        format!("{currency} ")
    } else {
        currency.to_owned()
    }
}

/// Sentences about the results, in the core's order. With `drivers`
/// (replicates, seed, level), the top channels' sentences carry bootstrap
/// intervals of their linear credit.
///
/// # Errors
///
/// Model errors while computing the compared reports; bad bootstrap
/// options.
pub fn sentences(
    set: &JourneySet,
    compare: &CompareOut,
    funnel: Option<&FunnelOut>,
    audit: &AuditReport,
    currency: &str,
    drivers: Option<(u32, u64, f64)>,
) -> Result<Vec<String>> {
    let (m, b) = &compare.incremental_fit;
    let cfg = drivers
        .map(|(r, seed, level)| engine::bootstrap_config(r, seed, level))
        .transpose()?;
    let findings = engine::story_findings(set, Some((m, b.as_ref())), funnel, audit, cfg.as_ref())?;
    let sym = symbol(currency);
    Ok(findings.iter().map(|f| engine::english(f, &sym)).collect())
}
