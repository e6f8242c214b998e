//! The aggregate functions (`tp_credit`, `tp_markov`, ..., `tp_merge`) and
//! the finishing scalar function `tp_report`.

use std::hash::Hash;
use std::sync::Arc;

use datafusion_common::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, StringArray, StructArray,
    UInt64Array,
};
use datafusion_common::arrow::buffer::OffsetBuffer;
use datafusion_common::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion_common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::core::{CorePartial, Line, currency};
use crate::input::{
    JOURNEY_EXTRAS, JourneyBatch, check_extras, is_channel_list, is_timestamp_list, read_paths,
};
use crate::spec::{Kind, ModelSpec};

/// First bytes of every serialized partial.
pub const PARTIAL_MAGIC: &[u8; 4] = b"TPDF";
/// The envelope version: bumped when the byte layout of a partial changes.
pub const PARTIAL_VERSION: u8 = 1;

/// A partial with its spec: what the Binary state column carries.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub spec: ModelSpec,
    pub partial: CorePartial,
}

impl Envelope {
    /// `TPDF`, version byte, spec length (u32 little-endian), canonical
    /// spec (UTF-8), the core's serde form (JSON).
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let spec = self.spec.canonical();
        let json = self.partial.to_json()?;
        let mut out = Vec::with_capacity(9 + spec.len() + json.len());
        out.extend_from_slice(PARTIAL_MAGIC);
        out.push(PARTIAL_VERSION);
        let len = u32::try_from(spec.len())
            .map_err(|_| DataFusionError::Execution("model spec too long".into()))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(spec.as_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }

    pub(crate) fn from_bytes(who: &str, b: &[u8]) -> Result<Envelope> {
        if b.len() < 9 || &b[..4] != PARTIAL_MAGIC {
            return exec_err!("{who}: the value is not a touchpoint partial (no TPDF header)");
        }
        if b[4] != PARTIAL_VERSION {
            return exec_err!(
                "{who}: a partial of format version {} (this build reads version {PARTIAL_VERSION})",
                b[4]
            );
        }
        let len = u32::from_le_bytes([b[5], b[6], b[7], b[8]]) as usize;
        let Some(spec) = b.get(9..9 + len) else {
            return exec_err!("{who}: a truncated partial");
        };
        let spec = std::str::from_utf8(spec)
            .map_err(|_| DataFusionError::Execution(format!("{who}: a mangled partial spec")))?;
        let spec = ModelSpec::from_canonical(spec)?;
        let partial = CorePartial::from_json(&spec, &b[9 + len..])?;
        Ok(Envelope { spec, partial })
    }

    /// Merges `other`, refusing partials of another configuration.
    fn merge(&mut self, who: &str, other: &Envelope) -> Result<()> {
        if self.spec != other.spec {
            return exec_err!(
                "{who}: cannot merge partials of different configurations: '{}' and '{}'",
                self.spec,
                other.spec
            );
        }
        self.partial.merge(&other.partial)
    }
}

/// The report type: `LIST<STRUCT<channel, conversions, conversion_units,
/// value, value_minor, weight, journeys, breakdown, name>>`.
pub fn report_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(line_fields()),
        true,
    )))
}

