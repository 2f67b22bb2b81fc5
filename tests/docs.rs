//! The documentation states what the code does: the model as model.rs defines it, the KPI
//! reference as the SQL headers generate it, a KPI index that points at files that exist, relative
//! links that resolve, and `mttx` command lines that the command line accepts.

use mttx::model::Table;

#[test]
fn model_tables_match_model_rs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/model.md")).unwrap();
    for table in Table::ALL {
        let heading = format!("**{}**", table.name());
        let start = readme.find(&heading).unwrap_or_else(|| panic!("docs/model.md has no {heading} section"));
        let section: String = readme[start + heading.len()..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.split('|').nth(1).unwrap().trim().to_string() + "\n")
            .collect();
        let documented: Vec<&str> = section.lines().collect();
        let defined: Vec<&str> = table.fields().iter().map(|f| f.name).collect();
        assert_eq!(documented, defined, "docs/model.md's {table} table");
    }
}

/// docs/kpis.md is exactly what `mttx catalog --format markdown` prints from the SQL headers, so
/// the documented definitions are the ones that run.
#[test]
fn the_kpi_reference_is_the_catalog() {
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/kpis.md")).unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mttx")).args(["catalog", "--format", "markdown"]).output().unwrap();
    let catalog = String::from_utf8(output.stdout).unwrap();
    assert!(reference == catalog, "regenerate it: cargo run -q -- catalog --format markdown > docs/kpis.md");
}

/// The KPI index (docs/development.md) names files, golden cases and charts that exist, one row per KPI, so a
/// newcomer can go from a KPI to its tests (its golden cases, their one home) and chart in a
/// minute. See: issue 10.
#[test]
fn the_kpi_index_points_at_what_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("docs/development.md")).unwrap();
    let start = readme.find("<!-- kpi-index:start -->").expect("docs/development.md has the KPI index markers");
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

/// README.md and every file of docs/, with their paths.
fn documents() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    let mut docs: Vec<std::path::PathBuf> =
        std::fs::read_dir(root.join("docs")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    docs.sort();
    paths.extend(docs);
    paths.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

/// The lines of a Markdown text outside fenced code blocks, and the lines inside `sh` blocks.
fn prose_and_shell(text: &str) -> (Vec<&str>, Vec<&str>) {
    let (mut prose, mut shell) = (Vec::new(), Vec::new());
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            fence = if fence.is_some() { None } else { Some(info.trim()) };
            continue;
        }
        match fence {
            None => prose.push(line),
            Some("sh" | "bash" | "shell" | "console") => shell.push(line),
            Some(_) => {}
        }
    }
    (prose, shell)
}

/// GitHub's anchor of a heading: its text as rendered, lower-cased, with spaces as hyphens and
/// punctuation other than `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    let mut text = String::new();
    let mut chars = heading.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            '`' | '*' => {}
            '[' => {}
            ']' if chars.peek() == Some(&'(') => {
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            _ => text.push(c),
        }
    }
    text.trim()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings, numbered as GitHub numbers repeats.
fn anchors(text: &str) -> std::collections::BTreeSet<String> {
    let (prose, _) = prose_and_shell(text);
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let mut all = std::collections::BTreeSet::new();
    for line in prose {
        let Some(heading) = line.strip_prefix('#').map(|h| h.trim_start_matches('#')) else { continue };
        let base = anchor(heading);
        let count = seen.entry(base.clone()).or_default();
        all.insert(if *count == 0 { base.clone() } else { format!("{base}-{count}") });
        *count += 1;
    }
    all
}

