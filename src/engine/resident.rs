//! The process's resident memory, watched against the memory mttx may use: past 95 % of it,
//! mttx stops with a memory error naming what it was running (code 2), where the kernel's
//! out-of-memory killer would otherwise end it without a word.
//!
//! The memory pool (`MemoryLimit`) bounds what the queries' operators hold; this bounds the whole
//! process: the batches between operators, the partial states an aggregate hands on, the KPI
//! documents a report keeps, and what the allocator holds free.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::memory::{MemoryLimit, human_bytes, usable_memory};

/// Environment variable: the memory mttx may use, instead of its control group's limit or the
/// machine's memory; a size as `--memory-limit` takes it (`6G`, `512M`), or `none` to not watch.
pub const LIMIT_VARIABLE: &str = "MTTX_RESIDENT_LIMIT";

/// How often the resident size is read. Memory grows by at most a few tens of megabytes in this
/// time (page faults run at a few GB/s), well inside the twentieth kept in hand.
const EVERY: Duration = Duration::from_millis(10);

/// What is running, so the error can say what needed the memory.
static WORK: Mutex<BTreeMap<u64, String>> = Mutex::new(BTreeMap::new());
static NEXT_WORK: AtomicU64 = AtomicU64::new(0);

/// A piece of work named in the memory error while it runs; dropping it takes its name away.
pub struct Working {
    key: u64,
}

impl Drop for Working {
    fn drop(&mut self) {
        if let Ok(mut work) = WORK.lock() {
            work.remove(&self.key);
        }
    }
}

/// Names `what` (a KPI and its file, say) in the memory error for as long as the result lives.
pub fn working_on(what: impl Into<String>) -> Working {
    let key = NEXT_WORK.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut work) = WORK.lock() {
        work.insert(key, what.into());
    }
    Working { key }
}

/// The memory mttx may use and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub bytes: usize,
    pub source: &'static str,
}

impl Allowance {
    /// From `MTTX_RESIDENT_LIMIT` when it is set, else the control group's limit or the machine's
    /// memory (the lower); None when none can be read or the variable says `none`.
    pub fn of_process() -> Result<Option<Allowance>, String> {
        match std::env::var(LIMIT_VARIABLE) {
            Ok(text) => match MemoryLimit::parse(&text).map_err(|e| format!("{LIMIT_VARIABLE}={e}"))? {
                MemoryLimit::Bytes(bytes) => Ok(Some(Allowance { bytes, source: LIMIT_VARIABLE })),
                MemoryLimit::Unbounded => Ok(None),
            },
            Err(_) => Ok(usable_memory().map(|(bytes, source)| Allowance { bytes, source })),
        }
    }

    /// The resident size past which mttx stops: 95 % of the allowance, the rest kept for
    /// what grows between two readings and for the kernel's own use of the group's memory.
    pub fn ceiling(&self) -> usize {
        self.bytes / 20 * 19
    }
}

/// Starts the watch on a thread of its own, for the rest of the process's life; does nothing
/// where the resident size cannot be read (outside Linux) or nothing bounds the process.
pub fn watch() -> Result<(), String> {
    let Some(allowance) = Allowance::of_process()? else { return Ok(()) };
    if resident_bytes().is_none() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("mttx-resident".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EVERY);
                if resident_bytes().is_none_or(|resident| resident <= allowance.ceiling()) {
                    continue;
                }
                // What the allocator holds free counts as resident until it is given back.
                super::release_freed();
                if let Some(resident) = resident_bytes().filter(|&resident| resident > allowance.ceiling()) {
                    eprintln!("mttx: error: {}", exhausted(resident, &allowance, &running()));
                    std::process::exit(2);
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the memory watch: {e}"))
}

/// The names of the work running now, in the order it started.
fn running() -> Vec<String> {
    WORK.lock().map(|work| work.values().cloned().collect()).unwrap_or_default()
}

/// The memory error: what mttx holds, what it may use and why, what was running, what to do.
fn exhausted(resident: usize, allowance: &Allowance, running: &[String]) -> String {
    let during = match running {
        [] => String::new(),
        names => format!(" while running {}", names.join(", ")),
    };
    format!(
        "out of memory: mttx holds {} resident{during}, past 95 % of the {} it may use ({}); narrow the period (--from/--to), run fewer KPIs (--only), or give mttx more memory",
        human_bytes(resident),
        human_bytes(allowance.bytes),
        allowance.source
    )
}

/// This process's resident size, from /proc/self/statm (Linux); None elsewhere.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    resident_pages(&statm)?.checked_mul(page_size()?)
}

/// The second field of statm: resident pages.
fn resident_pages(statm: &str) -> Option<usize> {
    statm.split_ascii_whitespace().nth(1)?.parse().ok()
}

fn page_size() -> Option<usize> {
    #[cfg(unix)]
    // SAFETY: sysconf reads a constant of the system; it has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    #[cfg(not(unix))]
    let size = -1;
    usize::try_from(size).ok().filter(|&size| size > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_size_is_the_second_field_of_statm() {
        assert_eq!(resident_pages("123456 7890 321 12 0 4567 0\n"), Some(7890));
        assert_eq!(resident_pages("123456"), None);
        assert!(resident_bytes().is_none_or(|bytes| bytes > 1 << 20), "a running test holds more than a megabyte");
    }

    #[test]
    fn the_error_names_the_size_the_allowance_its_source_and_the_work() {
        let allowance = Allowance { bytes: 3 << 30, source: "the control group's memory limit" };
        // 3 GiB / 20 * 19 = 2.85 GiB (integer division of the bytes first).
        assert_eq!(allowance.ceiling(), (3usize << 30) / 20 * 19);
        let message = exhausted(2900 << 20, &allowance, &["group_time (queries/group_time.sql)".into(), "mttr (queries/mttr.sql)".into()]);
        assert_eq!(
            message,
            "out of memory: mttx holds 2.8 GiB resident while running group_time (queries/group_time.sql), mttr (queries/mttr.sql), past 95 % of the 3 GiB it may use (the control group's memory limit); narrow the period (--from/--to), run fewer KPIs (--only), or give mttx more memory"
        );
        assert!(!exhausted(1 << 30, &allowance, &[]).contains("while"));
    }

    #[test]
    fn work_is_named_while_it_runs() {
        let first = working_on("first (queries/first.sql)");
        let second = working_on("second (queries/second.sql)");
        let now = running();
        let at = |name: &str| now.iter().position(|w| w.starts_with(name)).unwrap_or_else(|| panic!("{name} is not named in {now:?}"));
        assert!(at("first (") < at("second ("));
        drop(first);
        assert!(!running().iter().any(|w| w.starts_with("first (")));
        drop(second);
        assert!(!running().iter().any(|w| w.starts_with("second (")));
    }
}
