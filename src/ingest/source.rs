//! Finding input files: expanding directories, assigning each file to a canonical table through
//! the profile's name patterns, choosing its reader, and opening it with transparent gzip.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Serialize;

use super::profile::{Format, Profile};
use crate::error::{Error, Result};
use crate::model::Table;

/// An input file, assigned to a table.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub table: Table,
    pub format: Format,
}

/// A file found in an input directory that feeds no table, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Expands `inputs` into source files in a stable order: inputs as given, directory contents sorted
/// by path. A file named explicitly must feed a table; a file met inside a directory that feeds
/// none is listed as skipped instead, so that READMEs and policy files can live beside the data.
pub fn discover(inputs: &[PathBuf], profile: &Profile) -> Result<(Vec<SourceFile>, Vec<Skipped>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::Usage(format!("--input {}: {e}", input.display())))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found)?;
            found.sort();
            for path in found {
                match classify(&path, profile) {
                    Ok(source) => files.push(source),
                    Err(reason) => skipped.push(Skipped { path: path.display().to_string(), reason }),
                }
            }
        } else {
            let source = classify(input, profile).map_err(|reason| Error::input(input, reason))?;
            files.push(source);
        }
    }
    if files.is_empty() {
        let patterns: Vec<String> = profile.tables.iter().map(|(t, tp)| format!("{t}: {}", tp.files.join(" "))).collect();
        return Err(Error::Usage(format!("no input file feeds any table of profile {}; file names must match one of [{}]", profile.name, patterns.join("; "))));
    }
    Ok((files, skipped))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let is_hidden = entry.file_name().to_string_lossy().starts_with('.');
        if is_hidden {
            continue;
        }
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn classify(path: &Path, profile: &Profile) -> std::result::Result<SourceFile, String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tables: Vec<(Table, &super::profile::TableProfile)> = Table::ALL
        .into_iter()
        .filter_map(|t| profile.table(t).map(|tp| (t, tp)))
        .filter(|(_, tp)| tp.files.iter().any(|p| matches_pattern(p, &name)))
        .collect();
    let (table, tp) = match tables.as_slice() {
        [] => {
            return Err(format!("the name matches no table's file patterns in profile {}", profile.name));
        }
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|(t, _)| t.name()).collect();
            return Err(format!(
                "the name matches the file patterns of several tables ({}) in profile {}; rename the file or narrow the patterns",
                names.join(", "),
                profile.name
            ));
        }
    };
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let format = match tp.format {
        Some(f) => f,
        None => Path::new(stem).extension().and_then(|e| Format::from_extension(&e.to_string_lossy())).ok_or_else(|| {
            "unknown file type: name it .csv, .tsv, .json, .ndjson, .jsonl, .parquet or .xes (optionally .gz), or set `format` in the profile's table"
                .to_string()
        })?,
    };
    Ok(SourceFile { path: path.to_path_buf(), table, format })
}

/// Case-insensitive match of a file name against a pattern with `*` (any run) and `?` (one char).
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ni));
            pi += 1;
        } else if let Some((bp, bn)) = backtrack {
            pi = bp + 1;
            ni = bn + 1;
            backtrack = Some((bp, bn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Runs `work`, a dependency decoding untrusted bytes from `path`, and turns a panic inside it into
/// an input error naming the file: a corrupt file must not take the command down.
pub fn shielded<T>(path: &Path, doing: &str, work: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        Error::input(
            path,
            format!("the decoder failed while {doing} ({}); the file is corrupt or not what its name says", crate::error::panic_message(payload.as_ref())),
        )
    })
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a file for reading, decompressing it when it starts with the gzip magic bytes, whatever
/// its name says.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&GZIP_MAGIC) { Ok(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(reader)))) } else { Ok(Box::new(reader)) }
}

/// Reads the whole (decompressed) file, for formats that need random access.
pub fn read_all(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes).map_err(|e| Error::input(path, format!("cannot decompress: {e}")))?;
    Ok(bytes)
}

/// True when the file starts with the gzip magic bytes.
pub fn is_gzip(path: &Path) -> Result<bool> {
    let mut head = [0u8; 2];
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let n = file.read(&mut head).map_err(|e| Error::io(path, e))?;
    Ok(n == 2 && head == GZIP_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches_pattern("incidents*", "Incidents.csv.gz"));
        assert!(matches_pattern("*incident*.csv", "sn_incident_2026.csv"));
        assert!(matches_pattern("cis.?sv", "cis.tsv"));
        assert!(!matches_pattern("incidents*", "problems.csv"));
        assert!(!matches_pattern("a*b", "a"));
    }
}
