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
//! `--intervals R` adds, per scenario and channel, the incremental model's
//! effect share with a 95% bootstrap interval (R replicates), whether it
//! covers the true share, and the sample-size guidance drawn from it: about
//! how many journeys would give ±2 and ±1 points on that channel
//! ([`Interval::journeys_for_half_width`](touchpoint::bootstrap::Interval::journeys_for_half_width)).
//! `--only-incremental` skips the other models (the incremental rows and
//! the noise floor only).
//!
//! The incremental rows: `incremental` is the credit (view a) of the
//! automatically configured model ([`incremental::select`]);
//! `incremental effect shares` its expected incremental conversions (view
//! c); `incremental credit with baseline` the channel lines of view (b)
//! (the baseline line left out); `incremental floor` the preset's own true
//! model form refitted on the same journeys (the sampling noise floor; on
//! `b2b` the true response is not in the feature family and 10 free levels
//! stand in). The chosen configuration and the selection's cost relative to
//! one default fit go to stderr.

use std::time::Instant;

use touchpoint::incremental::{self, Exposure, IncrementalConfig, Pairs, SelectConfig};
use touchpoint::markov::{self, MarkovConfig};
use touchpoint::shapley::{self, Sampling, ShapleyConfig, ShapleyVariant};
use touchpoint::sim::{GroundTruth, Preset, Simulator};
use touchpoint::{AttributionModel, JourneySet, Report, attribute, models};

/// Models with the names they are listed under.
type NamedModels = Vec<(String, Box<dyn AttributionModel>)>;

/// Models whose own output is a global split of conversions per channel
/// (Markov removal-effect shares, Shapley values, incremental effect
/// shares): `(name, [(channel, conversions)])`.
type NamedCredits = Vec<(String, Vec<(String, f64)>)>;

/// Every model of the crate to evaluate: the rule-based ones, then those
/// fitted on `set`. Entries of the first list are applied journey by
/// journey through [`attribute`]; entries of the second are global splits.
fn models_for(
    set: &JourneySet,
    preset: Preset,
    only_incremental: bool,
) -> (NamedModels, NamedCredits) {
    let mut list = NamedModels::new();
    let mut credits = NamedCredits::new();
    if !only_incremental {
        list.extend(models::all().into_iter().map(|m| (m.name().to_owned(), m)));
        fitted_models(set, &mut list, &mut credits);
    }
    incremental_models(set, preset, &mut list, &mut credits);
    (list, credits)
}

/// The preset's own model form (the noise floor's configuration).
fn floor_config(preset: Preset) -> IncrementalConfig {
    let floor = IncrementalConfig::new().l2(1e-6).expect("valid penalty");
    match preset {
        // geometric response: not in the family; 10 free levels nest it
        Preset::B2b => floor
            .exposure(Exposure::Levels)
            .count_cap(10)
            .expect("valid cap"),
        Preset::OrderMatters => floor.last_touch(true).pairs(Pairs::Only(vec![(
            "display".to_owned(),
            "retargeting".to_owned(),
        )])),
        _ => floor,
    }
}

/// The automatically configured incremental model (its three views) and
/// the noise floor.
fn incremental_models(
    set: &JourneySet,
    preset: Preset,
    list: &mut NamedModels,
    credits: &mut NamedCredits,
) {
    let skip = |name: &str, e: touchpoint::Error| eprintln!("  {name}: not fitted: {e}");
    let t0 = Instant::now();
    let one = incremental::fit(set, IncrementalConfig::new());
    let one_fit = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    match incremental::select(set, SelectConfig::new()) {
        Ok((m, selection)) => {
            let secs = t1.elapsed().as_secs_f64();
            eprintln!(
                "  incremental: chose {} in {secs:.2} s ({:.1}x one default fit of {one_fit:.2} s): {}",
                selection.label(),
                secs / one_fit,
                selection.reason
            );
            for c in &selection.candidates {
                eprintln!(
                    "    {:14} {}",
                    c.label,
                    c.score
                        .map_or_else(|| format!("failed: {:?}", c.error), |s| format!("{s:.6}"))
                );
            }
            for w in &m.diagnostics().warnings {
                eprintln!("    warning: {w}");
            }
            credits.push(("incremental effect shares".to_owned(), m.effect_shares()));
            match m.incremental_credit(set) {
                Ok(ic) => credits.push((
                    {
                        eprintln!(
                            "    credit with baseline: {} of {} converting journeys overlapping (single removals add up to more than p)",
                            ic.overlapping_journeys(),
                            ic.conversions()
                        );
                        "incremental credit with baseline".to_owned()
                    },
                    ic.channels()
                        .iter()
                        // negative lines count as 0, as in the effect shares
                        .map(|l| (l.name().to_owned(), l.conversions().max(0.0)))
                        .collect(),
                )),
                Err(e) => skip("incremental credit with baseline", e),
            }
            list.push(("incremental".to_owned(), Box::new(m)));
        }
        Err(e) => skip("incremental", e),
    }
    if let Err(e) = one {
        skip("incremental default", e);
    }
    match incremental::fit(set, floor_config(preset)) {
        Ok(m) => credits.push(("incremental floor".to_owned(), m.effect_shares())),
        Err(e) => skip("incremental floor", e),
    }
}

