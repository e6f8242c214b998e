//! touchpoint's models in SQL with Apache DataFusion.
//!
//! Writes a Parquet file of simulated journeys (the core's seeded
//! simulator), registers the `tp_*` functions, and runs: channel credit
//! under first touch, Markov order 2 and the incremental model per
//! segment; journey rows rebuilt from a touch-level table; daily partials
//! stored in Parquet, then merged and finished; funnel metrics of
//! simulated B2B leads by first-touch channel.
//!
//! Run: `cargo run -p touchpoint-datafusion --example sql [journeys]`
//! (default 20,000).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListBuilder, RecordBatch, StringArray,
    StringDictionaryBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::error::Result;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use touchpoint::Touchpoint;
use touchpoint::sim::{Preset, Simulator};

/// Flattens a `tp_*` report column `r` of `inner` into one row per channel.
fn flat(inner: &str, group: &str) -> String {
    format!(
        "SELECT {group}, l['channel'] AS channel, round(l['conversions'], 2) AS conversions, \
                round(l['value'], 2) AS value, round(l['weight'], 4) AS weight \
         FROM (SELECT {group}, unnest(r) AS l FROM ({inner})) ORDER BY {group}, channel"
    )
}

async fn show(ctx: &SessionContext, title: &str, sql: &str) -> Result<()> {
    println!("\n== {title}");
    ctx.sql(sql).await?.show().await
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);

    // 1. Simulated journeys -> one Parquet file, one row per journey.
    let sim = Simulator::new(Preset::SampleLike.config(42));
    let mut journeys: Vec<_> = sim.journeys(n).collect();
    for j in &mut journeys {
        j.touchpoints.sort_by_key(|t| t.timestamp());
    }
    let ids: StringArray = journeys.iter().map(|j| Some(j.id.as_str())).collect();
    let segments: StringArray = (0..journeys.len())
        .map(|i| Some(["enterprise", "mid_market", "smb"][i % 3]))
        .collect();
    let mut channels = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut ts = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    for j in &journeys {
        for t in &j.touchpoints {
            channels.values().append_value(t.channel());
            ts.values().append_value(t.timestamp().timestamp_millis());
        }
        channels.append(true);
        ts.append(true);
    }
    let converted: BooleanArray = journeys.iter().map(|j| Some(j.converted)).collect();
    let value: Float64Array = journeys.iter().map(|j| Some(j.value)).collect();
    let batch = RecordBatch::try_from_iter(vec![
        ("journey_id", Arc::new(ids) as ArrayRef),
        ("segment", Arc::new(segments) as ArrayRef),
        ("channels", Arc::new(channels.finish()) as ArrayRef),
        ("timestamps", Arc::new(ts.finish()) as ArrayRef),
        ("converted", Arc::new(converted) as ArrayRef),
        ("value", Arc::new(value) as ArrayRef),
    ])?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("journeys.parquet");
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path)?, batch.schema(), None)?;
    w.write(&batch)?;
    w.close()?;
    println!("{n} simulated journeys written to {}", path.display());

    // 2. A session with the functions.
    let ctx = SessionContext::new();
    for f in touchpoint_datafusion::aggregate_functions() {
        ctx.register_udaf(f);
    }
    for f in touchpoint_datafusion::scalar_functions() {
        ctx.register_udf(f);
    }
    ctx.register_parquet(
        "journeys",
        path.to_str().expect("utf-8 temp path"),
        ParquetReadOptions::default(),
    )
    .await?;

    // 3. Attribution per segment.
    let per_segment = |f: &str, spec: &str| {
        flat(
            &format!(
                "SELECT segment, {f}(channels, timestamps, converted, value, '{spec}') AS r \
                 FROM journeys GROUP BY segment"
            ),
            "segment",
        )
    };
    show(
        &ctx,
        "first touch, per segment",
        &per_segment("tp_credit", "first_touch"),
    )
    .await?;
    show(
        &ctx,
        "Markov order 2, per segment",
        &per_segment("tp_markov", "order=2"),
    )
    .await?;
    show(
        &ctx,
        "incremental model, per segment",
        &per_segment("tp_incremental", ""),
    )
    .await?;

    // 4. Journey rows from a touch-level table (array_agg ... ORDER BY ts).
    ctx.sql(
        "CREATE VIEW touches AS \
         SELECT journey_id, segment, converted, value, \
                unnest(channels) AS channel, unnest(timestamps) AS ts \
         FROM journeys",
    )
    .await?;
    show(
        &ctx,
        "linear credit over journeys rebuilt from touches",
        &flat(
            "SELECT 'all' AS g, tp_credit(channels, timestamps, converted, value, 'linear') AS r FROM (\
               SELECT journey_id, \
                      array_agg(channel ORDER BY ts) AS channels, \
                      array_agg(ts ORDER BY ts) AS timestamps, \
                      bool_or(converted) AS converted, max(value) AS value \
               FROM touches GROUP BY journey_id)",
            "g",
        ),
    )
    .await?;

    // 5. Daily partials stored in Parquet, merged later.
    let partials = dir.path().join("partials");
    std::fs::create_dir_all(&partials)?;
    ctx.sql(&format!(
        "COPY (SELECT date_trunc('day', timestamps[1]) AS day, \
                      tp_markov_partial(channels, timestamps, converted, value, 'order=2') AS p \
               FROM journeys GROUP BY date_trunc('day', timestamps[1])) \
         TO '{}/daily.parquet' STORED AS PARQUET",
        partials.display()
    ))
    .await?
    .collect()
    .await?;
    ctx.register_parquet(
        "daily",
        partials.to_str().expect("utf-8 temp path"),
        ParquetReadOptions::default(),
    )
    .await?;
    let stored = ctx.sql("SELECT p FROM daily").await?.collect().await?;
    let sizes: Vec<usize> = stored
        .iter()
        .flat_map(|b| {
            let col = datafusion::arrow::compute::cast(
                b.column(0),
                &datafusion::arrow::datatypes::DataType::Binary,
            )
            .expect("binary");
            let bin = col.as_binary::<i32>();
            (0..bin.len())
                .map(|i| bin.value(i).len())
                .collect::<Vec<_>>()
        })
        .collect();
    println!(
        "\n== {} daily partials stored, {} to {} bytes each",
        sizes.len(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );
    show(
        &ctx,
        "Markov order 2 from the merged daily partials",
        &flat(
            "SELECT 'merged' AS g, tp_report(tp_merge(p)) AS r FROM daily",
            "g",
        ),
    )
    .await?;
    show(
        &ctx,
        "Markov order 2 in one pass over all journeys (the same bits)",
        &flat(
            "SELECT 'one pass' AS g, \
                    tp_markov(channels, timestamps, converted, value, 'order=2') AS r FROM journeys",
            "g",
        ),
    )
    .await?;

    // 6. Funnel metrics over lead rows (simulated B2B leads), by the
    //    channel of each lead's first touch.
    ctx.register_batch(
        "leads",
        lead_rows(&Simulator::new(Preset::B2b.config(42)), n / 4)?,
    )?;
    show(
        &ctx,
        "funnel by first-touch channel: records, won revenue, MQL -> next stage",
        "SELECT l['slice'] AS channel, l['kind'] AS kind, l['stage'] AS stage, l['count'] AS count, \
                round(l['rate_to_next'], 3) AS rate_to_next, round(l['median_days'], 1) AS median_days, \
                l['revenue'] AS revenue \
         FROM (SELECT unnest(tp_funnel(lead_id, stages, stage_times, amount, \
                 'slice=channel sales_channels=sales_call', \
                 named_struct('channels', channels, 'timestamps', touch_times, 'owner', owner))) AS l \
               FROM leads) \
         WHERE l['kind'] = 'summary' OR (l['kind'] = 'stage' AND l['stage'] = 'mql') \
         ORDER BY channel NULLS LAST, kind DESC",
    )
    .await?;
    Ok(())
}

