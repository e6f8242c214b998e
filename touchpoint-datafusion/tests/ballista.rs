//! Ballista: a real scheduler and two executors on loopback, in this
//! process, run attribution queries over Parquet files of journeys and get
//! the core crate's bits. (`cargo test ballista` selects this.)

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use common::{cases, expected, journeys, query, run, shuffled, write_parquet};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use touchpoint_datafusion::codec::{TouchpointLogicalCodec, TouchpointPhysicalCodec};
use touchpoint_datafusion::{Kind, ModelSpec, Output};

const N: u64 = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ballista_scheduler_two_executors_give_the_core_bits() {
    let started = Instant::now();
    let js = journeys(N);
    let rows: Vec<(usize, &touchpoint::SimpleJourney)> = js.iter().enumerate().collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("journeys");
    write_parquet(&data, &shuffled(&rows, 5), 4, true);

    // One session state for scheduler and executors: the tp_* functions
    // registered, and the codecs that carry them in plans.
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(4)
        .with_ballista_logical_extension_codec(Arc::new(TouchpointLogicalCodec::new(Arc::new(
            BallistaLogicalExtensionCodec::default(),
        ))))
        .with_ballista_physical_extension_codec(Arc::new(TouchpointPhysicalCodec::new(Arc::new(
            BallistaPhysicalExtensionCodec::default(),
        ))));
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    touchpoint_datafusion::register_all(&mut state).expect("register");

    let addr = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
        .await
        .expect("scheduler");
    let url = format!("http://localhost:{}", addr.port());
    let mut scheduler = None;
    for _ in 0..100 {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(s) => {
                scheduler = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let scheduler = scheduler.expect("scheduler reachable on loopback");
    for _ in 0..2 {
        ballista_executor::new_standalone_executor_from_state(scheduler.clone(), 2, &state)
            .await
            .expect("executor");
    }

    // The client additionally knows a preset function (Markov order 2 with
    // its spec inside the function, no spec argument): the scheduler and
    // executors do not have it registered and rebuild it from the plan
    // through the codec.
    let ctx = SessionContext::remote_with_state(&format!("df://localhost:{}", addr.port()), state)
        .await
        .expect("remote context");
    // (the Ballista client state replaces the function lists: register again)
    common::register(&ctx);
    let spec = ModelSpec::parse(Kind::Markov, "order=2").expect("spec");
    ctx.register_udaf(
        touchpoint_datafusion::preset("tp_markov2", &spec, Output::Report).expect("preset"),
    );
    ctx.register_parquet(
        "journeys",
        data.to_str().expect("utf-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("register parquet");
    let setup = started.elapsed();

    let all = cases();
    for case in &all {
        let got = run(&ctx, &query(case, "journeys")).await;
        assert_eq!(
            got,
            expected(case, &js),
            "ballista: {}('{}') differs from the core in process",
            case.function,
            case.spec
        );
    }
    let got = run(
        &ctx,
        "SELECT segment, tp_markov2(channels, timestamps, converted, value) AS r \
         FROM journeys GROUP BY segment ORDER BY segment",
    )
    .await;
    assert_eq!(
        got,
        common::expected_markov(2, &js),
        "ballista: preset tp_markov2 differs from the core"
    );

    // Daily partials stored, then merged and finished.
    let got = run(
        &ctx,
        "WITH daily AS (\
           SELECT segment, cardinality(channels) % 3 AS day, \
                  tp_credit_partial(channels, timestamps, converted, value, 'linear') AS p \
           FROM journeys GROUP BY segment, cardinality(channels) % 3) \
         SELECT segment, tp_report(tp_merge(p)) AS r FROM daily GROUP BY segment ORDER BY segment",
    )
    .await;
    let linear = all
        .iter()
        .find(|c| c.spec == "linear")
        .expect("linear case");
    assert_eq!(
        got,
        expected(linear, &js),
        "ballista: merged daily partials differ"
    );
    // Campaigns, contents, milestones and conversion times (the extras
    // struct), and funnel metrics over lead rows.
    let b2b = common::b2b_journeys(1_000);
    let b2b_rows: Vec<(usize, &touchpoint::SimpleJourney)> = b2b.iter().enumerate().collect();
    let extras = dir.path().join("b2b");
    common::write_batches(&extras, &shuffled(&b2b_rows, 9), 3, |c| {
        common::extras_batch(c, true)
    });
    ctx.register_parquet(
        "b2b",
        extras.to_str().expect("utf-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("register parquet");
    let w = touchpoint::models::by_name("w_shaped").expect("model");
    let want: Vec<(String, Vec<common::BLine>)> = ["north", "south", "west"]
        .iter()
        .map(|seg| {
            let part: Vec<&touchpoint::SimpleJourney> = b2b
                .iter()
                .enumerate()
                .filter(|(i, _)| common::segment(*i) == *seg)
                .map(|(_, j)| j)
                .collect();
            (
                (*seg).to_owned(),
                common::breakdown_lines(w.as_ref(), &part),
            )
        })
        .collect();
    let got = ctx
        .sql(
            "SELECT segment, tp_credit(channels, timestamps, converted, value, 'w_shaped', extras)              FROM b2b GROUP BY segment ORDER BY segment",
        )
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    assert_eq!(
        common::read_breakdowns(&got),
        want,
        "ballista: w_shaped with extras"
    );
    let ls = common::leads(1_000);
    let lead_rows: Vec<(usize, &touchpoint::funnel::Lead)> = ls.iter().enumerate().collect();
    let leads = dir.path().join("leads");
    common::write_batches(&leads, &shuffled(&lead_rows, 4), 3, common::lead_batch);
    ctx.register_parquet(
        "leads",
        leads.to_str().expect("utf-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("register parquet");
    let config =
        touchpoint::funnel::FunnelConfig::default().slice_by(touchpoint::funnel::SliceBy::Channel);
    let want: Vec<(String, Vec<common::FLine>)> = ["north", "south", "west"]
        .iter()
        .map(|seg| {
            let part: Vec<&touchpoint::funnel::Lead> = ls
                .iter()
                .enumerate()
                .filter(|(i, _)| common::segment(*i) == *seg)
                .map(|(_, l)| l)
                .collect();
            (
                (*seg).to_owned(),
                common::expected_funnel(config.clone(), &part),
            )
        })
        .collect();
    let got = ctx
        .sql(
            "SELECT grp, tp_funnel(lead_id, stages, stage_times, amount, 'slice=channel', extras)              FROM leads GROUP BY grp ORDER BY grp",
        )
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    assert_eq!(common::read_funnel(&got), want, "ballista: tp_funnel");

    eprintln!(
        "ballista test: setup {:.1}s, {} queries in {:.1}s total",
        setup.as_secs_f64(),
        all.len() + 4,
        started.elapsed().as_secs_f64()
    );
}
