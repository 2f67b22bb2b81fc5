//! The catalog's KPIs as SQL tables: a view `kpi_<name>` for the latest complete month, and a
//! table function `kpi_<name>(from, to[, by])` for any window. Each runs the KPI's own query on a
//! session for its window, as `mttx kpi` does, so both answer what `mttx kpi` answers.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::kpi::breakdown::{self, Breakdown};
use crate::kpi::{Kpi, KpiParams, PeriodRequest};
use crate::pipeline::Pipeline;
use crate::time::YearMonth;

/// Each KPI's columns, without a breakdown and with each it can be cut by.
pub type Schemas = HashMap<(String, Option<Breakdown>), SchemaRef>;

/// Plans every KPI once per breakdown (no execution) for the columns its tables declare.
pub async fn schemas(pipeline: &Pipeline, kpis: &[Kpi], params: &KpiParams) -> crate::Result<Schemas> {
    let mut schemas = Schemas::new();
    for by in std::iter::once(None).chain(Breakdown::ALL.map(Some)) {
        let cut: Vec<&Kpi> = kpis.iter().filter(|k| by.is_none_or(|by| breakdown::supports(&k.meta.keys, by))).collect();
        if cut.is_empty() {
            continue;
        }
        let ctx = pipeline.session(&params.clone().with_breakdown(by)).await?;
        for kpi in cut {
            let frame = crate::kpi::run::frame(&ctx, kpi).await?;
            schemas.insert((kpi.id.clone(), by), nullable(frame.schema().as_arrow()));
        }
    }
    Ok(schemas)
}

/// The planned columns, each nullable: execution may find a column nullable that planning did
/// not (a CASE over a left join), and a declared schema must hold every result.
fn nullable(schema: &datafusion::arrow::datatypes::Schema) -> SchemaRef {
    let fields: Vec<_> = schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
    Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Registers `kpi_<name>` as a view of `params`' window and as a table function, for every KPI.
pub fn register(ctx: &SessionContext, pipeline: &Arc<Pipeline>, kpis: &[Kpi], params: &KpiParams, schemas: &Arc<Schemas>) -> crate::Result<()> {
    for kpi in kpis {
        let name = table_name(&kpi.id);
        let Some(schema) = schemas.get(&(kpi.id.clone(), None)) else { continue };
        let view = KpiTable { pipeline: pipeline.clone(), kpi: kpi.clone(), params: params.clone(), schema: schema.clone() };
        ctx.register_table(name.as_str(), Arc::new(view))?;
        ctx.register_udtf(&name, Arc::new(KpiFunction { name: name.clone(), pipeline: pipeline.clone(), kpi: kpi.clone(), schemas: schemas.clone() }));
    }
    Ok(())
}

fn table_name(kpi: &str) -> String {
    format!("kpi_{kpi}")
}

/// One KPI over one window: the query runs when the table is scanned.
struct KpiTable {
    pipeline: Arc<Pipeline>,
    kpi: Kpi,
    params: KpiParams,
    schema: SchemaRef,
}

impl fmt::Debug for KpiTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KpiTable({}, {})", self.kpi.id, self.params.describe())
    }
}

#[tonic::async_trait]
impl TableProvider for KpiTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(&self, _state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let ctx = self.pipeline.session(&self.params).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
        let frame = crate::kpi::run::frame(&ctx, &self.kpi).await?;
        let batches = frame.collect().await?;
        let batches = batches
            .into_iter()
            .map(|b| {
                b.with_schema(self.schema.clone())
                    .map_err(|e| DataFusionError::Internal(format!("{}: the result's columns differ from those planned: {e}", self.kpi.id)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MemorySourceConfig::try_new_exec(&[batches], self.schema.clone(), projection.cloned())?)
    }
}

/// `kpi_<name>(from, to[, by])`: months as 'YYYY-MM', dates or timestamps (each names the month
/// that holds it in the server's time zone), and a breakdown field.
struct KpiFunction {
    name: String,
    pipeline: Arc<Pipeline>,
    kpi: Kpi,
    schemas: Arc<Schemas>,
}

impl fmt::Debug for KpiFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KpiFunction({})", self.name)
    }
}

impl KpiFunction {
    fn usage(&self, what: impl fmt::Display) -> DataFusionError {
        DataFusionError::Plan(format!(
            "{}(from, to[, by]): {what}; give months as '2026-01' (or dates and timestamps, which name their month), and by as one of {}",
            self.name,
            Breakdown::names()
        ))
    }

    fn month(&self, arg: &Expr, which: &str) -> Result<YearMonth> {
        let timezone = self.pipeline.timezone;
        let Expr::Literal(value, _) = arg else { return Err(self.usage(format!("{which} must be a literal, not {arg}"))) };
        match value {
            ScalarValue::Utf8(Some(text)) | ScalarValue::LargeUtf8(Some(text)) | ScalarValue::Utf8View(Some(text)) => {
                if let Ok(month) = text.parse::<YearMonth>() {
                    return Ok(month);
                }
                crate::time::parse_iso(text, timezone)
                    .map(|micros| YearMonth::of_micros(micros, timezone))
                    .ok_or_else(|| self.usage(format!("{which} {text:?} is not a month, date or timestamp")))
            }
            ScalarValue::TimestampMicrosecond(Some(v), _) => Ok(YearMonth::of_micros(*v, timezone)),
            ScalarValue::TimestampMillisecond(Some(v), _) => Ok(YearMonth::of_micros(v.saturating_mul(1_000), timezone)),
            ScalarValue::TimestampSecond(Some(v), _) => Ok(YearMonth::of_micros(v.saturating_mul(1_000_000), timezone)),
            ScalarValue::TimestampNanosecond(Some(v), _) => Ok(YearMonth::of_micros(v / 1_000, timezone)),
            other => Err(self.usage(format!("{which} is {other:?}"))),
        }
    }
}

impl TableFunctionImpl for KpiFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let (from, to, by) = match exprs {
            [from, to] => (from, to, None),
            [from, to, by] => (from, to, Some(by)),
            _ => return Err(self.usage(format!("{} argument(s) given", exprs.len()))),
        };
        let (from, to) = (self.month(from, "from")?, self.month(to, "to")?);
        let by = match by {
            None => None,
            Some(Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)) | ScalarValue::LargeUtf8(Some(text)), _)) => {
                Some(text.parse::<Breakdown>().map_err(|e| self.usage(e))?)
            }
            Some(other) => return Err(self.usage(format!("by must be a text literal, not {other}"))),
        };
        let schema = self
            .schemas
            .get(&(self.kpi.id.clone(), by))
            .ok_or_else(|| self.usage(format!("{} cannot be cut by {}", self.kpi.id, by.map_or("", |b| b.field()))))?;
        let params = self
            .pipeline
            .params(PeriodRequest::Months(from, to), crate::kpi::Tuning::default())
            .map_err(|e| DataFusionError::Plan(format!("{}: {e}", self.name)))?
            .with_breakdown(by);
        Ok(Arc::new(KpiTable { pipeline: self.pipeline.clone(), kpi: self.kpi.clone(), params, schema: schema.clone() }))
    }
}
