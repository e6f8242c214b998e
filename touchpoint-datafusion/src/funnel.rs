//! `tp_funnel`: the core's B2B funnel metrics ([`FunnelPartial`]) as an
//! aggregate over lead rows, and its report.
//!
//! Lead row form: `lead_id VARCHAR, stages LIST<VARCHAR>, stage_times
//! LIST<TIMESTAMP>, amount DOUBLE` (NULL: no amount), then the spec, then
//! an optional STRUCT of: `channels LIST<VARCHAR>` and `timestamps
//! LIST<TIMESTAMP>` (the lead's touches; its first touch is its original
//! source), `campaigns`/`contents LIST<VARCHAR>` (aligned with the
//! touches), `reasons LIST<VARCHAR>` (aligned with the stages: why the lead
//! exited or was rejected), `segment`, `owner` (`marketing` or `sales`),
//! `account` (VARCHAR).
//!
//! The core's `Lead` owns its strings (it has no borrowed form), so unlike
//! the journey functions `tp_funnel` copies the names of each lead it
//! reads. Leads are far fewer than touches; the cost is per lead row.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion_common::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, StringArray, UInt64Array,
};
use datafusion_common::arrow::datatypes::{DataType, Field, Fields, Float64Type};
use datafusion_common::{DataFusionError, Result, exec_err, plan_err};
use touchpoint::funnel::{
    Backfill, CycleStart, Cycles, FunnelConfig, FunnelPartial, Lead, OutOfOrder, Owner, Period,
    SliceBy, SliceMetrics, SourceView, StageEntry, Stages,
};
use touchpoint::{Name, SimpleTouch};

use crate::core::{core_err, currency};
use crate::input::{
    FieldType, NONE, aligned_codes, is_channel_list, is_timestamp_list, list_ranges,
    list_ranges_opt, name_codes, raw_times, to_ms,
};
use crate::spec::{Kind, ModelSpec};
use crate::udaf::list_of_structs;

const K: Kind = Kind::Funnel;

/// The fields of the lead form's extras struct.
pub(crate) const LEAD_EXTRAS: &[(&str, FieldType)] = &[
    ("channels", FieldType::NameList),
    ("timestamps", FieldType::TimeList),
    ("campaigns", FieldType::NameList),
    ("contents", FieldType::NameList),
    ("reasons", FieldType::NameList),
    ("segment", FieldType::Name),
    ("owner", FieldType::Name),
    ("account", FieldType::Name),
];

/// Checks and coerces the four data arguments of the lead form.
pub(crate) fn coerce_lead_args(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    let usage = "(lead_id, stages, stage_times, amount[, 'spec'][, extras])";
    let [id, stages, times, amount] = t else {
        return plan_err!("{name} takes {usage}; got {} arguments", t.len());
    };
    if !matches!(
        id,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _)
    ) {
        return plan_err!("{name}: lead_id must be a VARCHAR, got {id}");
    }
    if !is_channel_list(stages) {
        return plan_err!("{name}: stages must be a LIST of VARCHAR, got {stages}");
    }
    if !is_timestamp_list(times) {
        return plan_err!("{name}: stage_times must be a LIST of TIMESTAMP, got {times}");
    }
    if !(amount.is_numeric() || amount == &DataType::Null) {
        return plan_err!("{name}: amount must be a number (NULL: no amount), got {amount}");
    }
    Ok(vec![
        DataType::Utf8,
        stages.clone(),
        times.clone(),
        DataType::Float64,
    ])
}