fn line_fields() -> Fields {
    Fields::from(vec![
        Field::new("channel", DataType::Utf8, true),
        Field::new("conversions", DataType::Float64, false),
        Field::new("conversion_units", DataType::Int64, true),
        Field::new("value", DataType::Float64, false),
        Field::new("value_minor", DataType::Int64, true),
        Field::new("weight", DataType::Float64, true),
        Field::new("journeys", DataType::UInt64, true),
        Field::new("breakdown", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
    ])
}

/// A list array of structs, one row per entry of `rows` (`None`: a NULL
/// row) holding that entry's lines: `columns` are the lines of every row
/// in order, one array per field of `fields`. The assembly shared by the
/// attribution and the funnel reports.
pub(crate) fn list_of_structs<T>(
    rows: &[Option<Vec<T>>],
    fields: Fields,
    columns: Vec<ArrayRef>,
) -> ListArray {
    let structs = StructArray::new(fields.clone(), columns, None);
    let lens = rows.iter().map(|r| r.as_ref().map_or(0, Vec::len));
    let nulls = rows.iter().any(Option::is_none).then(|| {
        rows.iter()
            .map(Option::is_some)
            .collect::<Vec<bool>>()
            .into()
    });
    ListArray::new(
        Arc::new(Field::new("item", DataType::Struct(fields), true)),
        OffsetBuffer::from_lengths(lens),
        Arc::new(structs),
        nulls,
    )
}

/// Builds a report list array, one row per entry of `rows` (`None` = a
/// NULL row).
pub(crate) fn report_array(rows: &[Option<Vec<Line>>]) -> ListArray {
    let lines: Vec<&Line> = rows.iter().flatten().flatten().collect();
    let channel: StringArray = lines.iter().map(|l| l.channel.as_deref()).collect();
    let conversions: Float64Array = lines.iter().map(|l| Some(l.conversions)).collect();
    let units: Int64Array = lines.iter().map(|l| l.conversion_units).collect();
    let value: Float64Array = lines.iter().map(|l| Some(l.value)).collect();
    let minor: Int64Array = lines.iter().map(|l| l.value_minor).collect();
    let weight: Float64Array = lines.iter().map(|l| l.weight).collect();
    let journeys: UInt64Array = lines.iter().map(|l| l.journeys).collect();
    let breakdown: StringArray = lines.iter().map(|l| Some(l.breakdown)).collect();
    let name: StringArray = lines.iter().map(|l| l.name.as_deref()).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(channel),
        Arc::new(conversions),
        Arc::new(units),
        Arc::new(value),
        Arc::new(minor),
        Arc::new(weight),
        Arc::new(journeys),
        Arc::new(breakdown),
        Arc::new(name),
    ];
    list_of_structs(rows, line_fields(), columns)
}

/// What an attribution function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// The finished per-channel report (`LIST<STRUCT<...>>`).
    Report,
    /// The raw partial (`BINARY`), for storing and merging later.
    Partial,
}

/// An attribution aggregate: `tp_<kind>` (report) or `tp_<kind>_partial`
/// (partial).
///
/// Arguments, journey form: `channels LIST<VARCHAR>` (plain or
/// dictionary-encoded), `timestamps LIST<TIMESTAMP>` (or `LIST<BIGINT>`
/// Unix ms), `converted BOOLEAN`, `value DOUBLE`, then optionally the model
/// spec as a string literal. Path form (rule-based credit by weight, Markov
/// and Shapley): `path
/// LIST<VARCHAR>`, `conversions BIGINT`, `value DOUBLE` (total),
/// `nulls BIGINT`, optional spec.
///
/// A function made with [`TpAggregate::preset`] carries its spec itself
/// (registered under its own name; the plan codec serializes it) and takes
/// no spec argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TpAggregate {
    name: String,
    kind: Kind,
    output: Output,
    preset: Option<ModelSpec>,
    signature: Signature,
}

