//! The one road from input to KPI results, for every command, the golden cases and the benches.
//!
//! `Pipeline::open` takes a store (read in place, from its manifest's files) or raw exports
//! (loaded into memory through a profile) and registers the canonical tables once. It also holds
//! the SLA policy, with the source's pause states added, the data's extent, and what the load did.
//! The cut-off is resolved once, when the input opens; `params` resolves a period against it and
//! the extent. `session` gives a session for one period
//! (tables shared, functions and parameter tables registered), and `run` runs KPIs on it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionContext;

use crate::engine::{self, Engine, MemoryLimit};
use crate::error::{Error, Result};
use crate::ingest::{self, LoadOptions, LoadSummary, MemorySink, Profile, RejectsCsv};
use crate::kpi::document::Provenance;
use crate::kpi::params::resolve_in;
use crate::kpi::{self, Kpi, KpiOutcome, KpiParams, PeriodRequest, SlaPolicy, Tuning};
use crate::progress::Progress;
use crate::store::extent::Extent;
use crate::store::{self, Store};

/// What to open and how.
pub struct Open<'a> {
    /// Export files and directories, or one store directory.
    pub inputs: &'a [PathBuf],
    /// The mapping profile of raw exports (a store records its own).
    pub profile: &'a str,
    pub timezone: Tz,
    /// The cut-off: each ticket as it stood then. None: the data's latest timestamp.
    pub as_of: Option<i64>,
    /// An SLA policy file; None: the built-in policy.
    pub sla: Option<&'a Path>,
    /// Where to list the rows rejected while loading raw exports.
    pub rejects: Option<&'a Path>,
    /// What the queries' operators may hold, all sessions together.
    pub memory_limit: MemoryLimit,
    /// Where the queries run.
    pub engine: Engine,
}

/// Where the data came from.
pub enum Origin {
    Store(Box<Store>),
    Exports,
}

pub struct Pipeline {
    /// The canonical tables, registered once; sessions share them.
    base: SessionContext,
    /// The canonical tables on the engine: `base` itself, or a client session of the cluster.
    tables: SessionContext,
    engine: Engine,
    pub policy: SlaPolicy,
    pub extent: Extent,
    /// What loading did: for exports this run's load, for a store every load it holds.
    pub load: LoadSummary,
    pub timezone: Tz,
    /// The cut-off, resolved once from `--as-of` and the extent; the error says why there is none.
    cut_off: std::result::Result<i64, String>,
    pub origin: Origin,
    runtime: Arc<tokio::runtime::Runtime>,
    /// DataFusion's runtime, with the memory pool every session shares.
    env: Arc<RuntimeEnv>,
}

/// The threads and the memory pool a pipeline runs on, which several pipelines may share: a
/// server opens one pipeline per manifest generation of its store, under one memory limit.
#[derive(Clone)]
pub struct Shared {
    pub runtime: Arc<tokio::runtime::Runtime>,
    pub env: Arc<RuntimeEnv>,
}

impl Shared {
    pub fn new(memory_limit: MemoryLimit) -> Result<Shared> {
        Ok(Shared { runtime: Arc::new(engine::runtime()?), env: memory_limit.runtime_env()? })
    }
}

impl Pipeline {
    /// Reads the SLA policy first (a bad file fails before the load), then opens the input.
    pub fn open(spec: &Open, progress: &Progress, notes: &mut dyn Write) -> Result<Pipeline> {
        Self::open_on(spec, Shared::new(spec.memory_limit)?, progress, notes)
    }

