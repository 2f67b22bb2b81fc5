//! The `load` command: exports into a store, a new one (`--out`) or an existing one (`--into`).

use std::io::Write;

use super::Settings;
use crate::cli::LoadArgs;
use crate::error::{Error, Result};
use crate::ingest::Profile;
use crate::ingest::profile::BUILTIN;
use crate::progress::Progress;
use crate::render;
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
    Ok(())
}
