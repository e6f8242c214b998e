//! Attributes journeys read from a JSON-lines file (or stdin) and prints one
//! JSON object: credited conversions and value per channel.
//!
//! ```text
//! cargo run --release --example attribute -- [FILE] --model NAME [options]
//!   --model NAME          first_touch, last_touch, last_non_direct, linear, time_decay,
//!                         position_based, j_shaped, inverse_j, w_shaped, full_path,
//!                         participation, markov, shapley, incremental
//!   --order K             markov order (default 1)
//!   --collapse-repeats    markov: collapse consecutive repeats of a channel
//!   --shapley VARIANT     simplified (default), rate or ordered
//!   --half-life-days D    time_decay half-life (default 7)
//!   --lookback-days D     keep only touches within D days before the conversion
//!   --direct CHANNEL      a channel last_non_direct skips (repeatable; default direct)
//!   --timings             print compute_seconds=S on stderr (attribution only)
//!   --intervals R         incremental: 95% bootstrap intervals, R replicates
//! ```
//!
//! `--model incremental` chooses its configuration from the data
//! (`incremental::select`) and prints three views: `channels` (credit),
//! `baseline` with `incremental_credit` (what the channels added and what
//! would have converted anyway), `incremental.channels` (expected
//! incremental conversions and value, raw, may be negative), and the
//! chosen `config` with every candidate's score in `selection`. The fit's
//! warnings go to stderr.
//!
//! No journey rule is applied beyond sorting unless asked (`--lookback-days`).
//!
//! FILE may also be an aggregated `*.paths.csv` file
//! (`path,total_conversions,total_conversion_value,total_null`). Markov and
//! Shapley fit the rows directly; the other models see each row expanded
//! into its journeys (value split equally to the cent, touches one day
//! apart), so time decay and the lookback window, which need real times,
//! are refused on paths.
//!
//! For markov and shapley the channels are the model's channel-level credit
//! (total x weight / sum of weights, as the literature defines it); for every
//! other model they are the sum of per-journey credit.

#[path = "common/mod.rs"]
mod common;

use std::io::Read;
use std::time::Instant;

use serde_json::{Map, Value, json};
use touchpoint::incremental::{self, SelectConfig};
use touchpoint::markov::{self, ChannelCredits, MarkovConfig, MarkovFit};
use touchpoint::models::{self, LastNonDirect, TimeDecay};
use touchpoint::rules::Rules;
use touchpoint::shapley::{self, ShapleyConfig, ShapleyFit, ShapleyVariant};
use touchpoint::{
    AttributionModel, Currency, JourneySet, Report, SimpleJourney, SimpleTouch, attribute,
};

