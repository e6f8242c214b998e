//! Touchpoints per second for every rule-based model over 100,000 generated
//! journeys (deterministic: a fixed-seed splitmix64 inline, no dependency).
//!
//! Run: `cargo bench --bench models -- --warm-up-time 1 --measurement-time 3`
//!
//! Groups: `model` (every model, realistic mix), `model_all_converted`
//! (the worst case, every breakdown and channels only), `heuristic` (first,
//! last and linear together, compute only), `stream` (user journeys
//! observed one at a time through a `CreditPartial`, beside the memory
//! reference measured in the same run: reading each touch's channel,
//! campaign and content names and its time, which any streaming observe
//! must do), and `stream_layout` (the same stream over journeys in the
//! processor's caches, and over journeys cloned afresh: where streaming
//! waits).
//!
//! The set is built once; each benchmark measures `attribute(&model, &set)`
//! (credit, aggregation by channel, campaign and content, and the final
//! report) and checks that the report conserves value. Group `model` uses
//! the realistic mix (about 26% of journeys and 37% of touches converted;
//! non-converted journeys cost almost nothing); group `model_all_converted`
//! repeats four models with every journey converted, the engine's worst case.

use std::hint::black_box;

use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use touchpoint::models::{
    FirstTouch, FullPath, LastNonDirect, LastTouch, Linear, Participation, PositionBased,
    PositionWeights, TimeDecay, WShaped,
};
use touchpoint::{
    AttributionModel, Breakdowns, CreditConfig, CreditPartial, Journey, JourneySet, Milestone,
    Report, SimpleJourney, SimpleTouch, attribute, attribute_with,
};

const JOURNEYS: usize = 100_000;

/// splitmix64: a tiny, good-enough generator for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CHANNELS: [&str; 12] = [
    "paid_search",
    "organic_search",
    "paid_social",
    "email",
    "display",
    "direct",
    "referral",
    "affiliate",
    "webinar",
    "video",
    "events",
    "partner",
];
/// Relative popularity of the channels (from the shipped sample).
const POPULARITY: [u64; 12] = [30, 27, 20, 20, 17, 14, 10, 7, 7, 7, 5, 5];

/// 100k journeys: lengths 1..=20, roughly geometric (mean about 4); 12
/// channels with skewed popularity; about a third of the touches carry a
/// campaign, a fifth a content asset; longer journeys convert more often
/// (about 30% overall); converted journeys of 3+ touches carry lead,
/// opportunity and close milestones with decreasing probability.
fn generate(all_converted: bool) -> JourneySet {
    JourneySet::from_journeys(journeys(all_converted)).expect("generated journeys are valid")
}

/// The journeys of [`generate`], as the caller's own values.
fn journeys(all_converted: bool) -> Vec<SimpleJourney> {
    let mut rng = SplitMix(0x5EED_2024);
    let total: u64 = POPULARITY.iter().sum();
    let campaigns: Vec<String> = (0..40).map(|i| format!("campaign_{i:02}")).collect();
    let contents: Vec<String> = (0..25).map(|i| format!("asset_{i:02}")).collect();
    let mut journeys = Vec::with_capacity(JOURNEYS);
    for id in 0..JOURNEYS {
        let mut len = 1;
        while len < 20 && rng.unit() < 0.72 {
            len += 1;
        }
        let converted = rng.unit() < 0.12 + 0.04 * len as f64 || all_converted;
        let mut ts = 1_700_000_000 + rng.below(365 * 86_400) as i64;
        let mut j = SimpleJourney::new(format!("j{id}"));
        // milestone positions (converted B2B-like journeys only)
        let (lead, opp, close) = if converted && len >= 3 && rng.unit() < 0.6 {
            let lead = 1 + rng.below(len as u64 - 1) as usize;
            let opp = (rng.unit() < 0.7).then(|| lead + rng.below((len - lead) as u64) as usize);
            let close = (opp.is_some() && rng.unit() < 0.6).then_some(len - 1);
            (Some(lead), opp, close)
        } else {
            (None, None, None)
        };
        for i in 0..len {
            let mut pick = rng.below(total);
            let mut c = 0;
            while pick >= POPULARITY[c] {
                pick -= POPULARITY[c];
                c += 1;
            }
            ts += rng.below(10 * 86_400) as i64;
            let mut t = SimpleTouch::new(CHANNELS[c], DateTime::from_timestamp(ts, 0).unwrap());
            if rng.unit() < 0.35 {
                t = t.campaign(campaigns[rng.below(40) as usize].as_str());
            }
            if rng.unit() < 0.2 {
                t = t.content(contents[rng.below(25) as usize].as_str());
            }
            // a later milestone wins when they share a touch (close at the end)
            let m = if close == Some(i) {
                Some(Milestone::Closed)
            } else if opp == Some(i) {
                Some(Milestone::OpportunityCreated)
            } else if lead == Some(i) {
                Some(Milestone::LeadCreated)
            } else {
                None
            };
            if let Some(m) = m {
                t = t.milestone(m);
            }
            j = j.touch(t);
        }
        if converted {
            let at = ts + rng.below(2 * 86_400) as i64;
            j = j
                .converted((1_000 + rng.below(49_000)) as f64 / 100.0)
                .converted_at(DateTime::from_timestamp(at, 0).unwrap());
        }
        journeys.push(j);
    }
    journeys
}

