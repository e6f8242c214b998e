//! Hand-checked answers and bad rows through SQL.

mod common;

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, ListBuilder, RecordBatch,
    StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

/// A row: channels, timestamps (ms), converted, value.
type Row<'a> = (
    Vec<Option<&'a str>>,
    Vec<Option<i64>>,
    Option<bool>,
    Option<f64>,
);

fn table(rows: &[Row<'_>]) -> RecordBatch {
    let mut ch = ListBuilder::new(StringBuilder::new());
    let mut ts = ListBuilder::new(TimestampMillisecondBuilder::new());
    for (c, t, _, _) in rows {
        for x in c {
            ch.values().append_option(*x);
        }
        ch.append(true);
        for x in t {
            ts.values().append_option(*x);
        }
        ts.append(true);
    }
    let conv: BooleanArray = rows.iter().map(|r| r.2).collect();
    let val: Float64Array = rows.iter().map(|r| r.3).collect();
    RecordBatch::try_from_iter(vec![
        ("channels", Arc::new(ch.finish()) as ArrayRef),
        ("timestamps", Arc::new(ts.finish()) as ArrayRef),
        ("converted", Arc::new(conv) as ArrayRef),
        ("value", Arc::new(val) as ArrayRef),
    ])
    .unwrap()
}

fn ctx_with(rows: &[Row<'_>]) -> SessionContext {
    let ctx = SessionContext::new();
    common::register(&ctx);
    let b = table(rows);
    ctx.register_table(
        "j",
        Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap()),
    )
    .unwrap();
    ctx
}

async fn err(ctx: &SessionContext, sql: &str) -> String {
    let r = match ctx.sql(sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    r.expect_err(sql).to_string()
}

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn linear_credit_hand_checked() {
    // a: email, display; converted 100.00 -> 50.00 each
    // b: email; converted 30.00 -> email 30.00
    // c: display; not converted
    let ctx = ctx_with(&[
        (
            vec![Some("email"), Some("display")],
            vec![Some(0), Some(DAY)],
            Some(true),
            Some(100.0),
        ),
        (vec![Some("email")], vec![Some(0)], Some(true), Some(30.0)),
        (vec![Some("display")], vec![Some(0)], Some(false), None),
    ]);
    let got = common::run(
        &ctx,
        "SELECT 'g', tp_credit(channels, timestamps, converted, value, 'linear') FROM j",
    )
    .await;
    let lines = &got[0].1;
    let by = |c: &str| {
        lines
            .iter()
            .find(|l| l.0.as_deref() == Some(c))
            .unwrap()
            .clone()
    };
    assert_eq!(by("display").4, Some(5_000));
    assert_eq!(by("email").4, Some(8_000));
    assert_eq!(f64::from_bits(by("email").1), 1.5);
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn markov_path_form_hand_checked() {
    // The core's documented example: C1>C2>C3 converts 100.00, C1 and
    // C2>C3 do not: removal effects 0.5 / 1 / 1, shares 0.2 / 0.4 / 0.4.
    let ctx = SessionContext::new();
    common::register(&ctx);
    ctx.sql(
        "CREATE TABLE paths AS SELECT * FROM (VALUES \
           (make_array('C1','C2','C3'), 1, 100.0, 0), \
           (make_array('C1'), 0, 0.0, 1), \
           (make_array('C2','C3'), 0, 0.0, 1)) AS t(path, conversions, value, nulls)",
    )
    .await
    .unwrap();
    let got = common::run(
        &ctx,
        "SELECT 'g', tp_markov(path, conversions, value, nulls, 'order=1') FROM paths",
    )
    .await;
    let cents: Vec<Option<i64>> = got[0].1.iter().map(|l| l.4).collect();
    assert_eq!(cents, [Some(2_000), Some(4_000), Some(4_000)]);
}

#[tokio::test]
async fn credit_path_form_hand_checked() {
    // Rows credited by weight (the core's `CreditPartial::observe_path`):
    // 3 conversions along C1>C2>C3 worth 90.00 in all, under linear. One
    // journey's 10^9 conversion units split by largest remainder are
    // 333,333,334 / 333,333,333 / 333,333,333 (the extra unit to the
    // first), times 3 conversions: as if the 3 journeys had been observed
    // one by one. The value is split once: 30.00 each. Under first touch,
    // C1 takes everything. The C1 row that did not convert adds no credit.
    let ctx = SessionContext::new();
    common::register(&ctx);
    ctx.sql(
        "CREATE TABLE paths AS SELECT * FROM (VALUES \
           (make_array('C1','C2','C3'), 3, 90.0, 0), \
           (make_array('C1'), 0, 0.0, 2)) AS t(path, conversions, value, nulls)",
    )
    .await
    .unwrap();
    let got = common::run(
        &ctx,
        "SELECT 'g', tp_credit(path, conversions, value, nulls, 'linear') FROM paths",
    )
    .await;
    let lines: Vec<(Option<String>, Option<i64>, Option<i64>)> =
        got[0].1.iter().map(|l| (l.0.clone(), l.2, l.4)).collect();
    let c = |n: &str, units: i64| (Some(n.to_owned()), Some(units), Some(3_000));
    assert_eq!(
        lines,
        [
            c("C1", 1_000_000_002),
            c("C2", 999_999_999),
            c("C3", 999_999_999)
        ]
    );
    let got = common::run(
        &ctx,
        "SELECT 'g', tp_credit(path, conversions, value, nulls, 'first_touch') FROM paths",
    )
    .await;
    let lines: Vec<(Option<String>, Option<i64>, Option<i64>)> =
        got[0].1.iter().map(|l| (l.0.clone(), l.2, l.4)).collect();
    let first = (Some("C1".to_owned()), Some(3_000_000_000), Some(9_000));
    assert!(lines.contains(&first), "{lines:?}");
    let rest: i64 = lines
        .iter()
        .filter(|l| l.0.as_deref() != Some("C1"))
        .map(|l| l.2.unwrap_or(0))
        .sum();
    assert_eq!(rest, 0, "{lines:?}");
}

#[tokio::test]
async fn bad_rows_are_errors_naming_the_problem() {
    let q = "SELECT tp_markov(channels, timestamps, converted, value, 'order=2') FROM j";
    let cases: Vec<(Row<'_>, &str)> = vec![
        (
            (
                vec![Some("a"), None],
                vec![Some(0), Some(1)],
                Some(false),
                None,
            ),
            "NULL channel",
        ),
        (
            (vec![Some("")], vec![Some(0)], Some(false), None),
            "empty channel name",
        ),
        (
            (vec![Some("a")], vec![Some(0)], Some(true), Some(-1.0)),
            "negative",
        ),
        (
            (vec![Some("a")], vec![Some(0)], Some(true), Some(f64::NAN)),
            "not finite",
        ),
        (
            (
                vec![Some("a"), Some("b")],
                vec![Some(5), Some(1)],
                Some(false),
                None,
            ),
            "out of order",
        ),
        (
            (vec![Some("a"), Some("b")], vec![Some(1)], Some(false), None),
            "2 channels but 1 timestamps",
        ),
        (
            (vec![Some("a")], vec![None], Some(false), None),
            "NULL timestamp",
        ),
        (
            (vec![Some("a")], vec![Some(0)], None, None),
            "converted is NULL",
        ),
        (
            (vec![Some("a")], vec![Some(0)], Some(true), None),
            "NULL value",
        ),
    ];
    for (row, want) in cases {
        let ctx = ctx_with(&[row]);
        let e = err(&ctx, q).await;
        assert!(e.contains(want), "expected '{want}' in: {e}");
    }
    let ctx = ctx_with(&[(vec![Some("a")], vec![Some(0)], Some(false), None)]);
    for (sql, want) in [
        (
            "SELECT tp_markov(channels, timestamps, converted, value, 'order=9') FROM j",
            "order",
        ),
        (
            "SELECT tp_markov(channels, timestamps, converted, value, 'lookback=3') FROM j",
            "unknown option 'lookback'",
        ),
        (
            "SELECT tp_credit(channels, timestamps, converted, value, 'nonsense') FROM j",
            "nonsense",
        ),
        (
            "SELECT tp_credit(channels, timestamps, converted, value) FROM j",
            "model",
        ),
        (
            "SELECT tp_shapley(channels, timestamps, converted, value, 'variant=fast') FROM j",
            "variant=fast",
        ),
        (
            "SELECT tp_credit(channels, timestamps, converted, value, 'linear half_life_days=2') FROM j",
            "does not apply",
        ),
    ] {
        let e = err(&ctx, sql).await;
        assert!(e.contains(want), "{sql}: expected '{want}' in: {e}");
    }
}

#[tokio::test]
async fn partials_of_other_configs_or_versions_do_not_merge() {
    let ctx = ctx_with(&[(vec![Some("a")], vec![Some(0)], Some(true), Some(1.0))]);
    let e = err(
        &ctx,
        "SELECT tp_merge(p) FROM (\
           SELECT tp_markov_partial(channels, timestamps, converted, value, 'order=1') AS p FROM j \
           UNION ALL \
           SELECT tp_markov_partial(channels, timestamps, converted, value, 'order=2') AS p FROM j)",
    )
    .await;
    assert!(e.contains("different configurations"), "{e}");
    assert!(e.contains("order=1") && e.contains("order=2"), "{e}");

    // A stored partial from a future format version.
    let df = ctx
        .sql("SELECT tp_markov_partial(channels, timestamps, converted, value) AS p FROM j")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    use datafusion::arrow::array::AsArray;
    let mut bytes = df[0].column(0).as_binary::<i32>().value(0).to_vec();
    assert_eq!(&bytes[..4], touchpoint_datafusion::PARTIAL_MAGIC);
    bytes[4] = 99;
    let stored: BinaryArray = vec![Some(bytes.as_slice()), Some(b"junk".as_slice())]
        .into_iter()
        .collect();
    let ids: Int64Array = vec![Some(1), Some(2)].into_iter().collect();
    let b = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(ids) as ArrayRef),
        ("p", Arc::new(stored) as ArrayRef),
    ])
    .unwrap();
    ctx.register_table(
        "stored",
        Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap()),
    )
    .unwrap();
    let e = err(&ctx, "SELECT tp_report(p) FROM stored WHERE id = 1").await;
    assert!(e.contains("format version 99"), "{e}");
    let e = err(&ctx, "SELECT tp_merge(p) FROM stored WHERE id = 2").await;
    assert!(e.contains("not a touchpoint partial"), "{e}");
}

