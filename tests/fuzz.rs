//! Fuzz targets on the stable toolchain (see: issue 11): proptest over arbitrary bytes and over
//! mutations of valid files, for the CSV, JSON/NDJSON, XES and Parquet readers, the profile TOML
//! parser, the timestamp parser and the event-log derivation.
//!
//! Each input runs on a watchdog thread inside `catch_unwind`, so a panic (in mttx or in a
//! dependency) and a hang (over `WATCHDOG`) both fail the target. The invariants:
//! - readers: the load returns an error, or a summary where every file has
//!   read = loaded + merged + rejected;
//! - parsers: an error, or a value that round-trips (a profile through TOML, an instant through
//!   RFC 3339 or its own strftime pattern).
//!
//! In CI the seed is fixed and the cases few, so runs are reproducible and fast; the checked-in
//! corpus (tests/fixtures/fuzz/<target>/) is replayed first, every time. Longer, randomly seeded
//! runs, for local use (see the README's Development section):
//!
//! ```sh
//! MTTX_FUZZ_CASES=20000 MTTX_FUZZ_SEED=random cargo test --release fuzz:: -- --test-threads 2
//! ```
//!
//! A failure prints the seed and the shrunk input; save the input under the target's corpus
//! directory, so it is replayed from then on.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use mttx::ingest::{self, LoadOptions, MemorySink, Profile, RejectsCsv};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The longest one input may take before it counts as a hang.
const WATCHDOG: Duration = Duration::from_secs(20);
/// The seed of CI runs: "mttx" in ASCII.
const CI_SEED: u64 = 0x6d74_7478;

fn config(ci_cases: u32) -> Config {
    let cases = std::env::var("MTTX_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(ci_cases);
    let rng_seed = match std::env::var("MTTX_FUZZ_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(n) => RngSeed::Fixed(n.parse().expect("MTTX_FUZZ_SEED is a number or `random`")),
        None => RngSeed::Fixed(CI_SEED),
    };
    // Failures are kept as corpus files by hand, not written into the source tree.
    Config { cases, rng_seed, failure_persistence: None, max_shrink_iters: 2000, ..Config::default() }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs `work` on a watchdog thread: Err with the panic's message, or "hang" after `WATCHDOG`.
fn guarded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = send.send(outcome.map_err(|payload| mttx::error::panic_message(payload.as_ref())));
    });
    match receive.recv_timeout(WATCHDOG) {
        Ok(outcome) => outcome.map_err(|message| format!("panicked: {message}")),
        Err(_) => Err(format!("no result within {WATCHDOG:?}: a hang")),
    }
}

/// Loads `bytes` as a file named `name` through `profile`: Ok unless it panics, hangs, or loads
/// rows that do not reconcile.
fn load_bytes(name: &str, bytes: Vec<u8>, profile: &'static str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(name);
    std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
    let outcome = guarded(move || {
        let profile = Profile::resolve(profile).expect("built-in profile");
        let as_of = mttx::time::parse_iso("2027-01-01T00:00:00Z", chrono_tz::UTC);
        let mut tables = MemorySink::default();
        ingest::load(&[path], &profile, &LoadOptions { as_of, ..LoadOptions::default() }, &mut tables, &mut RejectsCsv::discard()).map(|summary| {
            let mut broken: Vec<String> = summary
                .files
                .iter()
                .filter(|f| !f.counts.reconciles())
                .map(|f| format!("read ≠ loaded + merged + rejected in {}: {:?}", f.path, f.counts))
                .collect();
            broken.extend(ordering_violations(&tables));
            broken
        })
    })?;
    match outcome {
        Ok(broken) if !broken.is_empty() => Err(broken.join("; ")),
        _ => Ok(()),
    }
}

/// Loaded rows whose timestamps break one of the model's ordering rules: ingest must reject them.
fn ordering_violations(tables: &MemorySink) -> Vec<String> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::TimestampMicrosecondType;
    let mut found = Vec::new();
    for (table, batches) in &tables.tables {
        for batch in batches {
            for (earlier, later) in table.ordering_rules() {
                let column = |name: &str| batch.column_by_name(name).expect("canonical column").as_primitive::<TimestampMicrosecondType>().clone();
                let (a, b) = (column(earlier), column(later));
                for row in (0..batch.num_rows()).filter(|&r| a.is_valid(r) && b.is_valid(r) && b.value(r) < a.value(r)) {
                    found.push(format!("{table} row {row}: {later} before {earlier}"));
                }
            }
        }
    }
    found
}