fn pick<T: Copy>(spec: &ModelSpec, key: &str, choices: &[(&str, T)]) -> Result<Option<T>> {
    let Some(v) = spec.get(key) else {
        return Ok(None);
    };
    match choices.iter().find(|(n, _)| *n == v) {
        Some((_, x)) => Ok(Some(*x)),
        None => plan_err!(
            "tp_funnel: {key}={v} is not one of {}",
            choices
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The funnel configuration a spec describes (every option checked).
pub(crate) fn funnel_config(spec: &ModelSpec) -> Result<FunnelConfig> {
    let err = |e: touchpoint::Error| core_err(K, &e);
    let mut c = FunnelConfig::default().with_currency(currency(spec)?);
    if spec.get("stages").is_some() || spec.get("exits").is_some() {
        let default = Stages::default();
        let split = |key: &str, dflt: &[String]| -> Vec<String> {
            match spec.get(key) {
                Some(v) => v.split('|').map(str::to_owned).collect(),
                None => dflt.to_vec(),
            }
        };
        let p = split("stages", default.progression());
        let x = split("exits", default.exits());
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        let x: Vec<&str> = x.iter().map(String::as_str).collect();
        c = c.with_stages(Stages::new(&p, &x).map_err(err)?);
    }
    if let Some(s) = pick(
        spec,
        "slice",
        &[
            ("total", SliceBy::Total),
            ("channel", SliceBy::Channel),
            ("campaign", SliceBy::Campaign),
            ("content", SliceBy::Content),
            ("segment", SliceBy::Segment),
            ("owner", SliceBy::Owner),
            ("period", SliceBy::Period),
        ],
    )? {
        c = c.slice_by(s);
    }
    if let Some(p) = pick(
        spec,
        "period",
        &[
            ("day", Period::Day),
            ("week", Period::Week),
            ("month", Period::Month),
            ("quarter", Period::Quarter),
            ("year", Period::Year),
        ],
    )? {
        c = c.with_period(p);
    }
    if let Some(b) = pick(
        spec,
        "backfill",
        &[
            ("skipped", Backfill::Skipped),
            ("entered_only", Backfill::EnteredOnly),
        ],
    )? {
        c = c.with_backfill(b);
    }
    if let Some(o) = pick(
        spec,
        "out_of_order",
        &[
            ("repair", OutOfOrder::Repair),
            ("reject", OutOfOrder::Reject),
        ],
    )? {
        c = c.with_out_of_order(o);
    }
    if let Some(days) = spec.parsed::<u32>("sla_days")? {
        c = c.with_cycles(Cycles::Sla { days }).map_err(err)?;
    }
    if let Some(s) = pick(
        spec,
        "source",
        &[
            ("original", SourceView::Original),
            ("cycle_first_touch", SourceView::CycleFirstTouch),
        ],
    )? {
        c = c.with_source(s);
    }
    if let Some(s) = pick(
        spec,
        "cycle_start",
        &[
            ("opportunity", CycleStart::Opportunity),
            ("created", CycleStart::Created),
        ],
    )? {
        c = c.with_cycle_start(s);
    }
    if let Some(list) = spec.get("sales_channels") {
        c = c.with_sales_channels(list.split('|'));
    }
    if let Some(at) = spec.get("as_of") {
        let parsed = at.parse::<DateTime<Utc>>().ok().or_else(|| {
            chrono::NaiveDate::parse_from_str(at, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        });
        let Some(at) = parsed else {
            return plan_err!(
                "tp_funnel: as_of={at} is not a date (2024-06-30) or an RFC 3339 time (2024-06-30T00:00:00Z)"
            );
        };
        c = c.as_of(at);
    }
    Ok(c)
}

/// The extras field `name`, if given (not of type NULL), and the struct's
/// row nulls.
fn field<'a>(
    extras: Option<&'a ArrayRef>,
    name: &str,
) -> Option<(
    &'a ArrayRef,
    Option<&'a datafusion_common::arrow::buffer::NullBuffer>,
)> {
    let s = extras?.as_struct_opt()?;
    let col = s.column_by_name(name)?;
    (col.data_type() != &DataType::Null).then(|| (col, s.nulls()))
}

/// A per-row optional string column (plain, large, view or dictionary),
/// cast to `Utf8` (one value per lead).
fn strings(
    col: Option<(
        &ArrayRef,
        Option<&datafusion_common::arrow::buffer::NullBuffer>,
    )>,
) -> Result<
    Option<(
        ArrayRef,
        Option<datafusion_common::arrow::buffer::NullBuffer>,
    )>,
> {
    let Some((col, parent)) = col else {
        return Ok(None);
    };
    let cast = datafusion_common::arrow::compute::cast(col, &DataType::Utf8)?;
    Ok(Some((cast, parent.cloned())))
}

fn millis(t: i64, row: usize) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(t).ok_or_else(|| {
        DataFusionError::Execution(format!("tp_funnel: a time out of range in row {row}"))
    })
}

/// Reads a batch of lead rows into the core's leads.
pub(crate) fn read_leads(args: &[ArrayRef], extras: Option<&ArrayRef>) -> Result<Vec<Lead>> {
    let ids = datafusion_common::arrow::compute::cast(&args[0], &DataType::Utf8)?;
    let ids = ids.as_string::<i32>();
    let (stage_ranges, stage_values) = list_ranges(K, "stages", &args[1])?;
    let (stage_codes, stage_names) = name_codes(K, "stage", &stage_ranges, stage_values, false)?;
    let (time_ranges, time_values) = list_ranges(K, "stage_times", &args[2])?;
    let (times, per_ms) = raw_times(K, "stage_times", time_values)?;
    let Some(amounts) = args[3].as_primitive_opt::<Float64Type>() else {
        return exec_err!(
            "tp_funnel: amount must be DOUBLE, got {}",
            args[3].data_type()
        );
    };
    let reasons = match field(extras, "reasons") {
        Some((col, parent)) => Some(aligned_codes(K, "reason", &stage_ranges, col, parent)?),
        None => None,
    };
    // touches
    let chans = field(extras, "channels");
    let tss = field(extras, "timestamps");
    if chans.is_some() != tss.is_some() {
        return exec_err!(
            "tp_funnel: the extras give {} without {}: a lead's touches need both channels and timestamps",
            if chans.is_some() {
                "channels"
            } else {
                "timestamps"
            },
            if chans.is_some() {
                "timestamps"
            } else {
                "channels"
            }
        );
    }
    let touches = match (chans, tss) {
        (Some((c, cp)), Some((t, tp))) => {
            let (mut cr, cv) = list_ranges_opt(K, "channels", c)?;
            let (mut tr, tv) = list_ranges_opt(K, "timestamps", t)?;
            for (i, (a, b)) in cr.iter_mut().zip(tr.iter_mut()).enumerate() {
                if cp.is_some_and(|p| p.is_null(i)) {
                    *a = None;
                }
                if tp.is_some_and(|p| p.is_null(i)) {
                    *b = None;
                }
            }
            let mut ranges = Vec::with_capacity(cr.len());
            for (row, (a, b)) in cr.iter().zip(&tr).enumerate() {
                match (a, b) {
                    (None, None) => ranges.push(((0, 0), (0, 0))),
                    (Some(a), Some(b)) if a.1 - a.0 == b.1 - b.0 => ranges.push((*a, *b)),
                    (Some(a), Some(b)) => {
                        return exec_err!(
                            "tp_funnel: row {row} has {} touch channels but {} touch timestamps",
                            a.1 - a.0,
                            b.1 - b.0
                        );
                    }
                    _ => {
                        return exec_err!(
                            "tp_funnel: row {row} has touch channels or timestamps but not both"
                        );
                    }
                }
            }
            let chan_ranges: Vec<(usize, usize)> = ranges.iter().map(|r| r.0).collect();
            let (codes, names) = name_codes(K, "channel", &chan_ranges, cv, false)?;
            let (traw, tper) = raw_times(K, "timestamps", tv)?;
            let campaigns = match field(extras, "campaigns") {
                Some((col, p)) => Some(aligned_codes(K, "campaign", &chan_ranges, col, p)?),
                None => None,
            };
            let contents = match field(extras, "contents") {
                Some((col, p)) => Some(aligned_codes(K, "content", &chan_ranges, col, p)?),
                None => None,
            };
            Some((ranges, codes, names, traw, tper, campaigns, contents))
        }
        _ => {
            for f in ["campaigns", "contents"] {
                if field(extras, f).is_some() {
                    return exec_err!(
                        "tp_funnel: the extras give {f} without touches (channels and timestamps)"
                    );
                }
            }
            None
        }
    };
    let segment = strings(field(extras, "segment"))?;
    let owner = strings(field(extras, "owner"))?;
    let account = strings(field(extras, "account"))?;
    let get = |c: &Option<(
        ArrayRef,
        Option<datafusion_common::arrow::buffer::NullBuffer>,
    )>,
               row: usize|
     -> Option<String> {
        let (a, p) = c.as_ref()?;
        let s = a.as_string::<i32>();
        (s.is_valid(row) && p.as_ref().is_none_or(|p| p.is_valid(row)))
            .then(|| s.value(row).to_owned())
    };

    let mut leads = Vec::with_capacity(stage_ranges.len());
    let mut at = 0usize;
    let mut touch_at = 0usize;
    for (row, (&(sa, sb), &(ta, tb))) in stage_ranges.iter().zip(&time_ranges).enumerate() {
        if ids.is_null(row) {
            return exec_err!("tp_funnel: lead_id is NULL in row {row}");
        }
        let id = ids.value(row);
        if sb - sa != tb - ta {
            return exec_err!(
                "tp_funnel: lead '{id}' (row {row}) has {} stages but {} stage times",
                sb - sa,
                tb - ta
            );
        }
        let mut lead = Lead::new(id);
        if amounts.is_valid(row) {
            lead = lead.with_amount(amounts.value(row));
        }
        for k in 0..sb - sa {
            let Some(t) = times[ta + k] else {
                return exec_err!("tp_funnel: lead '{id}' (row {row}) has a NULL stage time");
            };
            let reason = reasons.as_ref().and_then(|(codes, names)| {
                let c = codes[at + k];
                (c != NONE).then(|| names[c as usize].to_owned())
            });
            lead = lead.entry(StageEntry {
                stage: stage_names[stage_codes[at + k] as usize].to_owned(),
                at: millis(to_ms(K, "stage_times", t, per_ms, row)?, row)?,
                reason,
            });
        }
        at += sb - sa;
        if let Some((ranges, codes, names, traw, tper, campaigns, contents)) = &touches {
            let ((ca, cb), (ta, _)) = ranges[row];
            for k in 0..cb - ca {
                let Some(t) = traw[ta + k] else {
                    return exec_err!(
                        "tp_funnel: lead '{id}' (row {row}) has a NULL touch timestamp"
                    );
                };
                let opt = |x: &Option<(Vec<u32>, Vec<&str>)>| {
                    x.as_ref().and_then(|(codes, names)| {
                        let c = codes[touch_at + k];
                        (c != NONE).then(|| Name::from(names[c as usize]))
                    })
                };
                lead = lead.touch(SimpleTouch {
                    channel: Name::from(names[codes[touch_at + k] as usize]),
                    ts: millis(to_ms(K, "timestamps", t, *tper, row)?, row)?,
                    campaign: opt(campaigns),
                    content: opt(contents),
                    cost: None,
                    milestone: None,
                });
            }
            touch_at += cb - ca;
        }
        if let Some(s) = get(&segment, row) {
            lead = lead.with_segment(s);
        }
        if let Some(a) = get(&account, row) {
            lead = lead.with_account(a);
        }
        if let Some(o) = get(&owner, row) {
            lead = lead.with_owner(match o.as_str() {
                "marketing" => Owner::Marketing,
                "sales" => Owner::Sales,
                _ => {
                    return exec_err!(
                        "tp_funnel: lead '{id}' (row {row}) has owner '{o}'; expected marketing or sales"
                    );
                }
            });
        }
        leads.push(lead);
    }
    Ok(leads)
}

/// Observes leads into a funnel partial; on error the partial is
/// unchanged for the failing lead (the core's guarantee) and the error
/// names it.
pub(crate) fn observe_leads(p: &mut FunnelPartial, leads: &[Lead]) -> Result<()> {
    for l in leads {
        p.observe(l).map_err(|e| core_err(K, &e))?;
    }
    Ok(())
}

/// One line of a funnel report.
///
/// A report lists, per slice (sorted by key), a `summary` line, one
/// `stage` line per progression stage in funnel order and one `exit` line
/// per exit stage; when the funnel is sliced, the same lines again for the
/// total of all slices (`slice` NULL); and last the `rule` lines, one per
/// normalization rule of the core (`RuleCounts`: leads, records,
/// duplicates dropped, entries re-dated, stages back-populated, ...), so
/// nothing the rules changed goes uncounted.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelLine {
    /// `summary`, `stage`, `exit` or `rule`.
    pub kind: &'static str,
    /// The slice key (`(all)` when not sliced); `None` for the total over
    /// slices and for rule lines.
    pub slice: Option<String>,
    /// The stage (or rule) name; `None` on summary lines.
    pub stage: Option<String>,
    /// Records of the slice (summary), records that reached the stage
    /// (stage), records that ended on the exit (exit), how often the rule
    /// applied (rule).
    pub count: u64,
    /// Stage lines: cohort conversion rate to the next progression stage
    /// (reached next / reached this); `None` for the last stage or when no
    /// record reached this one.
    pub rate_to_next: Option<f64>,
    /// Stage lines: mean time in the stage, days.
    pub mean_days: Option<f64>,
    /// Stage lines: median time in the stage, days (nearest rank over
    /// day buckets, as the core's `DurationStats`).
    pub median_days: Option<f64>,
    /// Summary lines: deals won.
    pub won: Option<u64>,
    /// Summary lines: revenue won, minor units (exact).
    pub revenue_minor: Option<i64>,
    /// Summary lines: revenue won, major units.
    pub revenue: Option<f64>,
    /// Summary lines: revenue won that marketing sourced, minor units.
    pub marketing_sourced_minor: Option<i64>,
    /// Summary lines: revenue won with a marketing touch before the
    /// opportunity (marketing-influenced), minor units.
    pub influenced_minor: Option<i64>,
}

fn wide(v: i128) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| DataFusionError::Execution("tp_funnel: a revenue sum exceeds i64".into()))
}