#[tokio::test]
async fn touch_table_rebuilt_with_array_agg_matches_the_core() {
    use datafusion::arrow::array::{StringArray, TimestampMillisecondArray};
    use touchpoint::Touchpoint;
    // Journeys with at least one touch (a touch table has no row for the
    // others), one row per touch, rows in reverse order.
    let js: Vec<_> = common::journeys(1_500)
        .into_iter()
        .filter(|j| !j.touchpoints.is_empty())
        .collect();
    let mut id = Vec::new();
    let mut seg = Vec::new();
    let mut seq = Vec::new();
    let mut ch = Vec::new();
    let mut ts = Vec::new();
    let mut conv = Vec::new();
    let mut val = Vec::new();
    for (i, j) in js.iter().enumerate() {
        for (k, t) in j.touchpoints.iter().enumerate() {
            id.push(j.id.clone());
            seg.push(common::segment(i));
            seq.push(k as i64);
            ch.push(t.channel().to_owned());
            ts.push(t.timestamp().timestamp_millis());
            conv.push(j.converted);
            val.push(j.value);
        }
    }
    let rev = |n: usize| (0..n).rev();
    let n = id.len();
    let b = RecordBatch::try_from_iter(vec![
        (
            "journey_id",
            Arc::new(rev(n).map(|r| Some(id[r].clone())).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "segment",
            Arc::new(rev(n).map(|r| Some(seg[r])).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "touch_seq",
            Arc::new(rev(n).map(|r| Some(seq[r])).collect::<Int64Array>()) as ArrayRef,
        ),
        (
            "channel",
            Arc::new(rev(n).map(|r| Some(ch[r].clone())).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "ts",
            Arc::new(
                rev(n)
                    .map(|r| Some(ts[r]))
                    .collect::<TimestampMillisecondArray>(),
            ) as ArrayRef,
        ),
        (
            "converted",
            Arc::new(rev(n).map(|r| Some(conv[r])).collect::<BooleanArray>()) as ArrayRef,
        ),
        (
            "value",
            Arc::new(rev(n).map(|r| Some(val[r])).collect::<Float64Array>()) as ArrayRef,
        ),
    ])
    .unwrap();
    let ctx = SessionContext::new();
    common::register(&ctx);
    ctx.register_table(
        "touches",
        Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap()),
    )
    .unwrap();
    ctx.sql(
        "CREATE VIEW journeys AS \
         SELECT journey_id, segment, \
                array_agg(channel ORDER BY ts, touch_seq) AS channels, \
                array_agg(ts ORDER BY ts, touch_seq) AS timestamps, \
                bool_or(converted) AS converted, max(value) AS value \
         FROM touches GROUP BY journey_id, segment",
    )
    .await
    .unwrap();
    let all = common::cases();
    for case in all
        .iter()
        .filter(|c| c.spec == "linear" || c.spec == "order=1")
    {
        let got = common::run(&ctx, &common::query(case, "journeys")).await;
        assert_eq!(got, common::expected(case, &js), "{}", case.spec);
    }
}

/// Rows of a small journey table built in SQL, timestamps as BIGINT ms.
async fn sql_table(ctx: &SessionContext, name: &str, values: &str, columns: &str) {
    ctx.sql(&format!(
        "CREATE TABLE {name} AS SELECT * FROM (VALUES {values}) AS t({columns})"
    ))
    .await
    .unwrap_or_else(|e| panic!("{values}: {e}"))
    .collect()
    .await
    .unwrap();
}

/// `(breakdown, name, conversion_units, value_minor)` of the one report.
async fn breakdown_report(
    ctx: &SessionContext,
    sql: &str,
) -> Vec<(String, Option<String>, i64, i64)> {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let b = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    common::read_breakdowns(&b)
        .into_iter()
        .flat_map(|(_, l)| l)
        .map(|l| (l.0, l.1, l.3.unwrap(), l.5.unwrap()))
        .collect()
}

#[tokio::test]
async fn campaign_and_content_credit_hand_checked() {
    // j1: email (spring, whitepaper) then display (summer, no content),
    //     converted 100.00 -> linear: 50.00 each
    // j2: email (spring, no content) then search (no campaign or content),
    //     converted 30.00 -> 15.00 each
    // campaigns: spring 50 + 15 = 65.00 (1 conversion), summer 50.00 (0.5),
    //            unassigned 15.00 (0.5: search's half of j2)
    // contents:  whitepaper 50.00 (0.5), unassigned 50 + 30 = 80.00 (1.5)
    let ctx = SessionContext::new();
    common::register(&ctx);
    sql_table(
        &ctx,
        "j",
        "(make_array('email','display'), make_array(0, 86400000), true, 100.0, \
           make_array('spring','summer'), make_array('whitepaper', NULL)), \
         (make_array('email','search'), make_array(0, 86400000), true, 30.0, \
           make_array('spring', NULL), make_array(CAST(NULL AS VARCHAR), NULL))",
        "channels, ts, converted, value, campaigns, contents",
    )
    .await;
    let got = breakdown_report(
        &ctx,
        "SELECT 'g', tp_credit(channels, ts, converted, value, 'linear', \
           named_struct('campaigns', campaigns, 'contents', contents)) FROM j",
    )
    .await;
    let l = |b: &str, n: Option<&str>, units: i64, minor: i64| {
        (b.to_owned(), n.map(str::to_owned), units, minor)
    };
    const HALF: i64 = 500_000_000;
    assert_eq!(
        got,
        [
            l("channel", Some("display"), HALF, 5_000),
            l("channel", Some("email"), 2 * HALF, 6_500),
            l("channel", Some("search"), HALF, 1_500),
            l("campaign", Some("spring"), 2 * HALF, 6_500),
            l("campaign", Some("summer"), HALF, 5_000),
            l("campaign", None, HALF, 1_500),
            l("content", Some("whitepaper"), HALF, 5_000),
            l("content", None, 3 * HALF, 8_000),
        ]
    );
    // campaigns only: no content lines; the partial's spec says so
    let got = breakdown_report(
        &ctx,
        "SELECT 'g', tp_credit(channels, ts, converted, value, 'linear', \
           named_struct('campaigns', campaigns)) FROM j",
    )
    .await;
    assert_eq!(got.len(), 6, "{got:?}");
    assert!(got.iter().all(|l| l.0 != "content"), "{got:?}");
    // partials with and without campaigns do not merge
    let e = err(
        &ctx,
        "SELECT tp_merge(p) FROM (\
           SELECT tp_credit_partial(channels, ts, converted, value, 'linear', \
             named_struct('campaigns', campaigns)) AS p FROM j \
           UNION ALL \
           SELECT tp_credit_partial(channels, ts, converted, value, 'linear') AS p FROM j)",
    )
    .await;
    assert!(e.contains("breakdowns=campaigns"), "{e}");
}

#[tokio::test]
async fn milestones_drive_w_shaped_hand_checked() {
    // a, b (lead created), c, d (opportunity created), converted 100.00.
    // W-shaped 30/30/30 on the first touch and the two milestone touches,
    // the other 10% to the one touch that is none of them (c).
    // Without milestones both milestone shares go to the first touch:
    // a 90% + its share of the rest; so the answers differ.
    let ctx = SessionContext::new();
    common::register(&ctx);
    sql_table(
        &ctx,
        "j",
        "(make_array('a','b','c','d'), make_array(0, 86400000, 172800000, 259200000), true, 100.0, \
           make_array(NULL, 'lead_created', NULL, 'opportunity_created'))",
        "channels, ts, converted, value, milestones",
    )
    .await;
    let got = breakdown_report(
        &ctx,
        "SELECT 'g', tp_credit(channels, ts, converted, value, 'w_shaped', \
           named_struct('milestones', milestones)) FROM j",
    )
    .await;
    let minor: Vec<i64> = got.iter().map(|l| l.3).collect();
    assert_eq!(minor, [3_000, 3_000, 1_000, 3_000], "{got:?}");
    let without = breakdown_report(
        &ctx,
        "SELECT 'g', tp_credit(channels, ts, converted, value, 'w_shaped') FROM j",
    )
    .await;
    assert!(without[0].3 > 8_000, "{without:?}");
}

#[tokio::test]
async fn conversion_time_drives_time_decay_hand_checked() {
    // a at day 0, b at day 1, half-life 1 day, converted 100.00.
    // Row 1 converted at day 0.5: a is 0.5 days old, b (after the
    //   conversion) 0: weights 2^-0.5 = 0.70711 and 1, shares 0.41421 and
    //   0.58579: 41.42 / 58.57 + the leftover cent to the larger fraction
    //   (b's .86 beats a's .14): 41.42 / 58.58.
    // Row 2 has no conversion time: ages from the last touch, 1 and 0:
    //   weights 0.5 and 1: 33.33 / 66.66 + 1 cent to b (ties to the
    //   earlier touch, but b's .67 is larger): 33.33 / 66.67.
    let ctx = SessionContext::new();
    common::register(&ctx);
    sql_table(
        &ctx,
        "j",
        "('with', make_array('a','b'), make_array(0, 86400000), true, 100.0, 43200000), \
         ('without', make_array('a','b'), make_array(0, 86400000), true, 100.0, NULL)",
        "g, channels, ts, converted, value, cts",
    )
    .await;
    let df = ctx
        .sql(
            "SELECT g, tp_credit(channels, ts, converted, value, 'time_decay half_life_days=1', \
               named_struct('conversion_ts', cts)) FROM j GROUP BY g ORDER BY g",
        )
        .await
        .unwrap();
    let got = common::read_breakdowns(&df.collect().await.unwrap());
    let minor = |g: usize| got[g].1.iter().map(|l| l.5.unwrap()).collect::<Vec<_>>();
    assert_eq!(got[0].0, "with");
    assert_eq!(minor(0), [4_142, 5_858]);
    assert_eq!(minor(1), [3_333, 6_667]);
}

#[tokio::test]
async fn extras_bad_rows_and_misuse_are_errors() {
    let ctx = SessionContext::new();
    common::register(&ctx);
    sql_table(
        &ctx,
        "j",
        "(make_array('a','b'), make_array(0, 1), true, 1.0, make_array('x'), make_array('lead_created', 'won'))",
        "channels, ts, converted, value, campaigns, milestones",
    )
    .await;
    for (sql, want) in [
        (
            "SELECT tp_credit(channels, ts, converted, value, 'linear', named_struct('campaigns', campaigns)) FROM j",
            "row 0 has 2 touches but 1 campaigns",
        ),
        (
            "SELECT tp_credit(channels, ts, converted, value, 'w_shaped', named_struct('milestones', milestones)) FROM j",
            "unknown milestone 'won' in row 0",
        ),
        (
            "SELECT tp_markov(channels, ts, converted, value, 'order=1', named_struct('milestones', milestones)) FROM j",
            "tp_credit only",
        ),
        (
            "SELECT tp_incremental(channels, ts, converted, value, '', named_struct('conversion_ts', 5)) FROM j",
            "leak",
        ),
        (
            "SELECT tp_credit(channels, ts, converted, value, 'linear', named_struct('costs', campaigns)) FROM j",
            "unknown field 'costs'",
        ),
        (
            "SELECT tp_credit(channels, ts, converted, value, 'linear breakdowns=contents', named_struct('milestones', milestones)) FROM j",
            "breakdowns=contents",
        ),
    ] {
        let e = err(&ctx, sql).await;
        assert!(e.contains(want), "{sql}: expected '{want}' in: {e}");
    }
}

#[tokio::test]
async fn incremental_path_form_counts_rows_as_their_journeys() {
    // Path rows and the journeys they stand for (touch i on day i) give
    // the same fit bit for bit; a channel's `journeys` is the conversions
    // + nulls of the rows it is on: a = 5 + 4 + 8 = 17, b = 5 + 6 + 8 = 19.
    let rows: [(&[&str], i64, f64, i64); 5] = [
        (&["a", "b"], 3, 90.0, 2),
        (&["b"], 1, 10.0, 5),
        (&["a"], 0, 0.0, 4),
        (&["b", "a"], 2, 7.5, 6),
        (&[], 1, 5.0, 10),
    ];
    let ctx = SessionContext::new();
    common::register(&ctx);
    let mut path = ListBuilder::new(StringBuilder::new());
    for (p, ..) in &rows {
        for c in *p {
            path.values().append_value(c);
        }
        path.append(true);
    }
    let conv: Int64Array = rows.iter().map(|r| Some(r.1)).collect();
    let val: Float64Array = rows.iter().map(|r| Some(r.2)).collect();
    let nulls: Int64Array = rows.iter().map(|r| Some(r.3)).collect();
    let b = RecordBatch::try_from_iter(vec![
        ("path", Arc::new(path.finish()) as ArrayRef),
        ("conversions", Arc::new(conv) as ArrayRef),
        ("value", Arc::new(val) as ArrayRef),
        ("nulls", Arc::new(nulls) as ArrayRef),
    ])
    .unwrap();
    ctx.register_table(
        "paths",
        Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap()),
    )
    .unwrap();
    // the same journeys, one row each: the row's value on its first
    // converted journey, 0 on the others (the model keeps sums)
    let mut journeys: Vec<Row<'_>> = Vec::new();
    for (p, conv, value, nulls) in &rows {
        for k in 0..conv + nulls {
            journeys.push((
                p.iter().map(|c| Some(*c)).collect(),
                (0..p.len() as i64).map(|i| Some(i * DAY)).collect(),
                Some(k < *conv),
                Some(if k == 0 { *value } else { 0.0 }),
            ));
        }
    }
    let b = table(&journeys);
    ctx.register_table(
        "j",
        Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap()),
    )
    .unwrap();
    let by_path = common::run(
        &ctx,
        "SELECT 'g', tp_incremental(path, conversions, value, nulls) FROM paths",
    )
    .await;
    let by_journey = common::run(
        &ctx,
        "SELECT 'g', tp_incremental(channels, timestamps, converted, value) FROM j",
    )
    .await;
    assert_eq!(by_path, by_journey);
    let n: Vec<(Option<String>, Option<u64>)> =
        by_path[0].1.iter().map(|l| (l.0.clone(), l.6)).collect();
    assert_eq!(
        n,
        [(Some("a".into()), Some(17)), (Some("b".into()), Some(19))]
    );
}

