//! Throughput and memory of every model on streamed simulated journeys.
//!
//! Streams `N` journeys from the simulator in chunks (memory does not grow
//! with `N`), feeds each journey to every consumer (every attribution
//! model through a mergeable [`CreditPartial`], the funnel metrics on each
//! journey's simulated lead, and the simulator's own ground truth), and prints per consumer the time spent in it, journeys/s
//! and touches/s, then the process's peak resident memory (VmHWM). Data-driven
//! models are timed as fits (observe every journey, then `finish` solves).
//!
//! Run: `cargo run --release --example scale -- --journeys 1000000
//! [--preset sample_like] [--seed 1] [--chunk 10000] [--only PREFIX,...]`
//!
//! `--only` keeps the consumers whose name starts with one of the prefixes
//! (e.g. `--only linear,markov` to see one model's memory alone).

use std::time::{Duration, Instant};

use touchpoint::funnel::{FunnelPartial, SliceBy, WinRate};
use touchpoint::incremental::{IncrementalConfig, IncrementalPartial};
use touchpoint::markov::{MarkovConfig, MarkovPartial};
use touchpoint::shapley::{ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::sim::{Preset, Simulator, TruthPartial};
use touchpoint::{
    Aggregate, AttributionModel, CreditPartial, JourneyAggregate, SimpleJourney, models,
};

/// Something that observes a stream of journeys and finishes with a summary.
trait Consumer {
    fn name(&self) -> String;
    /// Observes one chunk of consecutive journeys, starting at index `first`.
    fn observe(
        &mut self,
        first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>>;
    /// A one-line summary of the finished result.
    fn finish(&self) -> String;
}

/// An attribution model streaming through a [`CreditPartial`].
struct ModelConsumer {
    model: Box<dyn AttributionModel>,
    partial: CreditPartial,
}

impl Consumer for ModelConsumer {
    fn name(&self) -> String {
        self.model.name().to_owned()
    }
    fn observe(
        &mut self,
        _first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>> {
        for j in chunk {
            self.partial.observe(j)?;
        }
        Ok(())
    }
    fn finish(&self) -> String {
        let r = self.partial.finish();
        format!(
            "{} conversions credited over {} channels",
            r.conversions(),
            r.channels().lines().len()
        )
    }
}

/// A data-driven fit streaming journey by journey through the crate's
/// [`JourneyAggregate`] trait; `finish` fits the model (its time is counted
/// by [`run`] separately) and `describe` summarizes it.
struct FitConsumer<A: JourneyAggregate> {
    name: String,
    partial: A,
    describe: fn(&A::Output) -> String,
}

impl<A: JourneyAggregate> Consumer for FitConsumer<A> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn observe(
        &mut self,
        _first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>> {
        for j in chunk {
            self.partial.observe(j)?;
        }
        Ok(())
    }
    fn finish(&self) -> String {
        match self.partial.finish() {
            Ok(m) => format!(
                "{}, fit state {} kB",
                (self.describe)(&m),
                self.partial.size_bytes() / 1024
            ),
            Err(e) => format!("error: {e}"),
        }
    }
}

/// The incremental fit (observed through its own partial until it
/// implements [`JourneyAggregate`]).
struct IncrementalConsumer {
    partial: IncrementalPartial,
}

impl Consumer for IncrementalConsumer {
    fn name(&self) -> String {
        "incremental fit".into()
    }
    fn observe(
        &mut self,
        _first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>> {
        for j in chunk {
            self.partial.observe(j)?;
        }
        Ok(())
    }
    fn finish(&self) -> String {
        match self.partial.finish() {
            Ok(m) => format!(
                "{} channels, fit state {} kB",
                m.channels().len(),
                self.partial.size_bytes() / 1024
            ),
            Err(e) => format!("error: {e}"),
        }
    }
}

/// The simulator's ground truth, computed on the same index range (it
/// re-draws journeys itself rather than reading them).
struct TruthConsumer<'a> {
    sim: &'a Simulator,
    partial: TruthPartial,
}

impl Consumer for TruthConsumer<'_> {
    fn name(&self) -> String {
        "ground_truth (sim)".into()
    }
    fn observe(
        &mut self,
        first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.partial
            .observe_range(self.sim, first..first + chunk.len() as u64)?;
        Ok(())
    }
    fn finish(&self) -> String {
        let t = self.partial.finish();
        format!("{:.1} expected conversions", t.expected_conversions)
    }
}

/// The funnel metrics: each journey becomes its simulated lead
/// ([`Simulator::lead_of`], no second draw of the journey) and streams
/// through one [`FunnelPartial`] sliced by the channel of the lead's
/// original source. The partial holds per-slice counters and day-bucket
/// histograms only, so its size depends on channels and periods, not leads.
struct FunnelConsumer<'a> {
    sim: &'a Simulator,
    partial: FunnelPartial,
}

impl Consumer for FunnelConsumer<'_> {
    fn name(&self) -> String {
        "funnel metrics (leads by channel)".into()
    }
    fn observe(
        &mut self,
        first: u64,
        chunk: &[SimpleJourney],
    ) -> Result<(), Box<dyn std::error::Error>> {
        for (i, j) in (first..).zip(chunk) {
            let lead = self.sim.lead_of(i, j.clone());
            self.partial.observe(&lead)?;
        }
        Ok(())
    }
    fn finish(&self) -> String {
        let m = self.partial.finish();
        let t = m.total();
        let mql_to_won = t
            .cohort_rate("mql", "closed_won")
            .ok()
            .and_then(|r| r.value())
            .map_or("-".to_owned(), |r| format!("{:.1}%", 100.0 * r));
        let velocity = t
            .velocity(WinRate::WonOverClosed)
            .per_day
            .value()
            .map_or("-".to_owned(), |v| format!("{v:.0}"));
        format!(
            "{} leads, {} MQLs, {} won, MQL->won {mql_to_won}, velocity {velocity}/day, {} slices, state {} kB",
            t.records(),
            t.reached("mql").unwrap_or(0),
            t.reached("closed_won").unwrap_or(0),
            m.slices().len(),
            self.partial.size_bytes() / 1024
        )
    }
}

