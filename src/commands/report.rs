//! The `report` command: flags to settings, load with a progress spinner, then the report module.

use std::io::Write;

use super::Settings;
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
    let mut pipeline = super::open(&args.input, args.sla.as_deref(), args.rejects.as_deref(), settings, &progress, err)?;
    if let Some(service) = &args.service {
        pipeline.restrict_to_service(service)?;
    }
    progress.finish();
    let setting = Setting { kpis, tuning, pipeline: &pipeline };
    let options = ReportOptions {
        period: args.period,
        months: args.months,
        benchmark: args.benchmark.clone(),
        baseline: args.baseline.clone(),
        targets: args.targets.clone(),
        improvements: args.improvements.clone().or_else(|| {
            // A register kept with the exports is used without a flag, as sample-data/ does.
            args.input.input.iter().map(|dir| dir.join("improvements.toml")).find(|path| path.is_file())
        }),
        min_n: args.min_n,
        ticket_limit: args.ticket_limit,
        limits_from: args.limits_from,
        // Notes kept with the exports are used without a flag, like the register.
        service: args.service.clone(),
        notes: args.notes.clone().or_else(|| args.input.input.iter().map(|dir| dir.join("notes.toml")).find(|path| path.is_file())),
        out: args.out.clone(),
    };
    let written = report::generate(&setting, &options, &progress)?;
    writeln!(out, "report for {}: {}", written.period.label(), written.dir.join("report.html").display()).map_err(render::stdout_error)?;
    writeln!(out, "wrote {} files in {}", written.files.len(), written.dir.display()).map_err(render::stdout_error)
}
