//! Accuracy of every attribution model against the simulator's ground truth.
//!
//! For each scenario (a [`Preset`]: few vs many channels, short vs long
//! paths, strong vs weak effects, one dominant closer, a useless channel
//! everywhere), simulates journeys, computes the true channel shares by
//! counterfactual removal, runs every model of the crate and prints each
//! model's error: the sum over channels of |model share − true share| of
//! conversions, in percentage points (0 is perfect, 200 the maximum). The
//! closest model per scenario is marked with `*` (the noise floor, not a
//! usable model, is never marked). The output opens with a legend of the
//! model labels and ends with a plain-language reading computed from the
//! results: the model and family closest to the truth on average and per
//! scenario, how far each family (rule-based, Markov chain, Shapley,
//! incremental) is, and which model to use for deciding budget and for
//! reporting revenue. Tables are markdown, their columns padded to the
//! widest cell.
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
//! the noise floor only). `--calibrated-everywhere` adds the row
//! "Incremental: credit per journey, calibrated everywhere": the credit of
//! the same selection with every candidate crediting by
//! [`CreditRule::Calibrated`](touchpoint::incremental::CreditRule::Calibrated)
//! (the default selection uses it for the order candidate only).
//!
//! The incremental rows: "Incremental: credit per journey" is the credit
//! (view a) of the automatically configured model ([`incremental::select`]);
//! "Incremental: expected incremental conversions" its effect shares (view
//! c); "Incremental: credit with baseline" the channel lines of view (b)
//! (the baseline line left out); "Noise floor (true model form refitted)"
//! the preset's own true model form refitted on the same journeys (the
//! sampling noise floor; on `b2b` the true response is not in the feature
//! family and 10 free levels stand in). Fitted Markov and Shapley models
//! appear twice: "(credit per journey)" applies them journey by journey as
//! an [`AttributionModel`], "(channel-level split)" is their own global
//! split. The chosen configuration and the selection's cost relative to
//! one default fit go to stderr.

use std::time::Instant;

use touchpoint::incremental::{self, CreditRule, Exposure, IncrementalConfig, Pairs, SelectConfig};
use touchpoint::markov::{self, MarkovConfig};
use touchpoint::shapley::{self, Sampling, ShapleyConfig, ShapleyVariant};
use touchpoint::sim::{GroundTruth, Preset, Simulator};
use touchpoint::{AttributionModel, JourneySet, Report, attribute, models};

/// Each model's share of conversions per truth channel: `(key, shares)`.
type Shares = Vec<(String, Vec<f64>)>;

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
    calibrated_everywhere: bool,
) -> (NamedModels, NamedCredits) {
    let mut list = NamedModels::new();
    let mut credits = NamedCredits::new();
    if !only_incremental {
        list.extend(models::all().into_iter().map(|m| (m.name().to_owned(), m)));
        fitted_models(set, &mut list, &mut credits);
    }
    incremental_models(set, preset, &mut list, &mut credits);
    if calibrated_everywhere {
        calibrated_everywhere_model(set, &mut list);
    }
    (list, credits)
}