fn models(c: &mut Criterion) {
    let set = generate(false);
    let total_value: i128 = set.iter().map(|j| i128::from(j.value_minor())).sum();
    let list: Vec<Box<dyn AttributionModel>> = vec![
        Box::new(FirstTouch),
        Box::new(LastTouch),
        Box::new(LastNonDirect::default()),
        Box::new(Linear),
        Box::new(TimeDecay::default()),
        Box::new(PositionBased::u_shaped()),
        Box::new(PositionBased::j_shaped()),
        Box::new(PositionBased::inverse_j()),
        Box::new(PositionBased::u_shaped().lead_anchored()),
        Box::new(WShaped::default()),
        Box::new(FullPath::default()),
        Box::new(Participation),
        Box::new(PositionWeights::new(vec![3.0, 1.0]).unwrap()),
    ];
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(set.touch_count() as u64));
    for m in &list {
        let id = if m.fingerprint().contains("lead_anchored=true") {
            format!("{}_lead_anchored", m.name())
        } else {
            m.name().to_owned()
        };
        g.bench_function(id, |b| {
            b.iter(|| {
                let r = attribute(black_box(m.as_ref()), black_box(&set)).unwrap();
                let ch = r.channels();
                let sum: i128 = ch.lines().iter().map(|l| l.value_minor()).sum::<i128>()
                    + ch.unassigned().value_minor();
                if r.is_full_credit() {
                    assert!(sum >= total_value);
                } else {
                    assert_eq!(sum, total_value);
                }
                r
            });
        });
    }
    g.finish();

    // The worst case for the engine: every journey converted, so every
    // touch goes through the weights and the apportionment.
    let set = generate(true);
    let total_value: i128 = set.iter().map(|j| i128::from(j.value_minor())).sum();
    let mut g = c.benchmark_group("model_all_converted");
    g.throughput(Throughput::Elements(set.touch_count() as u64));
    let worst: [Box<dyn AttributionModel>; 7] = [
        Box::new(Linear),
        Box::new(TimeDecay::default()),
        Box::new(PositionBased::u_shaped()),
        Box::new(PositionBased::j_shaped()),
        Box::new(PositionBased::inverse_j()),
        Box::new(WShaped::default()),
        Box::new(FullPath::default()),
    ];
    for m in &worst {
        g.bench_function(m.name().to_owned(), |b| {
            b.iter(|| {
                let r = attribute(black_box(m.as_ref()), black_box(&set)).unwrap();
                let ch = r.channels();
                let sum: i128 = ch.lines().iter().map(|l| l.value_minor()).sum::<i128>()
                    + ch.unassigned().value_minor();
                assert_eq!(sum, total_value);
                r
            });
        });
    }
    // the same, channels only (no campaign or content sums)
    for m in &worst {
        let config = CreditConfig::by_name(m.name())
            .unwrap()
            .with_breakdowns(Breakdowns::CHANNELS);
        g.bench_function(format!("{}_channels_only", m.name()), |b| {
            b.iter(|| attribute_with(black_box(&config), black_box(&set)).unwrap());
        });
    }
    g.finish();

    // first + last + linear together on the 100k journeys (the figure
    // ChannelAttribution's `heuristic_models` is compared with), compute
    // only: the set is built once
    let set = generate(false);
    let mut g = c.benchmark_group("heuristic");
    g.throughput(Throughput::Elements(set.touch_count() as u64));
    g.bench_function("first_last_linear", |b| {
        b.iter(|| {
            (
                attribute(&FirstTouch, black_box(&set)).unwrap(),
                attribute(&LastTouch, black_box(&set)).unwrap(),
                attribute(&Linear, black_box(&set)).unwrap(),
            )
        });
    });
    g.finish();
}

