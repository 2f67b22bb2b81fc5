//! The commands that change or check a store: `load` exports into a new one (`--out`) or an
//! existing one (`--into`), `compact` it, `verify` it.

use std::io::Write;

use super::{Settings, Status};
use crate::cli::{LoadArgs, StoreArgs};
use crate::error::{Error, Result};
use crate::ingest::Profile;
use crate::ingest::profile::BUILTIN;
use crate::progress::Progress;
use crate::render;
use crate::store::manifest::TableCompaction;
use crate::store::{self, LoadRequest, Manifest, Mode};

pub fn load(args: &LoadArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let (dir, mode) = match (&args.out, &args.into) {
        (Some(dir), _) => (dir, Mode::Out { replace: args.replace }),
        (None, Some(dir)) => (dir, Mode::Into { profile_change: args.profile_change }),
        (None, None) => unreachable!("clap requires --out or --into"),
    };
    let profile_name = match (&args.input.profile, mode) {
        (Some(name), _) => name.clone(),
        // Into a store without --profile: the store's own, when it is a built-in one.
        (None, Mode::Into { .. }) if Manifest::exists(dir) => {
            let manifest = Manifest::read(dir)?;
            if !BUILTIN.iter().any(|(n, _)| *n == manifest.profile.name) {
                return Err(Error::Usage(format!("the store was loaded with the profile file {}; give it again with --profile", manifest.profile.name)));
            }
            manifest.profile.name
        }
        (None, _) => "canonical".into(),
    };
    let (profile, text) = Profile::resolve_with_text(&profile_name)?;
    let request = LoadRequest { inputs: &args.input.input, profile: &profile, profile_text: &text, as_of: settings.as_of, mode, strict: args.strict };
    let progress = Progress::for_stderr();
    let outcome = store::load::load(dir, &request, &progress, err)?;
    write!(out, "{}", outcome.summary.render_text()).map_err(render::stdout_error)?;
    let r = &outcome.record;
    writeln!(
        out,
        "load {} into {}: read {} = inserted {} + replaced {} + merged {} + rejected {}",
        r.generation,
        dir.display(),
        r.read,
        r.inserted,
        r.replaced,
        r.merged,
        r.rejected
    )
    .map_err(render::stdout_error)?;
    if r.rejected > 0 {
        writeln!(out, "rejects: {}", dir.join(&r.rejects).display()).map_err(render::stdout_error)?;
    }
    let rows: Vec<String> = outcome.manifest.tables.iter().map(|(t, f)| format!("{t} {}", f.rows)).collect();
    writeln!(out, "the store holds {}", rows.join(", ")).map_err(render::stdout_error)?;
    for (table, t) in &outcome.compacted.tables {
        writeln!(out, "compacted {}", compaction(table, t)).map_err(render::stdout_error)?;
    }
    Ok(())
}

/// What compaction did to one table: `incidents: 24 files → 2, 2400000 rows rewritten`.
fn compaction(table: &str, t: &TableCompaction) -> String {
    format!("{table}: {} files → {}, {} rows rewritten", t.files_before, t.files_after, t.rows_rewritten)
}

/// `mttx compact STORE`: what each table's files became.
pub fn compact(args: &StoreArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let started = std::time::Instant::now();
    let outcome = store::compact::compact(&args.store, &Progress::for_stderr(), err)?;
    let mut say = |line: String| writeln!(out, "{line}").map_err(render::stdout_error);
    if outcome.described > 0 {
        say(format!("recorded the SHA-256, key ranges and stamps of {} files written by an earlier mttx", outcome.described))?;
    }
    let Some(record) = outcome.record else {
        let files: Vec<String> = outcome.manifest.tables.iter().map(|(t, f)| format!("{t} {}", f.files.len())).collect();
        return say(format!("nothing to compact in {}: no two part-filled files to merge (files: {})", args.store.display(), files.join(", ")));
    };
    say(format!("compacted {} as generation {} in {:.1} s:", args.store.display(), record.generation, started.elapsed().as_secs_f64()))?;
    for (table, t) in &record.tables {
        say(format!("  {}", compaction(table, t)))?;
    }
    Ok(())
}

/// `mttx verify STORE`: damage file by file, then the totals; `Failure` when anything is damaged.
pub fn verify(args: &StoreArgs, out: &mut dyn Write) -> Result<Status> {
    let found = store::verify::verify(&args.store, &Progress::for_stderr())?;
    let mut say = |line: String| writeln!(out, "{line}").map_err(render::stdout_error);
    for damage in &found.damage {
        say(format!("damaged: {}: {}", damage.path, damage.problem))?;
    }
    let mut checked = format!("{} hashes match", found.hashed);
    if found.decoded > 0 {
        checked.push_str(&format!(", {} files without a recorded hash decoded in full", found.decoded));
    }
    say(format!(
        "checked {} files of generation {} ({} rows, {} bytes) against the manifest: {checked}",
        found.files, found.generation, found.recorded_rows, found.recorded_bytes
    ))?;
    if !found.unlisted.is_empty() {
        say(format!(
            "{} files the manifest does not list (being written by a running load, or left by an interrupted one, which the next load or compaction deletes): {}",
            found.unlisted.len(),
            found.unlisted.join(", ")
        ))?;
    }
    if found.intact() {
        say(format!("{} is intact", args.store.display()))?;
        Ok(Status::Success)
    } else {
        say(format!("{}: {} problems found; the files named are damaged", args.store.display(), found.damage.len()))?;
        Ok(Status::Failure)
    }
}
