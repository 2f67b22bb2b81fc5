//! `mttx serve` (cargo feature `serve`): the store as an Arrow Flight SQL endpoint, for Grafana,
//! Superset, DBeaver, pandas and Power BI. It serves the canonical tables, mttx's SQL functions
//! and every KPI of the catalog (views and table functions), read-only and under limits of time,
//! rows, memory and concurrency, and it moves to each new manifest a load writes without a
//! restart. docs/serve.md says what it protects and how clients connect.

mod auth;
mod generations;
mod kpi_tables;
mod metadata;
mod queries;
mod service;
mod statement;

use std::fmt::Display;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use chrono_tz::Tz;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::engine::MemoryLimit;
use crate::error::{Error, Result};
use crate::pipeline::Shared;
use auth::Tokens;
use generations::Opening;

/// What each query may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From planning to the last batch, the wait for a slot included.
    pub query_timeout: Duration,
    /// A longer result fails; it is never cut short.
    pub max_rows: usize,
    /// Queries running at once; the rest wait.
    pub max_concurrent: usize,
    /// Queries waiting at most; more are refused.
    pub max_waiting: usize,
}

/// The queue's length: a dashboard of a few dozen panels refreshing at once fits.
pub const MAX_WAITING: usize = 64;

pub struct Config {
    pub store: PathBuf,
    pub bind: String,
    pub token_file: Option<PathBuf>,
    /// Certificate and key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub timezone: Tz,
    pub sla: Option<PathBuf>,
    pub memory_limit: MemoryLimit,
    pub limits: Limits,
}

/// Where the server writes what it does: one line per query, and its start and stop.
pub type Log = Arc<Mutex<dyn Write + Send>>;

fn log(log: &Log, line: impl Display) {
    if let Ok(mut w) = log.lock() {
        let _ = writeln!(w, "mttx serve: {line}");
        let _ = w.flush();
    }
}

fn address(bind: &str, tokens: &Tokens) -> Result<SocketAddr> {
    let addr = bind
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::Usage(format!("--bind {bind}: give HOST:PORT, such as 127.0.0.1:50060")))?;
    if !tokens.required() && !addr.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "--bind {bind}: without --token-file the server answers anyone who can reach it, so it listens on loopback only (127.0.0.1 or [::1]); give --token-file FILE (and --tls-cert/--tls-key) to serve other hosts"
        )));
    }
    Ok(addr)
}

fn tls(files: &Option<(PathBuf, PathBuf)>) -> Result<Option<ServerTlsConfig>> {
    let Some((cert, key)) = files else { return Ok(None) };
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| Error::io(p, e));
    Ok(Some(ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?))))
}

/// Serves until SIGTERM or Ctrl-C; the first line on the log gives the address.
pub fn run(config: Config, log_to: Log) -> Result<()> {
    if !crate::store::is_store(std::slice::from_ref(&config.store)) {
        return Err(Error::Usage(format!(
            "--input {}: mttx serve serves a store; make one with `mttx load --input EXPORTS --out STORE`",
            config.store.display()
        )));
    }
    let tokens = Tokens::load(config.token_file.as_deref())?;
    let addr = address(&config.bind, &tokens)?;
    let tls = tls(&config.tls)?;
    let shared = Shared::new(config.memory_limit)?;
    // The engine's threads execute queries; these answer gRPC calls and keep the time limits.
    let engine = shared.runtime.clone();
    let calls = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mttx-serve")
        .enable_all()
        .build()
        .map_err(|e| Error::io("<server threads>", e))?;
    let limits = config.limits;
    let engine_handle = engine.handle().clone();
    let served = calls.block_on(async move {
        let opening = Opening { store: config.store.clone(), timezone: config.timezone, sla: config.sla.clone(), memory_limit: config.memory_limit };
        let generations = Arc::new(generations::Generations::open(opening, shared, log_to.clone()).await?);
        let queries = Arc::new(queries::Queries::new(engine_handle, limits, log_to.clone()));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| Error::Usage(format!("--bind {}: {e}", config.bind)))?;
        let bound = listener.local_addr().map_err(|e| Error::io("<server socket>", e))?;
        let current = generations.current().await;
        log(
            &log_to,
            format_args!(
                "listening on {}://{bound} (store {}, generation {}, KPI views for {}; {})",
                if tls.is_some() { "grpc+tls" } else { "grpc" },
                config.store.display(),
                current.number,
                current.period,
                if tokens.required() { "token required" } else { "no token: loopback only" }
            ),
        );
        drop(current);

        let watcher = {
            let (generations, queries) = (generations.clone(), queries.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    drop(generations.current().await);
                    queries.expire();
                }
            })
        };
        let reloader = tokio::spawn(reload_on_hangup(tokens.clone(), log_to.clone()));

        let service = service::MttxFlightSql::new(generations.clone(), queries.clone(), limits);
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter.set_serving::<FlightServiceServer<service::MttxFlightSql>>().await;
        let checker = tokens.clone();
        let flight = FlightServiceServer::with_interceptor(service, move |request| checker.check(request));
        let mut builder = Server::builder();
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).map_err(|e| Error::Usage(format!("--tls-cert/--tls-key: {e}")))?;
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = builder.add_service(health).add_service(flight).serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
            let _ = stopped.await;
        });
        tokio::pin!(server);
        let served = tokio::select! {
            served = &mut server => served,
            () = shutdown_signal() => {
                log(&log_to, format_args!("stopping: no new queries; waiting up to {} s for those running", limits.query_timeout.as_secs()));
                let _ = stop.send(());
                tokio::time::timeout(limits.query_timeout, &mut server).await.unwrap_or(Ok(()))
            }
        };
        watcher.abort();
        reloader.abort();
        log(&log_to, "stopped");
        served.map_err(|e| Error::Usage(format!("the server failed: {e}")))
    });
    // Queries still executing are dropped with the engine's threads.
    drop(calls);
    drop(engine);
    served
}

/// SIGTERM (as service managers stop a process) or Ctrl-C.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// SIGHUP re-reads the token file, so a token can be rotated without a restart.
async fn reload_on_hangup(tokens: Tokens, log_to: Log) {
    let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
    while hangup.recv().await.is_some() {
        match tokens.reload() {
            Ok(()) => log(&log_to, "SIGHUP: the token file was read again"),
            Err(e) => log(&log_to, format_args!("SIGHUP: {e}; the previous token stays")),
        }
    }
}
