//! Opening a store to query it: the manifest is checked, every data file it lists must exist with
//! its recorded size and a schema that fits the canonical model, and the tables are registered as
//! Parquet tables from the manifest's own file lists, never from a directory listing. Queries
//! stream from the files, so memory follows the query, not the data.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::logical_expr::{Expr, col, lit, when};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use datafusion::prelude::SessionContext;

use super::lock;
use super::manifest::{DataFile, Manifest, TableFiles};
use super::writer::{LOAD_COLUMN, VERSION_COLUMN};
use crate::error::{Error, Result};
use crate::ingest::PriorHistory;
use crate::model::{FieldKind, Table, UTC};

/// A store opened for reading. The readers' lock is held while it lives, so a load does not
/// delete files this reader may still open.
pub struct Store {
    pub dir: PathBuf,
    pub manifest: Manifest,
    _readers: Option<lock::Held>,
}

impl Store {
    /// Opens and checks the store in `dir`, holding its manifest generation's readers' lock.
    pub fn open(dir: &Path) -> Result<Store> {
        let (manifest, readers) = current(dir)?;
        check_files(dir, &manifest)?;
        Ok(Store { dir: dir.to_path_buf(), manifest, _readers: readers })
    }

    /// Registers every canonical table on `ctx`. With a cut-off before the data's end, each table
    /// is a view of the tickets as they stood then: rows whose existence timestamp lies after it
    /// are left out, and their other timestamps after it read as null.
    pub fn register(&self, ctx: &SessionContext, as_of: Option<i64>) -> Result<()> {
        let cut = as_of.filter(|cut| self.manifest.extent.latest.is_some_and(|latest| latest > *cut));
        for table in Table::ALL {
            let files = self.manifest.tables.get(table.name()).map(|t| t.files.as_slice()).unwrap_or_default();
            let provider = provider(ctx, &self.dir, files, table)?;
            match cut {
                None => ctx.register_table(table.name(), provider)?,
                Some(cut) => {
                    let frame = ctx.read_table(provider)?;
                    ctx.register_table(table.name(), as_it_stood(frame, table, cut)?.into_view())?
                }
            };
        }
        if let Some(cut) = cut {
            self.rederive(ctx, cut)?;
        }
        Ok(())
    }

    /// Event-log tables with a cut-off: a stored ticket was derived from its whole history, so
    /// its state, priority, milestones and reopen count may be those of later events. As it stood
    /// at the cut-off, it is derived again from the events up to it, and so are its status changes.
    fn rederive(&self, ctx: &SessionContext, cut: i64) -> Result<()> {
        if self.manifest.histories.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(super::manifest::profile_file(&self.manifest.profile));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let profile = crate::ingest::Profile::parse(&text, &self.manifest.profile.name)?;
        let mut changes = Vec::new();
        for (name, files) in &self.manifest.histories {
            let table = Table::from_name(name)
                .ok_or_else(|| Error::store(Manifest::path(&self.dir), format!("the manifest lists a history of an unknown table `{name}`")))?;
            let mut history = Vec::new();
            for file in &files.files {
                history.extend(read_file(&self.dir.join(&file.path), None)?);
            }
            let (tickets, table_changes) = crate::ingest::rederive(&profile, table, history, Some(cut), &self.dir.join("history").join(name))?;
            ctx.deregister_table(table.name())?;
            ctx.register_table(table.name(), Arc::new(MemTable::try_new(table.schema(), vec![tickets])?))?;
            changes.extend(table_changes);
        }
        ctx.deregister_table(Table::Events.name())?;
        ctx.register_table(Table::Events.name(), Arc::new(MemTable::try_new(Table::Events.schema(), vec![changes])?))?;
        Ok(())
    }
}

/// The store's current manifest, with its generation's readers' lock held: while the lock is
/// held, no load deletes a file the manifest lists.
pub fn current(dir: &Path) -> Result<(Manifest, Option<lock::Held>)> {
    let mut manifest = Manifest::read(dir)?;
    loop {
        let readers = lock::read(dir, manifest.generation);
        // A load that switched between the read and the lock may already be deleting the files
        // this manifest lists: read the new one.
        let again = Manifest::read(dir)?;
        if again.generation == manifest.generation {
            return Ok((manifest, readers));
        }
        manifest = again;
    }
}

