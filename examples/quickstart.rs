//! Quickstart: every rule-based model side by side on a sample shipped in
//! the repository (5,000 journeys from the causal simulator, 12 channels),
//! in attributed conversions and in dollars.
//!
//! Run: `cargo run --release --example quickstart`

#[path = "common/mod.rs"]
mod common;

use touchpoint::{AttributionModel, Report, compare, models};

const SAMPLE: &str = include_str!("data/sample.jsonl");

/// One table: a row per channel, a column per model; `cell` formats a line.
fn table(reports: &[Report], title: &str, cell: impl Fn(Option<&touchpoint::Credit>) -> String) {
    println!("{title}\n");
    let mut channels: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.channels().lines().iter().map(|c| c.name()))
        .collect();
    channels.sort_unstable();
    channels.dedup();
    print!("{:<16}", "channel");
    for r in reports {
        print!(" {:>15}", r.model());
    }
    println!();
    for ch in channels.iter().copied().chain(["(unassigned)"]) {
        print!("{ch:<16}");
        for r in reports {
            let line = if ch == "(unassigned)" {
                Some(r.channels().unassigned())
            } else {
                r.channels().get(ch)
            };
            print!(" {:>15}", cell(line));
        }
        println!();
    }
    println!();
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Bring journeys: here parsed from JSON lines into the crate's serde
    //    types (values in dollars, 2 decimals).
    let journeys = common::parse_journeys_with_lines(SAMPLE)?;
    // 2. Intern them once into a columnar set (validates values and costs, sorts touches).
    let set = common::journey_set(&journeys)?;
    let value_minor: i64 = set.iter().map(|j| j.value_minor()).sum();
    println!(
        "{} journeys, {} touches, {} conversions worth ${:.2} (USD, 2 decimals)\n",
        set.len(),
        set.touch_count(),
        set.conversions(),
        set.currency().to_major(value_minor)
    );
    // 3. Run every model.
    let all = models::all();
    let refs: Vec<&dyn AttributionModel> = all.iter().map(|m| m.as_ref()).collect();
    let comparison = compare(&refs, &set)?;
    let reports = comparison.reports();
    table(
        reports,
        "Attributed conversions per channel (conversions; participation credits every channel fully):",
        |c| format!("{:.2}", c.map_or(0.0, touchpoint::Credit::conversions)),
    );
    table(reports, "Attributed revenue per channel (USD):", |c| {
        format!("${:.2}", c.map_or(0.0, touchpoint::Credit::value))
    });
    // 4. Say where a model fell back on this data.
    let channels: Vec<Vec<String>> = journeys
        .iter()
        .map(|(_, j)| {
            let mut t: Vec<_> = j.touchpoints.iter().collect();
            t.sort_by_key(|t| t.ts);
            t.iter().map(|t| t.channel.to_string()).collect()
        })
        .collect();
    let direct = vec!["direct".to_owned()];
    for m in &all {
        let shapes = journeys
            .iter()
            .zip(&channels)
            .map(|((_, j), c)| common::Shape {
                channels: c,
                has_milestone: j.touchpoints.iter().any(|t| t.milestone.is_some()),
                converted: j.converted,
                has_conversion_ts: j.conversion_ts.is_some(),
                count: 1,
            });
        for note in common::fallback_notes(m.name(), &direct, shapes) {
            println!("Note ({}): {note}.", m.name());
        }
    }
    // 5. Every share-based report reconciles exactly, to the cent.
    for r in reports.iter().filter(|r| !r.is_full_credit()) {
        let lines: i128 = r.channels().lines().iter().map(|c| c.value_minor()).sum();
        if lines + r.channels().unassigned().value_minor() != r.value_minor() {
            return Err(format!("{}: channels do not add up to the total", r.model()).into());
        }
    }
    println!(
        "\nEvery share-based model's channel revenue sums to the total, ${:.2}, to the cent.",
        set.currency().to_major(value_minor)
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
