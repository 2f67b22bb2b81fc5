//! `mttx verify STORE`: every file the manifest lists, checked against it (present, its size, its
//! SHA-256, a readable Parquet footer, a schema that fits the canonical model, its row count), the
//! tables' totals, the profile and the loads' records; and the files no manifest lists.

use std::collections::HashSet;
use std::path::Path;

use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;

use super::hash::file_sha256;
use super::manifest::{DataFile, profile_file};
use super::reader::{check_schema, current};
use super::writer::{LOAD_COLUMN, VERSION_COLUMN};
use crate::error::Result;
use crate::model::Table;
use crate::progress::Progress;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    pub generation: u64,
    pub files: u64,
    /// Rows and bytes of the files checked, as the manifest records them.
    pub recorded_rows: u64,
    pub recorded_bytes: u64,
    /// Files whose SHA-256 was compared with the manifest's.
    pub hashed: u64,
    /// Files written before mttx recorded hashes: decoded in full instead.
    pub decoded: u64,
    pub damage: Vec<Damage>,
    /// Files under data/ and history/ that the manifest does not list: what a running load is
    /// writing, or what an interrupted one left, which the next load or compaction deletes.
    pub unlisted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Relative to the store.
    pub path: String,
    pub problem: String,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.damage.is_empty()
    }
}

enum Checked {
    Hashed,
    Decoded,
}

/// Checks the store in `store` against its manifest. An unreadable manifest is an error; damage
/// to anything it lists is reported, file by file.
pub fn verify(store: &Path, progress: &Progress) -> Result<Verification> {
    // Held while checking, so that no load deletes a listed file meanwhile.
    let (manifest, _readers) = current(store)?;
    let mut found = Verification { generation: manifest.generation, ..Verification::default() };
    let in_manifest = |problem: String| Damage { path: super::manifest::FILE_NAME.into(), problem };
    let mut listed: Vec<(Option<Table>, &DataFile)> = Vec::new();
    let datasets = manifest.tables.iter().map(|(name, files)| (name.clone(), Table::from_name(name), files));
    let datasets = datasets.chain(manifest.histories.iter().map(|(name, files)| (format!("history/{name}"), None, files)));
    for (name, table, files) in datasets {
        if table.is_none() && !name.starts_with("history/") {
            found.damage.push(in_manifest(format!("lists an unknown table `{name}`")));
        }
        let sum: u64 = files.files.iter().map(|f| f.rows).sum();
        if sum != files.rows {
            found.damage.push(in_manifest(format!("{name} totals {} rows, and its files hold {sum}", files.rows)));
        }
        listed.extend(files.files.iter().map(|f| (table, f)));
    }
    let mut seen = HashSet::new();
    for (_, file) in &listed {
        if !seen.insert(file.path.as_str()) {
            found.damage.push(in_manifest(format!("lists {} twice", file.path)));
        }
    }
    progress.stage("verifying files", listed.len() as u64);
    let results: Vec<(Result<Checked, String>, &DataFile)> = listed
        .par_iter()
        .map(|(table, file)| {
            let result = check_file(store, *table, file);
            progress.advance();
            (result, *file)
        })
        .collect();
    progress.finish();
    for (result, file) in results {
        found.files += 1;
        found.recorded_rows += file.rows;
        found.recorded_bytes += file.bytes;
        match result {
            Ok(Checked::Hashed) => found.hashed += 1,
            Ok(Checked::Decoded) => found.decoded += 1,
            Err(problem) => found.damage.push(Damage { path: file.path.clone(), problem }),
        }
    }
    let profile = profile_file(&manifest.profile);
    let profile_path = store.join(&profile);
    match file_sha256(&profile_path) {
        Ok(hash) if hash == manifest.profile.sha256 => {}
        Ok(hash) => {
            found.damage.push(Damage { path: profile, problem: format!("its SHA-256 is {hash}, and the manifest records {}", manifest.profile.sha256) })
        }
        Err(_) if !profile_path.exists() => {
            found.damage.push(Damage { path: profile, problem: "missing: the manifest records the profile the store was loaded with".into() })
        }
        Err(e) => found.damage.push(Damage { path: profile, problem: format!("cannot be read: {e}") }),
    }
    for load in &manifest.loads {
        if !load.reconciles() {
            found.damage.push(in_manifest(format!(
                "load {} does not reconcile: read {} ≠ inserted {} + replaced {} + merged {} + rejected {}",
                load.generation, load.read, load.inserted, load.replaced, load.merged, load.rejected
            )));
        }
        if !store.join(&load.rejects).is_file() {
            found.damage.push(Damage { path: load.rejects.clone(), problem: format!("missing: the rejects of load {}", load.generation) });
        }
    }
    let unlisted = super::tidy::unlisted(store, &manifest, &["data", "history"])?;
    found.unlisted = unlisted.iter().map(|p| p.strip_prefix(store).unwrap_or(p).to_string_lossy().replace('\\', "/")).collect();
    found.unlisted.sort();
    Ok(found)
}

/// One listed file against its record: present, its size, its hash (or, with none recorded, every
/// page decoded), its footer's schema and row count.
fn check_file(store: &Path, table: Option<Table>, file: &DataFile) -> std::result::Result<Checked, String> {
    let path = store.join(&file.path);
    let meta = std::fs::metadata(&path).map_err(|_| "missing".to_string())?;
    if meta.len() != file.bytes {
        return Err(format!("{} bytes on disk, and the manifest records {}", meta.len(), file.bytes));
    }
    let handle = std::fs::File::open(&path).map_err(|e| format!("cannot be read: {e}"))?;
    let footer = ArrowReaderMetadata::load(&handle, ArrowReaderOptions::default()).map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let footer_rows = footer.metadata().file_metadata().num_rows();
    if u64::try_from(footer_rows).ok() != Some(file.rows) {
        return Err(format!("its footer counts {footer_rows} rows, and the manifest records {}", file.rows));
    }
    if let Some(table) = table {
        check_schema(&path, table, &table.schema(), footer.schema()).map_err(|e| schema_problem(&e))?;
        // A load merging into the table needs the hidden columns that say which version a row is.
        for hidden in [VERSION_COLUMN, LOAD_COLUMN] {
            if footer.schema().field_with_name(hidden).is_err() {
                return Err(format!("the hidden column `{hidden}` that loads merge by is missing"));
            }
        }
    }
    match &file.sha256 {
        Some(recorded) => {
            let hash = file_sha256(&path).map_err(|e| format!("cannot be read: {e}"))?;
            if &hash != recorded {
                return Err(format!("its SHA-256 is {hash}, and the manifest records {recorded}"));
            }
            Ok(Checked::Hashed)
        }
        None => {
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(handle, footer).build().map_err(|e| format!("cannot be decoded: {e}"))?;
            let mut rows = 0u64;
            for batch in reader {
                rows += batch.map_err(|e| format!("cannot be decoded: {e}"))?.num_rows() as u64;
            }
            if rows != file.rows {
                return Err(format!("decodes to {rows} rows, and the manifest records {}", file.rows));
            }
            Ok(Checked::Decoded)
        }
    }
}

/// The message of a schema error without the path, which the report gives already.
fn schema_problem(error: &crate::Error) -> String {
    match error {
        crate::Error::Store { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
