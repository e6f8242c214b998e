//! Throughput of the `tp_*` aggregates against the core crate in process,
//! on the same simulated journeys.
//!
//! Run (never in the release profile: DataFusion takes ~36 min to build
//! there on 2 cores):
//!
//! ```text
//! TP_BENCH_JOURNEYS=200000 cargo bench -p touchpoint-datafusion --profile dfbench \
//!     --bench udaf -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The README's figures were measured with `--profile dev` (see there).
//!
//! The data is the `sample_like` preset (12 channels), `TP_BENCH_JOURNEYS`
//! journeys (default 200,000), generated in chunks so that 10 million fit
//! (about 2 GB: the core's set and the Arrow batches; the journeys as Rust
//! values are kept only up to `TP_BENCH_KEEP`, default 1,000,000, for the
//! "core including interning" timing).
//!
//! Besides criterion's timings it prints, once: journeys and touches, the
//! serialized partial size (Markov order 3, 12 channels: the `sample_like`
//! preset) over one of two partitions and over all journeys, and the
//! process's peak resident memory. `TP_BENCH_SIZE_ONLY=1` prints those and
//! skips the timings.

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Float64Array, ListBuilder, RecordBatch,
    StringDictionaryBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use touchpoint::markov::{self, MarkovConfig};
use touchpoint::sim::{Preset, Simulator};
use touchpoint::{JourneySet, SimpleJourney, Touchpoint, attribute, models};

/// The bench's data, generated once from the simulator in chunks: the
/// core's interned set, the same journeys as Arrow batches of `rows`
/// rows, and (up to `TP_BENCH_KEEP` journeys, default 1,000,000) the
/// journeys themselves, for the "core including interning" timing. At 10
/// million journeys the journeys as Rust values would need several GB;
/// the set and the batches need about 2 GB.
struct Data {
    set: JourneySet,
    batches: Vec<RecordBatch>,
    journeys: Option<Vec<SimpleJourney>>,
    touches: usize,
}

fn data(rows: usize) -> Data {
    let n: u64 = std::env::var("TP_BENCH_JOURNEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let keep_up_to: u64 = std::env::var("TP_BENCH_KEEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let sim = Simulator::new(Preset::SampleLike.config(3));
    let mut set = JourneySet::new();
    let mut batches = Vec::new();
    let mut kept = (n <= keep_up_to).then(Vec::new);
    let mut touches = 0;
    let mut chunk = Vec::with_capacity(rows);
    let mut it = sim.journeys(n);
    loop {
        chunk.clear();
        chunk.extend(it.by_ref().take(rows).map(|mut j| {
            j.touchpoints.sort_by_key(|t| t.timestamp());
            j
        }));
        if chunk.is_empty() {
            break;
        }
        for j in &chunk {
            set.push(j).expect("journey");
            touches += j.touchpoints.len();
        }
        batches.push(batch(&chunk));
        if let Some(k) = &mut kept {
            k.append(&mut chunk);
        }
    }
    Data {
        set,
        batches,
        journeys: kept,
        touches,
    }
}

fn batch(chunk: &[SimpleJourney]) -> RecordBatch {
    let mut ch = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut ts = ListBuilder::new(TimestampMillisecondBuilder::new());
    for j in chunk {
        for t in &j.touchpoints {
            ch.values().append_value(t.channel());
            ts.values().append_value(t.timestamp().timestamp_millis());
        }
        ch.append(true);
        ts.append(true);
    }
    let conv: BooleanArray = chunk.iter().map(|j| Some(j.converted)).collect();
    let val: Float64Array = chunk.iter().map(|j| Some(j.value)).collect();
    RecordBatch::try_from_iter(vec![
        ("channels", Arc::new(ch.finish()) as ArrayRef),
        ("timestamps", Arc::new(ts.finish()) as ArrayRef),
        ("converted", Arc::new(conv) as ArrayRef),
        ("value", Arc::new(val) as ArrayRef),
    ])
    .expect("batch")
}

fn context(batches: &[RecordBatch], partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(8192),
    );
    for f in touchpoint_datafusion::aggregate_functions() {
        ctx.register_udaf(f);
    }
    for f in touchpoint_datafusion::scalar_functions() {
        ctx.register_udf(f);
    }
    let parts: Vec<Vec<RecordBatch>> = (0..partitions)
        .map(|k| {
            batches
                .iter()
                .skip(k)
                .step_by(partitions)
                .cloned()
                .collect()
        })
        .collect();
    let schema = batches[0].schema();
    ctx.register_table(
        "j",
        Arc::new(MemTable::try_new(schema, parts).expect("table")),
    )
    .expect("register");
    ctx
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let Data {
        set,
        batches: data,
        journeys: js,
        touches,
    } = self::data(8192);
    let n = set.len();
    println!(
        "data: {n} journeys, {touches} touches, {} channels, {} batches",
        set.catalog().channels().len(),
        data.len()
    );

    // Partial size: Markov order 3 over one of two partitions, and over all.
    let half = data.len().div_ceil(2);
    for (label, part) in [
        ("one of two partitions", &data[..half]),
        ("all journeys", &data[..]),
    ] {
        let ctx = context(part, 1);
        let out = rt
            .block_on(async {
                ctx.sql("SELECT tp_markov_partial(channels, timestamps, converted, value, 'order=3') AS p FROM j")
                    .await?
                    .collect()
                    .await
            })
            .expect("partial");
        let bytes = out[0].column(0).as_binary::<i32>().value(0).len();
        println!("partial: Markov order 3, {label}: {bytes} bytes");
    }
    if std::env::var_os("TP_BENCH_SIZE_ONLY").is_some() {
        if let Some(kib) = peak_rss_kib() {
            println!("peak resident memory: {:.1} MiB", kib as f64 / 1024.0);
        }
        return;
    }

    let mut g = c.benchmark_group("journeys");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for (label, sql_spec) in [
        ("linear", ("tp_credit", "linear")),
        ("markov_o1", ("tp_markov", "order=1")),
        ("markov_o3", ("tp_markov", "order=3")),
    ] {
        g.bench_function(BenchmarkId::new("core", label), |b| {
            b.iter(|| match label {
                "linear" => {
                    attribute(&*models::by_name("linear").expect("model"), &set)
                        .expect("attribute");
                }
                "markov_o1" => {
                    markov::fit(&set, MarkovConfig::new(1).expect("order"))
                        .expect("fit")
                        .credits()
                        .expect("credits");
                }
                _ => {
                    markov::fit(&set, MarkovConfig::new(3).expect("order"))
                        .expect("fit")
                        .credits()
                        .expect("credits");
                }
            });
        });
        if let (Some(js), "linear") = (&js, label) {
            // the in-process crate including interning the journeys
            g.bench_function(BenchmarkId::new("core_incl_set", label), |b| {
                b.iter(|| {
                    let set = JourneySet::from_journeys(js.iter()).expect("set");
                    attribute(&*models::by_name("linear").expect("model"), &set).expect("attribute")
                });
            });
        }
        for p in [1usize, 2] {
            let ctx = context(&data, p);
            let sql = format!(
                "SELECT {}(channels, timestamps, converted, value, '{}') FROM j",
                sql_spec.0, sql_spec.1
            );
            g.bench_function(BenchmarkId::new(format!("datafusion_p{p}"), label), |b| {
                b.iter(|| {
                    rt.block_on(async { ctx.sql(&sql).await?.collect().await })
                        .expect("query")
                });
            });
        }
    }
    g.finish();
    if let Some(kib) = peak_rss_kib() {
        println!("peak resident memory: {:.1} MiB", kib as f64 / 1024.0);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
