//! The per-ticket values behind a KPI's rank test, read from one CTE of the KPI's own query so the
//! test sees exactly the population the KPI summarises. The query is rewritten on its syntax tree
//! (keep the WITH clause, select from the named CTE); no value is ever pasted into SQL text.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::engine::slots::{Cost, Slots};
use crate::error::{Error, Result};
use crate::kpi::{Kpi, breakdown};

/// The key of rows that pool every priority (`all`) or give one (`priority`).
const SCOPE: &str = "scope";

/// Samples by (kpi, cte, column) and then by the row key without month (`priority=1`).
#[derive(Debug, Default)]
pub struct Samples {
    by_source: HashMap<(String, String, String), HashMap<String, Vec<f64>>>,
}

impl Samples {
    /// The values of one row key, in ascending order.
    pub fn get(&self, kpi: &str, cte: &str, column: &str, key: &str) -> Option<&[f64]> {
        self.by_source.get(&(kpi.to_string(), cte.to_string(), column.to_string()))?.get(key).map(Vec::as_slice)
    }

    /// Reads every rank test's samples on a session prepared for one period. A KPI with a `scope`
    /// key gets each value twice: under its priority (`scope=priority`) and pooled over all
    /// priorities (`scope=all`, priority empty), as its rows are.
    pub async fn collect(ctx: &SessionContext, kpis: &[Kpi]) -> Result<Samples> {
        Ok(Samples::collect_by_month(ctx, kpis, false).await?.remove("").unwrap_or_default())
    }

    /// Reads them as `collect` does, in one query per test, but apart for each month of the
    /// session's period when `by_month` is true (for KPIs with a month key): the samples that a
    /// session for each month alone would give, keyed by month (YYYY-MM). Without a month, or
    /// with `by_month` false, all go under "".
    pub async fn collect_by_month(ctx: &SessionContext, kpis: &[Kpi], by_month: bool) -> Result<HashMap<String, Samples>> {
        let by = breakdown::of_session(ctx);
        // Every test's query first, all run at once (each waits for a query slot like the KPIs),
        // then read in order.
        let mut tests = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for kpi in kpis {
            let split = by_month && kpi.meta.keys.iter().any(|k| k == "month");
            for clause in &kpi.meta.significance {
                let Some((cte, column)) = clause.test.sample() else { continue };
                let source = (kpi.id.clone(), cte.to_string(), column.to_string());
                if !seen.insert(source.clone()) {
                    continue;
                }
                let mut keys: Vec<&str> =
                    kpi.meta.keys.iter().map(String::as_str).filter(|k| *k != "month" && *k != SCOPE && (*k != breakdown::BY_GROUP || by.is_some())).collect();
                if split {
                    keys.push("month");
                }
                let sql = sample_query(kpi, cte, column, &keys)?;
                tests.push((kpi, source, keys, split, sql));
            }
        }
        let mut queries = tokio::task::JoinSet::new();
        for (index, (kpi, _, _, _, sql)) in tests.iter().enumerate() {
            let (ctx, sql, cost) = (ctx.clone(), sql.clone(), Cost::of_kpi(&kpi.id));
            queries.spawn(async move {
                let _slot = Slots::process().acquire(cost).await;
                (index, async { ctx.sql(&sql).await?.collect().await }.await)
            });
        }
        let mut results: Vec<Option<datafusion::error::Result<Vec<RecordBatch>>>> = tests.iter().map(|_| None).collect();
        while let Some(joined) = queries.join_next().await {
            let (index, result) = joined.map_err(|e| Error::Query { origin: "report".into(), message: format!("a sample query's task failed: {e}") })?;
            results[index] = Some(result);
        }
        let mut months: HashMap<String, Samples> = HashMap::new();
        for ((kpi, source, keys, split, _), result) in tests.into_iter().zip(results) {
            let batches = result.expect("every query reports once").map_err(|e| query_error(kpi, &e.to_string()))?;
            // The row key's columns in the header's order, as the document names them.
            let names: Vec<String> = breakdown::keys(&kpi.meta.keys, by).into_iter().filter(|k| k != "month").collect();
            // Month → row key → values.
            let mut by_month_key: HashMap<String, HashMap<String, Vec<f64>>> = HashMap::new();
            // Nulls print as empty text, as `plain` writes a JSON null in row keys.
            let options = FormatOptions::default();
            // Row key bytes → (month, the row's key texts): each key is formatted once, whatever
            // order the rows come in.
            let mut known: HashMap<Vec<u8>, (String, Vec<String>)> = HashMap::new();
            let converter = match batches.first() {
                Some(first) if !keys.is_empty() => {
                    Some(RowConverter::new(first.columns()[..keys.len()].iter().map(|c| SortField::new(c.data_type().clone())).collect())?)
                }
                _ => None,
            };
            for batch in &batches {
                let values = datafusion::arrow::compute::cast(batch.column(keys.len()), &DataType::Float64)?;
                let values = values.as_primitive::<Float64Type>();
                let formatters =
                    (0..keys.len()).map(|i| ArrayFormatter::try_new(batch.column(i).as_ref(), &options)).collect::<std::result::Result<Vec<_>, _>>()?;
                let key_rows = converter.as_ref().map(|c| c.convert_columns(&batch.columns()[..keys.len()])).transpose()?;
                for row in 0..batch.num_rows() {
                    if values.is_null(row) || !values.value(row).is_finite() {
                        continue;
                    }
                    let key_bytes: &[u8] = key_rows.as_ref().map_or(&[], |rows| rows.row(row).data());
                    if !known.contains_key(key_bytes) {
                        let value_of = |name: &str| keys.iter().position(|k| *k == name).map(|i| formatters[i].value(row).to_string()).unwrap_or_default();
                        let month = if split { value_of("month") } else { String::new() };
                        let scopes: &[&str] = if names.iter().any(|n| n == SCOPE) { &["priority", "all"] } else { &[""] };
                        let texts = scopes
                            .iter()
                            .map(|scope| {
                                let pairs: Vec<(&str, String)> = names
                                    .iter()
                                    .map(|name| {
                                        let value = match name.as_str() {
                                            SCOPE => scope.to_string(),
                                            "priority" if *scope == "all" => String::new(),
                                            n if by.is_some_and(|b| b.field() == n) => value_of(breakdown::BY_GROUP),
                                            n => value_of(n),
                                        };
                                        (name.as_str(), value)
                                    })
                                    .collect();
                                crate::kpi::document::key_text(&pairs)
                            })
                            .collect();
                        known.insert(key_bytes.to_vec(), (month, texts));
                    }
                    let (month, texts) = &known[key_bytes];
                    if !by_month_key.contains_key(month.as_str()) {
                        by_month_key.insert(month.clone(), HashMap::new());
                    }
                    let by_key = by_month_key.get_mut(month.as_str()).expect("inserted above");
                    for text in texts.iter() {
                        match by_key.get_mut(text.as_str()) {
                            Some(samples) => samples.push(values.value(row)),
                            None => {
                                by_key.insert(text.clone(), vec![values.value(row)]);
                            }
                        }
                    }
                }
            }
            for (month, mut by_key) in by_month_key {
                // The rows come in the order the query's partitions finish; sorted, the tests add
                // the values in one order, and their statistics have the same bits on every run.
                by_key.values_mut().for_each(|samples| samples.sort_unstable_by(f64::total_cmp));
                months.entry(month).or_default().by_source.insert(source.clone(), by_key);
            }
        }
        Ok(months)
    }

