//! Scaling out (feature `ballista`): every KPI on a loopback Ballista cluster equals the local
//! engine's, with a non-UTC reporting zone and a business-hours SLA policy whose calendar is in
//! another zone, so the state that travels with mttx's functions matters to the answers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use serde_json::Value;

use crate::util::{mttx, same};

const ZONE: &str = "Europe/Amsterdam";
/// Every wait of these tests ends: a cluster that stalls fails the test instead of hanging CI.
const WAIT: Duration = Duration::from_secs(300);

/// The sample data as a store, and the default SLA policy with its office calendar moved to
/// America/New_York.
fn store_and_policy(dir: &Path) -> (PathBuf, PathBuf) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let store = dir.join("store");
    mttx().args(["load", "--out"]).arg(&store).arg("--input").arg(&sample).timeout(WAIT).assert().success();
    let policy = dir.join("sla.toml");
    let text = std::fs::read_to_string(sample.join("sla.toml")).unwrap();
    let moved = text.replace("[calendars.office]\ntimezone = \"UTC\"", "[calendars.office]\ntimezone = \"America/New_York\"");
    assert_ne!(moved, text, "the policy's office calendar moved");
    std::fs::write(&policy, moved).unwrap();
    (store, policy)
}

/// The arguments of a KPI run of the whole suite over eleven months, by the global flags first.
fn kpi_args(engine: &str, store: &Path, policy: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["--engine", engine, "--as-of", "2026-11-01", "--timezone", ZONE, "kpi", "--format", "json", "--from", "2025-12", "--to", "2026-10"]
            .map(String::from)
            .into();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--sla".into(), policy.display().to_string(), "--input".into(), store.display().to_string()]);
    args
}

/// Rows in an order that does not depend on the engine: by their fields other than floats (keys,
/// labels, counts).
fn sorted(rows: &[Value]) -> Vec<Value> {
    let key = |row: &Value| -> String {
        let object = row.as_object().expect("rows are objects");
        object.iter().filter(|(_, v)| !v.as_number().is_some_and(|n| n.is_f64())).map(|(k, v)| format!("{k}={v};")).collect()
    };
    let mut rows = rows.to_vec();
    rows.sort_by_key(key);
    rows
}

/// Each KPI's id and its rows, sorted.
fn by_keys(document: &Value) -> Vec<(String, Vec<Value>)> {
    let kpis = document["kpis"].as_array().expect("a kpis list");
    kpis.iter().map(|kpi| (kpi["id"].as_str().unwrap().to_string(), sorted(kpi["rows"].as_array().expect("rows")))).collect()
}

/// The same KPIs, rows and values from both engines; `kpis` ran.
fn assert_same_results(local: &Value, cluster: &Value, kpis: usize) {
    assert_eq!(local["window"], cluster["window"]);
    let (local, cluster) = (by_keys(local), by_keys(cluster));
    assert_eq!(local.len(), kpis);
    assert_eq!(local.iter().map(|k| &k.0).collect::<Vec<_>>(), cluster.iter().map(|k| &k.0).collect::<Vec<_>>());
    let mut rows = 0;
    for ((id, a), (_, b)) in local.iter().zip(&cluster) {
        same(&Value::Array(a.clone()), &Value::Array(b.clone()), id);
        rows += a.len();
    }
    assert!(rows > 100, "the suite gave {rows} rows; too few to compare engines");
}

/// Runs mttx's command line in this process, on a thread of its own, bounded by `WAIT`.
fn run_in_process(args: Vec<String>) -> Value {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let cli = mttx::cli::Cli::parse_from(std::iter::once("mttx".to_string()).chain(args));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = mttx::commands::run(&cli, &mut out, &mut err);
        let _ = tx.send((status.map_err(|e| e.to_string()), out, String::from_utf8_lossy(&err).into_owned()));
    });
    let (status, out, err) = rx.recv_timeout(WAIT).expect("the KPI run finishes in time");
    assert_eq!(status, Ok(mttx::commands::Status::Success), "{err}");
    serde_json::from_slice(&out).expect("JSON KPI document")
}