fn slice_lines(
    slice: Option<&str>,
    m: &SliceMetrics,
    currency: touchpoint::Currency,
    out: &mut Vec<FunnelLine>,
) -> Result<()> {
    let blank = |kind, stage: Option<String>, count| FunnelLine {
        kind,
        slice: slice.map(str::to_owned),
        stage,
        count,
        rate_to_next: None,
        mean_days: None,
        median_days: None,
        won: None,
        revenue_minor: None,
        revenue: None,
        marketing_sourced_minor: None,
        influenced_minor: None,
    };
    let r = m.revenue();
    out.push(FunnelLine {
        won: Some(r.won),
        revenue_minor: Some(wide(r.revenue_minor)?),
        revenue: Some(currency.to_major_wide(r.revenue_minor)),
        marketing_sourced_minor: Some(wide(r.marketing_sourced_minor)?),
        influenced_minor: Some(wide(r.influenced_minor)?),
        ..blank("summary", None, m.records())
    });
    let conv = m.cohort_conversions();
    for (i, s) in m.stage_counts().into_iter().enumerate() {
        let t = m.time_in_stage(&s.stage).map_err(|e| core_err(K, &e))?;
        out.push(FunnelLine {
            rate_to_next: conv.get(i).and_then(|c| c.rate.value()),
            mean_days: t.mean_days,
            median_days: t.median_days,
            ..blank("stage", Some(s.stage), s.count)
        });
    }
    for s in m.exit_counts() {
        out.push(blank("exit", Some(s.stage), s.count));
    }
    Ok(())
}

