//! The source tree's shape: no two modules or folders import each other, directly or round a
//! longer loop, at any level (`src/` itself, and the modules inside each folder); only the command
//! layer reads the command-line types; and no source file grows past about 400 lines without its
//! module doc saying why it is kept whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be without a `//! Kept whole:` line saying why.
const MAX_LINES: usize = 400;

/// A source file: its module path (`engine/ballista/codec.rs` is `["engine", "ballista", "codec"]`,
/// a `mod.rs` its folder's, `lib.rs` and `main.rs` the root) and its text.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            Source { file, module, text }
        })
        .collect()
}

/// The text without comments, line by line (so line numbers stay), and string literals blanked,
/// so that a path in a doc comment or a message is not read as an import.
fn code_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let mut out = String::with_capacity(line.len());
            let mut in_string = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        in_string = !in_string;
                        out.push('"');
                    }
                    '\\' if in_string => {
                        chars.next();
                    }
                    '/' if !in_string && chars.peek() == Some(&'/') => break,
                    _ if in_string => {}
                    _ => out.push(c),
                }
            }
            out
        })
        .collect()
}

/// Every path a `use` tree names, expanded: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap().trim();
        return vec![path.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "*" && *s != "self").map(String::from).collect()];
    };
    let prefix: Vec<String> = tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).flat_map(expand).map(|rest| prefix.iter().cloned().chain(rest).collect()).collect()
}

