//! Attributes journeys read from a JSON-lines file (or stdin) and prints one
//! JSON object: credited conversions and value per channel, with the
//! input's totals, the currency, and a note for every fallback the model
//! took. The file formats and the output are documented in
//! `docs/FORMAT.md`.
//!
//! ```text
//! cargo run --release --example attribute -- [FILE] --model NAME [options]
//! cargo run --release --example attribute -- --help
//! (incremental: `--intervals R` adds 95% bootstrap intervals)
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
//! Shapley fit the rows directly; every other model credits each row by
//! weight (one journey's credit times the row's count: touches one day
//! apart, the row's value split equally to the cent), so huge counts cost
//! nothing; time decay and the lookback window, which need real times, are
//! refused on paths.
//!
//! `--timings` prints `compute_seconds=S` on stderr: the model's work only
//! (fitting and crediting, and building the report); `read_seconds=S`,
//! the model-independent work before it; and `scan_seconds=S`, the
//! physical reference: one pass over the same input in memory that reads
//! what the model must read and does nothing else, the best of five
//! passes: each journey's channel ids and times (a journey file, or a
//! paths file's distinct converting journeys for a per-journey model), or
//! each row's channel names and counts (a paths file's Markov or Shapley
//! fit). Reading and parsing
//! the file, interning the journeys and, for a paths file, interning each
//! row's distinct converting journeys (what every per-journey model
//! credits) happen before the clock starts: they do not depend on the
//! model.
//!
//! Every input problem is an error naming the line and the field (see
//! `examples/common/mod.rs`): nothing is dropped or repaired silently.
//!
//! For markov and shapley the channels are the model's channel-level credit
//! (total x weight / sum of weights, as the literature defines it); for every
//! other model they are the sum of per-journey credit. Whatever the model,
//! the totals printed are the input's, and converting journeys with no touch
//! are `unassigned`.

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::time::Instant;