/// `n` simulated leads as lead rows: `lead_id, stages, stage_times,
/// amount, channels, touch_times, owner`.
fn lead_rows(sim: &Simulator, n: u64) -> Result<RecordBatch> {
    let leads: Vec<_> = sim.leads(n).collect();
    let ids: StringArray = leads.iter().map(|l| Some(l.id())).collect();
    let mut stages = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut times = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    let mut channels = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    let mut touch_times = ListBuilder::new(TimestampMillisecondBuilder::new().with_timezone("UTC"));
    for l in &leads {
        for e in l.entries() {
            stages.values().append_value(&e.stage);
            times.values().append_value(e.at.timestamp_millis());
        }
        stages.append(true);
        times.append(true);
        for t in l.touches() {
            channels.values().append_value(&t.channel);
            touch_times.values().append_value(t.ts.timestamp_millis());
        }
        channels.append(true);
        touch_times.append(true);
    }
    let amount: Float64Array = leads.iter().map(|l| l.amount()).collect();
    let owner: StringArray = leads.iter().map(|l| Some(l.owner().as_str())).collect();
    Ok(RecordBatch::try_from_iter(vec![
        ("lead_id", Arc::new(ids) as ArrayRef),
        ("stages", Arc::new(stages.finish()) as ArrayRef),
        ("stage_times", Arc::new(times.finish()) as ArrayRef),
        ("amount", Arc::new(amount) as ArrayRef),
        ("channels", Arc::new(channels.finish()) as ArrayRef),
        ("touch_times", Arc::new(touch_times.finish()) as ArrayRef),
        ("owner", Arc::new(owner) as ArrayRef),
    ])?)
}