/// Finishes a funnel partial into report lines.
pub(crate) fn finish(p: &FunnelPartial) -> Result<Vec<FunnelLine>> {
    let m = p.finish();
    let currency = p.config().currency();
    let mut out = Vec::new();
    for s in m.slices() {
        slice_lines(Some(s.key()), s, currency, &mut out)?;
    }
    if p.config().slice() != SliceBy::Total {
        if m.total_overflowed() {
            return exec_err!("tp_funnel: the total over slices overflows");
        }
        slice_lines(None, m.total(), currency, &mut out)?;
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
        out.push(FunnelLine {
            kind: "rule",
            slice: None,
            stage: Some(name.to_owned()),
            count,
            rate_to_next: None,
            mean_days: None,
            median_days: None,
            won: None,
            revenue_minor: None,
            revenue: None,
            marketing_sourced_minor: None,
            influenced_minor: None,
        });
    }
    Ok(out)
}

fn line_fields() -> Fields {
    Fields::from(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("slice", DataType::Utf8, true),
        Field::new("stage", DataType::Utf8, true),
        Field::new("count", DataType::UInt64, false),
        Field::new("rate_to_next", DataType::Float64, true),
        Field::new("mean_days", DataType::Float64, true),
        Field::new("median_days", DataType::Float64, true),
        Field::new("won", DataType::UInt64, true),
        Field::new("revenue_minor", DataType::Int64, true),
        Field::new("revenue", DataType::Float64, true),
        Field::new("marketing_sourced_minor", DataType::Int64, true),
        Field::new("influenced_minor", DataType::Int64, true),
    ])
}

