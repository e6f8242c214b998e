//! Reading speed of the JSON-lines reader on the shipped 50,000-journey
//! sample: `parse_only` is the reader's path (a serde seed that fills a
//! touch buffer reused from line to line, strings borrowed, times parsed in
//! place), `read_into_set` adds the interning into a `JourneySet` (what
//! the commands do), `parse_line_derive` is the derived struct of the
//! error path (a `Vec` per line), and `serde_json_value_reference` parses
//! the same text into `serde_json::Value` as a reference point.
//!
//! ```text
//! cargo bench -p touchpoint-cli --no-default-features --bench read -- --warm-up-time 1 --measurement-time 3
//! ```
//! (`--no-default-features` leaves arrow/parquet out, so the release build
//! takes a minute; the reader measured does not use them.)

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use touchpoint::JourneySet;
use touchpoint_cli::input::jsonl;

fn sample() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/sample.jsonl"
    ))
    .expect("the shipped sample")
}

fn read(c: &mut Criterion) {
    let text = sample();
    let mut g = c.benchmark_group("jsonl");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("read_into_set", |b| {
        b.iter(|| {
            let mut set = JourneySet::new();
            let n = jsonl::read_into("sample.jsonl", &text, &mut set, |_| {}).expect("reads");
            assert_eq!(n.journeys, 50_000);
            set
        });
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let c = jsonl::read_with(
                "sample.jsonl",
                &text,
                |_| {},
                |_, j| {
                    n += usize::from(touchpoint::Journey::outcome(j).converted);
                    Ok(())
                },
            )
            .expect("parses");
            assert_eq!((n, c.journeys), (6326, 50_000));
        });
    });
    g.bench_function("parse_line_derive", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (i, l) in text.lines().enumerate() {
                let j = jsonl::parse_line("sample.jsonl", i as u64 + 1, l).expect("parses");
                n += usize::from(touchpoint::Journey::outcome(&j).converted);
            }
            assert_eq!(n, 6326);
        });
    });
    g.bench_function("serde_json_value_reference", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in text.lines() {
                let v: serde_json::Value = serde_json::from_str(l).expect("parses");
                n += usize::from(v["converted"] == true);
            }
            assert_eq!(n, 6326);
        });
    });
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
