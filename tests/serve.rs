//! `mttx serve` against real Flight SQL clients (cargo feature `serve`): ADBC's Flight SQL driver,
//! the one pandas, polars and Superset use, and pyarrow.flight, driven by
//! tests/serve/check_serve.py. It checks the tables and every KPI view against `mttx kpi`, table
//! functions and prepared statements, the Grafana dashboard's queries, 8 clients × 50 queries, a
//! `--into` load while queries run, token, TLS and SIGHUP, the refusals, and the time, row and
//! concurrency limits with cancellation. Without the Python packages the test prints that it was
//! skipped, unless MTTX_REQUIRE_SERVE=1, as .ci/run sets after installing them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's Python, if it has the Flight SQL clients.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("MTTX_SERVE_PYTHON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/mttx-venv/bin/python")));
    let missing = match &python {
        None => "neither MTTX_SERVE_PYTHON nor HOME is set".to_string(),
        Some(p) if !p.is_file() => format!("no Python at {}", p.display()),
        Some(p) => {
            let imports = Command::new(p).args(["-c", "import adbc_driver_flightsql, adbc_driver_manager, pyarrow.flight"]).output();
            if imports.is_ok_and(|o| o.status.success()) {
                return python;
            }
            format!("{} cannot import adbc_driver_flightsql, adbc_driver_manager and pyarrow", p.display())
        }
    };
    let install = "to run it, install the PyPI packages adbc-driver-flightsql, adbc-driver-manager and pyarrow in a venv at \
                   $HOME/.cache/mttx-venv (.ci/run does), or set MTTX_SERVE_PYTHON";
    if std::env::var("MTTX_REQUIRE_SERVE").as_deref() == Ok("1") {
        panic!("MTTX_REQUIRE_SERVE=1 but {missing}: {install}");
    }
    // Straight to stderr: libtest captures eprintln! of passing tests, and a skip must show.
    let _ = writeln!(std::io::stderr(), "skipped: mttx serve not tested with Flight SQL clients: {missing}; {install}");
    None
}

#[test]
fn serve_answers_flight_sql_clients_read_only_and_within_limits() {
    let Some(python) = python() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let run = Command::new(&python)
        .arg(root.join("tests/serve/check_serve.py"))
        .arg(env!("CARGO_BIN_EXE_mttx"))
        .arg(work.path())
        .arg("--dashboard")
        .arg(root.join("assets/grafana/mttx-service-desk.json"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the Flight SQL checks failed ({}):\n{stdout}\n{stderr}", run.status);
    assert!(stdout.contains("all checks passed"), "{stdout}");
    let _ = writeln!(std::io::stderr(), "{}", stdout.trim());
}

/// The dashboard's JSON parses, and each panel has a query on mttx's tables (the checker runs
/// them); this part needs no Python.
#[test]
fn grafana_dashboard_panels_query_the_served_tables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/grafana/mttx-service-desk.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().expect("panels");
    let queries: Vec<&str> = panels.iter().flat_map(|p| p["targets"].as_array().unwrap()).map(|t| t["queryText"].as_str().unwrap()).collect();
    assert_eq!(queries.len(), panels.len(), "one query per panel");
    for wanted in ["kpi_mttr", "kpi_mtta", "kpi_sla_breach", "kpi_backlog_age", "kpi_volume"] {
        assert!(queries.iter().any(|q| q.contains(wanted)), "no panel queries {wanted}");
    }
}

/// The standard gRPC health service answers SERVING for the Flight service, without a token.
#[test]
fn health_service_answers_serving() {
    use std::io::BufRead;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    crate::util::mttx().args(["load", "--input"]).arg(crate::util::fixture("store/asof")).arg("--out").arg(&store).assert().success();
    let token = dir.path().join("token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_mttx"))
        .args(["serve", "--bind", "127.0.0.1:0", "--input"])
        .arg(&store)
        .arg("--token-file")
        .arg(&token)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stderr.take().unwrap()).read_line(&mut first).unwrap();
    let address =
        first.split_whitespace().find(|w| w.starts_with("grpc://")).unwrap_or_else(|| panic!("no address in {first:?}")).replace("grpc://", "http://");
    let status = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let channel = tonic::transport::Channel::from_shared(address).unwrap().connect().await.unwrap();
        let request = HealthCheckRequest { service: "arrow.flight.protocol.FlightService".into() };
        HealthClient::new(channel).check(request).await.unwrap().into_inner().status
    });
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(status, ServingStatus::Serving as i32);
}