#[tokio::test]
async fn funnel_hand_checked() {
    // a: inquiry d0, mql d2, sql d5, opportunity d10, won d40, 1,000.00,
    //    first touch webinar
    // b: inquiry d0, mql d4, closed_lost d20, first touch search
    // c: mql d1, first touch webinar
    // Default stages inquiry > mql > sal > sql > opportunity > closed_won,
    // skipped stages back-populated: a's sal (dated d5), c's inquiry.
    // Reached: inquiry 3, mql 3, sal 1, sql 1, opportunity 1, won 1;
    // exits: closed_lost 1. mql -> sal 1/3. Time in mql: a 3 days (to its
    // back-populated sal), b 16 (to its exit), c still there: median
    // (lower, nearest rank) 3, mean 9.5. Sliced by channel: search 1
    // record, webinar 2 (and the 1,000.00 won).
    let ctx = SessionContext::new();
    common::register(&ctx);
    let d = 86_400_000i64;
    sql_table(
        &ctx,
        "leads",
        &format!(
            "('a', make_array('inquiry','mql','sql','opportunity','closed_won'), \
               make_array(0, {}, {}, {}, {}), 1000.0, make_array('webinar'), make_array(0)), \
             ('b', make_array('inquiry','mql','closed_lost'), make_array(0, {}, {}), NULL, \
               make_array('search'), make_array(0)), \
             ('c', make_array('mql'), make_array({}), NULL, make_array('webinar'), make_array(0))",
            2 * d,
            5 * d,
            10 * d,
            40 * d,
            4 * d,
            20 * d,
            d
        ),
        "id, stages, times, amount, channels, touch_ts",
    )
    .await;
    let df = ctx
        .sql(
            "SELECT 'g', tp_funnel(id, stages, times, amount, 'slice=channel', \
               named_struct('channels', channels, 'timestamps', touch_ts)) FROM leads",
        )
        .await
        .unwrap();
    let got = common::read_funnel(&df.collect().await.unwrap());
    let lines = &got[0].1;
    let find = |kind: &str, slice: Option<&str>, stage: Option<&str>| {
        lines
            .iter()
            .find(|l| l.0 == kind && l.1.as_deref() == slice && l.2.as_deref() == stage)
            .unwrap_or_else(|| panic!("{kind} {slice:?} {stage:?} in {lines:?}"))
            .clone()
    };
    let counts: Vec<u64> = ["inquiry", "mql", "sal", "sql", "opportunity", "closed_won"]
        .iter()
        .map(|s| find("stage", None, Some(s)).3)
        .collect();
    assert_eq!(counts, [3, 3, 1, 1, 1, 1]);
    assert_eq!(find("exit", None, Some("closed_lost")).3, 1);
    let mql = find("stage", None, Some("mql"));
    assert_eq!(mql.4.map(f64::from_bits), Some(1.0 / 3.0));
    assert_eq!(mql.5.map(f64::from_bits), Some(3.0));
    assert_eq!(find("summary", None, None).3, 3);
    assert_eq!(find("summary", None, None).6, Some(100_000));
    assert_eq!(find("summary", Some("webinar"), None).3, 2);
    assert_eq!(find("summary", Some("webinar"), None).6, Some(100_000));
    assert_eq!(find("summary", Some("search"), None).3, 1);
    assert_eq!(find("rule", None, Some("leads")).3, 3);
    assert_eq!(find("rule", None, Some("backfilled")).3, 2);
    // the mean comes with the struct too
    let df = ctx
        .sql(
            "SELECT l['mean_days'] FROM (SELECT unnest(tp_funnel(id, stages, times, amount)) AS l \
             FROM leads) WHERE l['stage'] = 'mql' AND l['kind'] = 'stage'",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    use datafusion::arrow::array::AsArray;
    let mean = df[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
        .value(0);
    assert_eq!(mean, 9.5);

    // stored daily, merged later: the same report
    let merged = ctx
        .sql(
            "SELECT 'g', tp_funnel_report(tp_merge(p)) FROM (\
               SELECT tp_funnel_partial(id, stages, times, amount, 'slice=channel', \
                 named_struct('channels', channels, 'timestamps', touch_ts)) AS p \
               FROM leads GROUP BY id)",
        )
        .await
        .unwrap();
    assert_eq!(common::read_funnel(&merged.collect().await.unwrap()), got);

    for (sql, want) in [
        (
            "SELECT tp_funnel('x', make_array('lead'), make_array(0), NULL) FROM leads",
            "lead",
        ),
        (
            "SELECT tp_funnel('x', make_array('mql','sql'), make_array(0), NULL) FROM leads",
            "2 stages but 1 stage times",
        ),
        (
            "SELECT tp_funnel(id, stages, times, amount, '', named_struct('owner', 'robot')) FROM leads",
            "owner 'robot'",
        ),
        (
            "SELECT tp_funnel(id, stages, times, amount, 'slice=color') FROM leads",
            "slice=color",
        ),
        (
            "SELECT tp_report(tp_funnel_partial(id, stages, times, amount)) FROM leads",
            "tp_funnel_report",
        ),
    ] {
        let e = err(&ctx, sql).await;
        assert!(e.contains(want), "{sql}: expected '{want}' in: {e}");
    }
}
