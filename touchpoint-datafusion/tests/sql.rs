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
    let err = err(
        &ctx,
        "SELECT tp_incremental(path, conversions, value, nulls, '') FROM paths",
    )
    .await;
    assert!(err.contains("path form"), "{err}");
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
