//! Shared test data: simulated journeys (the core's seeded simulator) as
//! Arrow batches and Parquet files, the expected reports computed by the
//! core in process, and a reader for the `LIST<STRUCT>` report column.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListBuilder, RecordBatch, StringArray,
    StringBuilder, StringDictionaryBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, UInt64Type};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;
use touchpoint::incremental::{Incremental, IncrementalConfig};
use touchpoint::markov::{self, MarkovConfig};
use touchpoint::shapley::{self, ShapleyConfig, ShapleyVariant};
use touchpoint::sim::{Preset, Simulator};
use touchpoint::{CreditPartial, Journey, JourneySet, SimpleJourney, Touchpoint, models};

/// `n` simulated journeys (preset `sample_like`, seed 7), touches sorted by
/// time (stable), as the core's `JourneySet::push` orders them. The
/// conversion time is dropped: the journey rows carry none, and the core
/// in process must see the same data.
pub fn journeys(n: u64) -> Vec<SimpleJourney> {
    let sim = Simulator::new(Preset::SampleLike.config(7));
    sim.journeys(n)
        .map(|mut j| {
            j.touchpoints.sort_by_key(|t| t.timestamp());
            j.conversion_ts = None;
            j
        })
        .collect()
}

/// The segment of journey `i`.
pub fn segment(i: usize) -> &'static str {
    ["north", "south", "west"][i % 3]
}

