//! The README documents the model as the code defines it: every canonical field appears in its
//! table's section, and no section lists a field the model does not have.

use mttx::model::Table;

#[test]
fn readme_model_tables_match_model_rs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for table in Table::ALL {
        let heading = format!("**{}**", table.name());
        let start = readme.find(&heading).unwrap_or_else(|| panic!("README has no {heading} section"));
        let section: String = readme[start + heading.len()..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.split('|').nth(1).unwrap().trim().to_string() + "\n")
            .collect();
        let documented: Vec<&str> = section.lines().collect();
        let defined: Vec<&str> = table.fields().iter().map(|f| f.name).collect();
        assert_eq!(documented, defined, "README's {table} table");
    }
}

/// The README's metrics table is exactly what `mttx catalog --format markdown` prints from the SQL
/// headers, so the documented definitions are the ones that run.
#[test]
fn readme_metrics_table_is_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- metrics:start -->\n").expect("README has the metrics markers") + "<!-- metrics:start -->\n".len();
    let end = readme.find("<!-- metrics:end -->").unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mttx")).args(["catalog", "--format", "markdown"]).output().unwrap();
    let catalog = String::from_utf8(output.stdout).unwrap();
    assert_eq!(&readme[start..end], catalog, "regenerate the README table with `mttx catalog --format markdown`");
}

/// The README's KPI index names files, golden cases and charts that exist, one row per KPI, so a
/// newcomer can go from a KPI to its tests (its golden cases, their one home) and chart in a
/// minute. See: issue 10.
#[test]
fn readme_kpi_index_points_at_what_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("<!-- kpi-index:start -->").expect("README has the KPI index markers");
    let end = readme.find("<!-- kpi-index:end -->").unwrap();
    let charts = root.join("reports/sample/charts");
    let split = |cell: &str| -> Vec<String> { cell.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect() };
    let mut indexed = Vec::new();
    for line in readme[start..end].lines().filter(|l| l.starts_with("| ")).skip(2) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (kpi, sql, cases, chart_names) = (cells[1], cells[2], split(cells[3]), split(cells[5]));
        assert_eq!(sql, format!("queries/{kpi}.sql"));
        assert!(root.join(sql).is_file(), "{sql}");
        let mut on_disk: Vec<String> = std::fs::read_dir(root.join("queries/tests").join(kpi))
            .unwrap_or_else(|e| panic!("{kpi}: no golden cases: {e}"))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(cases, on_disk, "{kpi}: the golden cases listed");
        for name in chart_names {
            assert!(charts.join(format!("{name}.svg")).is_file(), "{kpi}: reports/sample has no chart {name}");
        }
        indexed.push(kpi.to_string());
    }
    let catalog: Vec<String> = mttx::kpi::catalog::builtin().unwrap().into_iter().map(|k| k.id).collect();
    assert_eq!(indexed, catalog, "one index row per built-in KPI, in catalog order");
}

/// Nothing generated is committed: no Python bytecode caches. See: issue 10.
#[test]
fn no_bytecode_caches_are_committed() {
    let listed = std::process::Command::new("git").args(["ls-files"]).current_dir(env!("CARGO_MANIFEST_DIR")).output().ok();
    let Some(listed) = listed.filter(|o| o.status.success()) else {
        eprintln!("skipped: not a git checkout, so there is no list of committed files");
        return;
    };
    let files = String::from_utf8_lossy(&listed.stdout);
    let caches: Vec<&str> = files.lines().filter(|f| f.contains("__pycache__") || f.ends_with(".pyc")).collect();
    assert!(caches.is_empty(), "committed bytecode caches: {caches:?}");
}

/// `cargo run` and `cargo test` share one build only while dev-dependencies turn on no feature of
/// a normal dependency that `[dependencies]` does not turn on too (see Cargo.toml's feature
/// alignment). A new dev-dependency that breaks this doubles a fresh machine's build. See: issue 10.
#[test]
fn dev_dependencies_leave_normal_features_alone() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = |edges: &str| -> Option<std::collections::BTreeSet<String>> {
        let out = std::process::Command::new(&cargo)
            .args(["tree", "--offline", "--locked", "-e", edges, "--prefix", "none", "-f", "{p} [{f}]"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        Some(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim_end_matches(" (*)").to_string()).collect())
    };
    let (Some(build), Some(test)) = (tree("normal,build"), tree("normal,build,dev")) else {
        eprintln!("skipped: `cargo tree --offline` is not available here");
        return;
    };
    let changed: Vec<&String> = build.difference(&test).collect();
    assert!(changed.is_empty(), "dev-dependencies change these packages' features; align them in Cargo.toml: {changed:?}");
}
