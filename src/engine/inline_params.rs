//! The one-row `params` table folded into the plans that read it: the optimizer rule that turns a
//! join with it into a projection of its values, so a KPI's period filter reaches the scan.
//!
//! Every KPI reads its window as data (`FROM incidents i CROSS JOIN params p WHERE i.resolved_at
//! < p.period_end …`). Planned as written, that is a nested-loop join that copies the one params
//! row next to every incident before filtering them, and the scan cannot use the window: the
//! filter compares two columns. With the values in the plan as literals, the filter is an ordinary one that
//! DataFusion pushes into the Parquet scan, which skips the row groups and pages outside the
//! window. The SQL keeps its parameters as data; only this session's plan holds their values.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result, ScalarValue};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, Filter, Join, JoinType, LogicalPlan, Operator, Projection, binary_expr};
use datafusion::optimizer::push_down_filter::replace_cols_by_name;
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// The rule for a session whose `provider` holds exactly the one row `values`.
pub fn rule(provider: Arc<dyn TableProvider>, values: RecordBatch) -> Arc<dyn OptimizerRule + Send + Sync> {
    Arc::new(FoldConstantRow { provider, values })
}

#[derive(Debug)]
struct FoldConstantRow {
    provider: Arc<dyn TableProvider>,
    values: RecordBatch,
}

/// A relation of at most one row, known while planning: each output column's value as an
/// expression without columns, by the column's qualified name, and the condition under which the
/// row exists (none: always).
struct ConstantRow {
    columns: HashMap<String, Expr>,
    condition: Option<Expr>,
}

impl ConstantRow {
    /// `expr` with this row's columns replaced by their values (as DataFusion's filter pushdown
    /// replaces a projection's columns by their expressions).
    fn substitute(&self, expr: Expr) -> Result<Expr> {
        replace_cols_by_name(expr, &self.columns)
    }

    fn value(&self, column: &Column) -> Option<&Expr> {
        self.columns.get(&column.flat_name())
    }
}

impl FoldConstantRow {
    /// What `plan` evaluates to, if it is the params table under aliases, projections and filters.
    fn constant_row(&self, plan: &LogicalPlan) -> Result<Option<ConstantRow>> {
        match plan {
            LogicalPlan::TableScan(scan) => {
                let Ok(provider) = source_as_provider(&scan.source) else { return Ok(None) };
                let same = std::ptr::addr_eq(Arc::as_ptr(&provider), Arc::as_ptr(&self.provider));
                if !same || !scan.filters.is_empty() || scan.fetch == Some(0) || self.values.num_rows() != 1 {
                    return Ok(None);
                }
                let indices: Vec<usize> = match &scan.projection {
                    Some(p) => p.clone(),
                    None => (0..self.values.num_columns()).collect(),
                };
                let mut columns = HashMap::new();
                for ((qualifier, field), index) in scan.projected_schema.iter().zip(indices) {
                    let value = ScalarValue::try_from_array(self.values.column(index), 0)?;
                    columns.insert(Column::from((qualifier, field)).flat_name(), Expr::Literal(value, None));
                }
                Ok(Some(ConstantRow { columns, condition: None }))
            }
            LogicalPlan::SubqueryAlias(alias) => Ok(self.constant_row(&alias.input)?.map(|inner| {
                let columns = alias
                    .input
                    .schema()
                    .iter()
                    .zip(alias.schema.iter())
                    .filter_map(|(from, to)| inner.value(&Column::from(from)).map(|v| (Column::from(to).flat_name(), v.clone())))
                    .collect();
                ConstantRow { columns, condition: inner.condition }
            })),
            LogicalPlan::Projection(projection) => {
                let Some(inner) = self.constant_row(&projection.input)? else { return Ok(None) };
                if projection.expr.iter().any(Expr::is_volatile) {
                    return Ok(None);
                }
                let mut columns = HashMap::new();
                for (expr, (qualifier, field)) in projection.expr.iter().zip(projection.schema.iter()) {
                    let value = inner.substitute(expr.clone().unalias_nested().data)?;
                    columns.insert(Column::from((qualifier, field)).flat_name(), value);
                }
                Ok(Some(ConstantRow { columns, condition: inner.condition }))
            }
            LogicalPlan::Filter(filter) => {
                let Some(inner) = self.constant_row(&filter.input)? else { return Ok(None) };
                if filter.predicate.is_volatile() {
                    return Ok(None);
                }
                let predicate = inner.substitute(filter.predicate.clone())?;
                let condition = conjunction(inner.condition.into_iter().chain([predicate]));
                Ok(Some(ConstantRow { columns: inner.columns, condition }))
            }
            _ => Ok(None),
        }
    }
}