/// The default selection's candidates, each crediting with
/// [`CreditRule::Calibrated`] (the order candidate does anyway): the same
/// scores and choice as the default, another credit rule.
fn calibrated_everywhere_model(set: &JourneySet, list: &mut NamedModels) {
    let levels = IncrementalConfig::new()
        .exposure(Exposure::Levels)
        .count_cap(4)
        .expect("valid cap");
    let config = SelectConfig::new()
        .candidates(vec![
            (
                "log1p".to_owned(),
                IncrementalConfig::new().credit(CreditRule::Calibrated),
            ),
            ("levels4".to_owned(), levels.credit(CreditRule::Calibrated)),
        ])
        .expect("two candidates")
        .order_stage(true);
    match incremental::select(set, config) {
        Ok((m, selection)) => {
            eprintln!(
                "  incremental, calibrated everywhere: chose {}",
                selection.label()
            );
            for w in &m.diagnostics().warnings {
                eprintln!("    warning: {w}");
            }
            list.push(("incremental calibrated".to_owned(), Box::new(m)));
        }
        Err(e) => eprintln!("  incremental, calibrated everywhere: not fitted: {e}"),
    }
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
                    c.score.map_or_else(
                        || format!("not scored: {}", c.error.as_deref().unwrap_or("?")),
                        |s| format!("{s:.6}")
                    )
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
        Preset::SampleLike => "12 channels, short paths, presence effects; the shipped sample",
        Preset::WeakEffects => "12 channels, short paths, weak effects",
        Preset::B2b => "10 channels, long paths, strong late-stage channels",
        Preset::OrderMatters => "6 channels, one dominant closer, one channel needing another",
        Preset::UselessEverywhere => "7 channels, a useless channel, display, on 80% of paths",
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
    /// Add the credit of the selection with calibrated credit everywhere.
    calibrated_everywhere: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        journeys: 100_000,
        seed: 1,
        presets: Vec::new(),
        detail: false,
        intervals: 0,
        only_incremental: false,
        calibrated_everywhere: false,
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
            "--calibrated-everywhere" => o.calibrated_everywhere = true,
            "--intervals" => {
                let v = args.next().ok_or("--intervals needs a replicate count")?;
                o.intervals = v
                    .parse()
                    .map_err(|_| format!("--intervals: {v:?} is not a whole number"))?;
            }
            "-h" | "--help" => {
                println!(
                    "usage: accuracy [--journeys N] [--preset NAME]... [--seed S] [--detail] [--intervals REPLICATES] [--only-incremental] [--calibrated-everywhere]"
                );
                std::process::exit(0);
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

/// The family a row of the table belongs to, in the order they are listed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Family {
    RuleBased,
    Markov,
    Shapley,
    Incremental,
    /// The noise floor: not a usable model.
    Reference,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::RuleBased => "rule-based",
            Family::Markov => "Markov chain",
            Family::Shapley => "Shapley",
            Family::Incremental => "incremental",
            Family::Reference => "noise floor",
        }
    }
}

/// What a row is, for a reader: its label, its family, and whether its
/// channel totals add up to the revenue of the converting journeys (every
/// converting journey's value shared among its channels; the credit with
/// baseline counts as one: its baseline line, left out here, holds the
/// rest).
struct Meta {
    label: String,
    family: Family,
    reconciles: bool,
}

/// The rule-based models' labels (a name this example does not know is
/// shown as it is).
fn rule_label(name: &str) -> String {
    match name {
        "first_touch" => "First touch",
        "last_touch" => "Last touch",
        "last_non_direct" => "Last non-direct touch",
        "linear" => "Linear (equal split)",
        "time_decay" => "Time decay (7-day half-life)",
        "position_based" | "u_shaped" => "U-shaped (40% first, 40% last)",
        "j_shaped" => "J-shaped (60% last)",
        "inverse_j" => "Inverse J (60% first)",
        "w_shaped" => "W-shaped (milestones)",
        "full_path" => "Full path (milestones)",
        "participation" => "Participation (full credit to each)",
        other => other,
    }
    .to_owned()
}

/// The label, family and kind of the row listed internally as `key`.
fn meta(key: &str) -> Meta {
    let (base, per_journey) = match key.strip_suffix(" per journey") {
        Some(b) => (b, true),
        None => (key, false),
    };
    let how = if per_journey {
        "credit per journey"
    } else {
        "channel-level split"
    };
    let fitted = |label: String, family| Meta {
        label,
        family,
        reconciles: per_journey,
    };
    if let Some(order) = base.strip_prefix("markov_") {
        return fitted(
            format!("Markov chain, order {order} ({how})"),
            Family::Markov,
        );
    }
    match base {
        "shapley_simplified" => fitted(format!("Shapley, simplified ({how})"), Family::Shapley),
        "shapley_rate" => fitted(
            format!("Shapley, conversion rates ({how})"),
            Family::Shapley,
        ),
        "incremental" => Meta {
            label: "Incremental: credit per journey".to_owned(),
            family: Family::Incremental,
            reconciles: true,
        },
        "incremental calibrated" => Meta {
            label: "Incremental: credit per journey, calibrated everywhere".to_owned(),
            family: Family::Incremental,
            reconciles: true,
        },
        "incremental credit with baseline" => Meta {
            label: "Incremental: credit with baseline".to_owned(),
            family: Family::Incremental,
            reconciles: true,
        },
        "incremental effect shares" => Meta {
            label: "Incremental: expected incremental conversions".to_owned(),
            family: Family::Incremental,
            reconciles: false,
        },
        "incremental floor" => Meta {
            label: "Noise floor (true model form refitted)".to_owned(),
            family: Family::Reference,
            reconciles: false,
        },
        rule => Meta {
            label: rule_label(rule),
            family: Family::RuleBased,
            // participation gives every channel the whole value
            reconciles: rule != "participation",
        },
    }
}