use common::{PathRow, Shape, Tally, UNITS};
use serde_json::{Map, Value, json};
use touchpoint::incremental::{self, SelectConfig};
use touchpoint::markov::{self, MarkovConfig, MarkovPartial};
use touchpoint::models::{self, LastNonDirect, TimeDecay};
use touchpoint::rules::Rules;
use touchpoint::shapley::{self, ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::{AttributionModel, Currency, JourneySet, attribute};

/// Every model `--model` accepts, with its one-line definition. One
/// spelling each: other spellings are answered with the name to use.
const MODELS: [(&str, &str); 14] = [
    ("first_touch", "100% to the first touch"),
    ("last_touch", "100% to the last touch"),
    (
        "last_non_direct",
        "100% to the last touch not in --direct (default direct)",
    ),
    ("linear", "equal shares to every touch"),
    (
        "time_decay",
        "shares halve every --half-life-days (default 7) before the conversion",
    ),
    (
        "position_based",
        "U-shaped: 40% first, 40% last, 20% the middle",
    ),
    ("j_shaped", "20% first, 60% last, 20% the middle"),
    ("inverse_j", "60% first, 20% last, 20% the middle"),
    (
        "w_shaped",
        "30% first, 30% lead creation, 30% opportunity creation, 10% the rest",
    ),
    (
        "full_path",
        "22.5% each first, lead, opportunity, close; 10% the rest",
    ),
    (
        "participation",
        "100% to every channel on the journey (does not sum to the total)",
    ),
    (
        "markov",
        "removal effects of the order --order K (1-6) Markov chain",
    ),
    (
        "shapley",
        "Shapley values, --shapley simplified (default), rate or ordered",
    ),
    (
        "incremental",
        "logistic conversion model, credit by counterfactual removal",
    ),
];

fn usage() -> String {
    let mut u = String::from(
        "usage: attribute [FILE] --model NAME [options]\n\n\
         Reads journeys (JSON lines, or an aggregated *.paths.csv file; stdin if no FILE)\n\
         and prints one JSON object: credited conversions and value per channel.\n\
         Format: docs/FORMAT.md.\n\nmodels:\n",
    );
    for (name, what) in MODELS {
        u.push_str(&format!("  {name:<16} {what}\n"));
    }
    u.push_str(
        "\noptions:\n\
         \x20 --order K            markov order, 1 to 6 (default 1)\n\
         \x20 --collapse-repeats   markov: collapse consecutive repeats of a channel\n\
         \x20 --shapley VARIANT    simplified (default), rate or ordered\n\
         \x20 --half-life-days D   time_decay half-life (default 7)\n\
         \x20 --lookback-days D    keep only touches within D days before the conversion\n\
         \x20 --direct CHANNEL     a channel last_non_direct skips (repeatable; default direct)\n\
         \x20 --timings            print compute_seconds=S on stderr: the model's work only\n\
         \x20                      (fit and credit; reading, parsing and interning the input,\n\
         \x20                      paths into their distinct journeys, come before the clock),\n\
         \x20                      read_seconds=S: that reading, parsing and interning,\n\
         \x20                      and scan_seconds=S: one pass over the input in memory, the floor\n\
         \x20 --intervals R        incremental: 95% bootstrap intervals from R replicates\n\
         \x20 -h, --help           this help\n",
    );
    u
}

/// The model name as `--model` takes it, or an error naming the spelling
/// to use and listing every model.
fn check_model(name: &str) -> Result<(), String> {
    if MODELS.iter().any(|(n, _)| *n == name) {
        return Ok(());
    }
    let norm = name.to_ascii_lowercase().replace(['-', ' '], "_");
    let hint = match norm.as_str() {
        "u_shaped" | "ushaped" | "u" | "position" => Some("position_based"),
        "w" | "wshaped" => Some("w_shaped"),
        "z_shaped" | "zshaped" | "fullpath" => Some("full_path"),
        "j" | "jshaped" => Some("j_shaped"),
        "inverse_j_shaped" | "reverse_j" => Some("inverse_j"),
        "first" | "first_click" => Some("first_touch"),
        "last" | "last_click" => Some("last_touch"),
        "last_non_direct_click" | "last_non_direct_touch" => Some("last_non_direct"),
        "markov_1" | "markov_2" | "markov_3" | "markov_4" | "markov_chain" => {
            Some("markov --order K")
        }
        "shapley_simplified" | "shapley_rate" | "shapley_ordered" => {
            Some("shapley --shapley VARIANT")
        }
        n => MODELS.iter().map(|(m, _)| *m).find(|m| *m == n),
    };
    let list: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
    Err(match hint {
        Some(h) => format!(
            "unknown model {name:?}: did you mean {h}? (models: {}; see --help)",
            list.join(", ")
        ),
        None => format!(
            "unknown model {name:?} (models: {}; see --help)",
            list.join(", ")
        ),
    })
}

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
    help: bool,
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
            "--model" => o.model = Some(args.next().ok_or("--model needs a name (see --help)")?),
            "--half-life-days" => o.half_life_days = Some(num(&a, args.next())?),
            "--lookback-days" => o.lookback_days = Some(num(&a, args.next())?),
            "--direct" => o
                .direct
                .push(args.next().ok_or("--direct needs a channel")?),
            "--order" => {
                let v = args.next().ok_or("--order needs a value")?;
                o.order = Some(
                    v.parse()
                        .map_err(|_| format!("--order: not an order 1 to 6: {v:?}"))?,
                );
            }
            "--collapse-repeats" => o.collapse_repeats = true,
            "--shapley" => o.shapley = Some(args.next().ok_or("--shapley needs a variant")?),
            "--timings" => o.timings = true,
            "--intervals" => {
                let v = args.next().ok_or("--intervals needs a replicate count")?;
                o.intervals = Some(
                    v.parse()
                        .map_err(|_| format!("--intervals: not a count: {v:?}"))?,
                );
            }
            "-h" | "--help" => o.help = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s} (see --help)")),
            _ if o.file.is_none() => o.file = Some(a),
            _ => return Err(format!("unexpected argument {a:?} (see --help)")),
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

/// The channels last non-direct skips.
fn direct_set(o: &Opts) -> Vec<String> {
    if o.direct.is_empty() {
        vec!["direct".to_owned()]
    } else {
        o.direct.clone()
    }
}

/// The incremental model fitted on path rows with frequency weights (one
/// representative journey per distinct (path, value) of a row), in the
/// default configuration: automatic selection needs journeys (its folds are
/// keyed by journey id).
fn fit_incremental_paths(
    rows: &[PathRow],
) -> Result<incremental::Incremental, Box<dyn std::error::Error>> {
    let reps = common::row_representatives(rows);
    let mut weights = Vec::with_capacity(reps.len());
    for (line, _, count) in &reps {
        weights.push(u32::try_from(*count).map_err(|_| {
            format!(
                "line {line}: count {count} is over the incremental model's weight limit (2^32 - 1)"
            )
        })?);
    }
    let set = JourneySet::from_journeys(reps.iter().map(|(_, j, _)| j))?;
    Ok(incremental::Incremental::fit_weighted(
        &set,
        &weights,
        &incremental::IncrementalConfig::new(),
    )?)
}

