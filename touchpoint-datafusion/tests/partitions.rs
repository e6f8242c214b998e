//! DataFusion alone: the same query with 1, 4 and 16 target partitions, on
//! shuffled input and on input split across several Parquet files, gives
//! the same bits as the core crate in one process, for every model.
//! (`cargo test partitions` selects these.)

mod common;

use std::sync::Arc;

use common::{Case, cases, expected, journeys, query, run, shuffled, write_parquet};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

const N: u64 = 3_000;

fn ctx(partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(256),
    );
    common::register(&ctx);
    ctx
}

async fn check_all(ctx: &SessionContext, table: &str, label: &str, only: Option<&[&Case]>) {
    let js = journeys(N);
    let all = cases();
    let list: Vec<&Case> = match only {
        Some(l) => l.to_vec(),
        None => all.iter().collect(),
    };
    for case in list {
        let got = run(ctx, &query(case, table)).await;
        let want = expected(case, &js);
        for (seg, lines) in &want {
            // a real answer: several channels, some credit
            assert!(lines.len() >= 3, "{seg}: {} lines", lines.len());
            assert!(
                lines.iter().any(|l| f64::from_bits(l.3) > 0.0),
                "{seg}: no value"
            );
        }
        assert_eq!(
            got, want,
            "{label}: {}('{}') differs from the core in process",
            case.function, case.spec
        );
    }
}