/// The legend of the labels, for the families present.
fn legend(families: &[Family]) -> String {
    let has = |f| families.contains(&f);
    let mut items: Vec<&str> = Vec::new();
    if has(Family::RuleBased) {
        items.push(
            "- Rule-based models (First touch ... Participation): fixed rules by position or \
              time share each converting journey's value among its touches. W-shaped and full \
              path anchor on the lead and opportunity milestones; Participation gives every \
              channel on the path the whole value (its totals exceed revenue).\n",
        );
    }
    if has(Family::Markov) || has(Family::Shapley) {
        items.push(
            "- Fitted models, \"(credit per journey)\": the model applied to each converting \
              journey, whose value it shares among the journey's channels (totals reconcile \
              with revenue). \"(channel-level split)\": the model's own split of all \
              conversions (Markov: removal effects; Shapley: Shapley values).\n",
        );
    }
    if has(Family::Markov) {
        items.push(
            "- Markov chain, order k: conversion paths as chains of the last k channels; a \
              channel's credit is how far conversions drop when it is removed.\n",
        );
    }
    if has(Family::Shapley) {
        items.push(
            "- Shapley: a fair split over the channel combinations seen (simplified: \
              conversions of each combination; conversion rates: conversion rate of each \
              combination).\n",
        );
    }
    if has(Family::Incremental) {
        items.push(
            "- Incremental: a conversion model estimating what each channel adds on top of the \
              conversions that would have happened anyway. \"Credit per journey\": each \
              converting journey's whole value shared among its channels (reconciles with \
              revenue, including the conversions that would have happened anyway); with \
              order features its channel totals are calibrated to the expected incremental \
              conversions (\"calibrated everywhere\": for every configuration). \"Credit \
              with baseline\": the same journey by journey, with those conversions in a \
              separate baseline line (left out here). \"Expected incremental conversions\": \
              the conversions each channel adds, what removing it would cost; the quantity \
              the truth measures.\n",
        );
    }
    if has(Family::Reference) {
        items.push(
            "- Noise floor: the simulator's own model form refitted on the same journeys. Not \
              a usable model: the error that sampling alone leaves.\n",
        );
    }
    let mut s = String::from("How to read the model names:\n");
    for item in items {
        s += &wrap("- ", "  ", item.trim_start_matches("- "));
    }
    s
}

/// Column alignment of [`table`].
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// A markdown table whose columns are padded to their widest cell (in
/// characters), so it reads aligned in a terminal and parses as markdown.
fn table(header: &[String], align: &[Align], rows: &[Vec<String>]) -> String {
    let len = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| len(s))
                .chain([len(&header[c]), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (c, w) in widths.iter().enumerate() {
            let cell = cells.get(c).map_or("", String::as_str);
            let pad = " ".repeat(w - len(cell));
            match align[c] {
                Align::Left => s += &format!(" {cell}{pad} |"),
                Align::Right => s += &format!(" {pad}{cell} |"),
            }
        }
        s + "\n"
    };
    let mut out = line(header);
    out += "|";
    for (c, w) in widths.iter().enumerate() {
        out += &match align[c] {
            Align::Left => format!("{}|", "-".repeat(w + 2)),
            Align::Right => format!("{}:|", "-".repeat(w + 1)),
        };
    }
    out += "\n";
    for r in rows {
        out += &line(r);
    }
    out
}

/// `text` wrapped at 80 columns, the first line after `first`, the others
/// indented by `rest`.
fn wrap(first: &str, rest: &str, text: &str) -> String {
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut start = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !start && col + 1 + w > 80 {
            out += "\n";
            out += rest;
            col = rest.chars().count();
            start = true;
        }
        if !start {
            out += " ";
            col += 1;
        }
        out += word;
        col += w;
        start = false;
    }
    out + "\n"
}