/// Every consumer: one per model, the data-driven fits, the funnel
/// metrics and the ground truth.
fn consumers(sim: &Simulator) -> Vec<Box<dyn Consumer + '_>> {
    let mut out: Vec<Box<dyn Consumer + '_>> = Vec::new();
    for model in models::all() {
        let partial = CreditPartial::with_currency(model.as_ref(), touchpoint::Currency::default());
        out.push(Box::new(ModelConsumer { model, partial }));
    }
    // Data-driven fits: their state grows with distinct paths, not journeys.
    for order in 1..=3u8 {
        if let Ok(config) = MarkovConfig::new(order) {
            out.push(Box::new(FitConsumer::<MarkovPartial> {
                name: format!("markov_{order} fit"),
                partial: Aggregate::new(config),
                describe: |m| format!("{} states", m.state_count()),
            }));
        }
    }
    for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate] {
        out.push(Box::new(FitConsumer::<ShapleyPartial> {
            name: format!("shapley {variant:?} fit"),
            partial: Aggregate::new(ShapleyConfig::new(variant)),
            describe: |m| format!("{} channels", m.channels().len()),
        }));
    }
    out.push(Box::new(IncrementalConsumer {
        partial: IncrementalPartial::new(&IncrementalConfig::new()),
    }));
    out.push(Box::new(FunnelConsumer {
        sim,
        partial: FunnelPartial::new(sim.funnel_config().slice_by(SliceBy::Channel)),
    }));
    out.push(Box::new(TruthConsumer {
        sim,
        partial: TruthPartial::new(sim),
    }));
    out
}