fn json_u64(x: u128, what: &str) -> Result<u64, String> {
    u64::try_from(x).map_err(|_| format!("{what} {x} exceeds 2^64 - 1"))
}

fn to_json(t: &Tally, notes: &[String]) -> Result<Value, String> {
    let cur = Currency::default();
    let scale = 10f64.powi(i32::from(cur.decimals()));
    #[allow(clippy::cast_precision_loss)]
    let major = |v: i128| v as f64 / scale;
    #[allow(clippy::cast_precision_loss)]
    let conv = |u: u128| u as f64 / UNITS as f64;
    let mut channels = Map::new();
    for (name, (u, v)) in &t.channels {
        channels.insert(
            name.clone(),
            json!({"conversions": conv(*u), "value": major(*v), "value_minor": json_u64(u128::try_from(*v).unwrap_or(0), "value")?}),
        );
    }
    Ok(json!({
        "model": t.model,
        "journeys": json_u64(t.journeys, "journeys")?,
        "conversions": json_u64(t.conversions, "conversions")?,
        "value": major(t.value_minor),
        "value_minor": json_u64(u128::try_from(t.value_minor).unwrap_or(0), "value")?,
        "currency_decimals": cur.decimals(),
        "value_unit": "major currency units",
        "channels": Value::Object(channels),
        "unassigned": {
            "conversions": conv(t.unassigned.0),
            "value": major(t.unassigned.1),
            "value_minor": json_u64(u128::try_from(t.unassigned.1).unwrap_or(0), "value")?,
        },
        "notes": notes,
    }))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    if o.help {
        print!("{}", usage());
        return Ok(());
    }
    let model_name = o
        .model
        .clone()
        .ok_or("--model NAME is required (see --help)")?;
    check_model(&model_name)?;
    let read_start = Instant::now();
    let mut text = String::new();
    match &o.file {
        Some(path) => text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => {
            std::io::stdin().read_to_string(&mut text)?;
        }
    }
    let is_paths = o.file.as_deref().is_some_and(|f| f.ends_with(".csv"));
    let direct = direct_set(&o);

    let (tally, notes, start, seconds, scan_seconds) = if is_paths {
        let rows = common::parse_paths(&text, Currency::default())?;
        let journeys: u128 = rows
            .iter()
            .map(|r| u128::from(r.conversions) + u128::from(r.nulls))
            .sum();
        let conversions: u128 = rows.iter().map(|r| u128::from(r.conversions)).sum();
        let value: i128 = rows.iter().map(|r| i128::from(r.value_minor)).sum();
        let notes = common::fallback_notes(
            &model_name,
            &direct,
            rows.iter().map(|r| Shape {
                channels: &r.path,
                has_milestone: false,
                converted: r.conversions > 0,
                has_conversion_ts: false,
                count: r.conversions,
            }),
        );
        // model-independent: the rows' distinct converting journeys,
        // interned once, before the clock starts
        let per_journey = !matches!(model_name.as_str(), "markov" | "shapley");
        if model_name == "time_decay" {
            return Err("paths carry no timestamps: time_decay needs journeys".into());
        }
        if per_journey && o.lookback_days.is_some() {
            return Err("paths carry no timestamps: --lookback-days needs journeys".into());
        }
        let paths = if per_journey {
            Some(common::path_journeys(&rows)?)
        } else {
            None
        };
        // the floor of what the model reads: the interned converting
        // journeys for a per-journey model, the rows' names for a fit
        let scan_seconds = match &paths {
            Some(p) => best_scan(|| scan_set(&p.set)),
            None => best_scan(|| scan_paths(&rows)),
        };
        let start = Instant::now();
        let tally = match (model_name.as_str(), &paths) {
            ("markov", _) => {
                let mut fit = MarkovPartial::new(markov_config(&o, Currency::default())?);
                for r in &rows {
                    fit.observe_path(&r.path, r.conversions, r.value_minor, r.nulls)
                        .map_err(|e| format!("line {}: {e}", r.line))?;
                }
                Tally::from_channel_credits(&fit.finish()?.credits()?, journeys, conversions, value)
            }
            ("shapley", _) => {
                let mut fit = ShapleyPartial::new(shapley_config(&o, Currency::default())?);
                for r in &rows {
                    fit.observe_path(&r.path, r.conversions, r.value_minor, r.nulls)
                        .map_err(|e| format!("line {}: {e}", r.line))?;
                }
                Tally::from_channel_credits(&fit.finish()?.credits()?, journeys, conversions, value)
            }
            (_, None) => return Err("no journeys prepared for a per-journey model".into()),
            ("incremental", Some(paths)) => {
                common::credit_path_journeys(&fit_incremental_paths(&rows)?, paths)?
            }
            (name, Some(paths)) => {
                let model = build_model(name, &o, &JourneySet::new())?;
                common::credit_path_journeys(model.as_ref(), paths)?
            }
        };
        // before the input is dropped: freeing it is no model's work
        (
            tally,
            notes,
            start,
            start.elapsed().as_secs_f64(),
            scan_seconds,
        )
    } else {
        let journeys = common::parse_journeys_with_lines(&text)?;
        let mut set = common::journey_set(&journeys)?;
        if let Some(days) = o.lookback_days {
            let (clean, report) = Rules::new().lookback_days(days)?.apply(&set)?;
            eprintln!("lookback: removed {} touches", report.touches_removed());
            set = clean;
        }
        let channels: Vec<Vec<String>> = journeys
            .iter()
            .map(|(_, j)| {
                let mut t: Vec<&touchpoint::SimpleTouch> = j.touchpoints.iter().collect();
                t.sort_by_key(|t| t.ts);
                t.iter().map(|t| t.channel.to_string()).collect()
            })
            .collect();
        let notes = common::fallback_notes(
            &model_name,
            &direct,
            journeys.iter().zip(&channels).map(|((_, j), c)| Shape {
                channels: c,
                has_milestone: j.touchpoints.iter().any(|t| t.milestone.is_some()),
                converted: j.converted,
                has_conversion_ts: j.conversion_ts.is_some(),
                count: 1,
            }),
        );
        let journeys = set.len() as u128;
        let conversions = u128::from(set.conversions());
        let value: i128 = set.iter().map(|j| i128::from(j.value_minor())).sum();
        let scan_seconds = best_scan(|| scan_set(&set));
        let start = Instant::now();
        let tally = match model_name.as_str() {
            "markov" => Tally::from_channel_credits(
                &markov::fit(&set, markov_config(&o, set.currency())?)?.credits()?,
                journeys,
                conversions,
                value,
            ),
            "shapley" => Tally::from_channel_credits(
                &shapley::fit(&set, shapley_config(&o, set.currency())?)?.credits()?,
                journeys,
                conversions,
                value,
            ),
            "incremental" => {
                println!("{}", incremental_output(&set, &o)?);
                return Ok(());
            }
            name => {
                let model = build_model(name, &o, &set)?;
                Tally::from_report(&attribute(model.as_ref(), &set)?)
            }
        };
        // before the input is dropped: freeing it is no model's work
        (
            tally,
            notes,
            start,
            start.elapsed().as_secs_f64(),
            scan_seconds,
        )
    };
    let read_seconds = start.duration_since(read_start).as_secs_f64();
    if !tally.reconciles() {
        return Err(format!(
            "{}: channel credit does not add up to the totals ({} conversions, {} minor units): a bug, please report it",
            tally.model, tally.conversions, tally.value_minor
        )
        .into());
    }
    let json = to_json(&tally, &notes)?;
    writeln!(std::io::stdout().lock(), "{json}")?;
    if o.timings {
        eprintln!("compute_seconds={seconds:.6}");
        eprintln!("read_seconds={read_seconds:.6}");
        eprintln!("scan_seconds={scan_seconds:.6}");
    }
    Ok(())
}

/// The best of five timed runs of `scan` (its result kept from the
/// optimizer), in seconds.
fn best_scan(scan: impl Fn() -> u64) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(scan());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Reads every path's channel names (length and first byte) and counts
/// once: what any model of a paths file must read.
fn scan_paths(rows: &[common::PathRow]) -> u64 {
    let mut acc = 0u64;
    for r in rows {
        for name in &r.path {
            let first = name.as_bytes().first().copied().unwrap_or(0);
            acc = acc.wrapping_add(name.len() as u64 ^ u64::from(first));
        }
        acc = acc.wrapping_add(r.conversions ^ r.nulls);
    }
    acc
}

/// Reads every journey's channel ids and times once: what any model of a
/// journey set must read.
fn scan_set(set: &JourneySet) -> u64 {
    let mut acc = 0u64;
    for j in set.iter() {
        for (c, &t) in j.channels().iter().zip(j.timestamps()) {
            acc = acc.wrapping_add(c.index() as u64 ^ t as u64);
        }
    }
    acc
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