#[test]
fn partitions_cases_have_distinct_answers() {
    // so that a function running the wrong model could not pass
    let js = journeys(N);
    let all = cases();
    let answers: Vec<_> = all.iter().map(|c| expected(c, &js)).collect();
    for i in 0..answers.len() {
        for k in i + 1..answers.len() {
            assert_ne!(answers[i], answers[k], "{} vs {}", all[i].spec, all[k].spec);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_1_4_16_parquet_files_give_the_core_bits() {
    let js = journeys(N);
    let rows: Vec<(usize, &touchpoint::SimpleJourney)> = js.iter().enumerate().collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let one = dir.path().join("one");
    let many = dir.path().join("many");
    write_parquet(&one, &rows, 1, true);
    write_parquet(&many, &shuffled(&rows, 11), 7, true);
    for p in [1, 4, 16] {
        let ctx = ctx(p);
        ctx.register_parquet("one", one.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .expect("register");
        ctx.register_parquet(
            "many",
            many.to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register");
        // the Parquet files keep the channels dictionary-encoded
        let schema = ctx.table("one").await.unwrap().schema().as_arrow().clone();
        let ty = schema
            .field_with_name("channels")
            .unwrap()
            .data_type()
            .to_string();
        assert!(ty.contains("Dictionary"), "{ty}");
        check_all(&ctx, "one", &format!("1 file, {p} partitions"), None).await;
        check_all(
            &ctx,
            "many",
            &format!("7 shuffled files, {p} partitions"),
            None,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_shuffled_plain_strings_in_memory() {
    let js = journeys(N);
    let rows: Vec<(usize, &touchpoint::SimpleJourney)> = js.iter().enumerate().collect();
    for (seed, p) in [(1u64, 1usize), (2, 4), (3, 16)] {
        let order = shuffled(&rows, seed);
        let batches: Vec<_> = order.chunks(300).map(|c| common::batch(c, false)).collect();
        let schema = batches[0].schema();
        // 5 in-memory partitions of batches, whatever the target partitions
        let parts: Vec<Vec<_>> = (0..5)
            .map(|k| batches.iter().skip(k).step_by(5).cloned().collect())
            .collect();
        let ctx = ctx(p);
        ctx.register_table("mem", Arc::new(MemTable::try_new(schema, parts).unwrap()))
            .unwrap();
        check_all(
            &ctx,
            "mem",
            &format!("plain strings, shuffled, {p} partitions"),
            None,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_breakdowns_milestones_conversion_times_give_the_core_bits() {
    let js = common::b2b_journeys(1_500);
    // a real test: campaigns, contents, milestones and conversion times
    assert!(
        js.iter()
            .any(|j| j.touchpoints.iter().any(|t| t.milestone.is_some()))
    );
    assert!(js.iter().any(|j| j.conversion_ts.is_some()));
    let rows: Vec<(usize, &touchpoint::SimpleJourney)> = js.iter().enumerate().collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let many = dir.path().join("many");
    common::write_batches(&many, &shuffled(&rows, 5), 5, |c| {
        common::extras_batch(c, true)
    });
    let models = common::breakdown_models();
    let want: Vec<Vec<(String, Vec<common::BLine>)>> = models
        .iter()
        .map(|(_, m)| {
            ["north", "south", "west"]
                .iter()
                .map(|seg| {
                    let part: Vec<&touchpoint::SimpleJourney> = js
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| common::segment(*i) == *seg)
                        .map(|(_, j)| j)
                        .collect();
                    (
                        (*seg).to_owned(),
                        common::breakdown_lines(m.as_ref(), &part),
                    )
                })
                .collect()
        })
        .collect();
    // the models give different answers, and the extras matter
    assert_ne!(want[2], want[3]);
    for p in [1, 4, 16] {
        let ctx = ctx(p);
        ctx.register_parquet(
            "many",
            many.to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register");
        let shuffled_mem: Vec<_> = shuffled(&rows, p as u64)
            .chunks(200)
            .map(|c| common::extras_batch(c, false))
            .collect();
        let schema = shuffled_mem[0].schema();
        let parts: Vec<Vec<_>> = (0..3)
            .map(|k| shuffled_mem.iter().skip(k).step_by(3).cloned().collect())
            .collect();
        ctx.register_table("mem", Arc::new(MemTable::try_new(schema, parts).unwrap()))
            .unwrap();
        for table in ["many", "mem"] {
            for ((spec, _), want) in models.iter().zip(&want) {
                let sql = format!(
                    "SELECT segment, tp_credit(channels, timestamps, converted, value, '{spec}', \
                       extras) FROM {table} GROUP BY segment ORDER BY segment"
                );
                let got = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                assert_eq!(
                    &common::read_breakdowns(&got),
                    want,
                    "{table}, {p} partitions: {spec}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_funnel_gives_the_core_bits() {
    use touchpoint::funnel::{Cycles, SliceBy};
    use touchpoint::sim::{Preset, Simulator};
    let ls = common::leads(2_000);
    let rows: Vec<(usize, &touchpoint::funnel::Lead)> = ls.iter().enumerate().collect();
    let base = Simulator::new(Preset::B2b.config(5)).funnel_config();
    let configs = [
        (
            "slice=channel sales_channels=sales_call",
            base.clone().slice_by(SliceBy::Channel),
        ),
        (
            "slice=segment sla_days=30 sales_channels=sales_call",
            base.clone()
                .slice_by(SliceBy::Segment)
                .with_cycles(Cycles::Sla { days: 30 })
                .unwrap(),
        ),
    ];
    let want: Vec<Vec<(String, Vec<common::FLine>)>> = configs
        .iter()
        .map(|(_, c)| {
            ["north", "south", "west"]
                .iter()
                .map(|seg| {
                    let part: Vec<&touchpoint::funnel::Lead> = ls
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| common::segment(*i) == *seg)
                        .map(|(_, l)| l)
                        .collect();
                    ((*seg).to_owned(), common::expected_funnel(c.clone(), &part))
                })
                .collect()
        })
        .collect();
    // a real answer: won deals, several slices, rules applied
    assert!(
        want[0][0]
            .1
            .iter()
            .any(|l| l.0 == "summary" && l.6 > Some(0))
    );
    assert!(want[0][0].1.iter().filter(|l| l.0 == "summary").count() > 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("leads");
    common::write_batches(&files, &shuffled(&rows, 3), 4, common::lead_batch);
    for p in [1, 4, 16] {
        let ctx = ctx(p);
        ctx.register_parquet(
            "leads",
            files.to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register");
        for ((spec, _), want) in configs.iter().zip(&want) {
            let sql = format!(
                "SELECT grp, tp_funnel(lead_id, stages, stage_times, amount, '{spec}', extras) \
                 FROM leads GROUP BY grp ORDER BY grp"
            );
            let got = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            assert_eq!(&common::read_funnel(&got), want, "{p} partitions: {spec}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_incremental_path_form_gives_the_core_bits() {
    use std::collections::BTreeMap;
    use touchpoint::incremental::{Incremental, IncrementalConfig};
    use touchpoint::{SimpleJourney, SimpleTouch, Touchpoint};
    // journeys aggregated into path rows, in SQL and in Rust; the core
    // fits the journeys the rows stand for (touch i on day i, the row's
    // value on its first converted journey)
    let js = journeys(N);
    type Agg = (u64, f64, u64);
    let mut agg: BTreeMap<Vec<String>, Agg> = BTreeMap::new();
    for j in &js {
        let path: Vec<String> = j
            .touchpoints
            .iter()
            .map(|t| t.channel().to_owned())
            .collect();
        let e = agg.entry(path).or_default();
        if j.converted {
            e.0 += 1;
            e.1 += j.value;
        } else {
            e.2 += 1;
        }
    }
    let t0 = chrono::DateTime::UNIX_EPOCH;
    let mut expanded = Vec::new();
    let mut rows = Vec::new();
    for (path, (conv, value, nulls)) in &agg {
        // the total as SQL's sum would see it: cents exact, so round
        let value = (value * 100.0).round() / 100.0;
        rows.push((path.clone(), *conv as i64, value, *nulls as i64));
        for k in 0..conv + nulls {
            let mut j = SimpleJourney::new(format!("p{}", expanded.len()));
            for (i, c) in path.iter().enumerate() {
                j = j.touch(SimpleTouch::new(c, t0 + chrono::Duration::days(i as i64)));
            }
            if k < *conv {
                j = j.converted(if k == 0 { value } else { 0.0 });
            }
            expanded.push(j);
        }
    }
    let set = touchpoint::JourneySet::from_journeys(expanded.iter()).unwrap();
    let fit = Incremental::fit(&set, &IncrementalConfig::new()).unwrap();
    let mut want: Vec<(Option<String>, u64, Option<u64>)> = fit
        .effects()
        .iter()
        .map(|e| {
            (
                Some(e.name().to_owned()),
                e.incremental_conversions().to_bits(),
                Some(e.journeys()),
            )
        })
        .collect();
    want.sort();
    assert!(want.len() >= 3);
    for p in [1, 4, 16] {
        let order = shuffled(&rows, p as u64);
        let make = |c: &[(Vec<String>, i64, f64, i64)]| {
            use datafusion::arrow::array::{
                ArrayRef, Float64Array, Int64Array, ListBuilder, RecordBatch, StringBuilder,
            };
            let mut path = ListBuilder::new(StringBuilder::new());
            for r in c {
                for ch in &r.0 {
                    path.values().append_value(ch);
                }
                path.append(true);
            }
            RecordBatch::try_from_iter(vec![
                ("path", Arc::new(path.finish()) as ArrayRef),
                (
                    "conversions",
                    Arc::new(c.iter().map(|r| Some(r.1)).collect::<Int64Array>()) as ArrayRef,
                ),
                (
                    "value",
                    Arc::new(c.iter().map(|r| Some(r.2)).collect::<Float64Array>()) as ArrayRef,
                ),
                (
                    "nulls",
                    Arc::new(c.iter().map(|r| Some(r.3)).collect::<Int64Array>()) as ArrayRef,
                ),
            ])
            .unwrap()
        };
        let batches: Vec<_> = order.chunks(37).map(make).collect();
        let schema = batches[0].schema();
        let parts: Vec<Vec<_>> = (0..3)
            .map(|k| batches.iter().skip(k).step_by(3).cloned().collect())
            .collect();
        let ctx = ctx(p);
        ctx.register_table("paths", Arc::new(MemTable::try_new(schema, parts).unwrap()))
            .unwrap();
        let got = run(
            &ctx,
            "SELECT 'g', tp_incremental(path, conversions, value, nulls) FROM paths",
        )
        .await;
        let mut got: Vec<(Option<String>, u64, Option<u64>)> =
            got[0].1.iter().map(|l| (l.0.clone(), l.1, l.6)).collect();
        got.sort();
        assert_eq!(got, want, "{p} partitions");
    }
}
