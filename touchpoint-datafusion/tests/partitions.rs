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
