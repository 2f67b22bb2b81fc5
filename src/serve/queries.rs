//! The queries in flight: admission (a limit on queries at once and a queue of at most
//! `max_waiting`), each planned query kept under its ticket until DoGet with its store
//! generation pinned, cancellation, and the result stream under the time and row limits, logged
//! when it ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::DataFrame;
use futures::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tonic::Status;

use super::generations::Generation;
use super::{Limits, Log};

/// A query planned by GetFlightInfo, waiting for its DoGet.
pub struct Planned {
    /// The store generation it was planned on, kept open until its last batch.
    pub generation: Arc<Generation>,
    pub frame: DataFrame,
    /// For the log: who asked, and what.
    pub client: String,
    pub statement: String,
    pub started: Instant,
    /// Its time limit, counted from GetFlightInfo: planning, the queue and every batch.
    pub deadline: tokio::time::Instant,
}

struct Entry {
    planned: Option<Planned>,
    cancel: watch::Sender<bool>,
}

pub struct Queries {
    entries: Mutex<HashMap<u128, Entry>>,
    /// Where queries execute: the engine's threads, apart from those that answer gRPC calls, so
    /// that a query computing for a long time between batches never keeps the server from
    /// answering, or from failing that query on time.
    engine: tokio::runtime::Handle,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: Limits,
    log: Log,
}

impl Queries {
    pub fn new(engine: tokio::runtime::Handle, limits: Limits, log: Log) -> Queries {
        Queries { entries: Mutex::default(), engine, slots: Arc::new(Semaphore::new(limits.max_concurrent)), waiting: AtomicUsize::new(0), limits, log }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u128, Entry>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `planned` until its DoGet; returns its ticket id.
    pub fn plan(&self, planned: Planned) -> Result<u128, Status> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Status::internal(format!("no random ticket: {e}")))?;
        let id = u128::from_le_bytes(bytes);
        let (cancel, _) = watch::channel(false);
        self.entries().insert(id, Entry { planned: Some(planned), cancel });
        Ok(id)
    }

    /// Drops planned queries whose DoGet never came before their time limit.
    pub fn expire(&self) {
        let now = tokio::time::Instant::now();
        self.entries().retain(|_, e| e.planned.as_ref().is_none_or(|p| p.deadline > now));
    }

    /// Cancels a query, planned or running; false if the server knows no such query.
    pub fn cancel(&self, id: u128) -> bool {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(&id) else { return false };
        let _ = entry.cancel.send(true);
        if let Some(planned) = entry.planned.take() {
            self.log_end(&planned, 0, "cancelled before it ran");
            entries.remove(&id);
        }
        true
    }

    fn log_end(&self, planned: &Planned, rows: usize, outcome: &str) {
        self.log_query(&planned.client, planned.generation.number, &planned.statement, planned.started, &format!("{outcome}, {rows} row(s)"));
    }

    /// A statement that did not plan: refused, or not valid SQL.
    pub fn log_refused(&self, client: &str, generation: u64, statement: &str, started: Instant, status: &Status) {
        self.log_query(client, generation, statement, started, &format!("not planned ({:?}: {})", status.code(), status.message()));
    }

    /// One line per query; the statement is the client's text, quoted and escaped, and cut at 500
    /// characters.
    fn log_query(&self, client: &str, generation: u64, statement: &str, started: Instant, outcome: &str) {
        let statement: String = statement.chars().take(500).collect();
        super::log(&self.log, format_args!("query from {client} on generation {generation}: {outcome} in {} ms: {statement:?}", started.elapsed().as_millis()));
    }

    /// Waits for a slot, until the query's deadline; refuses when the queue is full.
    async fn admit(&self, deadline: tokio::time::Instant) -> Result<OwnedSemaphorePermit, Status> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Status::resource_exhausted(format!(
                "{} queries are running and {} are waiting; try again later",
                self.limits.max_concurrent, self.limits.max_waiting
            )));
        }
        let permit = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Status::unavailable("the server is shutting down")),
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> Status {
        Status::deadline_exceeded(format!("the query ran past its time limit of {} s (--query-timeout)", self.limits.query_timeout.as_secs_f64()))
    }

    /// Runs the query under ticket `id`: its result's batches, under the limits.
    pub fn run(self: &Arc<Self>, id: u128) -> Result<(SchemaRef, impl Stream<Item = Result<RecordBatch, Status>> + Send + 'static), Status> {
        let (planned, cancel) = {
            let mut entries = self.entries();
            let entry = entries
                .get_mut(&id)
                .ok_or_else(|| Status::not_found("no such query: it ran already, was cancelled, or passed its time limit before it was fetched"))?;
            let planned = entry.planned.take().ok_or_else(|| Status::failed_precondition("this query is already being fetched"))?;
            (planned, entry.cancel.subscribe())
        };
        let schema: SchemaRef = Arc::new(planned.frame.schema().as_arrow().clone());
        let run = Run { queries: self.clone(), id, planned: Some(planned), results: None, task: None, rows: 0, cancel, finished: false };
        Ok((
            schema,
            futures::stream::unfold(run, |mut run| async move {
                if run.finished {
                    return None;
                }
                let item = run.next().await;
                match &item {
                    Ok(Some(_)) => {}
                    Ok(None) => run.finish("ok"),
                    Err(status) => run.finish(&format!("failed ({:?}: {})", status.code(), status.message())),
                }
                match item {
                    Ok(Some(batch)) => Some((Ok(batch), run)),
                    Ok(None) => None,
                    Err(status) => Some((Err(status), run)),
                }
            }),
        ))
    }
}

