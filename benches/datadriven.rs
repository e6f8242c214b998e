//! Benchmarks of the data-driven models on generated journeys.
//!
//! Inputs come from a fixed-seed splitmix64 generator (below), so every run
//! sees the same journeys. Each bench asserts its result inside the loop.
//! Names read as paths: `markov/fit_solve/order=1/journeys=1M`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use touchpoint::incremental::{self, IncrementalConfig};
use touchpoint::markov::{self, MarkovConfig, MarkovPartial};
use touchpoint::shapley::{self, ShapleyConfig, ShapleyPartial, ShapleyVariant};
use touchpoint::{
    AttributionModel, CreditConfig, CreditKind, CreditPartial, JourneySet, JourneyView,
    SimpleJourney, SimpleTouch, Weights, attribute,
};

const NAMES: [&str; 16] = [
    "paid_search",
    "organic_search",
    "email",
    "direct",
    "display",
    "paid_social",
    "referral",
    "video",
    "affiliate",
    "webinar",
    "events",
    "partner",
    "podcast",
    "print",
    "sms",
    "tv",
];

fn splitmix64(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` journeys over `channels` channels: lengths 1 to 12 (mean about 2.6),
/// skewed channel popularity, conversion odds rising with length and with
/// the first three channels.
fn generate(n: usize, channels: usize, seed: u64) -> JourneySet {
    let mut set = JourneySet::new();
    for j in journeys(n, channels, seed) {
        set.push(&j).expect("valid journey");
    }
    set
}

/// The journeys of [`generate`], as the caller's own type.
fn journeys(n: usize, channels: usize, seed: u64) -> Vec<SimpleJourney> {
    let mut s = seed;
    let t0 = "2024-01-01T00:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .expect("timestamp");
    let mut out = Vec::with_capacity(n);
    let tri = (channels * (channels + 1) / 2) as u64;
    for i in 0..n {
        let mut j = SimpleJourney::new(format!("j{i}"));
        let mut len = 1;
        while len < 12 && splitmix64(&mut s) % 10 < 6 {
            len += 1;
        }
        let mut p = 30 + 15 * len as u64;
        for k in 0..len {
            // triangular: channel c has weight channels - c
            let mut r = splitmix64(&mut s) % tri;
            let mut c = 0;
            while r >= (channels - c) as u64 {
                r -= (channels - c) as u64;
                c += 1;
            }
            if c < 3 {
                p += 40;
            }
            j = j.touch(SimpleTouch::new(
                NAMES[c],
                t0 + chrono::Duration::seconds((i * 16 + k) as i64),
            ));
        }
        if splitmix64(&mut s) % 1000 < p {
            let cents = 1000 + splitmix64(&mut s) % 50_000;
            j = j.converted(cents as f64 / 100.0);
        }
        out.push(j);
    }
    out
}

/// Markov fit (counting) plus exact solve, on 1M journeys, 12 channels.
fn markov_1m(c: &mut Criterion) {
    let set = generate(1_000_000, 12, 1);
    let mut g = c.benchmark_group("markov");
    g.sample_size(10);
    for order in [1u8, 2, 3, 4] {
        let config = MarkovConfig::new(order).expect("order");
        g.bench_function(format!("fit_solve/order={order}/journeys=1M"), |b| {
            b.iter(|| {
                let m = markov::fit(black_box(&set), config).expect("fit");
                assert_eq!(m.journeys(), 1_000_000);
                m
            });
        });
    }
    for order in [3u8, 4] {
        let fit = markov::fit_partial(&set, MarkovConfig::new(order).expect("order")).expect("fit");
        g.bench_function(format!("solve_only/order={order}/journeys=1M"), |b| {
            b.iter(|| {
                let m = black_box(&fit).finish().expect("solve");
                assert!(m.conversion_probability() > 0.0);
                m
            });
        });
    }
    g.finish();
}

/// Markov on 100k journeys (the size of the side-by-side comparison).
fn markov_100k(c: &mut Criterion) {
    let set = generate(100_000, 12, 2);
    let mut g = c.benchmark_group("markov");
    for order in [1u8, 3] {
        let config = MarkovConfig::new(order).expect("order");
        g.bench_function(format!("fit_solve/order={order}/journeys=100k"), |b| {
            b.iter(|| {
                let m = markov::fit(black_box(&set), config).expect("fit");
                assert_eq!(m.journeys(), 100_000);
                m
            });
        });
    }
    g.finish();
}

/// Exact rate Shapley (all 2^15 coalitions) over 15 channels, 1M journeys:
/// counting coalitions plus the subset sums.
fn shapley_1m(c: &mut Criterion) {
    let set = generate(1_000_000, 15, 3);
    let mut g = c.benchmark_group("shapley");
    g.sample_size(10);
    for variant in [ShapleyVariant::Rate, ShapleyVariant::Simplified] {
        let config = ShapleyConfig::new(variant);
        g.bench_function(
            format!("fit_solve/{variant:?}/channels=15/journeys=1M"),
            |b| {
                b.iter(|| {
                    let m = shapley::fit(black_box(&set), config).expect("fit");
                    assert_eq!(m.channels().len(), 15);
                    m
                });
            },
        );
    }
    g.finish();
}

/// Streaming: user journeys (`SimpleJourney`) observed one at a time into a
/// partial, 100k journeys over 12 channels; throughput in touches/s.
fn stream_100k(c: &mut Criterion) {
    let js = journeys(100_000, 12, 4);
    let touches: usize = js.iter().map(|j| j.touchpoints.len()).sum();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(touches as u64));
    // the physical reference: read every touch's name bytes and time once
    g.bench_function("scan_names_and_times/journeys=100k", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for j in black_box(&js) {
                for t in &j.touchpoints {
                    acc = acc.wrapping_add(u64::from(t.channel.as_bytes()[0]));
                    acc = acc.wrapping_add(t.ts.timestamp_subsec_nanos().into());
                }
            }
            acc
        });
    });
    for order in [1u8, 3] {
        let config = MarkovConfig::new(order).expect("order");
        g.bench_function(format!("markov_observe/order={order}/journeys=100k"), |b| {
            b.iter(|| {
                let mut p = MarkovPartial::new(config);
                for j in black_box(&js) {
                    p.observe(j).expect("observe");
                }
                assert_eq!(p.journeys(), 100_000);
                p
            });
        });
    }
    for variant in [ShapleyVariant::Simplified, ShapleyVariant::Rate] {
        let config = ShapleyConfig::new(variant);
        g.bench_function(format!("shapley_observe/{variant:?}/journeys=100k"), |b| {
            b.iter(|| {
                let mut p = ShapleyPartial::new(config);
                for j in black_box(&js) {
                    p.observe(j).expect("observe");
                }
                assert_eq!(p.journeys(), 100_000);
                p
            });
        });
    }
    g.finish();
}

/// The removal-effect solves alone (`finish` on a counted partial): order 3
/// with 12 channels on 100k journeys, order 3 with the simulator's
/// `many_channels` preset (36 channels, 300k journeys), order 4 with 12
/// channels on 1M journeys, and orders 5 and 6 with 12 channels on 100k and
/// 1M journeys (their cost, issue 13). Each case prints its partial's
/// state count and `size_bytes` to stderr once.
fn markov_finish(c: &mut Criterion) {
    let mut g = c.benchmark_group("markov_finish");
    g.sample_size(10);
    let mut cases: Vec<(String, JourneySet, u8)> = vec![
        (
            "order=3/channels=12/journeys=100k".into(),
            generate(100_000, 12, 2),
            3,
        ),
        (
            "order=4/channels=12/journeys=1M".into(),
            generate(1_000_000, 12, 1),
            4,
        ),
    ];
    let m100k = generate(100_000, 12, 2);
    let m1m = generate(1_000_000, 12, 1);
    for order in [5u8, 6] {
        cases.push((
            format!("order={order}/channels=12/journeys=100k"),
            m100k.clone(),
            order,
        ));
        cases.push((
            format!("order={order}/channels=12/journeys=1M"),
            m1m.clone(),
            order,
        ));
    }
    #[cfg(feature = "sim")]
    cases.push((
        "order=3/many_channels/journeys=300k".into(),
        touchpoint::sim::Simulator::new(touchpoint::sim::Preset::ManyChannels.config(1))
            .journey_set(300_000)
            .expect("simulated journeys"),
        3,
    ));
    for (name, set, order) in &cases {
        let fit = markov::fit_partial(set, MarkovConfig::new(*order).expect("order")).expect("fit");
        eprintln!(
            "markov_finish/{name}: states={} size_bytes={}",
            fit.state_count(),
            fit.size_bytes()
        );
        g.bench_function(name.as_str(), |b| {
            b.iter(|| {
                let m = black_box(&fit).finish().expect("solve");
                assert!(m.conversion_probability() > 0.0);
                m
            });
        });
        g.bench_function(format!("fit_solve/{name}"), |b| {
            b.iter(|| {
                let m = markov::fit(black_box(set), MarkovConfig::new(*order).expect("order"))
                    .expect("fit");
                assert!(m.conversion_probability() > 0.0);
                m
            });
        });
    }
    g.finish();
}

/// `sequence_removal_effects(order)` at orders 2 to 4 on 100k journeys
/// over 12 channels: one removal per observed sequence of `order` channels.
fn markov_sequences(c: &mut Criterion) {
    let set = generate(100_000, 12, 5);
    let mut g = c.benchmark_group("markov_sequences");
    g.sample_size(10);
    for order in [2u8, 3, 4] {
        let m = markov::fit(&set, MarkovConfig::new(order).expect("order")).expect("fit");
        g.bench_function(format!("len=order={order}/journeys=100k"), |b| {
            b.iter(|| {
                let e = black_box(&m)
                    .sequence_removal_effects(usize::from(order))
                    .expect("effects");
                assert!(e.iter().all(|(_, r)| (0.0..=1.0).contains(r)));
                e
            });
        });
    }
    g.finish();
}

/// A model seen only through [`AttributionModel::weights`]: its channels
/// looked up by name per journey, the path every fitted model took before
/// [`AttributionModel::weights_bound`]; measured beside the bound path in
/// the same run.
struct ByName(Arc<dyn AttributionModel>);

impl AttributionModel for ByName {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn weights(&self, j: &JourneyView<'_>, w: &mut Weights) -> touchpoint::Result<()> {
        self.0.weights(j, w)
    }
    fn kind(&self) -> CreditKind {
        self.0.kind()
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
}

/// Per-journey credit by the fitted models (Markov orders 1 and 3, rate
/// Shapley, incremental) of 100k journeys over 12 channels, throughput in
/// touches/s: `attribute` on the set and `CreditPartial::observe` of user
/// journeys one at a time, each with the catalog bound once
/// (`weights_bound`, what the engine runs) and by name per journey
/// (`by_name`, [`ByName`]). Names: `fitted_credit/attribute/markov_o1`,
/// `fitted_credit/attribute_by_name/markov_o1`, `fitted_credit/stream/...`.
fn fitted_credit(c: &mut Criterion) {
    let js = journeys(100_000, 12, 5);
    let mut set = JourneySet::new();
    for j in &js {
        set.push(j).expect("valid journey");
    }
    let touches = set.touch_count() as u64;
    let value = set
        .iter()
        .map(|j| i128::from(j.value_minor()))
        .sum::<i128>();
    let models: Vec<(&str, Arc<dyn AttributionModel>)> = vec![
        (
            "markov_o1",
            Arc::new(markov::fit(&set, MarkovConfig::new(1).expect("order")).expect("fit")),
        ),
        (
            "markov_o3",
            Arc::new(markov::fit(&set, MarkovConfig::new(3).expect("order")).expect("fit")),
        ),
        (
            "shapley_rate",
            Arc::new(shapley::fit(&set, ShapleyConfig::new(ShapleyVariant::Rate)).expect("fit")),
        ),
        (
            "incremental",
            Arc::new(incremental::fit(&set, IncrementalConfig::new()).expect("fit")),
        ),
    ];
    let mut g = c.benchmark_group("fitted_credit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(touches));
    for (name, model) in &models {
        let by_name: Arc<dyn AttributionModel> = Arc::new(ByName(Arc::clone(model)));
        for (path, m) in [("", model), ("_by_name", &by_name)] {
            g.bench_function(format!("attribute{path}/{name}/journeys=100k"), |b| {
                b.iter(|| {
                    let r = attribute(black_box(m.as_ref()), black_box(&set)).expect("credit");
                    assert_eq!(r.value_minor(), value);
                    r
                });
            });
            g.bench_function(format!("stream{path}/{name}/journeys=100k"), |b| {
                b.iter(|| {
                    let mut p = CreditPartial::new(CreditConfig::from_arc(Arc::clone(m)));
                    for j in black_box(&js) {
                        p.observe(j).expect("observe");
                    }
                    let r = p.finish();
                    assert_eq!(r.value_minor(), value);
                    r
                });
            });
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    markov_1m,
    markov_100k,
    shapley_1m,
    stream_100k,
    markov_finish,
    markov_sequences,
    fitted_credit
);
criterion_main!(benches);