/// The funnel report type: `LIST<STRUCT<kind, slice, stage, count,
/// rate_to_next, mean_days, median_days, won, revenue_minor, revenue,
/// marketing_sourced_minor, influenced_minor>>` (see [`FunnelLine`]).
pub fn funnel_report_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(line_fields()),
        true,
    )))
}

/// Builds a funnel report list array, one row per entry (`None`: NULL).
pub(crate) fn funnel_report_array(rows: &[Option<Vec<FunnelLine>>]) -> ListArray {
    let lines: Vec<&FunnelLine> = rows.iter().flatten().flatten().collect();
    let kind: StringArray = lines.iter().map(|l| Some(l.kind)).collect();
    let slice: StringArray = lines.iter().map(|l| l.slice.as_deref()).collect();
    let stage: StringArray = lines.iter().map(|l| l.stage.as_deref()).collect();
    let count: UInt64Array = lines.iter().map(|l| Some(l.count)).collect();
    let rate: Float64Array = lines.iter().map(|l| l.rate_to_next).collect();
    let mean: Float64Array = lines.iter().map(|l| l.mean_days).collect();
    let median: Float64Array = lines.iter().map(|l| l.median_days).collect();
    let won: UInt64Array = lines.iter().map(|l| l.won).collect();
    let rev_minor: Int64Array = lines.iter().map(|l| l.revenue_minor).collect();
    let rev: Float64Array = lines.iter().map(|l| l.revenue).collect();
    let mkt: Int64Array = lines.iter().map(|l| l.marketing_sourced_minor).collect();
    let infl: Int64Array = lines.iter().map(|l| l.influenced_minor).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind),
        Arc::new(slice),
        Arc::new(stage),
        Arc::new(count),
        Arc::new(rate),
        Arc::new(mean),
        Arc::new(median),
        Arc::new(won),
        Arc::new(rev_minor),
        Arc::new(rev),
        Arc::new(mkt),
        Arc::new(infl),
    ];
    list_of_structs(rows, line_fields(), columns)
}
