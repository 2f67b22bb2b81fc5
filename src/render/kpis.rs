//! KPI results for people and scripts: a text table per KPI, the versioned JSON document, a long
//! CSV (`kpi,key,column,value`), or one Parquet file per KPI.

use std::io::Write;
use std::path::Path;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::{csv_error, stdout_error};
use crate::error::{Error, Result};
use crate::escape::spreadsheet_safe;
use crate::kpi::document::{EachRow, plain};
use crate::kpi::{KpiDocument, KpiOutcome, KpiParams};
use crate::write::{OutputFormat, TableWriter};

/// One text table per KPI, floats to three decimals, at most `limit` rows each (0: all).
pub fn table(params: &KpiParams, outcomes: &[KpiOutcome], limit: usize, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "KPIs for {}", params.describe()).map_err(stdout_error)?;
    for outcome in outcomes {
        let meta = &outcome.kpi.meta;
        writeln!(out, "\n{} — {} [{}; {} is better; {}]", outcome.kpi.id, meta.title, meta.unit, meta.better.word(), meta.grain).map_err(stdout_error)?;
        match &outcome.result {
            Ok(batches) => {
                let total: usize = batches.iter().map(|b| b.num_rows()).sum();
                let shown = if limit == 0 { total } else { total.min(limit) };
                let batch = concat_batches(
                    &batches.first().map(|b| b.schema()).unwrap_or_else(|| std::sync::Arc::new(datafusion::arrow::datatypes::Schema::empty())),
                    batches,
                )?;
                writeln!(out, "{}", pretty_format_batches(&[super::for_terminal(&batch.slice(0, shown), true)?])?).map_err(stdout_error)?;
                if shown < total {
                    writeln!(out, "… {} more row(s); --limit 0 shows all, --format csv or json gives every value", total - shown).map_err(stdout_error)?;
                }
            }
            Err(message) => writeln!(out, "FAILED: {message}").map_err(stdout_error)?,
        }
    }
    Ok(())
}

pub fn json<R: serde::Serialize>(document: &KpiDocument<R>, out: &mut dyn Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    writeln!(out).map_err(stdout_error)
}

/// Long CSV: one line per KPI, row key and value column. Text is neutralised against spreadsheet
/// formulas; numbers are written as JSON writes them.
pub fn csv<R: EachRow>(document: &KpiDocument<R>, out: &mut dyn Write) -> Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(["kpi", "key", "column", "value"]).map_err(csv_error)?;
    for kpi in &document.kpis {
        kpi.rows.each_row(&mut |row| {
            let key = kpi.row_key(row);
            for column in kpi.columns.iter().filter(|c| !kpi.keys.contains(&c.name)) {
                let value = row.get(&column.name).map(plain).unwrap_or_default();
                let value = if row.get(&column.name).is_some_and(|v| v.is_string()) { spreadsheet_safe(&value).into_owned() } else { value };
                writer.write_record([kpi.id.as_str(), spreadsheet_safe(&key).as_ref(), column.name.as_str(), value.as_str()]).map_err(csv_error)?;
            }
            Ok(())
        })?;
    }
    writer.flush().map_err(stdout_error)
}

/// One `<id>.parquet` per KPI in `dir`.
pub fn parquet(outcomes: &[KpiOutcome], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for outcome in outcomes {
        let Ok(batches) = &outcome.result else { continue };
        let Some(first) = batches.first() else { continue };
        let mut writer = TableWriter::create(&dir.join(format!("{}.parquet", outcome.kpi.id)), OutputFormat::Parquet, false, first.schema())?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    Ok(())
}
