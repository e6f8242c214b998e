//! Attributing your own types: rows from a CRM export, used in place
//! through the `Journey` and `Touchpoint` traits, with no copying into the
//! crate's own structs.
//!
//! Run: `cargo run --example custom_types`

use touchpoint::chrono::{DateTime, TimeZone, Utc};
use touchpoint::models::{Linear, TimeDecay};
use touchpoint::{Journey, JourneySet, Outcome, Touchpoint, attribute};

/// One activity row as a CRM exports it.
struct Activity {
    utm_source: &'static str,
    utm_campaign: Option<&'static str>,
    occurred_at: DateTime<Utc>,
}

/// One contact with its activities and, if won, the deal amount.
struct Contact {
    email: &'static str,
    activities: Vec<Activity>,
    won: Option<(f64, DateTime<Utc>)>,
}

impl Touchpoint for Activity {
    fn channel(&self) -> &str {
        self.utm_source
    }
    fn timestamp(&self) -> DateTime<Utc> {
        self.occurred_at
    }
    fn campaign(&self) -> Option<&str> {
        self.utm_campaign
    }
}

impl Journey for Contact {
    type Touch = Activity;
    fn id(&self) -> &str {
        self.email
    }
    fn touchpoints(&self) -> &[Activity] {
        &self.activities
    }
    fn outcome(&self) -> Outcome {
        match self.won {
            Some((amount, at)) => Outcome {
                converted: true,
                value: amount,
                conversion_ts: Some(at),
            },
            None => Outcome::not_converted(),
        }
    }
}

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, d, 12, 0, 0).unwrap()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let act = |src, camp, d| Activity {
        utm_source: src,
        utm_campaign: camp,
        occurred_at: day(d),
    };
    let contacts = vec![
        Contact {
            email: "ana@example.com",
            activities: vec![
                act("linkedin", Some("q1_launch"), 1),
                act("webinar", Some("q1_webinar"), 8),
                act("email", Some("q1_nurture"), 15),
            ],
            won: Some((12_000.0, day(20))),
        },
        Contact {
            email: "bo@example.com",
            // out of time order on purpose: the crate sorts (stably)
            activities: vec![act("email", Some("q1_nurture"), 9), act("google", None, 2)],
            won: Some((3_000.0, day(10))),
        },
        Contact {
            email: "cy@example.com",
            activities: vec![act("linkedin", Some("q1_launch"), 4)],
            won: None,
        },
    ];

    // The set borrows each contact while interning it; `contacts` is not copied.
    let set = JourneySet::from_journeys(&contacts)?;
    for (name, report) in [
        ("linear", attribute(&Linear, &set)?),
        (
            "time decay (7-day half-life)",
            attribute(&TimeDecay::default(), &set)?,
        ),
    ] {
        println!(
            "{name}: {} conversions worth {:.2}",
            report.conversions(),
            report.value()
        );
        for line in report.channels().lines() {
            println!(
                "  channel  {:<10} {:>5.2} conv  {:>10.2}",
                line.name(),
                line.conversions(),
                line.value()
            );
        }
        for line in report.campaigns().lines() {
            println!(
                "  campaign {:<10} {:>5.2} conv  {:>10.2}",
                line.name(),
                line.conversions(),
                line.value()
            );
        }
        let none = report.campaigns().unassigned();
        println!(
            "  campaign (none)      {:>5.2} conv  {:>10.2}",
            none.conversions(),
            none.value()
        );
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