#[derive(Debug, Default)]
struct Opts {
    file: Option<String>,
    model: Option<String>,
    half_life_days: Option<f64>,
    lookback_days: Option<f64>,
    direct: Vec<String>,
    order: Option<u8>,
    collapse_repeats: bool,
    shapley: Option<String>,
    timings: bool,
    intervals: Option<u32>,
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
            "--order" => {
                let v = args.next().ok_or("--order needs a value")?;
                o.order = Some(v.parse().map_err(|_| format!("--order: not an order: {v:?}"))?);
            }
            "--collapse-repeats" => o.collapse_repeats = true,
            "--shapley" => o.shapley = Some(args.next().ok_or("--shapley needs a variant")?),
            "--timings" => o.timings = true,
            "--intervals" => {
                let v = args.next().ok_or("--intervals needs a replicate count")?;
                o.intervals = Some(v.parse().map_err(|_| format!("--intervals: not a count: {v:?}"))?);
            }
            "-h" | "--help" => return Err("usage: attribute [FILE] --model NAME [--order K] [--collapse-repeats] [--shapley VARIANT] [--half-life-days D] [--lookback-days D] [--direct CHANNEL] [--timings]".into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ if o.file.is_none() => o.file = Some(a),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    Ok(o)
}

/// A rule-based or incremental model named on the command line, configured
/// by the options (the incremental model is fitted on `set`).
fn build_model(
    name: &str,
    o: &Opts,
    set: &JourneySet,
) -> Result<Box<dyn AttributionModel>, Box<dyn std::error::Error>> {
    Ok(match name {
        "time_decay" => Box::new(match o.half_life_days {
            Some(d) => TimeDecay::with_half_life_days(d)?,
            None => TimeDecay::default(),
        }),
        "last_non_direct" if !o.direct.is_empty() => {
            Box::new(LastNonDirect::new(o.direct.iter().cloned())?)
        }
        "incremental" => Box::new(incremental::select(set, SelectConfig::new())?.0),
        other => models::by_name(other)?,
    })
}

fn shapley_config(o: &Opts, currency: Currency) -> Result<ShapleyConfig, String> {
    let variant = match o.shapley.as_deref().unwrap_or("simplified") {
        "simplified" => ShapleyVariant::Simplified,
        "rate" => ShapleyVariant::Rate,
        "ordered" => ShapleyVariant::Ordered,
        v => {
            return Err(format!(
                "--shapley: unknown variant {v:?} (simplified, rate, ordered)"
            ));
        }
    };
    Ok(ShapleyConfig::new(variant).with_currency(currency))
}

fn markov_config(o: &Opts, currency: Currency) -> touchpoint::Result<MarkovConfig> {
    Ok(MarkovConfig::new(o.order.unwrap_or(1))?
        .collapse_repeats(o.collapse_repeats)
        .with_currency(currency))
}

/// Expands aggregated path rows into journeys: `conversions` converting
/// journeys sharing the row's value equally (leftover cents to the first),
/// and `nulls` non-converting ones; touches one day apart.
fn expand_paths(rows: &[common::PathRow]) -> Result<JourneySet, Box<dyn std::error::Error>> {
    let mut set = JourneySet::new();
    let currency = set.currency();
    let day = |k: usize| chrono::DateTime::from_timestamp(86_400 * k as i64, 0).unwrap_or_default();
    for (r, row) in rows.iter().enumerate() {
        let touches: Vec<SimpleTouch> = row
            .path
            .iter()
            .enumerate()
            .map(|(k, c)| SimpleTouch::new(c.clone(), day(k)))
            .collect();
        let total = currency
            .to_minor(row.value)?
            .ok_or_else(|| format!("row {}: value {} out of range", r + 1, row.value))?;
        let n = row.conversions as i64;
        for k in 0..row.conversions + row.nulls {
            let mut j = SimpleJourney::new(format!("row{}-{k}", r + 1));
            j.touchpoints.clone_from(&touches);
            if k < row.conversions {
                let cents = total / n + i64::from((k as i64) < total % n);
                j = j.converted(currency.to_major(cents));
            }
            set.push(&j)?;
        }
    }
    Ok(set)
}

/// Channel lines of the output.
struct Out {
    model: String,
    journeys: u64,
    conversions: u64,
    value: f64,
    channels: Vec<(String, f64, f64)>,
    unassigned: (f64, f64),
}

impl Out {
    fn from_credits(c: &ChannelCredits, journeys: u64) -> Out {
        let cur = c.currency();
        Out {
            model: c.model().to_owned(),
            journeys,
            conversions: c.conversions(),
            value: cur.to_major(c.value_minor()),
            channels: c
                .lines()
                .iter()
                .map(|l| (l.channel().to_owned(), l.conversions(), l.value()))
                .collect(),
            unassigned: (
                c.unassigned_conversions() as f64,
                cur.to_major(c.unassigned_value_minor()),
            ),
        }
    }

    fn from_report(r: &Report) -> Out {
        let un = r.channels().unassigned();
        Out {
            model: r.model().to_owned(),
            journeys: r.journeys(),
            conversions: r.conversions(),
            value: r.value(),
            channels: r
                .channels()
                .lines()
                .iter()
                .map(|c| (c.name().to_owned(), c.conversions(), c.value()))
                .collect(),
            unassigned: (un.conversions(), un.value()),
        }
    }
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
    let is_paths = o.file.as_deref().is_some_and(|f| f.ends_with(".csv"));