impl TpAggregate {
    /// `tp_<kind>` or `tp_<kind>_partial`, the spec given per call.
    pub fn new(kind: Kind, output: Output) -> TpAggregate {
        let name = match output {
            Output::Report => format!("tp_{kind}"),
            Output::Partial => format!("tp_{kind}_partial"),
        };
        TpAggregate {
            name,
            kind,
            output,
            preset: None,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// A function named `name` with a fixed spec.
    ///
    /// # Errors
    ///
    /// A plan error if the spec does not parse or names an invalid model.
    pub fn preset(name: &str, spec: &ModelSpec, output: Output) -> Result<TpAggregate> {
        CorePartial::new(spec)?;
        Ok(TpAggregate {
            name: name.to_owned(),
            kind: spec.kind(),
            output,
            preset: Some(spec.clone()),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }

    /// The preset spec, if any.
    pub fn preset_spec(&self) -> Option<&ModelSpec> {
        self.preset.as_ref()
    }

    /// What the function returns.
    pub fn output(&self) -> Output {
        self.output
    }

    /// Where the spec and the extras struct are among the arguments `t`
    /// after the four data arguments: `[, 'spec'][, extras]` (no spec for a
    /// preset).
    fn trailing(&self, t: &[DataType]) -> Result<(Option<usize>, Option<usize>)> {
        let name = &self.name;
        let is_struct = |t: &DataType| matches!(t, DataType::Struct(_));
        let (spec, extras) = match (self.preset.is_some(), &t[4.min(t.len())..]) {
            (_, []) => (None, None),
            (false, [s]) if !is_struct(s) => (Some(4), None),
            (_, [e]) if is_struct(e) => (None, Some(4)),
            (false, [s, e]) if !is_struct(s) && is_struct(e) => (Some(4), Some(5)),
            _ => {
                let spec = if self.preset.is_some() {
                    ""
                } else {
                    "[, 'model spec']"
                };
                return plan_err!(
                    "{name} takes four data arguments{spec}[, extras STRUCT]; got {} arguments ({})",
                    t.len(),
                    t.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        };
        if let Some(i) = spec
            && !matches!(
                t[i],
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
            )
        {
            return plan_err!(
                "{name}: the model spec must be a VARCHAR literal, got {}",
                t[i]
            );
        }
        Ok((spec, extras))
    }
}

impl AggregateUDFImpl for TpAggregate {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = &self.name;
        let spec = if self.preset.is_some() {
            ""
        } else {
            "[, 'model spec']"
        };
        if self.kind == Kind::Funnel {
            let mut out = crate::funnel::coerce_lead_args(name, &t[..t.len().min(4)])?;
            let (spec_at, extras_at) = self.trailing(t)?;
            if spec_at.is_some() {
                out.push(DataType::Utf8);
            }
            if let Some(i) = extras_at {
                check_extras(name, &t[i], crate::funnel::LEAD_EXTRAS)?;
                out.push(t[i].clone());
            }
            return Ok(out);
        }
        if t.len() < 4 {
            return plan_err!(
                "{name} takes (channels, timestamps, converted, value{spec}[, extras]) or (path, conversions, value, nulls{spec}); got {} arguments",
                t.len()
            );
        }
        if !is_channel_list(&t[0]) {
            return plan_err!(
                "{name}: the first argument must be a LIST of VARCHAR (plain or dictionary-encoded), got {}",
                t[0]
            );
        }
        let (spec_at, extras_at) = self.trailing(t)?;
        let mut out = vec![t[0].clone()];
        if is_timestamp_list(&t[1]) {
            out.extend([t[1].clone(), DataType::Boolean, DataType::Float64]);
        } else if t[1].is_integer() {
            if extras_at.is_some() {
                return plan_err!(
                    "{name}: the aggregated path form (path, conversions, value, nulls) takes no extras struct: paths carry no campaigns, contents, milestones or times"
                );
            }
            out.extend([DataType::Int64, DataType::Float64, DataType::Int64]);
        } else {
            return plan_err!(
                "{name}: the second argument must be LIST<TIMESTAMP> (journey rows) or an integer count of conversions (path rows), got {}",
                t[1]
            );
        }
        if spec_at.is_some() {
            out.push(DataType::Utf8);
        }
        if let Some(i) = extras_at {
            if self.kind != Kind::Credit {
                return plan_err!(
                    "{name}: the extras struct (campaigns, contents, milestones, conversion_ts) is read by tp_credit only: {}",
                    match self.kind {
                        Kind::Incremental =>
                            "the incremental model's features are the channels, their counts and their recency to the last touch (never the conversion time, which would leak the outcome)",
                        _ => "this model's states are channels only",
                    }
                );
            }
            check_extras(name, &t[i], JOURNEY_EXTRAS)?;
            out.push(t[i].clone());
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Report if self.kind == Kind::Funnel => crate::funnel::funnel_report_type(),
            Output::Report => report_type(),
            Output::Partial => DataType::Binary,
        })
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[partial]", args.name),
            DataType::Binary,
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let paths = self.kind != Kind::Funnel && types.get(1).is_some_and(DataType::is_integer);
        let (spec_at, extras_at) = self.trailing(&types)?;
        // the breakdowns a credit report gets: the lists the extras give
        let mut breakdowns = Vec::new();
        if self.kind == Kind::Credit
            && let Some(DataType::Struct(fields)) = extras_at.map(|i| &types[i])
        {
            for (field, b) in [("campaigns", "campaigns"), ("contents", "contents")] {
                if fields
                    .iter()
                    .any(|f| f.name() == field && f.data_type() != &DataType::Null)
                {
                    breakdowns.push(b);
                }
            }
        }
        Ok(Box::new(TpAccumulator {
            who: self.name.clone(),
            kind: self.kind,
            output: self.output,
            preset: self.preset.clone(),
            paths,
            spec_at,
            extras_at,
            breakdowns: (!breakdowns.is_empty()).then(|| breakdowns.join(",")),
            state: None,
        }))
    }
}

/// The accumulator of every `tp_*` aggregate: an optional envelope (none
/// until the first row or partial arrives).
#[derive(Debug)]
struct TpAccumulator {
    who: String,
    kind: Kind,
    output: Output,
    preset: Option<ModelSpec>,
    paths: bool,
    /// Argument positions of the spec and of the extras struct.
    spec_at: Option<usize>,
    extras_at: Option<usize>,
    /// `breakdowns=...` the extras imply (credit with campaigns/contents).
    breakdowns: Option<String>,
    state: Option<Envelope>,
}

impl TpAccumulator {
    /// The spec of this batch: the preset, or the constant spec argument,
    /// or the kind's default (none for credit).
    fn batch_spec(&self, values: &[ArrayRef]) -> Result<Option<ModelSpec>> {
        let spec = match &self.preset {
            Some(p) => p.clone(),
            None => match self.literal_spec(values)? {
                Some(s) => s,
                None => return Ok(None),
            },
        };
        let who = &self.who;
        match (&self.breakdowns, spec.get("breakdowns")) {
            (None, None) => Ok(Some(spec)),
            (Some(b), Some(given)) if b == given => Ok(Some(spec)),
            (Some(b), None) => Ok(Some(spec.with_option("breakdowns", b))),
            (b, Some(given)) => plan_err!(
                "{who}: the spec says breakdowns={given} but the extras give {}; breakdowns follow the campaigns/contents lists given",
                b.as_deref().unwrap_or("none")
            ),
        }
    }

    /// The spec literal of a batch (the kind's default if none was
    /// given; `None` for an empty batch).
    fn literal_spec(&self, values: &[ArrayRef]) -> Result<Option<ModelSpec>> {
        let who = &self.who;
        let Some(col) = self.spec_at.and_then(|i| values.get(i)) else {
            if self.kind == Kind::Credit {
                return plan_err!("{who}: give the model as a fifth argument, e.g. 'linear'");
            }
            return ModelSpec::parse(self.kind, "").map(Some);
        };
        if col.is_empty() {
            return Ok(None);
        }
        if col.data_type() == &DataType::Null {
            return exec_err!("{who}: the model spec is NULL");
        }
        let col = datafusion_common::arrow::compute::cast(col, &DataType::Utf8)?;
        let Some(strs) = col.as_string_opt::<i32>() else {
            return exec_err!("{who}: the model spec must be a VARCHAR literal");
        };
        if strs.null_count() > 0 {
            return exec_err!("{who}: the model spec is NULL");
        }
        let first = strs.value(0);
        if strs.iter().any(|s| s != Some(first)) {
            return exec_err!("{who}: the model spec must be the same on every row (a literal)");
        }
        ModelSpec::parse(self.kind, first).map(Some)
    }

    fn ensure(&mut self, spec: ModelSpec) -> Result<&mut Envelope> {
        match &mut self.state {
            Some(env) if env.spec != spec => exec_err!(
                "{}: the model spec changed within a group: '{}' then '{}'",
                self.who,
                env.spec,
                spec
            ),
            Some(_) => Ok(self.state.as_mut().expect("checked")),
            None => {
                let partial = CorePartial::new(&spec)?;
                Ok(self.state.insert(Envelope { spec, partial }))
            }
        }
    }
}

impl Accumulator for TpAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if values.first().is_none_or(|v| v.is_empty()) {
            return Ok(());
        }
        let Some(spec) = self.batch_spec(values)? else {
            return Ok(());
        };
        let cur = currency(&spec)?;
        let kind = self.kind;
        let paths = self.paths;
        let extras = self.extras_at.and_then(|i| values.get(i));
        let env = self.ensure(spec)?;
        if kind == Kind::Funnel {
            let leads = crate::funnel::read_leads(&values[..4], extras)?;
            return env.partial.observe_leads(&leads);
        }
        if paths {
            for row in read_paths(kind, cur, &values[..4])? {
                env.partial.observe_path(
                    &row.path,
                    row.conversions,
                    row.value_minor,
                    row.nulls,
                    cur,
                )?;
            }
            Ok(())
        } else {
            let batch = JourneyBatch::read(kind, cur, &values[..4], extras)?;
            env.partial.observe_columns(&batch.columns())
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_binary(&self.who, &mut self.state, &states[0])
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(match &self.state {
            Some(env) => Some(env.to_bytes()?),
            None => None,
        })])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match self.output {
            Output::Partial => Ok(ScalarValue::Binary(match &self.state {
                Some(env) => Some(env.to_bytes()?),
                None => None,
            })),
            Output::Report if self.kind == Kind::Funnel => {
                let lines = match &self.state {
                    Some(env) => env.partial.finish_funnel()?,
                    None => Vec::new(),
                };
                Ok(ScalarValue::List(Arc::new(
                    crate::funnel::funnel_report_array(&[Some(lines)]),
                )))
            }
            Output::Report => {
                let lines = match &self.state {
                    Some(env) => env.partial.finish()?,
                    None => Vec::new(),
                };
                Ok(ScalarValue::List(Arc::new(report_array(&[Some(lines)]))))
            }
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.state.as_ref().map_or(0, |e| e.partial.size_hint())
    }
}

/// Merges every non-NULL partial of a Binary column into `state`.
fn merge_binary(who: &str, state: &mut Option<Envelope>, col: &ArrayRef) -> Result<()> {
    let Some(bin) = col.as_binary_opt::<i32>() else {
        return exec_err!("{who}: partials must be BINARY, got {}", col.data_type());
    };
    for b in bin.iter().flatten() {
        let env = Envelope::from_bytes(who, b)?;
        match state {
            Some(s) => s.merge(who, &env)?,
            None => *state = Some(env),
        }
    }
    Ok(())
}

/// `tp_merge(partial BINARY) -> BINARY`: merges stored partials (e.g. one
/// per day) of one configuration; NULLs are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TpMerge {
    signature: Signature,
}

impl TpMerge {
    /// The function.
    pub fn new() -> TpMerge {
        TpMerge {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for TpMerge {
    fn default() -> Self {
        TpMerge::new()
    }
}

/// Accepts one argument of any binary type, read as `BINARY`.
fn coerce_binary(who: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    match t {
        [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null] => {
            Ok(vec![DataType::Binary])
        }
        _ => plan_err!("{who} takes one BINARY partial, got {t:?}"),
    }
}

impl AggregateUDFImpl for TpMerge {
    fn name(&self) -> &str {
        "tp_merge"
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_binary("tp_merge", t)
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[partial]", args.name),
            DataType::Binary,
            true,
        ))])
    }
    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MergeAccumulator { state: None }))
    }
}

