//! The `audit` command's findings.
//!
//! SEAM (issue 12): the core's `audit` module is not in this build. Until
//! the lead wires it, this module computes a small interim set of checks
//! on the journeys the CLI read (the reader's own summary, journeys without
//! touches, conversions without value, channel names that differ only by
//! case, spacing or punctuation, duplicate journey ids, the share of
//! direct/unknown touches, channels with sessions but no conversions).
//! Wiring the core audit means replacing [`audit`] with a call to
//! `touchpoint::audit::...` and mapping its findings to [`Finding`]
//! (kind, severity, count, examples, message); the output shape stays.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use touchpoint::JourneySet;

/// How much a finding matters.
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
    /// Machine-readable kind (`no_touches`, `channel_spelling`, ...).
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// How many records it concerns.
    pub count: u64,
    /// A few example ids or names.
    pub examples: Vec<String>,
    /// One sentence.
    pub message: String,
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

const EXAMPLES: usize = 3;

/// Runs the interim checks on a journey set.
pub fn audit(set: &JourneySet) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut no_touch = (0u64, Vec::new());
    let mut no_value = (0u64, Vec::new());
    let mut ids: HashSet<&str> = HashSet::new();
    let mut dup = (0u64, Vec::new());
    let mut touches_by_channel: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new(); // touches, journeys, conversions
    let mut total_touches = 0u64;
    for v in set.iter() {
        if !ids.insert(v.id()) {
            dup.0 += 1;
            if dup.1.len() < EXAMPLES {
                dup.1.push(v.id().to_owned());
            }
        }
        if v.is_empty() {
            no_touch.0 += 1;
            if no_touch.1.len() < EXAMPLES {
                no_touch.1.push(v.id().to_owned());
            }
        }
        if v.converted() && v.value_minor() == 0 {
            no_value.0 += 1;
            if no_value.1.len() < EXAMPLES {
                no_value.1.push(v.id().to_owned());
            }
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for i in 0..v.len() {
            let c = v.channel_name(i);
            total_touches += 1;
            let e = touches_by_channel.entry(c).or_default();
            e.0 += 1;
            if seen.insert(c) {
                e.1 += 1;
                if v.converted() {
                    e.2 += 1;
                }
            }
        }
    }
    if no_touch.0 > 0 {
        let conv = set.iter().filter(|v| v.is_empty() && v.converted()).count();
        out.push(Finding {
            kind: "no_touches",
            severity: if conv > 0 { Severity::Warning } else { Severity::Info },
            count: no_touch.0,
            examples: no_touch.1,
            message: format!(
                "{} journeys have no touch; {conv} of them converted, and no channel can explain those conversions (they go to `unassigned`)",
                no_touch.0
            ),
        });
    }
    if no_value.0 > 0 {
        out.push(Finding {
            kind: "conversion_without_value",
            severity: Severity::Warning,
            count: no_value.0,
            examples: no_value.1,
            message: format!(
                "{} converted journeys carry no value: revenue views undercount them",
                no_value.0
            ),
        });
    }
    if dup.0 > 0 {
        out.push(Finding {
            kind: "duplicate_journey_id",
            severity: Severity::Warning,
            count: dup.0,
            examples: dup.1,
            message: format!(
                "{} journey ids appear more than once: the same person may be counted twice",
                dup.0
            ),
        });
    }
    let mut groups: HashMap<String, Vec<&str>> = HashMap::new();
    for c in touches_by_channel.keys() {
        groups.entry(normalize(c)).or_default().push(c);
    }
    let mut spelled: Vec<Vec<&str>> = groups.into_values().filter(|g| g.len() > 1).collect();
    spelled.sort();
    for g in spelled {
        out.push(Finding {
            kind: "channel_spelling",
            severity: Severity::Warning,
            count: g.len() as u64,
            examples: g.iter().map(|s| (*s).to_owned()).collect(),
            message: format!(
                "channel names {} differ only by case, spacing or punctuation: map them to `{}` before attributing",
                g.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                g[0]
            ),
        });
    }
    let direct: u64 = touches_by_channel
        .iter()
        .filter(|(c, _)| {
            matches!(
                normalize(c).as_str(),
                "direct" | "unknown" | "none" | "directnone" | "notset"
            )
        })
        .map(|(_, n)| n.0)
        .sum();
    if total_touches > 0 && direct * 5 > total_touches {
        out.push(Finding {
            kind: "direct_share",
            severity: Severity::Warning,
            count: direct,
            examples: Vec::new(),
            message: format!(
                "{:.1}% of touches are direct or unknown: tracking may be losing the real source",
                100.0 * direct as f64 / total_touches as f64
            ),
        });
    }
    for (c, (_, journeys, conv)) in &touches_by_channel {
        if *conv == 0 && *journeys >= 50 {
            out.push(Finding {
                kind: "no_evidence_it_converts",
                severity: Severity::Info,
                count: *journeys,
                examples: vec![(*c).to_owned()],
                message: format!(
                    "`{c}` is on {journeys} journeys and none converted: no evidence it converts"
                ),
            });
        } else if *journeys < 30 {
            out.push(Finding {
                kind: "too_little_data",
                severity: Severity::Info,
                count: *journeys,
                examples: vec![(*c).to_owned()],
                message: format!(
                    "`{c}` is on only {journeys} journeys ({conv} converted): too little data to say what it does"
                ),
            });
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}
