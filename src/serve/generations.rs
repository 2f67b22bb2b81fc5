//! The store as the server sees it, one manifest generation at a time. Each generation is opened
//! whole (its readers' lock held, its tables, functions and KPI tables registered) and shared by
//! the queries planned on it; a query keeps its generation until its last batch. When a load
//! switches the manifest, the next query (or the once-a-second check) opens the new generation,
//! and the old one closes, releasing its lock, when its last query ends.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono_tz::Tz;
use datafusion::prelude::SessionContext;

use super::{Log, kpi_tables};
use crate::engine::{Engine, MemoryLimit};
use crate::error::{Error, Result};
use crate::kpi::{self, Kpi, PeriodRequest, Tuning};
use crate::pipeline::{Open, Origin, Pipeline, Shared};
use crate::progress::Progress;
use crate::store::Manifest;
use crate::time::YearMonth;

/// What each generation is opened with.
#[derive(Clone)]
pub struct Opening {
    pub store: PathBuf,
    pub timezone: Tz,
    pub sla: Option<PathBuf>,
    pub memory_limit: MemoryLimit,
}

/// One manifest generation, open for queries.
pub struct Generation {
    pub number: u64,
    /// The session queries are planned on: the canonical tables, mttx's functions, the SLA
    /// tables and the KPI tables.
    pub ctx: SessionContext,
    /// The month the KPI views show: the latest month whose last day the data reaches.
    pub period: YearMonth,
    /// Holds the store open, its readers' lock with it, for as long as a query uses it.
    _pipeline: Arc<Pipeline>,
}

pub struct Generations {
    opening: Opening,
    shared: Shared,
    kpis: Vec<Kpi>,
    current: RwLock<Arc<Generation>>,
    switching: tokio::sync::Mutex<()>,
    log: Log,
}

impl Generations {
    pub async fn open(opening: Opening, shared: Shared, log: Log) -> Result<Generations> {
        let kpis = kpi::select(None, &[])?;
        let first = build(&opening, &shared, &kpis).await?;
        Ok(Generations { opening, shared, kpis, current: RwLock::new(Arc::new(first)), switching: tokio::sync::Mutex::new(()), log })
    }

    fn latest(&self) -> Arc<Generation> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The generation a new query runs on: the store's manifest as it is now. If the newest
    /// generation cannot be opened, the server says why and goes on with the one it has.
    pub async fn current(&self) -> Arc<Generation> {
        let latest = self.latest();
        let store = self.opening.store.clone();
        let on_disk = tokio::task::spawn_blocking(move || Manifest::read(&store).map(|m| m.generation)).await;
        let Ok(Ok(on_disk)) = on_disk else { return latest };
        if on_disk == latest.number {
            return latest;
        }
        let _switching = self.switching.lock().await;
        let latest = self.latest();
        if on_disk == latest.number {
            return latest;
        }
        match build(&self.opening, &self.shared, &self.kpis).await {
            Ok(next) => {
                super::log(
                    &self.log,
                    format_args!(
                        "store generation {} is open (KPI views for {}); generation {} closes when its queries end",
                        next.number, next.period, latest.number
                    ),
                );
                let next = Arc::new(next);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = next.clone();
                next
            }
            Err(e) => {
                super::log(&self.log, format_args!("cannot open store generation {on_disk}, serving generation {} on: {e}", latest.number));
                latest
            }
        }
    }
}

async fn build(opening: &Opening, shared: &Shared, kpis: &[Kpi]) -> Result<Generation> {
    let (o, s) = (opening.clone(), shared.clone());
    let pipeline = tokio::task::spawn_blocking(move || {
        let inputs = [o.store.clone()];
        let spec = Open {
            inputs: &inputs,
            profile: "",
            timezone: o.timezone,
            as_of: None,
            sla: o.sla.as_deref(),
            rejects: None,
            memory_limit: o.memory_limit,
            engine: Engine::Local,
        };
        Pipeline::open_on(&spec, s, &Progress::hidden(), &mut std::io::sink())
    })
    .await
    .map_err(|e| Error::Usage(format!("opening the store failed: {e}")))??;
    let pipeline = Arc::new(pipeline);
    let number = match &pipeline.origin {
        Origin::Store(store) => store.manifest.generation,
        Origin::Exports => 0,
    };
    let whole = pipeline.params(PeriodRequest::All, Tuning::default())?;
    let period = crate::report::default_period(whole.as_of, whole.first, opening.timezone);
    let params = pipeline.params(PeriodRequest::Months(period, period), Tuning::default())?;
    let ctx = pipeline.functions_session(&params).await?;
    let schemas = Arc::new(kpi_tables::schemas(&pipeline, kpis, &params).await?);
    kpi_tables::register(&ctx, &pipeline, kpis, &params, &schemas)?;
    Ok(Generation { number, ctx, period, _pipeline: pipeline })
}