impl Store {
    /// What the loads that made the store did, file by file, as a load summary (for reports).
    pub fn summary(&self) -> crate::ingest::LoadSummary {
        use crate::ingest::summary::{FileCounts, LoadSummary, SUMMARY_VERSION};
        let m = &self.manifest;
        let mut summary = LoadSummary {
            summary_version: SUMMARY_VERSION,
            profile: m.profile.name.clone(),
            as_of: m.cut_off.map(crate::time::rfc3339),
            files: m.sources.iter().map(|s| FileCounts { path: s.path.clone(), table: s.table.clone(), format: s.format, counts: s.counts }).collect(),
            tables: Default::default(),
            rejects_by_reason: Default::default(),
            skipped: Vec::new(),
            derived_events: 0,
            clamped: Default::default(),
            pause_states: m.pause_states.clone(),
            absent_columns: m.loads.iter().flat_map(|l| l.absent_columns.iter().cloned()).collect(),
        };
        for load in &m.loads {
            for (reason, n) in &load.rejects_by_reason {
                *summary.rejects_by_reason.entry(reason.clone()).or_default() += n;
            }
            for (milestone, n) in &load.clamped {
                *summary.clamped.entry(milestone.clone()).or_default() += n;
            }
        }
        summary.finish();
        summary
    }
}

/// A table provider over exactly `files` of `table` (an empty table when there are none).
pub fn provider(ctx: &SessionContext, store: &Path, files: &[DataFile], table: Table) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let schema = table.schema();
    if files.is_empty() {
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let urls = files.iter().map(|f| file_url(&store.join(&f.path))).collect::<Result<Vec<_>>>()?;
    let mut parquet = ctx.copied_table_options().parquet;
    if table == Table::Events {
        // The events are read for the few state changes into a pause state (a fortieth of them
        // in the generated data): filtered while decoding, the other columns of the rows left
        // out are never decoded. Not for the other tables, whose KPIs keep most rows and would
        // only pay for the filter twice.
        parquet.global.pushdown_filters = true;
        parquet.global.reorder_filters = true;
    }
    let format = ParquetFormat::default().with_options(parquet);
    let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// A URL for one file. The path is made absolute and taken as a file URL, so that characters a
/// glob would read (`*`, `?`, `[`) in the store's own path stay literal.
fn file_url(path: &Path) -> Result<ListingTableUrl> {
    let absolute = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
    let url = url::Url::from_file_path(&absolute).map_err(|()| Error::store(path, "not a path a URL can name"))?;
    Ok(ListingTableUrl::try_new(url, None)?)
}

/// `frame` as it stood at `cut`.
fn as_it_stood(frame: datafusion::dataframe::DataFrame, table: Table, cut: i64) -> Result<datafusion::dataframe::DataFrame> {
    let instant = |v: Option<i64>| lit(ScalarValue::TimestampMicrosecond(v, Some(UTC.into())));
    let existence = table.existence_field();
    let frame = match existence {
        Some(field) => frame.filter(col(field).lt_eq(instant(Some(cut))))?,
        None => frame,
    };
    let columns: Vec<Expr> = table
        .fields()
        .iter()
        .map(|f| {
            if f.kind == FieldKind::Timestamp && f.happened && existence != Some(f.name) {
                Ok(when(col(f.name).gt(instant(Some(cut))), instant(None)).otherwise(col(f.name))?.alias(f.name))
            } else {
                Ok(col(f.name))
            }
        })
        .collect::<Result<_>>()?;
    Ok(frame.select(columns)?)
}

/// Every listed file exists with its recorded size, and its columns fit the canonical model: a
/// canonical column has its canonical type, a required one is present, and an absent nullable
/// one (from an older model version) reads as null.
fn check_files(dir: &Path, manifest: &Manifest) -> Result<()> {
    for (name, files) in &manifest.tables {
        let table = Table::from_name(name).ok_or_else(|| Error::store(Manifest::path(dir), format!("the manifest lists an unknown table `{name}`")))?;
        let canonical = table.schema();
        for file in &files.files {
            let path = dir.join(&file.path);
            let meta = std::fs::metadata(&path).map_err(|_| {
                Error::store(&path, "the manifest lists this data file, but it is missing; the store is damaged: load its exports again into a new store with `mttx load --out`")
            })?;
            if meta.len() != file.bytes {
                return Err(Error::store(&path, format!("the manifest records {} bytes, and the file has {}; the store is damaged", file.bytes, meta.len())));
            }
            let schema = file_schema(&path)?;
            check_schema(&path, table, &canonical, &schema)?;
        }
    }
    for files in manifest.histories.values() {
        for file in &files.files {
            let path = dir.join(&file.path);
            if !path.is_file() {
                return Err(Error::store(&path, "the manifest lists this history file, but it is missing; the store is damaged"));
            }
        }
    }
    Ok(())
}

pub(super) fn file_schema(path: &Path) -> Result<SchemaRef> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|e| Error::store(path, format!("not a readable Parquet file: {e}")))?;
    Ok(meta.schema().clone())
}

