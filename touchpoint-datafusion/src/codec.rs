//! Plan codecs that carry the `tp_*` functions (and the spec of a preset
//! function) inside a serialized plan, so a Ballista scheduler and its
//! executors rebuild exactly the function the client planned.
//!
//! Each codec wraps another (Ballista's own, or DataFusion's default) and
//! delegates everything that is not a `tp_*` aggregate to it.
//!
//! Wire form of a `tp_*` aggregate: `tpdf-udaf/1` `\n` name `\n` output
//! (`report` or `partial`) `\n` canonical spec (empty for a function that
//! takes its spec as an argument).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion_common::arrow::datatypes::SchemaRef;
use datafusion_common::{Result, TableReference, exec_err};
use datafusion_expr::{AggregateUDF, Extension, HigherOrderUDF, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::spec::{Kind, ModelSpec};
use crate::udaf::{Output, TpAggregate, TpMerge};

const WIRE: &str = "tpdf-udaf/1";

/// The function of a `tp_*` name that takes its spec per call, if `name`
/// is one.
pub(crate) fn standard_udaf(name: &str) -> Option<AggregateUDF> {
    if name == "tp_merge" {
        return Some(AggregateUDF::from(TpMerge::new()));
    }
    let rest = name.strip_prefix("tp_")?;
    let (kind, output) = match rest.strip_suffix("_partial") {
        Some(k) => (k, Output::Partial),
        None => (rest, Output::Report),
    };
    let kind = Kind::ALL.into_iter().find(|k| k.name() == kind)?;
    Some(AggregateUDF::from(TpAggregate::new(kind, output)))
}

fn encode(node: &AggregateUDF, buf: &mut Vec<u8>) -> bool {
    let inner: &dyn Any = node.inner().as_ref();
    let Some(tp) = inner.downcast_ref::<TpAggregate>() else {
        return false;
    };
    let Some(spec) = tp.preset_spec() else {
        return false;
    };
    let output = match tp.output() {
        Output::Report => "report",
        Output::Partial => "partial",
    };
    buf.extend_from_slice(
        format!("{WIRE}\n{}\n{output}\n{}", node.name(), spec.canonical()).as_bytes(),
    );
    true
}

fn decode(name: &str, buf: &[u8]) -> Option<Result<Arc<AggregateUDF>>> {
    if buf.is_empty() {
        return standard_udaf(name).map(|f| Ok(Arc::new(f)));
    }
    let text = std::str::from_utf8(buf).ok()?;
    let mut parts = text.splitn(4, '\n');
    if parts.next()? != WIRE {
        return None;
    }
    let (fname, output, spec) = (parts.next()?, parts.next()?, parts.next()?);
    let output = match output {
        "report" => Output::Report,
        "partial" => Output::Partial,
        o => return Some(exec_err!("tp codec: unknown output '{o}' for {fname}")),
    };
    Some(
        ModelSpec::from_canonical(spec)
            .and_then(|s| TpAggregate::preset(fname, &s, output))
            .map(|f| Arc::new(AggregateUDF::from(f))),
    )
}

/// A [`LogicalExtensionCodec`] that serializes `tp_*` aggregates with
/// their spec and delegates everything else to `inner`.
pub struct TouchpointLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl TouchpointLogicalCodec {
    /// Wraps `inner` (e.g. Ballista's `BallistaLogicalExtensionCodec`).
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> TouchpointLogicalCodec {
        TouchpointLogicalCodec { inner }
    }
}

impl fmt::Debug for TouchpointLogicalCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TouchpointLogicalCodec")
            .field("inner", &self.inner)
            .finish()
    }
}

impl LogicalExtensionCodec for TouchpointLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }
    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }
    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }
    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }
    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }
    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }
    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.inner.try_decode_udf(name, buf)
    }
    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udf(node, buf)
    }
    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }
    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }
    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        match decode(name, buf) {
            Some(r) => r,
            None => self.inner.try_decode_udaf(name, buf),
        }
    }
    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode(node, buf) {
            Ok(())
        } else {
            self.inner.try_encode_udaf(node, buf)
        }
    }
    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }
    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

/// A [`PhysicalExtensionCodec`] that serializes `tp_*` aggregates with
/// their spec and delegates everything else to `inner`.
pub struct TouchpointPhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl TouchpointPhysicalCodec {
    /// Wraps `inner` (e.g. Ballista's `BallistaPhysicalExtensionCodec`).
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> TouchpointPhysicalCodec {
        TouchpointPhysicalCodec { inner }
    }
}

impl fmt::Debug for TouchpointPhysicalCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TouchpointPhysicalCodec")
            .field("inner", &self.inner)
            .finish()
    }
}

impl PhysicalExtensionCodec for TouchpointPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }
    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }
    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.inner.try_decode_udf(name, buf)
    }
    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udf(node, buf)
    }
    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }
    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }
    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }
    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }
    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        match decode(name, buf) {
            Some(r) => r,
            None => self.inner.try_decode_udaf(name, buf),
        }
    }
    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode(node, buf) {
            Ok(())
        } else {
            self.inner.try_encode_udaf(node, buf)
        }
    }
    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }
    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;

    use super::*;

    #[test]
    fn a_preset_round_trips_through_the_physical_codec() {
        let codec = TouchpointPhysicalCodec::new(Arc::new(DefaultPhysicalExtensionCodec {}));
        let spec = ModelSpec::parse(Kind::Shapley, "variant=ordered exact_limit=10").unwrap();
        let f = crate::preset("tp_shapley_o", &spec, Output::Partial).unwrap();
        let mut buf = Vec::new();
        codec.try_encode_udaf(&f, &mut buf).unwrap();
        assert!(!buf.is_empty());
        let back = codec.try_decode_udaf("tp_shapley_o", &buf).unwrap();
        assert_eq!(back.name(), "tp_shapley_o");
        let inner: &dyn Any = back.inner().as_ref();
        let tp = inner.downcast_ref::<TpAggregate>().unwrap();
        assert_eq!(tp.preset_spec(), Some(&spec));
        assert_eq!(tp.output(), Output::Partial);
    }

    #[test]
    fn standard_names_decode_from_nothing_and_others_go_to_the_inner_codec() {
        let codec = TouchpointPhysicalCodec::new(Arc::new(DefaultPhysicalExtensionCodec {}));
        let f = codec.try_decode_udaf("tp_markov_partial", &[]).unwrap();
        assert_eq!(f.name(), "tp_markov_partial");
        assert_eq!(
            codec.try_decode_udaf("tp_merge", &[]).unwrap().name(),
            "tp_merge"
        );
        // a function taking its spec per call writes nothing into the plan
        let mut buf = Vec::new();
        codec.try_encode_udaf(&f, &mut buf).unwrap();
        assert!(buf.is_empty());
        assert!(codec.try_decode_udaf("sum_of_squares", &[]).is_err());
        let bad = format!("{WIRE}\ntp_x\nreport\nmarkov:markov order=9");
        let e = codec.try_decode_udaf("tp_x", bad.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("order"), "{e}");
    }
}