/// A scheduler and an executor with an empty registry of mttx functions, on loopback, inside this
/// process: every mttx function, parameter table and calendar reaches the executor through the
/// codecs. The golden cases pass on it, and the whole suite (and the suite by assignment group)
/// equals the local engine's.
#[test]
fn every_kpi_on_an_in_process_cluster_equals_the_local_engine() {
    let dir = tempfile::tempdir().unwrap();
    let (store, policy) = store_and_policy(dir.path());
    let runtime = mttx::engine::runtime().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let scheduler = listener.local_addr().unwrap().to_string();
    runtime.spawn(async move { mttx::engine::ballista::cluster::scheduler(listener).await.expect("the scheduler serves") });
    let address = scheduler.clone();
    runtime
        .block_on(async { tokio::time::timeout(WAIT, mttx::engine::ballista::cluster::loopback_executor(&address, 2)).await })
        .unwrap()
        .expect("the executor starts");

    let engine = format!("ballista://{scheduler}");
    golden_cases_pass_on(&mttx::engine::Engine::parse(&engine).unwrap(), dir.path());
    let cuttable = mttx::kpi::select_by(None, &[], Some(mttx::kpi::Breakdown::AssignmentGroup)).unwrap().len();
    for (extra, kpis) in [(&[][..], mttx::kpi::catalog::BUILTIN.len()), (&["--by", "assignment_group"][..], cuttable)] {
        let local = run_in_process(kpi_args("local", &store, &policy, extra));
        let cluster = run_in_process(kpi_args(&engine, &store, &policy, extra));
        assert_same_results(&local, &cluster, kpis);
    }
    // Before and after, with every significance test's samples (problem_resolution's once hung).
    let compare = |engine: &str| {
        let args = [
            "--engine",
            engine,
            "--as-of",
            "2026-11-01",
            "--timezone",
            ZONE,
            "compare",
            "--format",
            "json",
            "--before",
            "2026-01..2026-03",
            "--after",
            "2026-04..2026-06",
        ];
        let mut args: Vec<String> = args.map(String::from).into();
        args.extend(["--sla".into(), policy.display().to_string(), "--input".into(), store.display().to_string()]);
        run_in_process(args)
    };
    let (local, cluster) = (compare("local"), compare(&engine));
    assert!(local.to_string().len() > 10_000, "compare gave little to check");
    same(&local, &cluster, "compare");
    runtime.shutdown_background();
}