/// One query's run. Its execution is a task on the engine's threads, which holds the query's slot
/// and store generation until it stops, and sends its batches here.
struct Run {
    queries: Arc<Queries>,
    id: u128,
    planned: Option<Planned>,
    results: Option<mpsc::Receiver<Result<RecordBatch, Status>>>,
    task: Option<tokio::task::AbortHandle>,
    rows: usize,
    cancel: watch::Receiver<bool>,
    finished: bool,
}

impl Run {
    async fn next(&mut self) -> Result<Option<RecordBatch>, Status> {
        let Run { queries, planned, results, task, rows, cancel, .. } = self;
        let Some(planned) = planned.as_ref() else { return Ok(None) };
        let queries: &Queries = queries;
        let deadline = planned.deadline;
        let max_rows = queries.limits.max_rows;
        let mut cancel = cancel.clone();
        let step = async {
            if results.is_none() {
                let permit = queries.admit(deadline).await?;
                // One row past the limit is enough to know the result is too long.
                let frame = planned.frame.clone().limit(0, Some(max_rows.saturating_add(1))).map_err(engine_error)?;
                let (sender, receiver) = mpsc::channel(2);
                let generation = planned.generation.clone();
                let handle = queries.engine.spawn(execute(frame, sender, permit, generation));
                *task = Some(handle.abort_handle());
                *results = Some(receiver);
            }
            let Some(receiver) = results.as_mut() else { return Ok(None) };
            receiver.recv().await.transpose()
        };
        let batch = tokio::select! {
            batch = step => batch?,
            _ = tokio::time::sleep_until(deadline) => return Err(queries.timed_out()),
            _ = cancel.wait_for(|cancelled| *cancelled) => return Err(Status::cancelled("the query was cancelled")),
        };
        if let Some(batch) = &batch {
            *rows += batch.num_rows();
            if *rows > max_rows {
                return Err(Status::resource_exhausted(format!(
                    "the result has more than {max_rows} rows (--max-rows); narrow the query, aggregate, or add LIMIT"
                )));
            }
        }
        Ok(batch)
    }

    fn finish(&mut self, outcome: &str) {
        if self.finished {
            return;
        }
        self.finished = true;
        // An execution still running stops at its next batch, and frees its slot then.
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.results = None;
        if let Some(planned) = self.planned.take() {
            self.queries.log_end(&planned, self.rows, outcome);
        }
        self.queries.entries().remove(&self.id);
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.finish("stopped: the client went away");
    }
}

/// Executes a query on the engine's threads, sending its batches until the receiver goes away.
async fn execute(frame: DataFrame, sender: mpsc::Sender<Result<RecordBatch, Status>>, _permit: OwnedSemaphorePermit, _generation: Arc<Generation>) {
    let mut stream = match frame.execute_stream().await {
        Ok(stream) => stream,
        Err(e) => {
            let _ = sender.send(Err(engine_error(e))).await;
            return;
        }
    };
    while let Some(batch) = stream.next().await {
        if sender.send(batch.map_err(engine_error)).await.is_err() {
            return;
        }
    }
}

fn engine_error(e: datafusion::error::DataFusionError) -> Status {
    let message = e.to_string();
    if message.contains("Resources exhausted") {
        Status::resource_exhausted(format!("the query needs more memory than the server's --memory-limit leaves it: {message}"))
    } else {
        Status::invalid_argument(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn queries(max_concurrent: usize, max_waiting: usize) -> Queries {
        let limits = Limits { query_timeout: Duration::from_secs(5), max_rows: 10, max_concurrent, max_waiting };
        let log: Log = Arc::new(Mutex::new(Vec::<u8>::new()));
        Queries::new(tokio::runtime::Handle::current(), limits, log)
    }

    #[tokio::test]
    async fn queues_up_to_its_length_then_refuses() {
        let queries = Arc::new(queries(1, 1));
        let soon = tokio::time::Instant::now() + Duration::from_secs(5);
        let running = queries.admit(soon).await.unwrap();
        // One waits for the slot…
        let waiter = tokio::spawn({
            let queries = queries.clone();
            async move { queries.admit(soon).await.map(drop) }
        });
        while queries.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // … a second would make the queue longer than 1, and is refused at once.
        let refused = queries.admit(soon).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused}");
        drop(running);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_fails_with_the_time_limit() {
        let queries = queries(1, 4);
        let _running = queries.admit(tokio::time::Instant::now() + Duration::from_secs(5)).await.unwrap();
        let status = queries.admit(tokio::time::Instant::now() + Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(status.message().contains("--query-timeout"), "{status}");
    }
}