/// Peak and current resident set size in kB, from /proc/self/status (Linux).
fn memory_kb() -> (Option<u64>, Option<u64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct Opts {
    journeys: u64,
    preset: Preset,
    seed: u64,
    chunk: usize,
    only: Vec<String>,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        journeys: 100_000,
        preset: Preset::SampleLike,
        seed: 1,
        chunk: 10_000,
        only: Vec::new(),
    };
    let num = |flag: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or(format!("{flag} needs a number"))?;
        v.replace('_', "")
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 1.0 && n.fract() == 0.0 && *n < 1e18)
            .map(|n| n as u64)
            .ok_or(format!("{flag}: {v:?} is not a whole number >= 1"))
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--journeys" => o.journeys = num(&a, args.next())?,
            "--seed" => o.seed = num(&a, args.next())?,
            "--chunk" => o.chunk = num(&a, args.next())?.min(10_000_000) as usize,
            "--only" => {
                let v = args.next().ok_or("--only needs names")?;
                o.only.extend(v.split(',').map(|x| x.trim().to_owned()));
            }
            "--preset" => {
                o.preset = args
                    .next()
                    .ok_or("--preset needs a name")?
                    .parse()
                    .map_err(|e| format!("{e}"))?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: scale [--journeys N] [--preset NAME] [--seed S] [--chunk C] [--only PREFIX,...]".into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(o)
}

fn rate(count: u64, d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == 0.0 {
        return "-".into();
    }
    let r = count as f64 / s;
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else {
        format!("{:.1} k", r / 1e3)
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let o = parse_args()?;
    let sim = Simulator::new(o.preset.config(o.seed));
    let mut consumers = consumers(&sim);
    if !o.only.is_empty() {
        consumers.retain(|c| o.only.iter().any(|p| c.name().starts_with(p.as_str())));
    }
    let mut spent = vec![Duration::ZERO; consumers.len()];
    let mut generate = Duration::ZERO;
    let (mut touches, mut conversions) = (0u64, 0u64);
    let mut chunk: Vec<SimpleJourney> = Vec::with_capacity(o.chunk);
    let started = Instant::now();
    let mut first = 0u64;
    while first < o.journeys {
        let end = (first + o.chunk as u64).min(o.journeys);
        let t = Instant::now();
        chunk.clear();
        chunk.extend(sim.journeys_in(first..end));
        generate += t.elapsed();
        for j in &chunk {
            touches += j.touchpoints.len() as u64;
            conversions += u64::from(j.converted);
        }
        for (c, d) in consumers.iter_mut().zip(&mut spent) {
            let t = Instant::now();
            c.observe(first, &chunk)?;
            *d += t.elapsed();
        }
        first = end;
    }
    let streamed = started.elapsed();
    println!(
        "preset {}, seed {}: {} journeys, {} touches, {} conversions, chunks of {}\n",
        o.preset, o.seed, o.journeys, touches, conversions, o.chunk
    );
    println!(
        "| step | seconds (observe + finish) | journeys/s (observe) | touches/s (observe) | result |"
    );
    println!("|---|---:|---:|---:|---|");
    println!(
        "| simulate (generate SimpleJourneys) | {:.2} + 0 | {} | {} | |",
        generate.as_secs_f64(),
        rate(o.journeys, generate),
        rate(touches, generate)
    );
    for (c, d) in consumers.iter().zip(&spent) {
        let t = Instant::now();
        let result = c.finish();
        let fin = t.elapsed();
        println!(
            "| {} | {:.2} + {:.2} | {} | {} | {} |",
            c.name(),
            d.as_secs_f64(),
            fin.as_secs_f64(),
            rate(o.journeys, *d),
            rate(touches, *d),
            result
        );
    }
    let (hwm, rss) = memory_kb();
    let mb =
        |k: Option<u64>| k.map_or("n/a".to_owned(), |k| format!("{:.1} MB", k as f64 / 1024.0));
    println!(
        "\ntotal {:.2} s (streaming {:.2} s); peak memory (VmHWM) {}, resident now {}",
        started.elapsed().as_secs_f64(),
        streamed.as_secs_f64(),
        mb(hwm),
        mb(rss)
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("scale: {e}");
        std::process::exit(2);
    }
}
