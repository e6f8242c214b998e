//! Benchmarks of the incremental model on simulated journeys
//! (`sim::Preset::SampleLike`, seed 1: 12 channels, about 12.6% conversion).
//!
//! Each bench asserts its result inside the loop. Names read as paths:
//! `incremental/fit/journeys=1M`, `incremental/attribute/journeys=100k`,
//! `incremental/bootstrap_effects/replicates=50/journeys=100k`,
//! `incremental/select_vs_fit/{fit,select}/preset=.../journeys=100k` (the
//! automatic configuration's cost against one default fit on the same data,
//! in one run so the ratio holds on a loaded machine).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use touchpoint::bootstrap::BootstrapConfig;
use touchpoint::incremental::{
    self, Incremental, IncrementalConfig, SelectConfig, bootstrap_effects,
};
use touchpoint::sim::{Preset, Simulator};
use touchpoint::{JourneySet, attribute};

fn journeys(n: u64) -> JourneySet {
    Simulator::new(Preset::SampleLike.config(1))
        .journey_set(n)
        .expect("simulated journeys")
}

/// Effect share of a channel.
fn share(m: &Incremental, name: &str) -> f64 {
    m.effect_shares()
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, s)| s)
}

/// The fit converged and found the strong channel (webinar, true log-odds
/// effect 0.9) worth more than the useless one (video, 0).
fn check_fit(m: &Incremental, set: &JourneySet) {
    let d = m.diagnostics();
    assert_eq!(d.journeys, set.len() as u64);
    assert!(d.iterations < 20, "{d:?}");
    assert!(share(m, "webinar") > share(m, "video"));
}

fn fit_and_attribute(c: &mut Criterion) {
    let config = IncrementalConfig::new();
    let mut g = c.benchmark_group("incremental");
    g.sample_size(10);
    for (label, n) in [("100k", 100_000), ("1M", 1_000_000)] {
        let set = journeys(n);
        g.bench_function(format!("fit/journeys={label}"), |b| {
            b.iter(|| {
                let m = Incremental::fit(black_box(&set), &config).expect("fit");
                check_fit(&m, &set);
                m
            });
        });
        let model = Incremental::fit(&set, &config).expect("fit");
        g.bench_function(format!("attribute/journeys={label}"), |b| {
            b.iter(|| {
                let r = attribute(&model, black_box(&set)).expect("attribute");
                assert_eq!(r.conversions(), set.conversions());
                let total: i128 = r.channels().lines().iter().map(|l| l.value_minor()).sum();
                assert_eq!(
                    total + r.channels().unassigned().value_minor(),
                    r.value_minor()
                );
                r
            });
        });
    }
    g.finish();
}

fn bootstrap(c: &mut Criterion) {
    let config = IncrementalConfig::new();
    let set = journeys(100_000);
    let boot = BootstrapConfig::new()
        .replicates(50)
        .expect("replicates")
        .seed(7);
    let mut g = c.benchmark_group("incremental");
    g.sample_size(10);
    g.bench_function("bootstrap_effects/replicates=50/journeys=100k", |b| {
        b.iter(|| {
            let r = bootstrap_effects(black_box(&set), &config, &boot).expect("bootstrap");
            assert_eq!(r.failed_replicates(), 0);
            let w = r
                .channels()
                .iter()
                .find(|c| c.name() == "webinar")
                .expect("webinar");
            assert!(
                w.share().low() <= w.share().estimate() && w.share().estimate() <= w.share().high()
            );
            r
        });
    });
    g.finish();
}

/// The automatic configuration ([`incremental::select`]: one counting pass,
/// 3 candidates on 2 folds, the order candidate with the screened order
/// features, then the chosen one on everything) against one default fit,
/// on presets with 12, 6 and 36 channels (36 channels: 1,260 order pairs
/// seen, which the screen must keep out of the fit). Target: under 10x.
fn select_vs_fit(c: &mut Criterion) {
    let mut g = c.benchmark_group("incremental/select_vs_fit");
    g.sample_size(10);
    for preset in [
        Preset::SampleLike,
        Preset::OrderMatters,
        Preset::ManyChannels,
    ] {
        let set = Simulator::new(preset.config(1))
            .journey_set(100_000)
            .expect("simulated journeys");
        g.bench_function(format!("fit/preset={preset}/journeys=100k"), |b| {
            b.iter(|| {
                let m = incremental::fit(black_box(&set), IncrementalConfig::new()).expect("fit");
                assert_eq!(m.diagnostics().journeys, set.len() as u64);
                m
            });
        });
        g.bench_function(format!("select/preset={preset}/journeys=100k"), |b| {
            b.iter(|| {
                let (m, s) =
                    incremental::select(black_box(&set), SelectConfig::new()).expect("select");
                assert_eq!(s.candidates.len(), 3);
                assert_eq!(m.config(), s.config());
                m
            });
        });
    }
    g.finish();
}

criterion_group!(benches, fit_and_attribute, bootstrap, select_vs_fit);
criterion_main!(benches);
