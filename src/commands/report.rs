//! The `report` command: flags to settings, load with a progress spinner, then the report module.

use std::io::Write;

use super::{Loaded, Settings, load_for_kpis};
use crate::cli::ReportArgs;
use crate::error::Result;
use crate::kpi;
use crate::progress::Progress;
use crate::render;
use crate::report::{self, ReportOptions, Setting};

pub fn report(args: &ReportArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let kpis = kpi::select(args.queries.as_deref(), &[])?;
    let tuning = super::tuning(&args.tuning);
    let progress = Progress::for_stderr();
    progress.stage("loading", 0);
    let Loaded { ctx, policy, summary } = load_for_kpis(&args.input, args.sla.as_deref(), args.rejects.as_deref(), settings, err)?;
    progress.finish();
    let setting = Setting { kpis, policy: &policy, tuning, as_of: settings.as_of, timezone: settings.timezone, load: &summary };
    let options = ReportOptions {
        period: args.period,
        months: args.months,
        benchmark: args.benchmark.clone(),
        baseline: args.baseline.clone(),
        targets: args.targets.clone(),
        out: args.out.clone(),
    };
    let written = report::generate(&ctx, &setting, &options, &progress)?;
    writeln!(out, "report for {}: {}", written.period.label(), written.dir.join("report.html").display()).map_err(render::stdout_error)?;
    writeln!(out, "wrote {} files in {}", written.files.len(), written.dir.display()).map_err(render::stdout_error)
}
