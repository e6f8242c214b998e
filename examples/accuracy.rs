//! Accuracy of every attribution model against the simulator's ground truth.
//!
//! For each scenario (a [`Preset`]: few vs many channels, short vs long
//! paths, strong vs weak effects, one dominant closer, a useless channel
//! everywhere), simulates journeys, computes the true channel shares by
//! counterfactual removal, runs every model of the crate and prints each
//! model's error: the sum over channels of |model share − true share| of
//! conversions, in percentage points (0 is perfect, 200 the maximum). The
//! best model per scenario is marked with `*`.
//!
//! Run: `cargo run --release --example accuracy [-- --journeys 100000]
//! [--preset NAME]... [--seed 1] [--detail]`
//!
//! `--preset` may be repeated (or comma-separated); names: sample_like,
//! weak_effects, b2b, order_matters, useless_everywhere, many_channels.
//! `--detail` also prints each scenario's true shares next to every model's.

use std::time::Instant;

use touchpoint::sim::{GroundTruth, Preset, Simulator};
use touchpoint::{AttributionModel, JourneySet, Report, attribute, models};

/// Models with the names they are listed under.
type NamedModels = Vec<(String, Box<dyn AttributionModel>)>;

/// Every model of the crate to evaluate: the rule-based ones, then those
/// fitted on `set`.
fn models_for(set: &JourneySet) -> Result<NamedModels, Box<dyn std::error::Error>> {
    let mut list: Vec<(String, Box<dyn AttributionModel>)> = models::all()
        .into_iter()
        .map(|m| (m.name().to_owned(), m))
        .collect();
    list.extend(fitted_models(set)?);
    Ok(list)
}

/// Models fitted on the simulated set (data-driven and incremental). Add
/// them here, e.g.
/// `out.push(("markov_1".into(), Box::new(touchpoint::markov::Markov::fit(set, 1)?)));`
fn fitted_models(set: &JourneySet) -> Result<NamedModels, Box<dyn std::error::Error>> {
    let out: NamedModels = Vec::new();
    let _ = set;
    Ok(out)
}

/// What each preset tests.
fn describe(p: Preset) -> &'static str {
    match p {
        Preset::SampleLike => "12 channels, short paths, presence effects (the shipped sample)",
        Preset::WeakEffects => "12 channels, short paths, weak effects",
        Preset::B2b => "10 channels, long paths, strong late-stage channels",
        Preset::OrderMatters => "6 channels, one dominant closer, one channel needing another",
        Preset::UselessEverywhere => "7 channels, a useless channel (display) on 80% of paths",
        Preset::ManyChannels => "36 channels, sparse paths",
        _ => "",
    }
}

struct Opts {
    journeys: u64,
    seed: u64,
    presets: Vec<Preset>,
    detail: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        journeys: 100_000,
        seed: 1,
        presets: Vec::new(),
        detail: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--journeys" => {
                let v = args.next().ok_or("--journeys needs a number")?;
                o.journeys = v
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 1.0 && n.fract() == 0.0)
                    .ok_or(format!("--journeys: {v:?} is not a whole number >= 1"))?
                    as u64;
            }
            "--seed" => {
                let v = args.next().ok_or("--seed needs a number")?;
                o.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: {v:?} is not a u64"))?;
            }
            "--preset" => {
                let v = args.next().ok_or("--preset needs a name")?;
                for name in v.split(',') {
                    o.presets
                        .push(name.trim().parse().map_err(|e| format!("{e}"))?);
                }
            }
            "--detail" => o.detail = true,
            "-h" | "--help" => {
                return Err(
                    "usage: accuracy [--journeys N] [--preset NAME]... [--seed S] [--detail]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if o.presets.is_empty() {
        o.presets = Preset::ALL.to_vec();
    }
    Ok(o)
}

fn shares(report: &Report, truth: &GroundTruth) -> Vec<f64> {
    let total: f64 = report
        .channels()
        .lines()
        .iter()
        .map(|l| l.conversions())
        .sum();
    truth
        .channels
        .iter()
        .map(|c| {
            report
                .channels()
                .get(&c.name)
                .map_or(0.0, |l| l.conversions())
                / total
        })
        .collect()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    let started = Instant::now();
    // errors[preset][model]
    let mut names: Vec<String> = Vec::new();
    let mut errors: Vec<Vec<f64>> = Vec::new();
    for &p in &o.presets {
        let sim = Simulator::new(p.config(o.seed));
        let set = sim.journey_set(o.journeys)?;
        let truth = sim.ground_truth(o.journeys)?;
        let list = models_for(&set)?;
        if names.is_empty() {
            names = list.iter().map(|(n, _)| n.clone()).collect();
        }
        let mut row = Vec::with_capacity(list.len());
        let mut detail = Vec::new();
        for (name, model) in &list {
            let report = attribute(model.as_ref(), &set)?;
            row.push(truth.error_pp(&report)?);
            if o.detail {
                detail.push((name.clone(), shares(&report, &truth)));
            }
        }
        eprintln!(
            "{p}: {} journeys, {} touches, {} conversions ({:.1}%) — {}",
            set.len(),
            set.touch_count(),
            set.conversions(),
            100.0 * set.conversions() as f64 / set.len() as f64,
            describe(p)
        );
        if o.detail {
            print!(
                "\n{p}: conversion shares in % (truth first)\n{:<22}",
                "model"
            );
            for c in &truth.channels {
                print!(" {:>8.8}", c.name);
            }
            print!("\n{:<22}", "TRUTH");
            for c in &truth.channels {
                print!(" {:>8.2}", 100.0 * c.share);
            }
            println!();
            for (name, s) in &detail {
                print!("{name:<22}");
                for x in s {
                    print!(" {:>8.2}", 100.0 * x);
                }
                println!();
            }
        }
        errors.push(row);
    }

    println!(
        "\nError against the ground truth: Σ |model share − true share| of conversions, in \
         percentage points ({} journeys per scenario, seed {}; * = best per scenario)\n",
        o.journeys, o.seed
    );
    print!("| model |");
    for p in &o.presets {
        print!(" {p} |");
    }
    println!(" mean |");
    print!("|---|");
    for _ in &o.presets {
        print!("---:|");
    }
    println!("---:|");
    let best: Vec<usize> = errors
        .iter()
        .map(|row| {
            (0..row.len())
                .min_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0)
        })
        .collect();
    for (m, name) in names.iter().enumerate() {
        print!("| {name} |");
        let mut sum = 0.0;
        for (k, row) in errors.iter().enumerate() {
            let mark = if best[k] == m { "*" } else { "" };
            print!(" {:.1}{mark} |", row[m]);
            sum += row[m];
        }
        println!(" {:.1} |", sum / errors.len() as f64);
    }
    eprintln!("\n{:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("accuracy: {e}");
        std::process::exit(2);
    }
}