impl OptimizerRule for FoldConstantRow {
    fn name(&self) -> &str {
        "mttx_fold_constant_row"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let folded = match &plan {
            LogicalPlan::Join(join) => self.fold(join)?,
            _ => None,
        };
        Ok(match folded {
            Some(folded) => Transformed::yes(folded),
            None => Transformed::no(plan),
        })
    }
}

impl FoldConstantRow {
    /// `join` as a filter and projection of its other side, when one side is the constant row.
    fn fold(&self, join: &Join) -> Result<Option<LogicalPlan>> {
        if join.join_type != JoinType::Inner || join.null_aware {
            return Ok(None);
        }
        let (constant, other, constant_is_left) = match (self.constant_row(&join.left)?, self.constant_row(&join.right)?) {
            (_, Some(row)) => (row, &join.left, false),
            (Some(row), None) => (row, &join.right, true),
            (None, None) => return Ok(None),
        };
        // The join's columns in order: the other side's as they are, the row's as its values.
        let left_width = join.left.schema().fields().len();
        let mut exprs = Vec::with_capacity(join.schema.fields().len());
        for (index, (qualifier, field)) in join.schema.iter().enumerate() {
            let column = Column::from((qualifier, field));
            if (index < left_width) != constant_is_left {
                exprs.push(Expr::Column(column));
                continue;
            }
            match constant.value(&column) {
                Some(value) => exprs.push(value.clone().alias_qualified(qualifier.cloned(), field.name())),
                None => return Ok(None),
            }
        }
        // The join keeps the other side's rows for which the row exists and the join condition
        // holds.
        let mut conditions: Vec<Expr> = constant.condition.clone().into_iter().collect();
        conditions.extend(join.on.iter().map(|(l, r)| match join.null_equality {
            NullEquality::NullEqualsNothing => l.clone().eq(r.clone()),
            NullEquality::NullEqualsNull => binary_expr(l.clone(), Operator::IsNotDistinctFrom, r.clone()),
        }));
        conditions.extend(join.filter.clone());
        let input = match conjunction(conditions) {
            Some(predicate) => Arc::new(LogicalPlan::Filter(Filter::try_new(constant.substitute(predicate)?, Arc::clone(other))?)),
            None => Arc::clone(other),
        };
        Ok(Some(LogicalPlan::Projection(Projection::try_new(exprs, input)?)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::model::{UTC, timestamp_type};

    /// `t`: ids 1 to 6 at hours 1 to 6 (micros), keys a, b, a, b, a, null. `params`: the window
    /// [2 h, 5 h), the key a and no breakdown. With `fold`, the session has the rule.
    async fn session(fold: bool) -> SessionContext {
        let ctx = SessionContext::new();
        let hour = 3_600_000_000i64;
        let t = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, false),
                Field::new("at", timestamp_type(), false),
                Field::new("k", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int64Array::from((1..=6).collect::<Vec<i64>>())),
                Arc::new(TimestampMicrosecondArray::from((1..=6).map(|h| h * hour).collect::<Vec<i64>>()).with_timezone(UTC)),
                Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("a"), Some("b"), Some("a"), None])),
            ],
        )
        .unwrap();
        ctx.register_table("t", Arc::new(MemTable::try_new(t.schema(), vec![vec![t]]).unwrap())).unwrap();
        let params = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("period_start", timestamp_type(), false),
                Field::new("period_end", timestamp_type(), false),
                Field::new("key", DataType::Utf8, false),
                Field::new("breakdown", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(TimestampMicrosecondArray::from(vec![2 * hour]).with_timezone(UTC)),
                Arc::new(TimestampMicrosecondArray::from(vec![5 * hour]).with_timezone(UTC)),
                Arc::new(StringArray::from(vec!["a"])),
                Arc::new(StringArray::from(vec![None::<&str>])),
            ],
        )
        .unwrap();
        let provider = Arc::new(MemTable::try_new(params.schema(), vec![vec![params.clone()]]).unwrap());
        ctx.register_table("params", provider.clone()).unwrap();
        if fold {
            ctx.add_optimizer_rule(rule(provider, params));
        }
        ctx
    }

    /// The query's rows with and without the rule, and the optimized plan with it.
    async fn both(sql: &str) -> (String, String, String) {
        let mut out = Vec::new();
        for fold in [false, true] {
            let frame = session(fold).await.sql(sql).await.unwrap();
            let plan = frame.clone().into_optimized_plan().unwrap().display_indent().to_string();
            out.push((pretty_format_batches(&frame.collect().await.unwrap()).unwrap().to_string(), plan));
        }
        let (with, plan) = out.pop().unwrap();
        let (without, unfolded) = out.pop().unwrap();
        assert_eq!(unfolded.contains("TableScan: params"), sql.contains("params p"), "without the rule, {sql}:\n{unfolded}");
        (without, with, plan)
    }

    #[tokio::test]
    async fn joins_with_the_row_become_filters_with_its_values() {
        let cases = [
            // The KPIs' shape: the window as a join filter (ids 2, 3, 4).
            "SELECT t.id, p.period_end FROM t CROSS JOIN params p WHERE t.at >= p.period_start AND t.at < p.period_end ORDER BY t.id",
            // The row first, and an equi-join on one of its values (ids 1, 3, 5).
            "SELECT p.key, t.id FROM params p JOIN t ON t.k = p.key ORDER BY t.id",
            // A projection of the row under another name, as mtbf's `w` (ids 4, 5, 6 with a null key).
            "WITH w AS (SELECT p.period_end - INTERVAL '1 hour' AS ws, upper(p.key) AS big FROM params p) \
             SELECT t.id, w.big FROM t CROSS JOIN w WHERE t.at >= w.ws ORDER BY t.id",
            // A filter on the row that holds (every id) and one that does not (none).
            "SELECT t.id FROM t CROSS JOIN params p WHERE p.breakdown IS NULL ORDER BY t.id",
            "SELECT t.id FROM t CROSS JOIN params p WHERE p.breakdown IS NOT NULL ORDER BY t.id",
            // A condition on both, in ON.
            "SELECT t.id FROM t JOIN params p ON (t.k IS NOT DISTINCT FROM p.breakdown) OR t.at > p.period_end ORDER BY t.id",
        ];
        for sql in cases {
            let (without, with, plan) = both(sql).await;
            assert_eq!(with, without, "{sql}");
            assert!(!plan.contains("TableScan: params"), "{sql}: the params row is still scanned:\n{plan}");
            assert!(!plan.contains("Join"), "{sql}: still a join:\n{plan}");
        }
        let (_, window, plan) = both(cases[0]).await;
        assert_eq!(window.lines().filter(|l| l.starts_with("| ")).count(), 4, "a header and ids 2, 3, 4:\n{window}");
        // A filter of the scanned table alone, which DataFusion pushes into a Parquet scan.
        assert!(plan.contains("Filter: t.at >= TimestampMicrosecond(7200000000, Some(\"UTC\")) AND t.at < TimestampMicrosecond(18000000000"), "{plan}");
    }

    #[tokio::test]
    async fn other_tables_and_other_joins_are_left_as_they_are() {
        let cases = [
            // Another one-row table is not the params row.
            "SELECT a.id, b.id FROM t a CROSS JOIN (SELECT * FROM t WHERE id = 1) b ORDER BY a.id",
            // An outer join keeps rows the row does not match; it stays a join.
            "SELECT t.id, p.key FROM t LEFT JOIN params p ON t.k = p.key ORDER BY t.id",
        ];
        for sql in cases {
            let (without, with, plan) = both(sql).await;
            assert_eq!(with, without, "{sql}");
            assert!(plan.contains("Join"), "{sql}: {plan}");
        }
    }
}