    let (out, seconds) = if is_paths {
        let rows = common::parse_paths(&text)?;
        let journeys: u64 = rows.iter().map(|r| r.conversions + r.nulls).sum();
        let minor = |r: &common::PathRow| -> Result<i64, String> {
            Currency::default()
                .to_minor(r.value)
                .ok()
                .flatten()
                .ok_or_else(|| format!("value {} out of range", r.value))
        };
        match model_name.as_str() {
            "markov" => {
                let start = Instant::now();
                let mut fit = MarkovFit::new(markov_config(&o, Currency::default())?);
                for r in &rows {
                    fit.observe_path(&r.path, r.conversions, minor(r)?, r.nulls)?;
                }
                let credits = fit.finish()?.credits()?;
                (
                    Out::from_credits(&credits, journeys),
                    start.elapsed().as_secs_f64(),
                )
            }
            "shapley" => {
                let start = Instant::now();
                let mut fit = ShapleyFit::new(shapley_config(&o, Currency::default())?);
                for r in &rows {
                    fit.observe_path(&r.path, r.conversions, minor(r)?, r.nulls)?;
                }
                let credits = fit.finish()?.credits().clone();
                (
                    Out::from_credits(&credits, journeys),
                    start.elapsed().as_secs_f64(),
                )
            }
            "time_decay" => {
                return Err("paths carry no timestamps: time_decay needs journeys".into());
            }
            _ if o.lookback_days.is_some() => {
                return Err("paths carry no timestamps: --lookback-days needs journeys".into());
            }
            name => {
                let set = expand_paths(&rows)?;
                let start = Instant::now();
                let model = build_model(name, &o, &set)?;
                let report = attribute(model.as_ref(), &set)?;
                (Out::from_report(&report), start.elapsed().as_secs_f64())
            }
        }
    } else {
        let journeys = common::parse_journeys(&text)?;
        let mut set = JourneySet::new();
        for (i, j) in journeys.iter().enumerate() {
            set.push(j).map_err(|e| format!("line {}: {e}", i + 1))?;
        }
        if let Some(days) = o.lookback_days {
            let (clean, report) = Rules::new().lookback_days(days)?.apply(&set)?;
            eprintln!("lookback: removed {} touches", report.touches_removed());
            set = clean;
        }
        let start = Instant::now();
        let out = match model_name.as_str() {
            "markov" => Out::from_credits(
                &markov::fit(&set, markov_config(&o, set.currency())?)?.credits()?,
                set.len() as u64,
            ),
            "shapley" => Out::from_credits(
                shapley::fit(&set, shapley_config(&o, set.currency())?)?.credits(),
                set.len() as u64,
            ),
            "incremental" => {
                println!("{}", incremental_output(&set, &o)?);
                return Ok(());
            }
            name => {
                let model = build_model(name, &o, &set)?;
                Out::from_report(&attribute(model.as_ref(), &set)?)
            }
        };
        (out, start.elapsed().as_secs_f64())
    };

    let mut channels = Map::new();
    for (name, c, v) in &out.channels {
        channels.insert(name.clone(), json!({"conversions": c, "value": v}));
    }
    let mut json = json!({
        "model": out.model,
        "journeys": out.journeys,
        "conversions": out.conversions,
        "value": out.value,
        "channels": Value::Object(channels),
    });
    if out.unassigned != (0.0, 0.0) {
        json["unassigned"] = json!({"conversions": out.unassigned.0, "value": out.unassigned.1});
    }
    println!("{json}");
    if o.timings {
        eprintln!("compute_seconds={seconds:.6}");
    }
    Ok(())
}

/// The incremental model's output: the configuration chosen from the data,
/// its three views (and, with `--intervals R`, each channel's 95% bootstrap
/// interval), as JSON; the fit's warnings on stderr.
fn incremental_output(set: &JourneySet, o: &Opts) -> Result<Value, Box<dyn std::error::Error>> {
    let (model, selection) = incremental::select(set, SelectConfig::new())?;
    for w in &model.diagnostics().warnings {
        eprintln!("warning: {w}");
    }
    let boot = match o.intervals {
        Some(r) => Some(incremental::bootstrap_effects(
            set,
            selection.config(),
            &touchpoint::bootstrap::BootstrapConfig::new().replicates(r)?,
        )?),
        None => None,
    };
    let mut summary = model.summary(set, boot.as_ref())?;
    summary.selection = Some(selection);
    Ok(serde_json::to_value(&summary)?)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