    /// `open`, on threads and a memory pool shared with other pipelines.
    pub fn open_on(spec: &Open, shared: Shared, progress: &Progress, notes: &mut dyn Write) -> Result<Pipeline> {
        let mut policy = match spec.sla {
            Some(path) => SlaPolicy::load(path)?,
            None => SlaPolicy::default_policy()?,
        };
        if let Engine::Ballista { scheduler } = &spec.engine {
            if !cfg!(feature = "ballista") {
                return Err(without_ballista(scheduler));
            }
            if !store::is_store(spec.inputs) {
                return Err(Error::Usage(format!(
                    "--engine ballista://{scheduler}: the executors read the canonical store, which raw exports are not; load them first with `mttx load --out STORE` on storage every executor can read (the same path on every node), then pass --input STORE"
                )));
            }
        }
        let Shared { runtime, env } = shared;
        let base = engine::session_in(spec.timezone.name(), env.clone());
        let (origin, load, extent) = if store::is_store(spec.inputs) {
            if let Some(path) = spec.rejects {
                return Err(Error::Usage(format!(
                    "--rejects {}: a store keeps each load's rejects in its loads/NNNNNN/rejects.csv; --rejects applies to raw exports",
                    path.display()
                )));
            }
            let store = Store::open(&spec.inputs[0])?;
            store.register(&base, spec.as_of)?;
            let load = store.summary();
            let extent = store.manifest.extent.clone();
            (Origin::Store(Box::new(store)), load, extent)
        } else {
            let (tables, load) = load_exports(spec, progress, notes)?;
            engine::register(&base, tables)?;
            let extent = engine::within_limit(runtime.block_on(Extent::scan(&base)), "reading the data's first and last timestamps", spec.memory_limit)?;
            (Origin::Exports, load, extent)
        };
        policy.add_source_pause_states(&load.pause_states);
        let tables = match spec.engine {
            Engine::Local => base.clone(),
            Engine::Ballista { .. } => runtime.block_on(with_tables(&spec.engine, spec.timezone, env.clone(), &base))?,
        };
        let cut_off = extent.cut_off(spec.as_of, spec.timezone).map_err(|e| match e {
            Error::Usage(message) => message,
            other => other.to_string(),
        });
        Ok(Pipeline { base, tables, engine: spec.engine.clone(), policy, extent, load, timezone: spec.timezone, cut_off, origin, runtime, env })
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The session with the canonical tables only, for SQL of the user's own.
    pub fn tables(&self) -> &SessionContext {
        &self.tables
    }

    /// Narrows every canonical table to the records of one service (see `engine::scope`), for a
    /// service owner's pack; returns the service's incidents. The local engine only: a cluster
    /// reads the store's files, not views of them.
    pub fn restrict_to_service(&mut self, service: &str) -> Result<u64> {
        if let Engine::Ballista { scheduler } = &self.engine {
            return Err(Error::Usage(format!("--service {service}: a pack for one service runs on the local engine; drop --engine ballista://{scheduler}")));
        }
        let scope = self.runtime.block_on(engine::scope::restrict_to_service(&self.base, service))?;
        Ok(scope.incidents)
    }

    /// The cut-off: `--as-of`, else the data's latest timestamp (see `Extent::cut_off`).
    pub fn cut_off(&self) -> Result<i64> {
        self.cut_off.clone().map_err(Error::Usage)
    }

    /// What the run's values depend on besides the data and the KPIs' SQL: the SLA policy.
    pub fn provenance(&self) -> Provenance {
        Provenance { sla_policy_sha256: Some(self.policy.sha256.clone()), targets_sha256: None }
    }

    /// The window and parameters of a period of this data.
    pub fn params(&self, request: PeriodRequest, tuning: Tuning) -> Result<KpiParams> {
        resolve_in(&self.extent, request, self.cut_off()?, self.timezone, tuning)
    }

    /// A session for one period: the canonical tables shared (not copied), the KPI functions,
    /// the SLA tables and the period's parameter tables registered.
    pub async fn session(&self, params: &KpiParams) -> Result<SessionContext> {
        let ctx = with_tables(&self.engine, self.timezone, self.env.clone(), &self.base).await?;
        kpi::register(&ctx, params, &self.policy).await?;
        Ok(ctx)
    }

    /// A session with the canonical tables, mttx's functions for `params`' window and the SLA
    /// policy's tables, without the parameter tables: for SQL of the user's own.
    pub async fn functions_session(&self, params: &KpiParams) -> Result<SessionContext> {
        let ctx = with_tables(&self.engine, self.timezone, self.env.clone(), &self.base).await?;
        kpi::register_functions(&ctx, params, &self.policy)?;
        Ok(ctx)
    }

    /// Runs `kpis` for one period, all at once, or one at a time under a tight memory limit (see
    /// `kpi::run::run_within_memory`); a failing query does not stop the others.
    pub fn run(&self, params: &KpiParams, kpis: Vec<Kpi>) -> Result<Vec<KpiOutcome>> {
        self.runtime.block_on(async {
            let ctx = self.session(params).await?;
            Ok(kpi::run::run_within_memory(&ctx, kpis).await)
        })
    }
}

/// A session on `engine` (local, or a client of the cluster) with `base`'s canonical tables
/// shared, not copied.
async fn with_tables(engine: &Engine, timezone: Tz, env: Arc<RuntimeEnv>, base: &SessionContext) -> Result<SessionContext> {
    let ctx = match engine {
        Engine::Local => engine::session_in(timezone.name(), env),
        #[cfg(feature = "ballista")]
        Engine::Ballista { scheduler } => crate::engine::ballista::cluster::client_session(scheduler, timezone.name(), env).await?,
        #[cfg(not(feature = "ballista"))]
        Engine::Ballista { scheduler } => return Err(without_ballista(scheduler)),
    };
    engine::share_tables(base, &ctx).await?;
    Ok(ctx)
}

/// The error of a build without the cargo feature `ballista` asked to query a cluster.
fn without_ballista(scheduler: &str) -> Error {
    Error::Usage(format!("--engine ballista://{scheduler}: this mttx was built without Ballista; build it with `cargo build --release --features ballista`"))
}

/// Loads raw exports into memory, and reports rejects on `notes`, so nothing is dropped unseen.
fn load_exports(spec: &Open, progress: &Progress, notes: &mut dyn Write) -> Result<(MemorySink, LoadSummary)> {
    let profile = Profile::resolve(spec.profile)?;
    let mut tables = MemorySink::default();
    let mut rejects = match spec.rejects {
        Some(path) => RejectsCsv::create(path)?,
        None => RejectsCsv::discard(),
    };
    let options = LoadOptions { as_of: spec.as_of, first_file: 0 };
    let (files, skipped) = ingest::source::discover(spec.inputs, &profile)?;
    let summary = ingest::load_with_history(&files, skipped, &profile, &options, &mut tables, &mut rejects, None, progress)?;
    progress.finish();
    rejects.finish()?;
    let total = summary.total();
    if total.rejected > 0 {
        let reasons: Vec<String> = summary.rejects_by_reason.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let hint = match spec.rejects {
            Some(p) => format!("listed in {}", p.display()),
            None => "list them with --rejects FILE or `mttx load`".to_string(),
        };
        let _ = writeln!(notes, "mttx: loaded {} row(s), rejected {} ({}); {hint}", total.loaded, total.rejected, reasons.join(", "));
    }
    for absent in &summary.absent_columns {
        let _ = writeln!(notes, "mttx: {}", absent.describe());
    }
    Ok((tables, summary))
}