fn lines(c: &Report) -> Vec<(String, f64)> {
    c.channels()
        .lines()
        .iter()
        .map(|l| (l.name().to_owned(), l.conversions()))
        .collect()
}

/// [`GroundTruth::error_pp`] of `(channel, credit)` pairs that are not a
/// [`Report`] (the incremental model's effect shares): the same formula.
fn error_pp_of(truth: &GroundTruth, credit: &[(String, f64)]) -> Result<f64, String> {
    if credit.iter().any(|(_, x)| !(x.is_finite() && *x >= 0.0)) {
        return Err("credits must be finite and >= 0".into());
    }
    let total: f64 = credit.iter().map(|(_, x)| x).sum();
    if total <= 0.0 || !total.is_finite() {
        return Err("the credits sum to 0".into());
    }
    let got = |name: &str| -> f64 {
        credit
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, x)| x)
            .sum::<f64>()
            / total
    };
    let mut err: f64 = truth
        .channels
        .iter()
        .map(|c| (got(&c.name) - c.share).abs())
        .sum();
    for (name, x) in credit {
        if truth.channel(name).is_none() {
            err += x / total;
        }
    }
    Ok(err * 100.0)
}

/// Models fitted on the simulated set: Markov chains of order 1-3 (exact
/// removal effects), Shapley values (simplified, and coalition conversion
/// rates: exact up to 20 channels, 20,000 sampled orders beyond), and the
/// incremental conversion model (default features; single-removal credit;
/// with last-touch and order-pair features, see [`incremental_models`]). Markov and Shapley are listed
/// twice: their textbook global split (`total × effect / Σ effects`) and
/// applied per journey as an [`AttributionModel`]. A model that cannot be
/// fitted on a scenario is reported on stderr and shown as `n/a`.
fn fitted_models(set: &JourneySet, list: &mut NamedModels, credits: &mut NamedCredits) {
    let skip = |name: &str, e: touchpoint::Error| eprintln!("  {name}: not fitted: {e}");
    for order in 1..=3u8 {
        let name = format!("markov_{order}");
        match MarkovConfig::new(order).and_then(|c| markov::fit(set, c)) {
            Ok(m) => {
                match m.credits() {
                    Ok(c) => credits.push((name.clone(), lines(&c))),
                    Err(e) => skip(&name, e),
                }
                list.push((format!("{name} per journey"), Box::new(m)));
            }
            Err(e) => skip(&name, e),
        }
    }
    let rate = ShapleyConfig::new(ShapleyVariant::Rate).sampling(Some(Sampling {
        permutations: 20_000,
        seed: 1,
    }));
    for (name, config) in [
        (
            "shapley_simplified",
            ShapleyConfig::new(ShapleyVariant::Simplified),
        ),
        ("shapley_rate", rate),
    ] {
        match shapley::fit(set, config) {
            Ok(m) => {
                match m.credits() {
                    Ok(c) => credits.push((name.to_owned(), lines(&c))),
                    Err(e) => skip(name, e),
                }
                list.push((format!("{name} per journey"), Box::new(m)));
            }
            Err(e) => skip(name, e),
        }
    }
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
    /// Bootstrap replicates for the interval table (0: no table).
    intervals: u32,
    only_incremental: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        journeys: 100_000,
        seed: 1,
        presets: Vec::new(),
        detail: false,
        intervals: 0,
        only_incremental: false,
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
            "--only-incremental" => o.only_incremental = true,
            "--intervals" => {
                let v = args.next().ok_or("--intervals needs a replicate count")?;
                o.intervals = v
                    .parse()
                    .map_err(|_| format!("--intervals: {v:?} is not a whole number"))?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: accuracy [--journeys N] [--preset NAME]... [--seed S] [--detail] [--intervals REPLICATES] [--only-incremental]"
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

/// Each truth channel's share of `credit`.
fn shares(credit: &[(String, f64)], truth: &GroundTruth) -> Vec<f64> {
    let total: f64 = credit.iter().map(|(_, x)| x).sum();
    truth
        .channels
        .iter()
        .map(|c| {
            credit
                .iter()
                .filter(|(n, _)| *n == c.name)
                .map(|(_, x)| x)
                .sum::<f64>()
                / total
        })
        .collect()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    let started = Instant::now();
    // model names in order of first appearance; errors[preset][model]
    let mut names: Vec<String> = Vec::new();
    let mut errors: Vec<Vec<Option<f64>>> = Vec::new();
    for &p in &o.presets {
        let t0 = Instant::now();
        let sim = Simulator::new(p.config(o.seed));
        let set = sim.journey_set(o.journeys)?;
        let truth = sim.ground_truth(o.journeys)?;
        eprintln!(
            "{p}: {} journeys, {} touches, {} conversions ({:.1}%) — {}",
            set.len(),
            set.touch_count(),
            set.conversions(),
            100.0 * set.conversions() as f64 / set.len() as f64,
            describe(p)
        );
        let (list, global) = models_for(&set, p, o.only_incremental);
        let mut row = vec![None; names.len()];
        let mut detail = Vec::new();
        let mut record = |name: &str, err: f64, shares: Vec<f64>| {
            let k = match names.iter().position(|n| n == name) {
                Some(k) => k,
                None => {
                    names.push(name.to_owned());
                    row.push(None);
                    names.len() - 1
                }
            };
            row[k] = Some(err);
            detail.push((name.to_owned(), shares));
        };
        for (name, model) in &list {
            let report = attribute(model.as_ref(), &set)?;
            let credit: Vec<(String, f64)> = report
                .channels()
                .lines()
                .iter()
                .map(|l| (l.name().to_owned(), l.conversions()))
                .collect();
            record(name, truth.error_pp(&report)?, shares(&credit, &truth));
        }
        for (name, credit) in &global {
            match error_pp_of(&truth, credit) {
                Ok(err) => record(name, err, shares(credit, &truth)),
                Err(e) => eprintln!("  {name}: {e}"),
            }
        }
        eprintln!("  {:.1} s", t0.elapsed().as_secs_f64());
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
         percentage points ({} journeys per scenario, seed {}; * = best per scenario; \
         mean over the scenarios where the model ran)\n",
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
    let best: Vec<Option<usize>> = errors
        .iter()
        .map(|row| {
            (0..row.len())
                .filter(|&m| row[m].is_some())
                .min_by(|&a, &b| {
                    row[a]
                        .unwrap_or(f64::INFINITY)
                        .total_cmp(&row[b].unwrap_or(f64::INFINITY))
                })
        })
        .collect();
    for (m, name) in names.iter().enumerate() {
        print!("| {name} |");
        let (mut sum, mut count) = (0.0, 0u32);
        for (k, row) in errors.iter().enumerate() {
            match row.get(m).copied().flatten() {
                Some(e) => {
                    let mark = if best[k] == Some(m) { "*" } else { "" };
                    print!(" {e:.1}{mark} |");
                    sum += e;
                    count += 1;
                }
                None => print!(" n/a |"),
            }
        }
        if count > 0 {
            println!(" {:.1} |", sum / f64::from(count));
        } else {
            println!(" n/a |");
        }
    }
    if o.intervals > 0 {
        intervals(&o)?;
    }
    eprintln!("\n{:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The incremental model's 95% bootstrap intervals against the truth, per
/// channel, on each preset (the automatically chosen configuration), how
/// often they cover it, and the sample-size guidance they give.
fn intervals(o: &Opts) -> Result<(), Box<dyn std::error::Error>> {
    use touchpoint::bootstrap::BootstrapConfig;
    use touchpoint::incremental::bootstrap_effects;
    let boot = BootstrapConfig::new().replicates(o.intervals)?.seed(o.seed);
    let (mut covered, mut total) = (0u32, 0u32);
    println!(
        "\nIncremental-effect shares with 95% bootstrap intervals ({} replicates, {} journeys, seed {}; \
         configuration chosen by incremental::select), and the journeys needed for ±2 and ±1 points \
         (n · (half-width / target)²):\n",
        o.intervals, o.journeys, o.seed
    );
    println!(
        "| preset | channel | true share | estimate | 95% interval | covered | ±2 pp needs | ±1 pp needs |"
    );
    println!("|---|---|---:|---:|---|---|---:|---:|");
    for &p in &o.presets {
        let sim = Simulator::new(p.config(o.seed));
        let set = sim.journey_set(o.journeys)?;
        let truth = sim.ground_truth(o.journeys)?;
        let (_, selection) = incremental::select(&set, SelectConfig::new())?;
        let ci = bootstrap_effects(&set, selection.config(), &boot)?;
        for t in &truth.channels {
            let Some(c) = ci.get(&t.name) else { continue };
            let s = c.share();
            let inside = s.contains(t.share);
            covered += u32::from(inside);
            total += 1;
            let need = |pp: f64| {
                s.journeys_for_half_width(set.len() as u64, pp / 100.0)
                    .map_or("n/a".to_owned(), |n| n.to_string())
            };
            println!(
                "| {p} | {} | {:.2}% | {:.2}% | [{:.2}%, {:.2}%] | {} | {} | {} |",
                t.name,
                100.0 * t.share,
                100.0 * s.estimate(),
                100.0 * s.low(),
                100.0 * s.high(),
                if inside { "yes" } else { "no" },
                need(2.0),
                need(1.0)
            );
        }
    }
    println!(
        "\nCoverage: {covered} of {total} channels ({:.0}%) have their true share inside the 95% interval.",
        100.0 * f64::from(covered) / f64::from(total.max(1))
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("accuracy: {e}");
        std::process::exit(2);
    }
}
