//! The logical and physical extension codecs a cluster runs with: Ballista's own, for its nodes and
//! file formats, plus mttx's functions and small in-memory tables. The client, the scheduler and
//! every executor install the same pair, so a plan reads back as it was written.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result as DfResult, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::{functions, tables};
use crate::engine::compact_sort_input::CompactSlicesExec;
use crate::engine::grouping_sets::DerivedGroupingSetsExec;

#[derive(Debug, Default)]
pub struct MttxLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for MttxLogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> DfResult<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(&self, buf: &[u8], table: &TableReference, schema: SchemaRef, _: &TaskContext) -> DfResult<Arc<dyn TableProvider>> {
        tables::decode(buf, table, schema)
    }

    fn try_encode_table_provider(&self, table: &TableReference, provider: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> DfResult<()> {
        tables::encode(table, &provider, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> DfResult<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        functions::decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        functions::encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
        functions::decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        functions::encode_udaf(node, buf)
    }
}

#[derive(Debug, Default)]
pub struct MttxPhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

/// mttx's own operator in a physical plan: a sort's compacting input (`engine::compact_sort_input`), which
/// a local session's plan has and a scheduler's does not. It has no state besides its input.
const COMPACT_SLICES: &[u8] = b"mttx.compact_slices";
/// The other: grouping sets derived from the finest set's partial states (`engine::grouping_sets`),
/// followed by its sets, each as `0`s and `1`s (1 where the set leaves the expression out), split
/// by commas. Its input is the partial aggregate it derives from.
const DERIVED_GROUPING_SETS: &[u8] = b"mttx.derived_grouping_sets:";

impl PhysicalExtensionCodec for MttxPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match inputs {
            [input] if buf == COMPACT_SLICES => Ok(Arc::new(CompactSlicesExec::new(Arc::clone(input)))),
            [input] if buf.starts_with(DERIVED_GROUPING_SETS) => {
                let sets = buf[DERIVED_GROUPING_SETS.len()..].split(|b| *b == b',').map(|set| set.iter().map(|b| *b == b'1').collect()).collect();
                Ok(Arc::new(DerivedGroupingSetsExec::try_new(Arc::clone(input), sets)?))
            }
            _ => self.ballista.try_decode(buf, inputs, ctx, converter),
        }
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>, converter: &dyn PhysicalProtoConverterExtension) -> DfResult<()> {
        if node.downcast_ref::<CompactSlicesExec>().is_some() {
            buf.extend_from_slice(COMPACT_SLICES);
            return Ok(());
        }
        if let Some(derived) = node.downcast_ref::<DerivedGroupingSetsExec>() {
            buf.extend_from_slice(DERIVED_GROUPING_SETS);
            let sets: Vec<String> = derived.sets().iter().map(|set| set.iter().map(|&is_null| if is_null { '1' } else { '0' }).collect()).collect();
            buf.extend_from_slice(sets.join(",").as_bytes());
            return Ok(());
        }
        self.ballista.try_encode(node, buf, converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        functions::decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        functions::encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
        functions::decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        functions::encode_udaf(node, buf)
    }
}

/// The pair, as the scheduler and executors take them.
pub fn logical() -> Arc<dyn LogicalExtensionCodec> {
    Arc::new(MttxLogicalCodec::default())
}

pub fn physical() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(MttxPhysicalCodec::default())
}
