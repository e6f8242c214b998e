//! The `audit` command's findings: the core's data audit
//! (`touchpoint::audit`), each finding rendered as one English sentence by
//! the core's narrative renderer (`touchpoint::story::english`).
//!
//! The core audits journeys in the order given; the CLI hands it the
//! journeys it read, after its reader's rules (so a line the reader
//! skipped is in the reader's summary, not in a finding). Touches come
//! from the interned set, already in time order: the core's
//! `unsorted_touches` check cannot fire here.

use serde::Serialize;
use touchpoint::JourneySet;
use touchpoint::audit::{self, AuditReport, Figure};
use touchpoint::funnel::Lead;
use touchpoint::roi::Spend;
use touchpoint::story;

use crate::engine;

/// How much a finding matters (the core's `audit::Severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context.
    Info,
    /// Changes how much to trust the results.
    Warning,
    /// Results would be wrong.
    Blocking,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Machine-readable kind: the core's check name (`dark_conversions`,
    /// `name_variants`, ...).
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// How many records it concerns.
    pub count: u64,
    /// Out of how many.
    pub out_of: u64,
    /// The channel, stage or name it is about, if any.
    pub subject: Option<String>,
    /// A few example ids or names.
    pub examples: Vec<String>,
    /// The figures behind it (name, value, unit).
    pub figures: Vec<Figure>,
    /// Other names it points to (other spellings, valid stages, model
    /// families lacking data).
    pub related: Vec<String>,
    /// One sentence.
    pub message: String,
}

fn severity(s: audit::Severity) -> Severity {
    match s {
        audit::Severity::Info => Severity::Info,
        audit::Severity::Warning => Severity::Warning,
        _ => Severity::Blocking,
    }
}

/// One finding of the core's audit as the command's [`Finding`].
pub fn finding(f: &audit::Finding) -> Finding {
    let caveat = story::Finding::DataCaveat {
        check: f.check,
        severity: f.severity,
        subject: f.subject.clone(),
        count: f.count,
        out_of: f.out_of,
    };
    let mut message = story::english(&caveat, "");
    if !f.related.is_empty() {
        message.push_str(&format!(" Related: {}.", f.related.join(", ")));
    }
    if !f.examples.is_empty() {
        message.push_str(&format!(" Examples: {}.", f.examples.join(", ")));
    }
    Finding {
        kind: f.check.as_str(),
        severity: severity(f.severity),
        count: f.count,
        out_of: f.out_of,
        subject: f.subject.clone(),
        examples: f.examples.clone(),
        figures: f.figures.clone(),
        related: f.related.clone(),
        message,
    }
}

/// The core's audit of the journeys (and leads and spend, when given).
pub fn report(set: &JourneySet, leads: &[Lead], spend: Option<&Spend>) -> AuditReport {
    engine::audit_report(set, leads, spend)
}

/// The findings of [`report`], most severe first (the core's order).
pub fn audit(set: &JourneySet) -> Vec<Finding> {
    report(set, &[], None)
        .findings()
        .iter()
        .map(finding)
        .collect()
}