#[derive(Debug)]
struct MergeAccumulator {
    state: Option<Envelope>,
}

impl Accumulator for MergeAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        merge_binary("tp_merge", &mut self.state, &values[0])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_binary("tp_merge", &mut self.state, &states[0])
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(match &self.state {
            Some(env) => Some(env.to_bytes()?),
            None => None,
        }))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.state.as_ref().map_or(0, |e| e.partial.size_hint())
    }
}

/// `tp_report(partial BINARY) -> LIST<STRUCT<...>>`: finishes an
/// attribution partial (e.g. the output of `tp_merge`) into the
/// per-channel report; `tp_funnel_report(partial)` finishes a funnel
/// partial into the funnel report. NULL in, NULL out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TpReport {
    funnel: bool,
    signature: Signature,
}

impl TpReport {
    /// `tp_report`: attribution partials.
    pub fn new() -> TpReport {
        TpReport {
            funnel: false,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// `tp_funnel_report`: funnel partials (`tp_funnel_partial`).
    pub fn funnel() -> TpReport {
        TpReport {
            funnel: true,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for TpReport {
    fn default() -> Self {
        TpReport::new()
    }
}

impl ScalarUDFImpl for TpReport {
    fn name(&self) -> &str {
        if self.funnel {
            "tp_funnel_report"
        } else {
            "tp_report"
        }
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_binary(self.name(), t)
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.funnel {
            crate::funnel::funnel_report_type()
        } else {
            report_type()
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let who = self.name();
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let arr = args.args[0].to_array(args.number_rows)?;
        let Some(bin) = arr.as_binary_opt::<i32>() else {
            return exec_err!("{who}: the partial must be BINARY, got {}", arr.data_type());
        };
        let out: ArrayRef = if self.funnel {
            let mut rows = Vec::with_capacity(bin.len());
            for b in bin.iter() {
                rows.push(match b {
                    None => None,
                    Some(b) => Some(Envelope::from_bytes(who, b)?.partial.finish_funnel()?),
                });
            }
            Arc::new(crate::funnel::funnel_report_array(&rows))
        } else {
            let mut rows = Vec::with_capacity(bin.len());
            for b in bin.iter() {
                rows.push(match b {
                    None => None,
                    Some(b) => Some(Envelope::from_bytes(who, b)?.partial.finish()?),
                });
            }
            Arc::new(report_array(&rows))
        };
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_refuse_mangled_bytes() {
        let spec = ModelSpec::parse(Kind::Markov, "order=2").unwrap();
        let env = Envelope {
            partial: CorePartial::new(&spec).unwrap(),
            spec,
        };
        let bytes = env.to_bytes().unwrap();
        assert_eq!(&bytes[..4], PARTIAL_MAGIC);
        assert_eq!(bytes[4], PARTIAL_VERSION);
        let back = Envelope::from_bytes("t", &bytes).unwrap();
        assert_eq!(back.spec, env.spec);
        assert_eq!(back.to_bytes().unwrap(), bytes);
        for (b, want) in [
            (&b"TPDF\x01\xff\xff\xff\x7f"[..], "truncated"),
            (&b"TPDF"[..], "not a touchpoint partial"),
            (&b"TPDF\x01\x03\x00\x00\x00abc{}"[..], "no kind prefix"),
        ] {
            let e = Envelope::from_bytes("t", b).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let mut json_broken = bytes.clone();
        json_broken.truncate(bytes.len() - 3);
        let e = Envelope::from_bytes("t", &json_broken)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not read"), "{e}");
    }
}
