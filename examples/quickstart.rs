//! Quickstart: every rule-based model side by side on a sample shipped in
//! the repository (5,000 journeys from the causal simulator, 12 channels).
//!
//! Run: `cargo run --release --example quickstart`

#[path = "common/mod.rs"]
mod common;

use touchpoint::{AttributionModel, JourneySet, compare, models};

const SAMPLE: &str = include_str!("data/sample.jsonl");

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Bring journeys: here parsed from JSON lines into the crate's serde types.
    let journeys = common::parse_journeys(SAMPLE)?;
    // 2. Intern them once into a columnar set (validates values and costs, sorts touches).
    let set = JourneySet::from_journeys(&journeys)?;
    println!(
        "{} journeys, {} touches, {} conversions worth {:.2}\n",
        set.len(),
        set.touch_count(),
        set.conversions(),
        set.iter().map(|j| j.value_minor()).sum::<i64>() as f64 / 100.0
    );
    // 3. Run every model and print attributed conversions per channel.
    let all = models::all();
    let refs: Vec<&dyn AttributionModel> = all.iter().map(|m| m.as_ref()).collect();
    let table = compare(&refs, &set)?;
    println!("Attributed conversions per channel (participation credits every channel fully):\n");
    print!("{table}");
    // 4. Every share-based report reconciles exactly, to the cent.
    for r in table.reports().iter().filter(|r| !r.is_full_credit()) {
        let lines: i128 = r.channels().lines().iter().map(|c| c.value_minor()).sum();
        assert_eq!(
            lines + r.channels().unassigned().value_minor(),
            r.value_minor()
        );
    }
    println!("\nEvery share-based model's channel values sum to the total value, to the cent.");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
