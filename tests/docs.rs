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