/// One batch: `journey_id, segment, channels, timestamps, converted,
/// value`, channels dictionary-encoded when `dict`.
pub fn batch(js: &[(usize, &SimpleJourney)], dict: bool) -> RecordBatch {
    let ids: StringArray = js.iter().map(|(_, j)| Some(j.id.as_str())).collect();
    let seg: StringArray = js.iter().map(|(i, _)| Some(segment(*i))).collect();
    let channels: ArrayRef = if dict {
        let mut b = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
        for (_, j) in js {
            for t in &j.touchpoints {
                b.values().append_value(t.channel());
            }
            b.append(true);
        }
        Arc::new(b.finish())
    } else {
        let mut b = ListBuilder::new(StringBuilder::new());
        for (_, j) in js {
            for t in &j.touchpoints {
                b.values().append_value(t.channel());
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    let mut ts = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    for (_, j) in js {
        for t in &j.touchpoints {
            ts.values().append_value(t.timestamp().timestamp_millis());
        }
        ts.append(true);
    }
    let converted: BooleanArray = js.iter().map(|(_, j)| Some(j.converted)).collect();
    let value: Float64Array = js.iter().map(|(_, j)| Some(j.value)).collect();
    RecordBatch::try_from_iter(vec![
        ("journey_id", Arc::new(ids) as ArrayRef),
        ("segment", Arc::new(seg) as ArrayRef),
        ("channels", channels),
        ("timestamps", Arc::new(ts.finish()) as ArrayRef),
        ("converted", Arc::new(converted) as ArrayRef),
        ("value", Arc::new(value) as ArrayRef),
    ])
    .expect("a consistent batch")
}

/// Writes `js` (in the given order) to `files` Parquet files in `dir`,
/// rows split evenly, `rows_per_group` rows per row group.
pub fn write_parquet(dir: &Path, js: &[(usize, &SimpleJourney)], files: usize, dict: bool) {
    std::fs::create_dir_all(dir).expect("create dir");
    let per = js.len().div_ceil(files);
    for (f, chunk) in js.chunks(per).enumerate() {
        let b = batch(chunk, dict);
        let file = std::fs::File::create(dir.join(format!("part-{f:03}.parquet"))).expect("file");
        let props = datafusion::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(500))
            .build();
        let mut w = ArrowWriter::try_new(file, b.schema(), Some(props)).expect("writer");
        w.write(&b).expect("write");
        w.close().expect("close");
    }
}

/// A deterministic shuffle (splitmix64-driven Fisher-Yates).
pub fn shuffled<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    let mut out = v.to_vec();
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..out.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// A report line with every float as its bits, so `==` is bit equality.
pub type Bits = (
    Option<String>,
    u64,
    Option<i64>,
    u64,
    Option<i64>,
    Option<u64>,
    Option<u64>,
);

/// Reads the `(group, report)` rows of a query result: column 0 the group
/// (any string type), column 1 the report.
pub fn read_reports(batches: &[RecordBatch]) -> Vec<(String, Vec<Bits>)> {
    let mut out = Vec::new();
    for b in batches {
        let groups = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .expect("cast group");
        let groups = groups.as_string::<i32>();
        let reports = b.column(1).as_list::<i32>();
        for r in 0..b.num_rows() {
            out.push((groups.value(r).to_owned(), report_bits(&reports.value(r))));
        }
    }
    out
}

/// One report (the struct array of a list row) as [`Bits`].
pub fn report_bits(a: &ArrayRef) -> Vec<Bits> {
    let s = a.as_struct();
    let ch = s.column(0).as_string::<i32>();
    let conv = s.column(1).as_primitive::<Float64Type>();
    let units = s.column(2).as_primitive::<Int64Type>();
    let val = s.column(3).as_primitive::<Float64Type>();
    let minor = s.column(4).as_primitive::<Int64Type>();
    let w = s.column(5).as_primitive::<Float64Type>();
    let j = s.column(6).as_primitive::<UInt64Type>();
    (0..s.len())
        .map(|i| {
            (
                ch.is_valid(i).then(|| ch.value(i).to_owned()),
                conv.value(i).to_bits(),
                units.is_valid(i).then(|| units.value(i)),
                val.value(i).to_bits(),
                minor.is_valid(i).then(|| minor.value(i)),
                w.is_valid(i).then(|| w.value(i).to_bits()),
                j.is_valid(i).then(|| j.value(i)),
            )
        })
        .collect()
}

/// The model configurations the tests run: SQL function, spec, and the
/// core's in-process answer for a set of journeys.
pub struct Case {
    pub function: &'static str,
    pub spec: &'static str,
    pub expected: fn(&JourneySet, &[&SimpleJourney]) -> Vec<Bits>,
}

fn credit_lines(report: &touchpoint::Report) -> Vec<Bits> {
    let b = report.channels();
    let mut out: Vec<Bits> = b
        .lines()
        .iter()
        .map(|l| {
            (
                Some(l.name().to_owned()),
                l.conversions().to_bits(),
                Some(l.conversion_units() as i64),
                l.value().to_bits(),
                Some(l.value_minor() as i64),
                None,
                None,
            )
        })
        .collect();
    let u = b.unassigned();
    if u.conversion_units() != 0 || u.value_minor() != 0 {
        out.push((
            None,
            u.conversions().to_bits(),
            Some(u.conversion_units() as i64),
            u.value().to_bits(),
            Some(u.value_minor() as i64),
            None,
            None,
        ));
    }
    out
}

fn credit_with(model: &dyn touchpoint::AttributionModel, js: &[&SimpleJourney]) -> Vec<Bits> {
    let mut p = CreditPartial::with_currency(model, touchpoint::Currency::default());
    for j in js {
        p.observe_with(model, *j).expect("observe");
    }
    credit_lines(&p.finish())
}

/// A fitted model's channel report, with the model's weight per channel
/// (removal effect, Shapley value); the unassigned line has no units.
fn fitted_lines(r: &touchpoint::Report, weight: impl Fn(&str) -> Option<f64>) -> Vec<Bits> {
    let b = r.channels();
    let mut out: Vec<Bits> = b
        .lines()
        .iter()
        .map(|l| {
            (
                Some(l.name().to_owned()),
                l.conversions().to_bits(),
                Some(l.conversion_units() as i64),
                l.value().to_bits(),
                Some(l.value_minor() as i64),
                weight(l.name()).map(f64::to_bits),
                None,
            )
        })
        .collect();
    let u = b.unassigned();
    if u.conversion_units() != 0 || u.value_minor() != 0 {
        out.push((
            None,
            u.conversions().to_bits(),
            None,
            u.value().to_bits(),
            Some(u.value_minor() as i64),
            None,
            None,
        ));
    }
    out
}

fn markov_lines(set: &JourneySet, c: MarkovConfig) -> Vec<Bits> {
    let fit = markov::fit(set, c).unwrap();
    fitted_lines(&fit.credits().unwrap(), |ch| fit.removal_effect(ch))
}

fn shapley_lines(set: &JourneySet, c: ShapleyConfig) -> Vec<Bits> {
    let fit = shapley::fit(set, c).unwrap();
    fitted_lines(&fit.credits().unwrap(), |ch| fit.value(ch))
}

fn incremental_lines(set: &JourneySet) -> Vec<Bits> {
    let fit = Incremental::fit(set, &IncrementalConfig::new()).expect("fit");
    let shares = fit.effect_shares();
    let mut out: Vec<Bits> = fit
        .effects()
        .iter()
        .map(|e| {
            let share = shares.iter().find(|(n, _)| n == e.name()).map(|(_, s)| *s);
            (
                Some(e.name().to_owned()),
                e.incremental_conversions().to_bits(),
                None,
                e.incremental_value().to_bits(),
                None,
                share.map(f64::to_bits),
                Some(e.journeys()),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every model the tests cover.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            function: "tp_credit",
            spec: "first_touch",
            expected: |_, js| credit_with(&*models::by_name("first_touch").unwrap(), js),
        },
        Case {
            function: "tp_credit",
            spec: "linear",
            expected: |_, js| credit_with(&*models::by_name("linear").unwrap(), js),
        },
        Case {
            function: "tp_credit",
            spec: "time_decay half_life_days=3",
            expected: |_, js| {
                credit_with(&models::TimeDecay::with_half_life_days(3.0).unwrap(), js)
            },
        },
        Case {
            function: "tp_credit",
            spec: "position_based first=0.3 last=0.5",
            expected: |_, js| credit_with(&models::PositionBased::new(0.3, 0.5, 0.5).unwrap(), js),
        },
        Case {
            function: "tp_markov",
            spec: "order=1",
            expected: |set, _| markov_lines(set, MarkovConfig::new(1).unwrap()),
        },
        Case {
            function: "tp_markov",
            spec: "order=3 collapse_repeats=true",
            expected: |set, _| {
                let c = MarkovConfig::new(3).unwrap().collapse_repeats(true);
                markov_lines(set, c)
            },
        },
        Case {
            function: "tp_shapley",
            spec: "variant=simplified",
            expected: |set, _| {
                let c = ShapleyConfig::new(ShapleyVariant::Simplified);
                shapley_lines(set, c)
            },
        },
        Case {
            function: "tp_shapley",
            spec: "variant=rate",
            expected: |set, _| {
                let c = ShapleyConfig::new(ShapleyVariant::Rate);
                shapley_lines(set, c)
            },
        },
        Case {
            function: "tp_shapley",
            spec: "variant=ordered",
            expected: |set, _| {
                let c = ShapleyConfig::new(ShapleyVariant::Ordered);
                shapley_lines(set, c)
            },
        },
        Case {
            function: "tp_incremental",
            spec: "",
            expected: |set, _| incremental_lines(set),
        },
    ]
}

/// The core's in-process answer per segment, segments sorted.
pub fn expected(case: &Case, js: &[SimpleJourney]) -> Vec<(String, Vec<Bits>)> {
    let mut out = Vec::new();
    for seg in ["north", "south", "west"] {
        let part: Vec<&SimpleJourney> = js
            .iter()
            .enumerate()
            .filter(|(i, _)| segment(*i) == seg)
            .map(|(_, j)| j)
            .collect();
        let set = JourneySet::from_journeys(part.iter().copied()).expect("set");
        out.push((seg.to_owned(), (case.expected)(&set, &part)));
    }
    out
}

/// The per-segment query of `case`.
pub fn query(case: &Case, table: &str) -> String {
    format!(
        "SELECT segment, {}(channels, timestamps, converted, value, '{}') AS r \
         FROM {table} GROUP BY segment ORDER BY segment",
        case.function, case.spec
    )
}

/// Runs `sql` and reads `(group, report)` rows.
pub async fn run(ctx: &SessionContext, sql: &str) -> Vec<(String, Vec<Bits>)> {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    read_reports(&batches)
}

/// Checks the journey type is what the core sees.
pub fn touches(j: &SimpleJourney) -> usize {
    j.touchpoints().len()
}

/// Registers every `tp_*` function on `ctx`.
pub fn register(ctx: &SessionContext) {
    for f in touchpoint_datafusion::aggregate_functions() {
        ctx.register_udaf(f);
    }
    for f in touchpoint_datafusion::scalar_functions() {
        ctx.register_udf(f);
    }
}

/// Markov of `order` per segment, computed by the core in process.
pub fn expected_markov(order: u8, js: &[SimpleJourney]) -> Vec<(String, Vec<Bits>)> {
    let case = Case {
        function: "tp_markov",
        spec: "",
        expected: |_, _| Vec::new(),
    };
    let mut out = expected(&case, js);
    for (seg, lines) in &mut out {
        let set = JourneySet::from_journeys(
            js.iter()
                .enumerate()
                .filter(|(i, _)| segment(*i) == seg.as_str())
                .map(|(_, j)| j),
        )
        .expect("set");
        *lines = markov_lines(&set, MarkovConfig::new(order).unwrap());
    }
    out
}