/// Every relative link of README.md, CHANGELOG.md and docs/ points to a file that exists, and an
/// anchor to a heading of the file it names.
#[test]
fn relative_links_resolve() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for (path, text) in documents() {
        let (prose, _) = prose_and_shell(&text);
        for line in prose {
            let mut rest = line;
            while let Some(at) = rest.find("](") {
                rest = &rest[at + 2..];
                let Some(end) = rest.find(')') else { break };
                let target = rest[..end].split_whitespace().next().unwrap_or_default();
                rest = &rest[end..];
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, fragment) = target.split_once('#').map_or((target, None), |(f, a)| (f, Some(a)));
                let file_path = if file.is_empty() { path.clone() } else { path.parent().unwrap().join(file) };
                if !file_path.exists() {
                    broken.push(format!("{}: {target}: no such file", path.display()));
                    continue;
                }
                if let Some(fragment) = fragment
                    && file_path.extension().is_some_and(|e| e == "md")
                    && !anchors(&std::fs::read_to_string(&file_path).unwrap()).contains(fragment)
                {
                    broken.push(format!("{}: {target}: no heading with that anchor", path.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 20, "the scan found only {checked} links");
}

/// A shell line as its words: quotes group, `\` escapes, and the line ends at a comment or at
/// anything that starts another command (`|`, `>`, `&&`, `;`).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                word.extend(chars.next());
                in_word = true;
            }
            (None, '#' | '|' | '>' | '<' | ';' | '&') if !in_word || c != '#' => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Every line of a `sh` block that runs `mttx` is a command line mttx accepts (continued lines
/// joined), so an example cannot name a flag that does not exist.
#[test]
fn shell_examples_parse() {
    use clap::Parser;
    let mut refused = Vec::new();
    let mut parsed = 0;
    for (path, text) in documents() {
        let (_, shell) = prose_and_shell(&text);
        let mut joined = Vec::new();
        let mut pending = String::new();
        for line in shell {
            match line.trim_end().strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => joined.push(std::mem::take(&mut pending) + line),
            }
        }
        for line in joined.iter().map(|l| l.trim()).filter(|l| l.starts_with("mttx ")) {
            let words = shell_words(line);
            let subcommand = words.iter().skip(1).find(|w| !w.starts_with('-') && !w.contains(':') && !w.contains('/'));
            if cfg!(not(feature = "ballista")) && subcommand.is_some_and(|s| s == "scheduler" || s == "executor") {
                continue; // checked in a build with the feature
            }
            if cfg!(not(feature = "serve")) && subcommand.is_some_and(|s| s == "serve") {
                continue; // checked in a build with the feature
            }
            parsed += 1;
            if let Err(e) = mttx::cli::Cli::try_parse_from(&words)
                && !matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion)
            {
                refused.push(format!("{}: `{line}`: {}", path.display(), e.render().to_string().lines().next().unwrap_or_default()));
            }
        }
    }
    assert!(refused.is_empty(), "command lines mttx refuses:\n{}", refused.join("\n"));
    assert!(parsed > 10, "the scan found only {parsed} mttx command lines");
}

#[test]
fn the_scans_read_anchors_and_words() {
    assert_eq!(anchor(" Before and after: `mttx compare`"), "before-and-after-mttx-compare");
    assert_eq!(anchor(" mttr\\_business"), "mttr_business");
    assert_eq!(anchor(" [Link](x.md) here"), "link-here");
    assert_eq!(anchors("# A\n## A\n```sh\n# not a heading\n```\n"), ["a".to_string(), "a-1".to_string()].into());
    assert_eq!(shell_words("mttx sql -i \"a b\" 'SELECT 1' # note | x"), ["mttx", "sql", "-i", "a b", "SELECT 1"]);
    assert_eq!(shell_words("mttx kpi --input x | head"), ["mttx", "kpi", "--input", "x"]);
}

/// See: issue 29. CHANGELOG.md lists every renamed column, as `kpi`: `old` → `new`, so an upgrade
/// never strands a rules file without saying where its names went.
#[test]
fn the_changelog_lists_every_rename() {
    let changelog = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md")).unwrap();
    for rename in mttx::kpi::renames::RENAMES {
        let line = format!("`{}`: `{}` → `{}` (kpis.json version {})", rename.kpi, rename.old, rename.new, rename.document_version);
        assert!(changelog.contains(&line), "CHANGELOG.md does not list the rename {line}");
    }
}