pub(super) fn check_schema(path: &Path, table: Table, canonical: &Schema, found: &Schema) -> Result<()> {
    for field in canonical.fields() {
        match found.field_with_name(field.name()) {
            Ok(f) if f.data_type() == field.data_type() => {}
            Ok(f) => {
                return Err(Error::store(
                    path,
                    format!("column `{}` of {table} is {} in this file, and the canonical model says {}", field.name(), f.data_type(), field.data_type()),
                ));
            }
            Err(_) if !field.is_nullable() => {
                return Err(Error::store(path, format!("the required column `{}` of {table} is missing from this file", field.name())));
            }
            Err(_) => {}
        }
    }
    for f in found.fields() {
        let known = canonical.field_with_name(f.name()).is_ok() || [VERSION_COLUMN, LOAD_COLUMN].contains(&f.name().as_str());
        if !known {
            return Err(Error::store(path, format!("column `{}` is not a column of {table} in the canonical model", f.name())));
        }
    }
    Ok(())
}

/// Reads whole data files (all columns, or the named ones).
pub fn read_file(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    read_batches(path, columns)?.collect()
}

/// The batches of a data file (all columns, or the named ones), read as they are asked for.
pub fn read_batches(path: &Path, columns: Option<&[&str]>) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let builder = open_file(path)?;
    let builder = match columns {
        Some(names) => {
            let mask = projection(path, &builder, names)?;
            builder.with_projection(mask)
        }
        None => builder,
    };
    let reader = builder.build().map_err(|e| Error::store(path, e.to_string()))?;
    let path = path.to_path_buf();
    Ok(reader.map(move |b| b.map_err(|e| Error::store(&path, e.to_string()))))
}

/// A reader of one data file, its footer read.
pub(super) fn open_file(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::store(path, format!("not a readable Parquet file: {e}")))
}

/// The projection of the named columns of the file `builder` reads.
pub(super) fn projection(path: &Path, builder: &ParquetRecordBatchReaderBuilder<std::fs::File>, names: &[&str]) -> Result<ProjectionMask> {
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = names
        .iter()
        .map(|n| (0..schema.num_columns()).find(|&i| schema.column(i).name() == *n).ok_or_else(|| Error::store(path, format!("no column `{n}`"))))
        .collect::<Result<_>>()?;
    Ok(ProjectionMask::leaves(schema, indices))
}

/// The status histories of a store, for loads into it.
pub struct StoredHistory<'a> {
    pub dir: &'a Path,
    pub manifest: &'a Manifest,
}

impl PriorHistory for StoredHistory<'_> {
    fn events_of(&self, table: Table, schema: &SchemaRef, cases: &HashSet<String>) -> Result<Vec<RecordBatch>> {
        let Some(files) = self.manifest.histories.get(table.name()) else { return Ok(Vec::new()) };
        let other_rules = |path: &Path| {
            Error::store(
                path,
                format!(
                    "the stored status history of {table} was extracted with other event-log rules than this profile's; load the exports again into a new store with `mttx load --out`"
                ),
            )
        };
        // Checked on the footer of one file even when the load reads none: a history's files
        // share one schema, and a file of another would make its later reads fail.
        if let Some(first) = files.files.first() {
            let path = self.dir.join(&first.path);
            if file_schema(&path)?.fields() != schema.fields() {
                return Err(other_rules(&path));
            }
        }
        let mut sought: Vec<&str> = cases.iter().map(String::as_str).collect();
        sought.sort_unstable();
        let mut out = Vec::new();
        for file in files.files.iter().filter(|f| f.may_hold_any("case_id", &sought)) {
            let path = self.dir.join(&file.path);
            for batch in read_file(&path, None)? {
                if batch.schema().fields() != schema.fields() {
                    return Err(other_rules(&path));
                }
                let ids = batch.column_by_name("case_id").expect("checked schema").as_string::<i32>();
                let keep: datafusion::arrow::array::BooleanArray = (0..batch.num_rows()).map(|r| Some(cases.contains(ids.value(r)))).collect();
                let kept = datafusion::arrow::compute::filter_record_batch(&batch, &keep)?;
                if kept.num_rows() > 0 {
                    out.push(RecordBatch::try_new(schema.clone(), kept.columns().to_vec())?);
                }
            }
        }
        Ok(out)
    }
}

/// Rows of a table's files, for counting.
pub fn total_rows(files: &TableFiles) -> u64 {
    files.files.iter().map(|f| f.rows).sum()
}

/// Types that a stored column may have, for messages.
pub fn describe(data_type: &DataType) -> String {
    data_type.to_string()
}