/// Text that readers treat specially, spliced into valid files.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"<",
    b">",
    b"</",
    b"&amp;",
    b"9999-12-31",
    b"1900-01-01",
    b"2026-13-45T25:00:00Z",
    b"2099-01-01T00:00:00Z",
    b"-1",
    b"NaN",
    b"1e400",
    b"null",
    b"PAR1",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::Insert(at, token.to_vec())),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::FlipBit(at, bit) if !bytes.is_empty() => bytes[at % len] ^= 1 << bit,
            Mutation::Insert(at, insert) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, insert.iter().copied());
            }
            Mutation::Delete(at, n) if !bytes.is_empty() => {
                let at = at % len;
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            Mutation::Duplicate(at, n) if !bytes.is_empty() => {
                let at = at % len;
                let piece = bytes[at..(at + n).min(bytes.len())].to_vec();
                bytes.splice(at..at, piece);
            }
            Mutation::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// Seeds for a target: valid files, then the checked-in corpus of past findings.
fn seeds(valid: &[PathBuf], corpus: &str) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = valid.iter().map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).collect();
    seeds.extend(corpus_files(corpus).into_iter().map(|p| std::fs::read(p).unwrap()));
    seeds
}

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = fixtures().join("fuzz").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    files.sort();
    files
}

/// Arbitrary bytes, or a seed with up to eight mutations.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = seeds.len();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..1024),
        4 => (0..count, prop::collection::vec(mutation(), 0..8)).prop_map(move |(i, ms)| apply(seeds[i].clone(), &ms)),
    ]
}

/// Replays every corpus file of `target` through `check` before the random cases.
fn replay(target: &str, check: impl Fn(Vec<u8>) -> Result<(), String>) {
    for path in corpus_files(target) {
        if let Err(e) = check(std::fs::read(&path).unwrap()) {
            panic!("corpus {}: {e}", path.display());
        }
    }
}

static WORLD_PARQUET: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("mttx-fuzz-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world/incidents.csv");
    let profile = Profile::resolve("canonical").unwrap();
    let mut sink = MemorySink::default();
    ingest::load(&[world], &profile, &LoadOptions::default(), &mut sink, &mut RejectsCsv::discard()).unwrap();
    let table = mttx::model::Table::Incidents;
    let path = dir.join("incidents.parquet");
    let mut writer = mttx::write::TableWriter::create(&path, mttx::write::OutputFormat::Parquet, false, table.schema()).unwrap();
    for batch in &sink.tables[&table] {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    path
});

#[test]
fn fuzz_csv_reader() {
    let valid = [fixtures().join("formats/incidents.csv"), fixtures().join("formats/incidents_excel.csv"), fixtures().join("bad/incidents.csv")];
    let check = |bytes: Vec<u8>| load_bytes("incidents.csv", bytes, "canonical");
    replay("csv", check);
    proptest!(config(96), |(bytes in inputs(seeds(&valid, "csv")))| { check(bytes).map_err(TestCaseError::fail)?; });
}

#[test]
fn fuzz_json_reader() {
    let valid = [fixtures().join("formats/incidents.json"), fixtures().join("formats/incidents.ndjson")];
    let check = |bytes: Vec<u8>| {
        let name = if bytes.first() == Some(&b'[') { "incidents.json" } else { "incidents.ndjson" };
        load_bytes(name, bytes, "canonical")
    };
    replay("json", check);
    proptest!(config(96), |(bytes in inputs(seeds(&valid, "json")))| { check(bytes).map_err(TestCaseError::fail)?; });
}

#[test]
fn fuzz_xes_reader() {
    let valid = [fixtures().join("profiles/xes/incidents.xes")];
    let check = |bytes: Vec<u8>| load_bytes("incidents.xes", bytes, "xes");
    replay("xes", check);
    proptest!(config(64), |(bytes in inputs(seeds(&valid, "xes")))| { check(bytes).map_err(TestCaseError::fail)?; });
}

#[test]
fn fuzz_parquet_reader() {
    let valid = [WORLD_PARQUET.clone()];
    let check = |bytes: Vec<u8>| load_bytes("incidents.parquet", bytes, "canonical");
    replay("parquet", check);
    proptest!(config(96), |(bytes in inputs(seeds(&valid, "parquet")))| { check(bytes).map_err(TestCaseError::fail)?; });
}

/// Profiles that parse serialise to TOML and parse back to the same profile.
#[test]
fn fuzz_profile_parser() {
    let valid: Vec<Vec<u8>> = mttx::ingest::profile::BUILTIN.iter().map(|(_, text)| text.as_bytes().to_vec()).collect();
    let check = |bytes: Vec<u8>| -> Result<(), String> {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        guarded(move || match Profile::parse(&text, "fuzz.toml") {
            Err(_) => Ok(()),
            Ok(profile) => {
                let again = toml::to_string(&profile).map_err(|e| format!("a parsed profile does not serialise: {e}"))?;
                match Profile::parse(&again, "fuzz.toml") {
                    Ok(back) if back == profile => Ok(()),
                    Ok(back) => Err(format!("round trip changed the profile:\n{profile:?}\n{back:?}")),
                    Err(e) => Err(format!("a serialised profile does not parse: {e}\n{again}")),
                }
            }
        })?
    };
    replay("profile", check);
    let mut seeds = valid;
    seeds.extend(corpus_files("profile").into_iter().map(|p| std::fs::read(p).unwrap()));
    proptest!(config(192), |(bytes in inputs(seeds.clone()))| { check(bytes).map_err(TestCaseError::fail)?; });
}