/// What a file refers to in the crate, as module paths from the root, with the line of each:
/// `use crate::…` trees, `crate::…` paths in code, and a file module's own `use super::…` (its
/// siblings; a nested module's `super` is the file itself, which is no edge).
fn references(source: &Source) -> Vec<(Vec<String>, usize)> {
    let lines = code_lines(&source.text);
    let mut found = Vec::new();
    let mut statement: Option<(String, usize)> = None;
    for (number, line) in lines.iter().enumerate() {
        let number = number + 1;
        if let Some((text, at)) = statement.as_mut() {
            text.push_str(line);
            if line.contains(';') {
                let (text, at) = (text.clone(), *at);
                found.extend(expand(text.split(';').next().unwrap()).into_iter().map(|p| (p, at)));
                statement = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        let tree = trimmed.strip_prefix("pub use ").or_else(|| trimmed.strip_prefix("pub(crate) use ")).or_else(|| trimmed.strip_prefix("use "));
        if let Some(tree) = tree {
            if let Some(rest) = tree.strip_prefix("crate::") {
                statement = Some((rest.to_string(), number));
            } else if let (Some(rest), false) = (tree.strip_prefix("super::"), line.starts_with(' ')) {
                let parent = &source.module[..source.module.len().saturating_sub(1)];
                let prefix = parent.join("::");
                statement = Some((if prefix.is_empty() { rest.to_string() } else { format!("{prefix}::{rest}") }, number));
            }
            if let Some((text, at)) = statement.clone()
                && text.contains(';')
            {
                found.extend(expand(text.split(';').next().unwrap()).into_iter().map(|p| (p, at)));
                statement = None;
            }
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let path: Vec<String> = rest
                .split("::")
                .map(|s| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
                .take_while(|s| !s.is_empty())
                .collect();
            found.push((path, number));
        }
    }
    found
}

/// An edge between two children of one folder: (folder, from, to) → where it is seen.
type Edges = BTreeMap<(Vec<String>, String, String), String>;

fn edges(sources: &[Source]) -> Edges {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges = Edges::new();
    for source in sources {
        for (target, line) in references(source) {
            let common = source.module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            let (Some(from), Some(to)) = (source.module.get(common), target.get(common)) else { continue };
            let folder = source.module[..common].to_vec();
            let to_module = [folder.as_slice(), std::slice::from_ref(to)].concat();
            if !modules.contains(&to_module) {
                continue; // an item of the folder's own module, not a sibling module
            }
            let seen = format!("{}:{line}", source.file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display());
            edges.entry((folder, from.clone(), to.clone())).or_insert(seen);
        }
    }
    edges
}

/// The cycles among one folder's children, each as its modules in order, found by depth-first
/// search from every module in turn (folders hold a handful of modules).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    fn walk(graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, found: &mut BTreeSet<Vec<String>>) {
        let last = path.last().unwrap().clone();
        for next in graph.get(&last).into_iter().flatten() {
            if *next == path[0] {
                // Each cycle once: written from its smallest module.
                let start = path.iter().enumerate().min_by_key(|(_, m)| *m).unwrap().0;
                found.insert(path[start..].iter().chain(&path[..start]).cloned().collect());
            } else if !path.contains(next) && *next > path[0] {
                path.push(next.clone());
                walk(graph, path, found);
                path.pop();
            }
        }
    }
    let mut found = BTreeSet::new();
    for start in graph.keys() {
        walk(graph, &mut vec![start.clone()], &mut found);
    }
    found
}

#[test]
fn no_module_or_folder_imports_one_that_imports_it_back() {
    let edges = edges(&sources());
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (folder, from, to) in edges.keys() {
        graphs.entry(folder.clone()).or_default().entry(from.clone()).or_default().insert(to.clone());
    }
    let mut report = Vec::new();
    for (folder, graph) in &graphs {
        for cycle in cycles(graph) {
            let steps: Vec<String> = cycle
                .iter()
                .zip(cycle.iter().cycle().skip(1))
                .map(|(a, b)| format!("    {a} → {b} ({})", edges[&(folder.clone(), a.clone(), b.clone())]))
                .collect();
            report.push(format!("in src/{}: {}\n{}", folder.join("/"), cycle.join(" → "), steps.join("\n")));
        }
    }
    assert!(report.is_empty(), "import cycles:\n{}", report.join("\n"));
    let root = &graphs[&Vec::new()];
    assert!(root.get("engine").is_some_and(|to| to.contains("functions")), "the scan sees engine's use of functions");
}

#[test]
fn only_the_command_layer_reads_the_command_line() {
    let sources = sources();
    let mut readers = Vec::new();
    for source in &sources {
        let layer = source.module.first().map(String::as_str).unwrap_or("");
        if matches!(layer, "" | "cli" | "commands") {
            continue;
        }
        for (target, line) in references(source) {
            if matches!(target.first().map(String::as_str), Some("cli" | "commands")) {
                readers.push(format!("{}:{line} uses crate::{}", source.file.display(), target.join("::")));
            }
        }
    }
    assert!(readers.is_empty(), "below `commands`, nothing reads flags or commands:\n{}", readers.join("\n"));
}

#[test]
fn long_files_say_why_they_are_kept_whole() {
    let mut long = Vec::new();
    for source in sources() {
        let lines = source.text.lines().count();
        let explained = source.text.lines().take_while(|l| l.starts_with("//!")).any(|l| l.starts_with("//! Kept whole:"));
        if lines > MAX_LINES && !explained {
            long.push(format!("{} ({lines} lines)", source.file.display()));
        }
    }
    assert!(long.is_empty(), "split these along their seams, or say in a `//! Kept whole:` line why not:\n{}", long.join("\n"));
}

#[test]
fn the_scan_reads_use_trees_and_paths() {
    let paths = expand("a::{b, c::{d, e as f}, g::*}");
    assert_eq!(paths, [vec!["a", "b"], vec!["a", "c", "d"], vec!["a", "c", "e"], vec!["a", "g"]]);
    let source = Source {
        file: PathBuf::from("src/x/y.rs"),
        module: vec!["x".into(), "y".into()],
        text: "use super::z::Thing;\nuse crate::{p::q, r};\n// crate::not::this\nfn f() { crate::s::t(\"crate::nor::this\"); }\n".into(),
    };
    let found: Vec<(String, usize)> = references(&source).into_iter().map(|(p, l)| (p.join("::"), l)).collect();
    let expected = [("x::z::Thing", 1), ("p::q", 2), ("r", 2), ("s::t", 4)].map(|(p, l)| (p.to_string(), l));
    assert_eq!(found, expected);
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(cycles(&graph), BTreeSet::from([vec!["a".to_string(), "b".into(), "c".into()]]));
}
