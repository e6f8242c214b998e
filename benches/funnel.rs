//! Funnel benchmarks: metrics over one million leads with five stage
//! entries each (target: under one second on one core), and the data audit
//! over the same people as journeys.
use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use touchpoint::audit::{AuditConfig, audit_with};
use touchpoint::funnel;
use touchpoint::funnel::{FunnelConfig, Lead, Owner, SliceBy};
use touchpoint::{SimpleJourney, SimpleTouch};

/// A fixed-seed xorshift generator (no dependency, same data every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CHANNELS: [&str; 6] = [
    "paid_search",
    "email",
    "webinar",
    "organic",
    "social",
    "events",
];
const STAGES: [&str; 6] = ["inquiry", "mql", "sal", "sql", "opportunity", "closed_won"];

/// `n` leads with exactly five stage entries each: four progression stages
/// and an outcome (won, lost, disqualified or a fifth stage), one or two touches.
fn leads(n: usize) -> Vec<Lead> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let base: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
    (0..n)
        .map(|i| {
            let start = base + Duration::days(rng.below(90) as i64);
            let ch = CHANNELS[rng.below(6) as usize];
            let mut l = Lead::new(format!("lead{i}"))
                .with_owner(if rng.below(4) == 0 {
                    Owner::Sales
                } else {
                    Owner::Marketing
                })
                .with_amount((rng.below(90) + 10) as f64 * 1000.0)
                .touch(SimpleTouch::new(ch, start));
            if rng.below(2) == 0 {
                l = l.touch(SimpleTouch::new(
                    CHANNELS[rng.below(6) as usize],
                    start + Duration::days(2),
                ));
            }
            let mut t = start;
            for s in &STAGES[..4] {
                l = l.stage(*s, t);
                t += Duration::days(rng.below(15) as i64 + 1);
            }
            match rng.below(4) {
                0 => l.stage("closed_won", t),
                1 => l.stage_with_reason("closed_lost", t, "price"),
                2 => l.stage_with_reason("disqualified", t, "no fit"),
                _ => l.stage("opportunity", t),
            }
        })
        .collect()
}

/// Measures funnel metrics (normalization, all accumulators, finish) over
/// one million leads with five stage entries each, one slice.
fn funnel_1m(c: &mut Criterion) {
    let ls = leads(1_000_000);
    let mut g = c.benchmark_group("funnel");
    g.sample_size(10);
    g.bench_function("metrics/leads=1000000/entries=5", |b| {
        b.iter(|| {
            let m = funnel::fit(black_box(&ls), FunnelConfig::default()).unwrap();
            assert_eq!(m.total().records(), 1_000_000);
            m
        });
    });
    g.bench_function("metrics/leads=1000000/entries=5/by_channel", |b| {
        b.iter(|| {
            let m = funnel::fit(
                black_box(&ls),
                FunnelConfig::default().slice_by(SliceBy::Channel),
            )
            .unwrap();
            assert_eq!(m.slices().len(), 6);
            m
        });
    });
    g.finish();
}

/// Measures the data audit (every check) over 200,000 journeys (the
/// leads' touches, converted when won) and the same leads.
fn audit_200k(c: &mut Criterion) {
    let ls = leads(200_000);
    let js: Vec<SimpleJourney> = ls
        .iter()
        .map(|l| {
            let mut j = SimpleJourney::new(l.id());
            if l.entries().iter().any(|e| e.stage == "closed_won") {
                j = j.converted(l.amount().unwrap_or(0.0));
            }
            j.touchpoints = l.touches().to_vec();
            j
        })
        .collect();
    let touches: usize = js.iter().map(|j| j.touchpoints.len()).sum();
    let config = AuditConfig::new();
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.bench_function(format!("journeys=200000/touches={touches}"), |b| {
        b.iter(|| {
            let r = audit_with(black_box(&js), &[], None, &config);
            assert_eq!(r.journeys(), 200_000);
            r
        });
    });
    g.bench_function(
        format!("journeys=200000/touches={touches}/with_leads"),
        |b| {
            b.iter(|| audit_with(black_box(&js), black_box(&ls), None, &config));
        },
    );
    g.finish();
}

criterion_group!(benches, funnel_1m, audit_200k);
criterion_main!(benches);