/// One row of the error table: what it is and its error per preset.
struct Row {
    meta: Meta,
    errors: Vec<Option<f64>>,
}

impl Row {
    /// Mean error over the presets where the model ran, and their count.
    fn mean(&self) -> Option<(f64, usize)> {
        let got: Vec<f64> = self.errors.iter().flatten().copied().collect();
        (!got.is_empty()).then(|| (got.iter().sum::<f64>() / got.len() as f64, got.len()))
    }
}

/// A preset's facts the reading needs.
struct PresetFacts {
    preset: Preset,
    /// Whether any journey carries a milestone (W-shaped and full path fall
    /// back to 90% first touch, 10% the rest without).
    milestones: bool,
}

/// A floor above this many points marks a preset where sampling noise
/// alone hides the effects (at the journeys simulated).
const NOISY_FLOOR_PP: f64 = 15.0;

/// How much closer (in points, mean over the presets) another model must
/// be before the reading recommends it over the expected incremental
/// conversions for budget decisions.
const CLEARLY_CLOSER_PP: f64 = 1.0;

/// Interval coverage (in %) from which the reading calls the 95% bootstrap
/// intervals trustworthy.
const TRUSTED_COVERAGE_PCT: f64 = 90.0;

fn fmt_pp(x: f64) -> String {
    format!("{x:.1}")
}