    /// These samples and `other`'s, for KPIs that ran apart.
    pub fn merge(&mut self, other: Samples) {
        self.by_source.extend(other.by_source);
    }
}

fn query_error(kpi: &Kpi, message: &str) -> Error {
    Error::Query { origin: kpi.origin.clone(), message: format!("{}: reading the samples for its significance test: {message}", kpi.id) }
}

fn identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `WITH <the KPI's CTEs> SELECT <keys>, <column> FROM <cte>`, built on the parsed query.
pub fn sample_query(kpi: &Kpi, cte: &str, column: &str, keys: &[&str]) -> Result<String> {
    let fail = |message: String| Error::Query { origin: kpi.origin.clone(), message: format!("{}: significance: {message}", kpi.id) };
    for name in keys.iter().chain([&cte, &column]) {
        if !identifier(name) {
            return Err(fail(format!("`{name}` is not a plain column or CTE name")));
        }
    }
    let dialect = GenericDialect {};
    let statements = Parser::parse_sql(&dialect, &kpi.sql).map_err(|e| fail(e.to_string()))?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(fail("the KPI file must hold one query to take samples from".into()));
    };
    let with = query
        .with
        .clone()
        .filter(|w| w.cte_tables.iter().any(|t| t.alias.name.value == cte))
        .ok_or_else(|| fail(format!("rank({cte}.{column}) names a CTE `{cte}` that the query's WITH clause does not define")))?;
    let columns: Vec<String> = keys.iter().map(|k| k.to_string()).chain([column.to_string()]).collect();
    // In no order: the reader keys rows by their key columns' bytes. An ORDER BY would cost a sort
    // of every sample, and on Ballista 55 a job ordered by a column that is constant in each branch
    // of a UNION ALL (problem_resolution's milestone) never finished.
    let select = format!("SELECT {} FROM {cte}", columns.join(", "));
    let mut parsed = Parser::parse_sql(&dialect, &select).map_err(|e| fail(e.to_string()))?;
    let Some(Statement::Query(mut outer)) = parsed.pop() else { unreachable!("a SELECT parses as a query") };
    outer.with = Some(with);
    Ok(outer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_query_keeps_the_ctes_and_selects_from_one() {
        let kpi = crate::kpi::catalog::builtin().unwrap().into_iter().find(|k| k.id == "mttr").unwrap();
        let sql = sample_query(&kpi, "durations", "hours", &["priority"]).unwrap();
        assert!(sql.starts_with("WITH durations AS ("), "{sql}");
        assert!(sql.ends_with("SELECT priority, hours FROM durations"), "{sql}");
        let err = sample_query(&kpi, "nope", "hours", &["priority"]).unwrap_err().to_string();
        assert!(err.contains("CTE `nope`"), "{err}");
        let err = sample_query(&kpi, "durations", "hours; DROP", &[]).unwrap_err().to_string();
        assert!(err.contains("not a plain column"), "{err}");
    }

    /// The values come sorted, in whatever order the query's rows arrive.
    #[tokio::test]
    async fn samples_come_sorted() {
        let text = "-- title: T\n-- unit: hours\n-- better: lower\n-- grain: month\n-- keys: month\n\
                    -- significance: mean_hours = mean(d.hours)\n-- definition: d.\n\
                    WITH d AS (SELECT hours FROM (VALUES (3.0), (1.0), (2.5), (2.0)) AS t(hours)) SELECT avg(hours) AS mean_hours FROM d\n";
        let kpi = Kpi::parse("x", text, "x.sql").unwrap();
        let samples = Samples::collect(&SessionContext::new(), &[kpi]).await.unwrap();
        assert_eq!(samples.get("x", "d", "hours", ""), Some(&[1.0, 2.0, 2.5, 3.0][..]));
    }
}
