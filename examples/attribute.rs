//! Attributes journeys read from a JSON-lines file (or stdin) and prints one
//! JSON object: credited conversions and value per channel.
//!
//! ```text
//! cargo run --release --example attribute -- [FILE] --model NAME [options]
//!   --model NAME          first_touch, last_touch, last_non_direct, linear, time_decay,
//!                         position_based, j_shaped, inverse_j, w_shaped, full_path,
//!                         participation
//!   --half-life-days D    time_decay half-life (default 7)
//!   --lookback-days D     keep only touches within D days before the conversion
//!   --direct CHANNEL      a channel last_non_direct skips (repeatable; default direct)
//!   --timings             print compute_seconds=S on stderr (attribution only)
//! ```
//!
//! No journey rule is applied beyond sorting unless asked (`--lookback-days`).

#[path = "common/mod.rs"]
mod common;

use std::io::Read;
use std::time::Instant;

use serde_json::{Map, Value, json};
use touchpoint::models::{self, LastNonDirect, TimeDecay};
use touchpoint::rules::Rules;
use touchpoint::{AttributionModel, JourneySet, attribute};

#[derive(Debug, Default)]
struct Opts {
    file: Option<String>,
    model: Option<String>,
    half_life_days: Option<f64>,
    lookback_days: Option<f64>,
    direct: Vec<String>,
    timings: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut args = std::env::args().skip(1);
    let num = |flag: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{flag}: not a number: {v:?}"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => o.model = Some(args.next().ok_or("--model needs a name")?),
            "--half-life-days" => o.half_life_days = Some(num(&a, args.next())?),
            "--lookback-days" => o.lookback_days = Some(num(&a, args.next())?),
            "--direct" => o.direct.push(args.next().ok_or("--direct needs a channel")?),
            "--timings" => o.timings = true,
            "-h" | "--help" => return Err("usage: attribute [FILE] --model NAME [--half-life-days D] [--lookback-days D] [--direct CHANNEL] [--timings]".into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ if o.file.is_none() => o.file = Some(a),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    Ok(o)
}

/// The model named on the command line, configured by the options; fitted
/// models are fitted on `set`.
fn build_model(
    name: &str,
    o: &Opts,
    _set: &JourneySet,
) -> Result<Box<dyn AttributionModel>, Box<dyn std::error::Error>> {
    Ok(match name {
        "time_decay" => Box::new(match o.half_life_days {
            Some(d) => TimeDecay::with_half_life_days(d)?,
            None => TimeDecay::default(),
        }),
        "last_non_direct" if !o.direct.is_empty() => {
            Box::new(LastNonDirect::new(o.direct.iter().cloned())?)
        }
        other => models::by_name(other)?,
    })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    let model_name = o.model.clone().ok_or("--model NAME is required")?;
    let mut text = String::new();
    match &o.file {
        Some(path) => text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => {
            std::io::stdin().read_to_string(&mut text)?;
        }
    }
    let journeys = common::parse_journeys(&text)?;
    let mut set = JourneySet::new();
    for (i, j) in journeys.iter().enumerate() {
        set.push(j)
            .map_err(|e| format!("journey {} (line {}): {e}", j.id, i + 1))?;
    }
    if let Some(days) = o.lookback_days {
        let (clean, report) = Rules::new().lookback_days(days)?.apply(&set)?;
        eprintln!("lookback: removed {} touches", report.touches_removed());
        set = clean;
    }

    let start = Instant::now();
    let model = build_model(&model_name, &o, &set)?;
    let report = attribute(model.as_ref(), &set)?;
    let seconds = start.elapsed().as_secs_f64();

    let mut channels = Map::new();
    for c in report.channels().lines() {
        channels.insert(
            c.name().to_owned(),
            json!({"conversions": c.conversions(), "value": c.value()}),
        );
    }
    let mut out = json!({
        "model": report.model(),
        "journeys": report.journeys(),
        "conversions": report.conversions(),
        "value": report.value(),
        "channels": Value::Object(channels),
    });
    let un = report.channels().unassigned();
    if un.value_minor() != 0 || un.conversion_units() != 0 {
        out["unassigned"] = json!({"conversions": un.conversions(), "value": un.value()});
    }
    println!("{out}");
    if o.timings {
        eprintln!("compute_seconds={seconds:.6}");
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
