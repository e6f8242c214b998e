use touchpoint::chrono::{DateTime, Utc};
use touchpoint::models::{Linear, TimeDecay};
use touchpoint::{JourneySet, SimpleJourney, SimpleTouch, attribute};

fn at(rfc3339: &str) -> Result<DateTime<Utc>, touchpoint::chrono::ParseError> {
    rfc3339.parse()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Your journeys: here built by hand; your own structs work through the
    // `Journey` and `Touchpoint` traits. Values are in dollars (2 decimals).
    let journeys = [
        SimpleJourney::new("lead-1")
            .touch(SimpleTouch::new("paid_search", at("2024-02-27T09:15:00Z")?))
            .touch(
                SimpleTouch::new("email", at("2024-03-02T18:40:05Z")?).campaign("spring_webinar"),
            )
            .touch(SimpleTouch::new("direct", at("2024-03-09T13:58:30Z")?))
            .converted(129.50)
            .converted_at(at("2024-03-09T14:02:11Z")?),
        SimpleJourney::new("lead-2")
            .touch(
                SimpleTouch::new("email", at("2024-03-01T08:00:00Z")?).campaign("spring_webinar"),
            )
            .converted(40.00),
        SimpleJourney::new("lead-3")
            .touch(SimpleTouch::new("paid_search", at("2024-03-03T10:00:00Z")?)),
    ];

    // Intern once (validates values, sorts touches by time), then run any model.
    let set = JourneySet::from_journeys(&journeys)?;
    for report in [
        attribute(&Linear, &set)?,
        attribute(&TimeDecay::with_half_life_days(7.0)?, &set)?,
    ] {
        println!(
            "{}: {} conversions worth ${:.2}",
            report.model(),
            report.conversions(),
            report.value()
        );
        println!(
            "  {:<12} {:>11} {:>10}",
            "channel", "conversions", "value ($)"
        );
        for line in report.channels().lines() {
            println!(
                "  {:<12} {:>11.3} {:>10.2}",
                line.name(),
                line.conversions(),
                line.value()
            );
        }
        // Exact: the channels' cents add up to the total, to the cent.
        let cents: i128 = report
            .channels()
            .lines()
            .iter()
            .map(|l| l.value_minor())
            .sum();
        assert_eq!(
            cents + report.channels().unassigned().value_minor(),
            report.value_minor()
        );
    }
    Ok(())
}