/// Text that looks like a timestamp: ISO 8601 pieces with arbitrary values.
fn timestamp_text() -> impl Strategy<Value = String> {
    let iso = (
        0u32..10_000,
        0u32..14,
        0u32..33,
        0u32..26,
        0u32..61,
        0u32..62,
        prop::option::of(0u32..1_000_000_000),
        prop::sample::select(&["", "Z", "+01:00", "-0930", "+14", " ", "z"][..]),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone)| match frac {
            Some(f) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f}{zone}"),
            None => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{zone}"),
        });
    prop_oneof![iso, "\\PC{0,40}", "[0-9/:. TZ+-]{0,30}"]
}

/// A parsed instant prints as RFC 3339 and parses back to itself, in ISO and in each built-in
/// profile's strftime patterns (printed in the pattern's zone).
#[test]
fn fuzz_timestamp_parser() {
    let zones: Vec<chrono_tz::Tz> = ["UTC", "Europe/Amsterdam", "America/Santiago", "Asia/Kolkata"].iter().map(|z| z.parse().unwrap()).collect();
    const PATTERNS: [&str; 4] = ["%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%b/%Y %I:%M %p", "%Y-%m-%d %H:%M"];
    proptest!(config(512), |(text in timestamp_text(), zone in prop::sample::select(zones.clone()), pattern in prop::sample::select(&PATTERNS[..]))| {
        let (text2, pattern) = (text.clone(), pattern.to_string());
        let outcome = guarded(move || -> Result<(), String> {
            if let Some(v) = mttx::time::parse_iso(&text2, zone) {
                let printed = mttx::time::rfc3339(v);
                if mttx::time::parse_iso(&printed, zone) != Some(v) {
                    return Err(format!("`{text2}` → {v} → `{printed}` does not parse back"));
                }
            }
            let parser = ingest::timestamp::TimestampParser::new(std::slice::from_ref(&pattern), zone).map_err(|e| e.to_string())?;
            if let Some(v) = parser.parse(&text2) {
                let local = chrono::DateTime::from_timestamp_micros(v).unwrap().with_timezone(&zone);
                let printed = local.format(&pattern).to_string();
                if parser.parse(&printed) != Some(v) {
                    return Err(format!("`{text2}` with `{pattern}` in {zone} → {v} → `{printed}` does not parse back"));
                }
            }
            Ok(())
        });
        outcome.and_then(|r| r).map_err(TestCaseError::fail)?;
    });
}

/// One status-history row: case, time, status and sub-status, in the vinst-like export's layout.
fn event_row() -> impl Strategy<Value = String> {
    let case = prop::sample::select(&["1-1", "1-2", "1-3", "1-4", "", "1-1 "][..]);
    let day = 0i64..40;
    let minute = 0i64..1440;
    let status = prop::sample::select(&["Queued", "Accepted", "Completed", "Closed", "Unknown", ""][..]);
    let detail = prop::sample::select(&["Awaiting Assignment", "In Progress", "Wait - User", "Resolved", "Closed", "In Call", ""][..]);
    let odd_time = prop::sample::select(&["", "9999-12-31T00:00:00Z", "not a time", "2031-02-30T00:00:00Z"][..]);
    (case, day, minute, status, detail, prop::option::weighted(0.05, odd_time)).prop_map(|(case, day, minute, status, detail, odd)| {
        let at = chrono::DateTime::from_timestamp(1_333_238_400 + day * 86_400 + minute * 60, 0).unwrap().to_rfc3339();
        let at = odd.map(str::to_string).unwrap_or(at);
        format!("{case},{at},{status},{detail},x,x,A1,Org,V1,V1,L1,Medium,P1,be,Belgium,Luc,be-Luc\n")
    })
}

/// Random status histories, loaded through the eventlog profile: the derivation reconciles every
/// event (a ticket, a merged event or a reject) and no derived ticket breaks an ordering rule.
#[test]
fn fuzz_eventlog_derivation() {
    const HEADER: &str = "SR Number,Change Date+Time,Status,Sub Status,Activity,Activity Level,Involved ST Function Div,Involved Org line 3,Involved ST,Involved ST 2,ST Level,SR Latest Impact,Product,Country,Owner Country,Owner First Name,Resource\n";
    proptest!(config(48), |(rows in prop::collection::vec(event_row(), 0..40))| {
        let csv = format!("{HEADER}{}", rows.concat());
        load_bytes("vinst_like.csv", csv.into_bytes(), "eventlog").map_err(TestCaseError::fail)?;
    });
}