/// Every golden case gives its expected result on the cluster, from a store of its inputs.
fn golden_cases_pass_on(engine: &mttx::engine::Engine, dir: &Path) {
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let kpis = mttx::kpi::select(Some(&queries), &[]).unwrap();
    let cases = mttx::golden::discover(&queries).unwrap();
    assert!(cases.len() > 20);
    for (i, case) in cases.iter().enumerate() {
        let kpi = kpis.iter().find(|k| k.id == case.kpi).unwrap();
        let store = dir.join(format!("golden-{i}"));
        let actual =
            mttx::golden::run_case_via(case, kpi, mttx::golden::Via::StoreOn(&store, engine)).unwrap_or_else(|e| panic!("{}/{}: {e}", case.kpi, case.name)).csv;
        let expected = std::fs::read_to_string(case.dir.join(mttx::golden::EXPECTED)).unwrap();
        assert_eq!(actual, expected, "{}/{} on the cluster", case.kpi, case.name);
    }
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `mttx scheduler` and two `mttx executor` processes on loopback ports, and `mttx kpi --engine`
/// against them, compared with the local run of the same command.
#[test]
fn mttx_kpi_on_a_cluster_of_processes_equals_the_local_run() {
    let dir = tempfile::tempdir().unwrap();
    let (store, policy) = store_and_policy(dir.path());
    let binary = env!("CARGO_BIN_EXE_mttx");
    let mut child = Command::new(binary).args(["scheduler", "--bind", "127.0.0.1:0"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let scheduler_process = Killed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stderr).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("the scheduler says where it listens");
    let scheduler = line.trim().strip_prefix("mttx scheduler: listening on ").unwrap_or_else(|| panic!("unexpected first line: {line}")).to_string();

    let executors: Vec<Killed> = (0..2)
        .map(|i| {
            let work = dir.path().join(format!("executor-{i}"));
            std::fs::create_dir_all(&work).unwrap();
            let child = Command::new(binary)
                .args(["executor", "--scheduler", &scheduler, "--bind", &format!("127.0.0.1:{}", free_port()), "--concurrency", "1", "--work-dir"])
                .arg(&work)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            Killed(child)
        })
        .collect();

    let run = |engine: &str| -> Value {
        let out = mttx().args(kpi_args(engine, &store, &policy, &[])).timeout(WAIT).output().unwrap();
        assert!(out.status.success(), "{engine}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let local = run("local");
    let cluster = run(&format!("ballista://{scheduler}"));
    assert_same_results(&local, &cluster, mttx::kpi::catalog::BUILTIN.len());
    drop(executors);
    drop(scheduler_process);
}

/// What a cluster cannot read is refused with what to do, before any query.
#[test]
fn raw_exports_and_an_absent_scheduler_are_refused_with_what_to_do() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let port = free_port();
    mttx()
        .args(["--engine", &format!("ballista://127.0.0.1:{port}"), "kpi", "--only", "mttr", "--input"])
        .arg(&sample)
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("mttx load --out STORE"));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    mttx().args(["load", "--out"]).arg(&store).arg("--input").arg(&sample).timeout(WAIT).assert().success();
    mttx()
        .args(["--engine", &format!("ballista://127.0.0.1:{port}"), "kpi", "--only", "mttr", "--input"])
        .arg(&store)
        .timeout(WAIT)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no scheduler answers there"));
}

/// Every function a KPI session has beyond DataFusion's own (mttx's, or mttx's in place of
/// DataFusion's) encodes and decodes to an equal function, state included; and every built-in
/// KPI's logical and physical plans read back, through the codecs, in a session that has only
/// DataFusion's functions, as an executor has. A new function the codecs forget fails here.
#[test]
fn every_mttx_function_and_kpi_plan_survives_the_codecs() {
    // Protobuf plans are encoded and decoded recursively, deeper than a test thread's stack in a
    // debug build; mttx's own runtimes have room for it (see `engine::runtime`).
    std::thread::Builder::new().stack_size(64 << 20).spawn(functions_and_plans_survive_the_codecs).unwrap().join().unwrap();
}

fn functions_and_plans_survive_the_codecs() {
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec, physical_plan_from_bytes_with_extension_codec,
        physical_plan_to_bytes_with_extension_codec,
    };
    use mttx::engine::ballista::codec::{MttxLogicalCodec, MttxPhysicalCodec};
    use mttx::engine::ballista::functions;
    use mttx::functions::BusinessTime;

    let dir = tempfile::tempdir().unwrap();
    let (store, policy) = store_and_policy(dir.path());
    let timezone: chrono_tz::Tz = ZONE.parse().unwrap();
    let inputs = [store];
    let spec = mttx::pipeline::Open {
        inputs: &inputs,
        profile: "canonical",
        timezone,
        as_of: mttx::time::parse_iso("2026-11-01", timezone),
        sla: Some(&policy),
        rejects: None,
        memory_limit: Default::default(),
        engine: mttx::engine::Engine::Local,
    };
    let pipeline = mttx::pipeline::Pipeline::open(&spec, &mttx::progress::Progress::hidden(), &mut std::io::sink()).unwrap();
    let params = pipeline.params(mttx::kpi::PeriodRequest::All, Default::default()).unwrap();
    pipeline.runtime().block_on(async {
        let ctx = pipeline.session(&params).await.unwrap();
        let state = ctx.state();
        // DataFusion's own functions, made for the same zone (`now` and its kin take it on).
        let executor = SessionContext::new_with_config(datafusion::prelude::SessionConfig::new().set_str("datafusion.execution.time_zone", ZONE));
        let plain = executor.state();

        let mut carried = Vec::new();
        for (name, udf) in state.scalar_functions() {
            if plain.scalar_functions().get(name) == Some(udf) {
                continue;
            }
            let mut buf = Vec::new();
            functions::encode_udf(udf, &mut buf).unwrap();
            assert!(!buf.is_empty(), "scalar function `{name}` is mttx's, but the codec does not carry it");
            // Plans name a function by its own name, whatever alias the SQL used.
            let decoded = functions::decode_udf(udf.name(), &buf).unwrap();
            assert_eq!(&*decoded, &**udf, "{name}");
            if let Some(business) = udf.inner().downcast_ref::<BusinessTime>() {
                let back = decoded.inner().downcast_ref::<BusinessTime>().unwrap();
                assert_eq!(back.calendars().by_name, business.calendars().by_name, "{name}: calendars");
            }
            carried.push(name.clone());
        }
        for (name, udaf) in state.aggregate_functions() {
            if plain.aggregate_functions().get(name) == Some(udaf) {
                continue;
            }
            let mut buf = Vec::new();
            functions::encode_udaf(udaf, &mut buf).unwrap();
            assert!(!buf.is_empty(), "aggregate `{name}` is mttx's, but the codec does not carry it");
            assert_eq!(&*functions::decode_udaf(udaf.name(), &buf).unwrap(), &**udaf, "{name}");
            carried.push(name.clone());
        }
        carried.sort();
        for expected in [
            "business_hours",
            "fisher_exact_p",
            "max_in_window",
            "outage_union",
            "percentile_cont",
            "percentiles_cont",
            "report_month",
            "sla_deadline",
            "sla_running_hours",
            "ungrouped",
        ] {
            assert!(carried.iter().any(|c| c == expected), "{expected} not among {carried:?}");
        }

        let kpis = mttx::kpi::select(None, &[]).unwrap();
        assert_eq!(kpis.len(), mttx::kpi::catalog::BUILTIN.len());
        for kpi in kpis {
            let plan = ctx.sql(&kpi.sql).await.unwrap().into_optimized_plan().unwrap();
            let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &MttxLogicalCodec::default()).unwrap();
            let back = logical_plan_from_bytes_with_extension_codec(&bytes, &executor.task_ctx(), &MttxLogicalCodec::default())
                .unwrap_or_else(|e| panic!("{}: the logical plan does not read back: {e}", kpi.id));
            // Read back, a plan may qualify a column its writer left bare; its output is the same.
            assert_eq!(back.schema().as_arrow(), plan.schema().as_arrow(), "{}", kpi.id);

            // Decoding may fold adjacent projections, so the decoded plan is run, not compared as text.
            let physical = state.create_physical_plan(&plan).await.unwrap();
            let bytes = physical_plan_to_bytes_with_extension_codec(physical.clone(), &MttxPhysicalCodec::default()).unwrap();
            let back = physical_plan_from_bytes_with_extension_codec(&bytes, &executor.task_ctx(), &MttxPhysicalCodec::default())
                .unwrap_or_else(|e| panic!("{}: the physical plan does not read back: {e}", kpi.id));
            assert_eq!(back.schema(), physical.schema(), "{}", kpi.id);
            let local = as_json(&collect(physical, ctx.task_ctx()).await.unwrap());
            let decoded = as_json(&collect(back, executor.task_ctx()).await.unwrap());
            same(&Value::Array(sorted(&decoded)), &Value::Array(sorted(&local)), &kpi.id);
        }
    });
}

/// Record batches as JSON rows, as `mttx kpi --format json` writes them.
fn as_json(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<Value> {
    let mut writer = datafusion::arrow::json::ArrayWriter::new(Vec::new());
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    let bytes = writer.into_inner();
    if bytes.is_empty() { Vec::new() } else { serde_json::from_slice(&bytes).unwrap() }
}
