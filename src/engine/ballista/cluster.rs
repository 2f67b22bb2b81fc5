//! The cluster's three roles, each with mttx's codecs: the scheduler (`mttx scheduler`), the
//! executors (`mttx executor`, or one in-process for tests) and the client session that
//! `--engine ballista://HOST:PORT` queries through.
//!
//! Executors hold DataFusion's functions and none of mttx's: every mttx function reaches them inside
//! the plan, with the zone, buckets and calendars of the run that sent it, so an executor can never
//! apply another run's state.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::net::TcpListener;

use super::codec;
use crate::engine;
use crate::error::{Error, Result};

/// Both sides must agree: executors ask the scheduler for work when they have a free slot, so the
/// scheduler needs no route back to them.
const POLICY: TaskSchedulingPolicy = TaskSchedulingPolicy::PullStaged;

/// How long a client or an executor tries to reach the scheduler before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

fn cluster_error(role: &str, error: impl std::fmt::Display) -> Error {
    Error::Query { origin: role.into(), message: error.to_string() }
}

/// The session a scheduler plans one query in, from the client's settings (zone, partitions,
/// aggregation settings): DataFusion's functions and mttx's optimizer rule. mttx's functions come
/// decoded from the plan.
pub fn scheduler_state(config: SessionConfig) -> SessionState {
    let state = SessionStateBuilder::new().with_default_features().with_config(config).build();
    engine::with_functions(SessionContext::new_with_state(state)).state()
}

/// What an executor may call by name: DataFusion's own functions only.
pub fn executor_registry() -> BallistaFunctionRegistry {
    BallistaFunctionRegistry::from(&SessionStateBuilder::new().with_default_features().build())
}

fn scheduler_config(bind: std::net::SocketAddr) -> SchedulerConfig {
    SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        scheduling_policy: POLICY,
        override_session_builder: Some(Arc::new(|config| Ok(scheduler_state(config)))),
        override_logical_codec: Some(codec::logical()),
        override_physical_codec: Some(codec::physical()),
        ..SchedulerConfig::default()
    }
}

/// Serves a scheduler on `listener` until the process ends.
pub async fn scheduler(listener: TcpListener) -> Result<()> {
    let bound = listener.local_addr().map_err(|e| cluster_error("scheduler", e))?;
    let config = scheduler_config(bound);
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| cluster_error("scheduler", e))?;
    let server = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await.map_err(|e| cluster_error("scheduler", e))?;
    start_grpc_service_with_listener(listener, server).await.map_err(|e| cluster_error("scheduler", e))
}

/// An executor process's settings.
#[derive(Debug, Clone)]
pub struct Executor {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where the executor serves its shuffle files (Arrow Flight) to the other executors.
    pub bind: (String, u16),
    /// The host name the other executors reach it by; default: the bind host.
    pub external_host: Option<String>,
    /// Where shuffle files go; default: a temporary directory.
    pub work_dir: Option<PathBuf>,
    /// Tasks at once; default: the machine's cores.
    pub concurrency: Option<usize>,
}

/// Runs an executor until it is stopped (Ctrl-C or SIGTERM). Without a work directory it makes
/// one under the system's temporary directory and removes it when it stops.
pub async fn executor(spec: Executor) -> Result<()> {
    let (work_dir, temporary) = match &spec.work_dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("mttx-executor-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| Error::io(&work_dir, e))?;
    let mut config = ExecutorProcessConfig {
        bind_host: spec.bind.0.clone(),
        port: spec.bind.1,
        grpc_port: spec.bind.1.checked_add(1).ok_or_else(|| Error::Usage("--bind: the port must leave room for the next one".into()))?,
        external_host: spec.external_host.clone(),
        scheduler_host: spec.scheduler.0.clone(),
        scheduler_port: spec.scheduler.1,
        scheduler_connect_timeout_seconds: CONNECT_TIMEOUT.as_secs() as u16,
        task_scheduling_policy: POLICY,
        work_dir: Some(work_dir.display().to_string()),
        print_thread_info: false,
        override_function_registry: Some(Arc::new(executor_registry())),
        override_logical_codec: Some(codec::logical()),
        override_physical_codec: Some(codec::physical()),
        ..ExecutorProcessConfig::default()
    };
    if let Some(concurrency) = spec.concurrency {
        config.vcores = concurrency;
    }
    let ran = start_executor_process(Arc::new(config)).await.map_err(|e| cluster_error("executor", e));
    if temporary {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    ran
}

/// Starts an executor inside this process, on a loopback port of its own, working for the
/// scheduler at `scheduler` (`host:port`). It runs on the current runtime until that ends.
pub async fn loopback_executor(scheduler: &str, concurrency: usize) -> Result<()> {
    let url = format!("http://{scheduler}");
    let started = tokio::time::Instant::now();
    let client = loop {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(client) => break client,
            Err(e) if started.elapsed() > CONNECT_TIMEOUT => return Err(cluster_error("executor", format!("no scheduler at {scheduler}: {e}"))),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let codec = BallistaCodec::new(codec::logical(), codec::physical());
    ballista_executor::new_standalone_executor_from_builder(
        client,
        concurrency,
        Arc::new(SessionConfig::new_with_ballista),
        Arc::new(|_: &SessionConfig| Ok(Arc::new(RuntimeEnv::default()))),
        codec,
        executor_registry(),
    )
    .await
    .map_err(|e| cluster_error("executor", e))
}

/// A session whose queries run on the cluster of the scheduler at `scheduler` (`host:port`), with
/// the settings and functions of a local one.
pub async fn client_session(scheduler: &str, timezone: &str, runtime: Arc<RuntimeEnv>) -> Result<SessionContext> {
    reachable(scheduler).await?;
    let config = engine::config(timezone)
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(codec::logical())
        .with_ballista_physical_extension_codec(codec::physical());
    let state = SessionStateBuilder::new().with_config(config).with_runtime_env(runtime).with_default_features().build();
    let ctx = SessionContext::remote_with_state(&format!("df://{scheduler}"), state).await?;
    // Going remote replaces the session's aggregate functions with Ballista's list, so mttx's are
    // registered after it.
    Ok(engine::with_functions(ctx))
}

/// Fails with what to do when nothing answers at the scheduler's address, instead of at the
/// first query with a transport error.
async fn reachable(scheduler: &str) -> Result<()> {
    let refused = |why: String| {
        Error::Usage(format!(
            "--engine ballista://{scheduler}: no scheduler answers there ({why}); start one with `mttx scheduler --bind {scheduler}` and at least one `mttx executor --scheduler {scheduler}`"
        ))
    };
    match tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(scheduler)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(refused(e.to_string())),
        Err(_) => Err(refused("no answer within 5 s".into())),
    }
}
