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

// ---------------------------------------------------------------------
// Journeys with campaigns, contents, milestones and conversion times

/// `n` simulated B2B journeys (preset `b2b`, seed 5: milestones on some
/// touches, conversion times kept), touches sorted by time (stable), with
/// campaigns and contents made up from each touch's position: touch `k`
/// of journey `i` has campaign `c{(i + k) % 5}` unless `(i + k) % 4 == 0`
/// (none), content `a{k % 3}` unless `k % 5 == 1` (none).
pub fn b2b_journeys(n: u64) -> Vec<SimpleJourney> {
    let sim = Simulator::new(Preset::B2b.config(5));
    sim.journeys(n)
        .enumerate()
        .map(|(i, mut j)| {
            j.touchpoints.sort_by_key(|t| t.timestamp());
            for (k, t) in j.touchpoints.iter_mut().enumerate() {
                t.campaign = ((i + k) % 4 != 0).then(|| format!("c{}", (i + k) % 5).into());
                t.content = (k % 5 != 1).then(|| format!("a{}", k % 3).into());
            }
            j
        })
        .collect()
}

/// One batch of journeys with an `extras` STRUCT column (`campaigns`,
/// `contents`, `milestones` and `conversion_ts`), channels and campaigns
/// dictionary-encoded when `dict`.
pub fn extras_batch(js: &[(usize, &SimpleJourney)], dict: bool) -> RecordBatch {
    use datafusion::arrow::array::{StructArray, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
    let base = batch(js, dict);
    let names = |f: &dyn Fn(&touchpoint::SimpleTouch) -> Option<String>, dict: bool| -> ArrayRef {
        if dict {
            let mut b = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
            for (_, j) in js {
                for t in &j.touchpoints {
                    b.values().append_option(f(t));
                }
                b.append(true);
            }
            Arc::new(b.finish())
        } else {
            let mut b = ListBuilder::new(StringBuilder::new());
            for (_, j) in js {
                for t in &j.touchpoints {
                    b.values().append_option(f(t));
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
    };
    let campaigns = names(&|t| t.campaign.as_deref().map(str::to_owned), dict);
    let contents = names(&|t| t.content.as_deref().map(str::to_owned), false);
    let milestones = names(&|t| t.milestone.map(|m| m.as_str().to_owned()), false);
    let cts: TimestampMillisecondArray = js
        .iter()
        .map(|(_, j)| j.conversion_ts.map(|t| t.timestamp_millis()))
        .collect();
    let fields = Fields::from(vec![
        Field::new("campaigns", campaigns.data_type().clone(), true),
        Field::new("contents", contents.data_type().clone(), true),
        Field::new("milestones", milestones.data_type().clone(), true),
        Field::new(
            "conversion_ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
    ]);
    let extras = StructArray::new(
        fields,
        vec![campaigns, contents, milestones, Arc::new(cts)],
        None,
    );
    let schema = base.schema();
    let mut cols: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .zip(base.columns())
        .map(|(f, c)| (f.name().as_str(), c.clone()))
        .collect();
    cols.push(("extras", Arc::new(extras)));
    RecordBatch::try_from_iter(cols).expect("a consistent batch")
}

/// A report line of any breakdown: `(breakdown, name, conversions bits,
/// conversion units, value bits, value minor)`.
pub type BLine = (String, Option<String>, u64, Option<i64>, u64, Option<i64>);

/// Reads `(group, report)` rows with the breakdown and name columns.
pub fn read_breakdowns(batches: &[RecordBatch]) -> Vec<(String, Vec<BLine>)> {
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
            let v = reports.value(r);
            let s = v.as_struct();
            let col = |n: &str| s.column_by_name(n).expect(n).clone();
            let (bd, name) = (col("breakdown"), col("name"));
            let (bd, name) = (bd.as_string::<i32>(), name.as_string::<i32>());
            let (conv, units) = (col("conversions"), col("conversion_units"));
            let (val, minor) = (col("value"), col("value_minor"));
            let conv = conv.as_primitive::<Float64Type>();
            let units = units.as_primitive::<Int64Type>();
            let val = val.as_primitive::<Float64Type>();
            let minor = minor.as_primitive::<Int64Type>();
            let lines = (0..s.len())
                .map(|i| {
                    (
                        bd.value(i).to_owned(),
                        name.is_valid(i).then(|| name.value(i).to_owned()),
                        conv.value(i).to_bits(),
                        units.is_valid(i).then(|| units.value(i)),
                        val.value(i).to_bits(),
                        minor.is_valid(i).then(|| minor.value(i)),
                    )
                })
                .collect();
            out.push((groups.value(r).to_owned(), lines));
        }
    }
    out
}

/// The core's in-process credit report of `js` under `model` with every
/// breakdown, as [`BLine`]s: channels, then campaigns, then contents, each
/// with its unassigned line when it is not zero.
pub fn breakdown_lines(
    model: &dyn touchpoint::AttributionModel,
    js: &[&SimpleJourney],
) -> Vec<BLine> {
    let mut p = CreditPartial::with_currency(model, touchpoint::Currency::default());
    for j in js {
        p.observe_with(model, *j).expect("observe");
    }
    let report = p.finish();
    let mut out = Vec::new();
    for (label, b) in [
        ("channel", report.channels()),
        ("campaign", report.campaigns()),
        ("content", report.contents()),
    ] {
        for l in b.lines() {
            out.push((
                label.to_owned(),
                Some(l.name().to_owned()),
                l.conversions().to_bits(),
                Some(l.conversion_units() as i64),
                l.value().to_bits(),
                Some(l.value_minor() as i64),
            ));
        }
        let u = b.unassigned();
        if u.conversion_units() != 0 || u.value_minor() != 0 {
            out.push((
                label.to_owned(),
                None,
                u.conversions().to_bits(),
                Some(u.conversion_units() as i64),
                u.value().to_bits(),
                Some(u.value_minor() as i64),
            ));
        }
    }
    out
}

/// The rule-based models the breakdown tests run: spec and model.
pub fn breakdown_models() -> Vec<(&'static str, Box<dyn touchpoint::AttributionModel>)> {
    vec![
        ("linear", models::by_name("linear").unwrap()),
        (
            "time_decay half_life_days=2",
            Box::new(models::TimeDecay::with_half_life_days(2.0).unwrap()),
        ),
        ("w_shaped", models::by_name("w_shaped").unwrap()),
        ("full_path", models::by_name("full_path").unwrap()),
    ]
}

// ---------------------------------------------------------------------
// Leads

/// `n` simulated B2B leads (preset `b2b`, seed 5), with their group.
pub fn leads(n: u64) -> Vec<touchpoint::funnel::Lead> {
    Simulator::new(Preset::B2b.config(5)).leads(n).collect()
}

/// One batch of lead rows: `grp, lead_id, stages, stage_times, amount,
/// extras STRUCT<channels, timestamps, reasons, segment, owner>`, lead
/// `i` in group `segment(i)`.
pub fn lead_batch(ls: &[(usize, &touchpoint::funnel::Lead)]) -> RecordBatch {
    use datafusion::arrow::array::StructArray;
    use datafusion::arrow::datatypes::{Field, Fields};
    let grp: StringArray = ls.iter().map(|(i, _)| Some(segment(*i))).collect();
    let ids: StringArray = ls.iter().map(|(_, l)| Some(l.id())).collect();
    let mut stages = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut times = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    let mut reasons = ListBuilder::new(StringBuilder::new());
    let mut channels = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut ts = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    for (_, l) in ls {
        for e in l.entries() {
            stages.values().append_value(&e.stage);
            times.values().append_value(e.at.timestamp_millis());
            reasons.values().append_option(e.reason.as_deref());
        }
        stages.append(true);
        times.append(true);
        reasons.append(true);
        for t in l.touches() {
            channels.values().append_value(&t.channel);
            ts.values().append_value(t.ts.timestamp_millis());
        }
        channels.append(true);
        ts.append(true);
    }
    let amount: Float64Array = ls.iter().map(|(_, l)| l.amount()).collect();
    let seg: StringArray = ls.iter().map(|(_, l)| l.segment()).collect();
    let owner: StringArray = ls.iter().map(|(_, l)| Some(l.owner().as_str())).collect();
    let (channels, ts, reasons): (ArrayRef, ArrayRef, ArrayRef) = (
        Arc::new(channels.finish()),
        Arc::new(ts.finish()),
        Arc::new(reasons.finish()),
    );
    let fields = Fields::from(vec![
        Field::new("channels", channels.data_type().clone(), true),
        Field::new("timestamps", ts.data_type().clone(), true),
        Field::new("reasons", reasons.data_type().clone(), true),
        Field::new(
            "segment",
            datafusion::arrow::datatypes::DataType::Utf8,
            true,
        ),
        Field::new("owner", datafusion::arrow::datatypes::DataType::Utf8, true),
    ]);
    let extras = StructArray::new(
        fields,
        vec![channels, ts, reasons, Arc::new(seg), Arc::new(owner)],
        None,
    );
    RecordBatch::try_from_iter(vec![
        ("grp", Arc::new(grp) as ArrayRef),
        ("lead_id", Arc::new(ids) as ArrayRef),
        ("stages", Arc::new(stages.finish()) as ArrayRef),
        ("stage_times", Arc::new(times.finish()) as ArrayRef),
        ("amount", Arc::new(amount) as ArrayRef),
        ("extras", Arc::new(extras) as ArrayRef),
    ])
    .expect("a consistent batch")
}

/// A funnel report line with floats as bits: `(kind, slice, stage, count,
/// rate_to_next, median_days, revenue_minor)`.
pub type FLine = (
    String,
    Option<String>,
    Option<String>,
    u64,
    Option<u64>,
    Option<u64>,
    Option<i64>,
);

/// Reads `(group, funnel report)` rows.
pub fn read_funnel(batches: &[RecordBatch]) -> Vec<(String, Vec<FLine>)> {
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
            let v = reports.value(r);
            let s = v.as_struct();
            let col = |n: &str| s.column_by_name(n).expect(n).clone();
            let (kind, slice, stage) = (col("kind"), col("slice"), col("stage"));
            let (kind, slice, stage) = (
                kind.as_string::<i32>(),
                slice.as_string::<i32>(),
                stage.as_string::<i32>(),
            );
            let (count, rate, median, rev) = (
                col("count"),
                col("rate_to_next"),
                col("median_days"),
                col("revenue_minor"),
            );
            let count = count.as_primitive::<UInt64Type>();
            let rate = rate.as_primitive::<Float64Type>();
            let median = median.as_primitive::<Float64Type>();
            let rev = rev.as_primitive::<Int64Type>();
            let s_ = |a: &datafusion::arrow::array::StringArray, i: usize| {
                a.is_valid(i).then(|| a.value(i).to_owned())
            };
            let lines = (0..s.len())
                .map(|i| {
                    (
                        kind.value(i).to_owned(),
                        s_(slice, i),
                        s_(stage, i),
                        count.value(i),
                        rate.is_valid(i).then(|| rate.value(i).to_bits()),
                        median.is_valid(i).then(|| median.value(i).to_bits()),
                        rev.is_valid(i).then(|| rev.value(i)),
                    )
                })
                .collect();
            out.push((groups.value(r).to_owned(), lines));
        }
    }
    out
}

/// The core's in-process funnel metrics of `ls` under `config`, as the
/// lines `tp_funnel` documents: per slice a summary, the stages, the
/// exits; the total when sliced; the rule counts.
pub fn expected_funnel(
    config: touchpoint::funnel::FunnelConfig,
    ls: &[&touchpoint::funnel::Lead],
) -> Vec<FLine> {
    use touchpoint::funnel::{FunnelPartial, SliceBy, SliceMetrics};
    let sliced = config.slice() != SliceBy::Total;
    let mut p = FunnelPartial::new(config);
    for l in ls {
        p.observe(l).expect("observe");
    }
    let m = p.finish();
    let mut out = Vec::new();
    let mut add = |slice: Option<&str>, s: &SliceMetrics| {
        let sl = slice.map(str::to_owned);
        let r = s.revenue();
        out.push((
            "summary".to_owned(),
            sl.clone(),
            None,
            s.records(),
            None,
            None,
            Some(r.revenue_minor as i64),
        ));
        let conv = s.cohort_conversions();
        for (i, c) in s.stage_counts().into_iter().enumerate() {
            let t = s.time_in_stage(&c.stage).unwrap();
            out.push((
                "stage".to_owned(),
                sl.clone(),
                Some(c.stage),
                c.count,
                conv.get(i).and_then(|c| c.rate.value()).map(f64::to_bits),
                t.median_days.map(f64::to_bits),
                None,
            ));
        }
        for c in s.exit_counts() {
            out.push((
                "exit".to_owned(),
                sl.clone(),
                Some(c.stage),
                c.count,
                None,
                None,
                None,
            ));
        }
    };
    for s in m.slices() {
        add(Some(s.key()), s);
    }
    if sliced {
        add(None, m.total());
    }
    let r = m.rules();
    for (name, count) in [
        ("leads", r.leads),
        ("leads_without_entries", r.leads_without_entries),
        ("records", r.records),
        ("cycles_split", r.cycles_split),
        ("duplicates_dropped", r.duplicates_dropped),
        ("reordered", r.reordered),
        ("backfilled", r.backfilled),
        ("superseded_exits", r.superseded_exits),
        ("comeback_entries_folded", r.comeback_entries_folded),
        ("exits_after_close", r.exits_after_close),
        ("exits_without_stage", r.exits_without_stage),
        ("stalled", r.stalled),
        ("records_without_touch", r.records_without_touch),
        ("won_without_amount", r.won_without_amount),
    ] {
        out.push((
            "rule".to_owned(),
            None,
            Some(name.to_owned()),
            count,
            None,
            None,
            None,
        ));
    }
    out
}

/// Writes Parquet files of any batch builder.
pub fn write_batches<T>(
    dir: &std::path::Path,
    rows: &[T],
    files: usize,
    make: impl Fn(&[T]) -> datafusion::arrow::array::RecordBatch,
) {
    use datafusion::parquet::arrow::ArrowWriter;
    std::fs::create_dir_all(dir).expect("create dir");
    let per = rows.len().div_ceil(files);
    for (f, chunk) in rows.chunks(per).enumerate() {
        let b = make(chunk);
        let file = std::fs::File::create(dir.join(format!("part-{f:03}.parquet"))).expect("file");
        let props = datafusion::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(300))
            .build();
        let mut w = ArrowWriter::try_new(file, b.schema(), Some(props)).expect("writer");
        w.write(&b).expect("write");
        w.close().expect("close");
    }
}