/// A count with thousands separators: 100,000.
fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The plain-language reading of the results, computed from them.
fn reading(o: &Opts, rows: &[Row], facts: &[PresetFacts], coverage: Option<(u32, u32)>) -> String {
    let mut s = String::from("\nReading the results\n\n");
    s += &wrap(
        "",
        "",
        "An error of E points means that at least E/2 % of the conversions are credited to \
         the wrong channels.",
    );
    let models: Vec<&Row> = rows
        .iter()
        .filter(|r| r.meta.family != Family::Reference)
        .collect();
    let floor = rows.iter().find(|r| r.meta.family == Family::Reference);
    let best_of = |it: &mut dyn Iterator<Item = &&Row>| -> Option<(String, f64, usize)> {
        it.filter_map(|r| r.mean().map(|(m, n)| (r.meta.label.clone(), m, n)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let n_presets = facts.len();
    let ran = |n: usize| {
        if n == n_presets {
            String::new()
        } else {
            format!(" (ran on {n} of {n_presets} scenarios)")
        }
    };
    let Some((best_label, best_mean, best_n)) = best_of(&mut models.iter()) else {
        return s + "No model could be evaluated.\n";
    };
    // the other models whose mean rounds to the same printed figure
    let tied = |label: &str, mean: f64, among: &[&&Row]| -> String {
        let others: Vec<String> = among
            .iter()
            .filter(|r| r.meta.label != label)
            .filter(|r| r.mean().is_some_and(|(m, _)| fmt_pp(m) == fmt_pp(mean)))
            .map(|r| r.meta.label.clone())
            .collect();
        if others.is_empty() {
            label.to_owned()
        } else {
            format!("{label}, tied with {}", others.join(", "))
        }
    };
    let all: Vec<&&Row> = models.iter().collect();
    let family_of = |label: &str| {
        models
            .iter()
            .find(|r| r.meta.label == label)
            .map_or("", |r| r.meta.family.name())
    };
    s += "\n";
    s += &wrap(
        "",
        "",
        &format!(
            "Closest to the truth on average: {} ({} family), {} points off over the \
             {n_presets} scenarios{} at {} journeys each.",
            tied(&best_label, best_mean, &all),
            family_of(&best_label),
            fmt_pp(best_mean),
            ran(best_n),
            fmt_count(o.journeys)
        ),
    );

    // each family: its best model and the range of its models' means
    let mut families: Vec<Family> = models.iter().map(|r| r.meta.family).collect();
    families.dedup();
    let mut by_family: Vec<(Family, String, f64, f64, usize)> = families
        .iter()
        .filter_map(|&f| {
            let members: Vec<&&Row> = models.iter().filter(|r| r.meta.family == f).collect();
            let (label, best, _) = best_of(&mut members.iter().copied())?;
            let label = tied(&label, best, &members);
            let worst = members
                .iter()
                .filter_map(|r| r.mean().map(|m| m.0))
                .fold(f64::NEG_INFINITY, f64::max);
            Some((f, label, best, worst, members.len()))
        })
        .collect();
    by_family.sort_by(|a, b| a.2.total_cmp(&b.2));
    s += "\nHow far each family is from the truth (mean error over the scenarios):\n";
    for (f, label, best, worst, count) in &by_family {
        let line = if *count == 1 {
            format!("{}: {} points ({label}).", f.name(), fmt_pp(*best))
        } else {
            format!(
                "{}: {} points at best ({label}); its {count} models range from {} to {}.",
                f.name(),
                fmt_pp(*best),
                fmt_pp(*best),
                fmt_pp(*worst)
            )
        };
        s += &wrap("- ", "  ", &capitalize(&line));
    }
    if let Some((m, _)) = floor.and_then(Row::mean) {
        s += &wrap(
            "- ",
            "  ",
            &format!(
                "Noise floor: {} points, the error sampling alone leaves at {} journeys; no \
                 model can be expected to do better.",
                fmt_pp(m),
                fmt_count(o.journeys)
            ),
        );
    }

    // per preset: the closest model and each family's best
    s += "\nPer scenario (closest model; best error of each family, in points):\n";
    let mut wins: Vec<(Family, Vec<String>)> = Vec::new();
    for (k, f) in facts.iter().enumerate() {
        let at = |r: &Row| r.errors.get(k).copied().flatten();
        let Some(closest) = models.iter().filter(|r| at(r).is_some()).min_by(|a, b| {
            at(a)
                .unwrap_or(f64::INFINITY)
                .total_cmp(&at(b).unwrap_or(f64::INFINITY))
        }) else {
            continue;
        };
        match wins.iter_mut().find(|w| w.0 == closest.meta.family) {
            Some(w) => w.1.push(f.preset.to_string()),
            None => wins.push((closest.meta.family, vec![f.preset.to_string()])),
        }
        let mut per: Vec<(Family, f64)> = families
            .iter()
            .filter_map(|&fam| {
                models
                    .iter()
                    .filter(|r| r.meta.family == fam)
                    .filter_map(|r| at(r))
                    .min_by(f64::total_cmp)
                    .map(|e| (fam, e))
            })
            .collect();
        per.sort_by(|a, b| a.1.total_cmp(&b.1));
        let list: Vec<String> = per
            .iter()
            .map(|(fam, e)| format!("{} {}", fam.name(), fmt_pp(*e)))
            .collect();
        let mut line = format!(
            "{} ({}): closest {}, {} points",
            f.preset,
            describe(f.preset),
            closest.meta.label,
            fmt_pp(at(closest).unwrap_or(f64::NAN)),
        );
        if list.len() > 1 {
            line += &format!("; by family: {}", list.join(", "));
        }
        line += ".";
        if let Some(fl) = floor.and_then(at) {
            line += &format!(" Noise floor {}.", fmt_pp(fl));
            if fl > NOISY_FLOOR_PP {
                line += &format!(
                    " Even the true model refitted is more than {NOISY_FLOOR_PP:.0} points off: \
                     at {} journeys sampling noise hides differences of this size from any \
                     model; read every split here as uncertain, or collect more journeys.",
                    fmt_count(o.journeys)
                );
            }
        }
        s += &wrap("- ", "  ", &line);
    }
    wins.sort_by_key(|w| std::cmp::Reverse(w.1.len()));
    let counted: Vec<String> = wins
        .iter()
        .enumerate()
        .map(|(i, (fam, presets))| {
            let n = presets.len();
            if i == 0 {
                format!("{} in {n} of {n_presets}", fam.name())
            } else {
                format!("{} in {n} ({})", fam.name(), presets.join(", "))
            }
        })
        .collect();
    if !counted.is_empty() {
        s += "\n";
        s += &wrap(
            "",
            "",
            &format!("Closest family per scenario: {}.", counted.join(", ")),
        );
    }

    // where crediting presence misleads most
    let best_at = |fam: Family, k: usize| {
        models
            .iter()
            .filter(|r| r.meta.family == fam)
            .filter_map(|r| r.errors.get(k).copied().flatten())
            .min_by(f64::total_cmp)
    };
    let gap = (0..facts.len())
        .filter_map(|k| {
            let rule = best_at(Family::RuleBased, k)?;
            let markov = best_at(Family::Markov, k)?;
            let inc = best_at(Family::Incremental, k)?;
            Some((k, rule, markov, inc, rule.min(markov) - inc))
        })
        .max_by(|a, b| a.4.total_cmp(&b.4));
    if let Some((k, rule, markov, inc, d)) = gap.filter(|g| g.4 > 0.0) {
        s += "\n";
        s += &wrap(
            "",
            "",
            &format!(
                "The gap is widest on {} ({}): the best rule-based model is {} points off and \
                 the best Markov chain {}, against {} for the incremental model ({} points \
                 apart). Rule-based models and Markov chains credit a channel for appearing on \
                 converting paths; the incremental model credits what it adds.",
                facts[k].preset,
                describe(facts[k].preset),
                fmt_pp(rule),
                fmt_pp(markov),
                fmt_pp(inc),
                fmt_pp(d)
            ),
        );
    }
    let milestone_rows = models
        .iter()
        .any(|r| r.meta.label.starts_with("W-shaped") || r.meta.label.starts_with("Full path"));
    let without: Vec<String> = facts
        .iter()
        .filter(|f| !f.milestones)
        .map(|f| f.preset.to_string())
        .collect();
    if milestone_rows && !without.is_empty() {
        s += "\n";
        s += &wrap(
            "",
            "",
            &format!(
                "Note: W-shaped and full path need lead and opportunity milestones; the journeys \
                 of {} carry none, so there both fall back to 90% first touch, 10% the rest.",
                without.join(", ")
            ),
        );
    }

    // which model to use when
    s += "\nWhich model to use when:\n";
    let floor_mean = floor.and_then(Row::mean).map(|m| m.0);
    let above_floor = |m: f64| {
        floor_mean.map_or(String::new(), |f| {
            // the difference of the printed figures, so the text adds up
            let d = (m * 10.0).round() / 10.0 - (f * 10.0).round() / 10.0;
            if d < 0.05 {
                format!(", at the noise floor ({})", fmt_pp(f))
            } else {
                format!(", {} above the noise floor ({})", fmt_pp(d), fmt_pp(f))
            }
        })
    };
    // budget: the effect shares, the quantity the truth measures, unless
    // another model came clearly closer on these scenarios
    let effects_label = meta("incremental effect shares").label;
    let effects = models
        .iter()
        .find(|r| r.meta.label == effects_label)
        .and_then(|r| r.mean());
    let budget = match effects {
        Some((m, _)) => {
            let mut b = format!(
                "Deciding budget (what would we lose by cutting a channel?): {effects_label}. It \
                 estimates the conversions each channel adds, the quantity the truth measures: \
                 {} points off on average{}.",
                fmt_pp(m),
                above_floor(m)
            );
            if best_label != effects_label && best_mean < m - CLEARLY_CLOSER_PP {
                b += &format!(
                    " {best_label} came closer on these scenarios ({} points).",
                    fmt_pp(best_mean)
                );
            }
            b
        }
        None => format!(
            "Deciding budget (what would we lose by cutting a channel?): {best_label}, {} points \
             off on average{}.",
            fmt_pp(best_mean),
            above_floor(best_mean)
        ),
    };
    s += &wrap("- ", "  ", &budget);
    let reconciling: Vec<&&Row> = models.iter().filter(|r| r.meta.reconciles).collect();
    if let Some((label, m, _)) = best_of(&mut reconciling.iter().copied()) {
        let mut revenue = format!(
            "Reporting revenue (each converting journey's value shared among its channels, so \
             channel totals add up to revenue): {label}, {} points off on average.",
            fmt_pp(m)
        );
        let baseline_label = meta("incremental credit with baseline").label;
        if label == baseline_label {
            revenue += " It puts the conversions that would have happened anyway in a \
                        separate baseline line.";
            let others: Vec<&&Row> = reconciling
                .iter()
                .copied()
                .filter(|r| r.meta.label != baseline_label)
                .collect();
            if let Some((l2, m2, _)) = best_of(&mut others.iter().copied()) {
                revenue += &format!(
                    " Where every unit of revenue must sit on a channel: {l2}, {} points.",
                    fmt_pp(m2)
                );
            }
        }
        let rules: Vec<&&Row> = reconciling
            .iter()
            .copied()
            .filter(|r| r.meta.family == Family::RuleBased)
            .collect();
        if let Some((l3, m3, _)) = best_of(&mut rules.iter().copied()) {
            revenue += &format!(
                " If a rule-based model is required: {l3}, {} points.",
                fmt_pp(m3)
            );
        }
        s += &wrap("- ", "  ", &revenue);
    }
    if let Some((covered, total)) = coverage {
        let pct = 100.0 * f64::from(covered) / f64::from(total.max(1));
        let verdict = if pct >= TRUSTED_COVERAGE_PCT {
            "close to the promised 95%: the uncertainty they state can be trusted"
        } else {
            "well below the promised 95%: read them as too narrow (more replicates or more \
             journeys)"
        };
        s += "\n";
        s += &wrap(
            "",
            "",
            &format!(
                "The 95% bootstrap intervals of the expected incremental conversions contain the \
                 true share for {covered} of {total} channels ({pct:.0}%), {verdict}."
            ),
        );
    }
    s
}

/// `s` with its first letter in upper case.
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    let started = Instant::now();
    // model keys in order of first appearance; errors[preset][model]
    let mut names: Vec<String> = Vec::new();
    let mut errors: Vec<Vec<Option<f64>>> = Vec::new();
    let mut facts = Vec::new();
    // per preset: the truth's channels and shares, and each model's shares
    let mut details: Vec<(Preset, GroundTruth, Shares)> = Vec::new();
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
        facts.push(PresetFacts {
            preset: p,
            milestones: set
                .iter()
                .any(|j| j.milestones().iter().any(Option::is_some)),
        });
        let (list, global) = models_for(&set, p, o.only_incremental, o.calibrated_everywhere);
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
        errors.push(row);
        details.push((p, truth, detail));
    }

    // rows grouped by family, in order of first appearance within each
    let mut rows: Vec<Row> = names
        .iter()
        .enumerate()
        .map(|(m, key)| Row {
            meta: meta(key),
            errors: errors.iter().map(|r| r.get(m).copied().flatten()).collect(),
        })
        .collect();
    rows.sort_by_key(|r| r.meta.family);
    let label_of = |key: &str| meta(key).label;

    let mut families: Vec<Family> = rows.iter().map(|r| r.meta.family).collect();
    families.dedup();
    println!("{}", legend(&families));
    let caption = format!(
        "Error against the truth, in percentage points: the sum over channels of |model's share \
         − true share| of conversions (0 is perfect, 200 the worst). {} journeys per scenario, \
         seed {}; * = closest model per scenario (the noise floor is not a model and is not \
         marked); mean over the scenarios where the model ran.",
        fmt_count(o.journeys),
        o.seed
    );
    println!("{}", wrap("", "", &caption));
    // the closest model per preset, the noise floor left out
    let best: Vec<Option<usize>> = (0..o.presets.len())
        .map(|k| {
            (0..rows.len())
                .filter(|&m| rows[m].meta.family != Family::Reference)
                .filter_map(|m| rows[m].errors[k].map(|e| (m, e)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(m, _)| m)
        })
        .collect();
    let mut header = vec!["model".to_owned()];
    header.extend(o.presets.iter().map(ToString::to_string));
    header.push("mean".to_owned());
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, o.presets.len() + 1));
    let body: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(m, r)| {
            let mut cells = vec![r.meta.label.clone()];
            for (k, e) in r.errors.iter().enumerate() {
                cells.push(match e {
                    // a space in place of the mark keeps the digits aligned
                    Some(e) if best[k] == Some(m) => format!("{e:.1}*"),
                    Some(e) => format!("{e:.1} "),
                    None => "n/a ".to_owned(),
                });
            }
            cells.push(
                r.mean()
                    .map_or("n/a".to_owned(), |(x, _)| format!("{x:.1}")),
            );
            cells
        })
        .collect();
    print!("{}", table(&header, &align, &body));

    if o.detail {
        for (p, truth, detail) in &details {
            println!(
                "\n{p}: share of conversions per channel, in % (the truth first; {})\n",
                describe(*p)
            );
            let mut header = vec!["model".to_owned()];
            header.extend(truth.channels.iter().map(|c| c.name.clone()));
            let mut align = vec![Align::Left];
            align.extend(std::iter::repeat_n(Align::Right, truth.channels.len()));
            let mut body = vec![
                std::iter::once("Truth".to_owned())
                    .chain(
                        truth
                            .channels
                            .iter()
                            .map(|c| format!("{:.2}", 100.0 * c.share)),
                    )
                    .collect::<Vec<_>>(),
            ];
            let mut ordered: Vec<&(String, Vec<f64>)> = detail.iter().collect();
            ordered.sort_by_key(|(key, _)| meta(key).family);
            for (key, s) in ordered {
                body.push(
                    std::iter::once(label_of(key))
                        .chain(s.iter().map(|x| format!("{:.2}", 100.0 * x)))
                        .collect(),
                );
            }
            print!("{}", table(&header, &align, &body));
        }
    }
    let coverage = if o.intervals > 0 {
        Some(intervals(&o)?)
    } else {
        None
    };
    print!("{}", reading(&o, &rows, &facts, coverage));
    eprintln!("\n{:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The incremental model's 95% bootstrap intervals against the truth, per
/// channel, on each preset (the automatically chosen configuration), how
/// often they cover it, and the sample-size guidance they give. Returns
/// `(covered, channels)`.
fn intervals(o: &Opts) -> Result<(u32, u32), Box<dyn std::error::Error>> {
    use touchpoint::bootstrap::BootstrapConfig;
    use touchpoint::incremental::bootstrap_effects;
    let boot = BootstrapConfig::new().replicates(o.intervals)?.seed(o.seed);
    let (mut covered, mut total) = (0u32, 0u32);
    let caption = format!(
        "Incremental: expected incremental conversions, as each channel's share, with 95% \
         bootstrap intervals ({} replicates, {} journeys, seed {}; configuration chosen by \
         incremental::select), and the journeys needed for ±2 and ±1 percentage points \
         (n · (half-width / target)²):",
        o.intervals,
        fmt_count(o.journeys),
        o.seed
    );
    println!("\n{}", wrap("", "", &caption));
    let header: Vec<String> = [
        "preset",
        "channel",
        "true share",
        "estimate",
        "95% interval",
        "covered",
        "journeys for ±2 pp",
        "journeys for ±1 pp",
    ]
    .map(str::to_owned)
    .to_vec();
    let align = [
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
    ];
    let mut body = Vec::new();
    let mut per_preset = Vec::new();
    for &p in &o.presets {
        let sim = Simulator::new(p.config(o.seed));
        let set = sim.journey_set(o.journeys)?;
        let truth = sim.ground_truth(o.journeys)?;
        let (_, selection) = incremental::select(&set, SelectConfig::new())?;
        let ci = bootstrap_effects(&set, selection.config(), &boot)?;
        let (mut c_in, mut c_all) = (0u32, 0u32);
        for t in &truth.channels {
            let Some(c) = ci.get(&t.name) else { continue };
            let s = c.share();
            let inside = s.contains(t.share);
            c_in += u32::from(inside);
            c_all += 1;
            let need = |pp: f64| {
                s.journeys_for_half_width(set.len() as u64, pp / 100.0)
                    .map_or("n/a".to_owned(), |n| n.to_string())
            };
            body.push(vec![
                p.to_string(),
                t.name.clone(),
                format!("{:.2}%", 100.0 * t.share),
                format!("{:.2}%", 100.0 * s.estimate()),
                format!("[{:.2}%, {:.2}%]", 100.0 * s.low(), 100.0 * s.high()),
                if inside { "yes" } else { "no" }.to_owned(),
                need(2.0),
                need(1.0),
            ]);
        }
        covered += c_in;
        total += c_all;
        per_preset.push(vec![p.to_string(), format!("{c_in} of {c_all}")]);
    }
    print!("{}", table(&header, &align, &body));
    println!(
        "\nCoverage: {covered} of {total} channels ({:.0}%) have their true share inside the 95% interval:\n",
        100.0 * f64::from(covered) / f64::from(total.max(1))
    );
    print!(
        "{}",
        table(
            &[
                "preset".to_owned(),
                "channels whose true share is inside the interval".to_owned()
            ],
            &[Align::Left, Align::Right],
            &per_preset
        )
    );
    Ok((covered, total))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("accuracy: {e}");
        std::process::exit(2);
    }
}