/// Streams `journeys` through a fresh partial of `config`, `rounds` times
/// over, and finishes it: the body of every `stream` benchmark.
fn observe_all(config: &CreditConfig, journeys: &[SimpleJourney], rounds: usize) -> Report {
    let mut p = CreditPartial::new(config.clone());
    for _ in 0..rounds {
        for j in black_box(journeys) {
            p.observe(j).unwrap();
        }
    }
    p.finish()
}

/// User journeys observed one at a time through a [`CreditPartial`] (the
/// streaming path), against the batch path on the same journeys.
fn stream(c: &mut Criterion) {
    let journeys = journeys(false);
    let touches: usize = journeys.iter().map(|j| j.touchpoints().len()).sum();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(touches as u64));
    // the physical reference: read every touch's names and time once
    g.bench_function("scan_names_and_times", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for j in black_box(&journeys) {
                for t in j.touchpoints() {
                    acc = acc.wrapping_add(u64::from(t.channel.as_bytes()[0]));
                    if let Some(c) = &t.campaign {
                        acc = acc.wrapping_add(u64::from(c.as_bytes()[0]));
                    }
                    if let Some(c) = &t.content {
                        acc = acc.wrapping_add(u64::from(c.as_bytes()[0]));
                    }
                    acc = acc.wrapping_add(t.ts.timestamp_subsec_nanos().into());
                }
            }
            acc
        });
    });
    for name in [
        "first_touch",
        "linear",
        "time_decay",
        "position_based",
        "w_shaped",
    ] {
        let config = CreditConfig::by_name(name).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| observe_all(&config, &journeys, 1));
        });
    }
    let config = CreditConfig::by_name("linear")
        .unwrap()
        .with_breakdowns(Breakdowns::CHANNELS);
    g.bench_function("linear_channels_only", |b| {
        b.iter(|| observe_all(&config, &journeys, 1));
    });
    g.finish();
}

/// Where streaming waits: the credit stream of [`stream`] (first touch,
/// time decay) over the same journeys in two other places in memory. `in_cache`:
/// the first 1,000 journeys observed 100 times over, so that they come from
/// the processor's caches (what observing costs when nothing waits on
/// memory); `cloned`: all the journeys cloned afresh, every touch array
/// allocated anew and in order (the layout of journeys read into exactly
/// sized arrays), against `stream`'s journeys, built touch by touch (their
/// arrays grown by reallocation, scattered among other journeys').
fn stream_layout(c: &mut Criterion) {
    let journeys = journeys(false);
    let count = |js: &[SimpleJourney]| js.iter().map(|j| j.touchpoints().len()).sum::<usize>();
    let small = &journeys[..1_000];
    let cloned = journeys.clone();
    let mut g = c.benchmark_group("stream_layout");
    for name in ["first_touch", "time_decay"] {
        let config = CreditConfig::by_name(name).unwrap();
        g.throughput(Throughput::Elements((count(small) * 100) as u64));
        g.bench_function(format!("{name}/in_cache"), |b| {
            b.iter(|| observe_all(&config, small, 100));
        });
        g.throughput(Throughput::Elements(count(&cloned) as u64));
        g.bench_function(format!("{name}/cloned"), |b| {
            b.iter(|| observe_all(&config, &cloned, 1));
        });
    }
    g.finish();
}

criterion_group!(benches, models, stream, stream_layout);
criterion_main!(benches);
