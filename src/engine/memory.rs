//! How much memory a command's queries may hold, and the error that names what ran out.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::NestedLoopJoinExec;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// How much memory the operators of a command's queries (sorts, aggregates, joins, windows) may
/// hold at once, all of its queries together. A query that needs more fails with an error naming
/// the KPI and the limit, instead of the operating system killing the process. The tables
/// themselves and the batches in flight are not counted, so the default leaves the other half of
/// the memory to them.
///
/// A query spills its sorts, aggregates and repartitions to temporary files when the pool runs
/// short, unless its plan holds a nested-loop join (`spills_correctly`): in DataFusion 55 a
/// nested-loop join that runs out of memory falls back to re-executing its input, which panics
/// when a repartition lies below it, and by its own comment can repeat rows of left joins. Those
/// queries run without temporary files and are refused at the limit: an answer that is late or
/// refused beats a wrong one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    Bytes(usize),
    Unbounded,
}

impl Default for MemoryLimit {
    /// Half of the memory mttx may use: the machine's physical memory, or the limit of the control
    /// group it runs in when that is lower (a container, `systemd-run -p MemoryMax=…`); 4 GiB
    /// where neither can be read.
    fn default() -> MemoryLimit {
        MemoryLimit::Bytes(usable_memory().map_or(4 << 30, |(total, _)| total / 2))
    }
}

impl MemoryLimit {
    /// `4G`, `512M`, `1.5GiB`, `2000000000` (bytes) or `none`. Units are powers of 1024.
    pub fn parse(text: &str) -> Result<MemoryLimit, String> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("none") {
            return Ok(MemoryLimit::Unbounded);
        }
        let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let scale: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
            "" => 1,
            "K" => 1 << 10,
            "M" => 1 << 20,
            "G" => 1 << 30,
            "T" => 1 << 40,
            _ => return Err(format!("`{text}`: give a size such as 4G, 512M or 1.5GiB, or none")),
        };
        let value: f64 = number.parse().map_err(|_| format!("`{text}`: give a size such as 4G, 512M or 1.5GiB, or none"))?;
        let bytes = value * scale as f64;
        if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
            return Err(format!("`{text}`: the limit must be at least one byte (or none)"));
        }
        Ok(MemoryLimit::Bytes(bytes as usize))
    }

    /// True for a limit of 4 GiB or less, the default on a machine or in a container of 8 GiB or
    /// less: work that can trade parallelism for memory should.
    pub fn is_tight(self) -> bool {
        matches!(self, MemoryLimit::Bytes(bytes) if bytes <= 4 << 30)
    }

    /// As a person reads it: `2 GiB`, `512 MiB`, `none`.
    pub fn describe(self) -> String {
        match self {
            MemoryLimit::Unbounded => "none".into(),
            MemoryLimit::Bytes(bytes) => human_bytes(bytes),
        }
    }

    /// The runtime a command's sessions share, so the limit holds for all of its queries together.
    pub fn runtime_env(self) -> Result<Arc<RuntimeEnv>> {
        let builder = RuntimeEnvBuilder::new().with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled));
        let builder = match self {
            MemoryLimit::Unbounded => builder,
            // Greedy: with nothing to spill, a share per operator would only refuse queries that
            // fit; the limit holds for the total. Tracked: the error names the largest consumers.
            MemoryLimit::Bytes(bytes) => {
                builder.with_memory_pool(Arc::new(TrackConsumersPool::new(GreedyMemoryPool::new(bytes), NonZeroUsize::new(3).expect("3 > 0"))))
            }
        };
        Ok(builder.build_arc()?)
    }
}

/// The memory mttx may use, and where that comes from: the machine's physical memory, or the
/// limit of the control group it runs in when that is lower; None where neither can be read.
pub(crate) fn usable_memory() -> Option<(usize, &'static str)> {
    let machine = physical_memory().map(|bytes| (bytes, "the machine's memory"));
    let group = cgroup_limit().map(|bytes| (bytes, "the memory limit of its control group"));
    [machine, group].into_iter().flatten().min()
}

/// `env` with temporary files in the system's temporary directory (`TMPDIR`), for a query whose
/// plan `spills_correctly`: the same memory pool, so the limit still holds for every query
/// together, and the same caches.
pub fn spilling(env: &RuntimeEnv) -> datafusion::error::Result<Arc<RuntimeEnv>> {
    let disk = DiskManagerBuilder::default().with_mode(DiskManagerMode::OsTmpDirectory);
    RuntimeEnvBuilder::from_runtime_env(env).with_disk_manager_builder(disk).build_arc()
}

/// True when no operator of `plan` spills incorrectly, that is when it holds no nested-loop join
/// (see `MemoryLimit`); its sorts, aggregates and repartitions then spill what the pool cannot
/// hold and read it back in order.
pub fn spills_correctly(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<NestedLoopJoinExec>().is_none() && plan.children().into_iter().all(spills_correctly)
}

/// Bytes in the largest binary unit that leaves at least one: `2 GiB`, `1.5 GiB`, `512 MiB`.
pub(crate) fn human_bytes(bytes: usize) -> String {
    let units = [(1usize << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in units {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            let text = format!("{value:.1}");
            return format!("{} {unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{bytes} bytes")
}

/// Physical memory in bytes, from /proc/meminfo (Linux); None elsewhere.
fn physical_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// Gives the memory the allocator holds free back to the system. With glibc, memory that the query
/// threads freed stays with each thread's arena, where work done afterwards on another thread
/// cannot reuse it: the report of a 100 M-ticket store peaked at 4.1 GiB without this, and at
/// 2.6 GiB, in the same time, with it after each of its runs. Elsewhere this does nothing.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The lowest memory limit of the control group this process runs in and of its ancestors, from
/// /proc/self/cgroup and the hierarchy mounted at /sys/fs/cgroup (Linux); None where there is none.
fn cgroup_limit() -> Option<usize> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroup_limit_in(&membership, Path::new("/sys/fs/cgroup"))
}

/// A limit at or above this is the kernel's way of writing "no limit" (cgroup v1 writes
/// 9223372036854771712).
const UNLIMITED: u64 = 1 << 60;

/// The limit for `membership` (the text of /proc/self/cgroup) under the hierarchy at `root`.
/// - cgroup v2 (`0::/path`): the lowest `memory.max` of the group and its ancestors.
/// - cgroup v1 (`N:memory:/path`): `hierarchical_memory_limit` in the group's `memory.stat`, which
///   takes in its ancestors' limits. Inside a container the group's path may name the host's
///   hierarchy while the container sees its own group at the root, so the root is read when the
///   path is not there.
fn cgroup_limit_in(membership: &str, root: &Path) -> Option<usize> {
    let mut limits = Vec::new();
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let relative = Path::new(path.trim_start_matches('/'));
        if controllers.is_empty() {
            limits.extend(relative.ancestors().filter_map(|dir| std::fs::read_to_string(root.join(dir).join("memory.max")).ok().as_deref().and_then(limit)));
        } else if controllers.split(',').any(|c| c == "memory") {
            let hierarchy = root.join("memory");
            let stat = [hierarchy.join(relative), hierarchy].into_iter().find_map(|dir| std::fs::read_to_string(dir.join("memory.stat")).ok());
            limits.extend(stat.and_then(|text| text.lines().find_map(|l| l.strip_prefix("hierarchical_memory_limit ")).and_then(limit)));
        }
    }
    limits.into_iter().min().and_then(|bytes| usize::try_from(bytes).ok())
}

/// A limit as the kernel writes it, in bytes; None for `max` or an unlimited value.
fn limit(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|&bytes| bytes < UNLIMITED)
}

/// `error` as the error of reaching the memory limit, naming `what` ran out and the limit; None
/// when the query failed for another reason.
pub fn out_of_memory(error: &datafusion::error::DataFusionError, what: &str, limit: MemoryLimit) -> Option<crate::Error> {
    matches!(error.find_root(), datafusion::error::DataFusionError::ResourcesExhausted(_)).then(|| crate::Error::OutOfMemory {
        what: what.into(),
        limit: limit.describe(),
        detail: error.to_string(),
    })
}

/// The limit a session's queries run under (see `MemoryLimit::runtime_env`).
pub fn limit_of(ctx: &SessionContext) -> MemoryLimit {
    match ctx.runtime_env().memory_pool.memory_limit() {
        datafusion::execution::memory_pool::MemoryLimit::Finite(bytes) => MemoryLimit::Bytes(bytes),
        _ => MemoryLimit::Unbounded,
    }
}

/// `result`, with an error from reaching the memory limit turned into one that names `what` ran
/// out and the limit.
pub fn within_limit<T>(result: Result<T>, what: &str, limit: MemoryLimit) -> Result<T> {
    result.map_err(|error| match error {
        crate::Error::DataFusion(e) => out_of_memory(&e, what, limit).unwrap_or(crate::Error::DataFusion(e)),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_groups_limit_is_found_in_either_hierarchy() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        // v2: the parent's 3 GiB binds, under a child's 8 GiB; the hierarchy's root has no file.
        write("user.slice/run.scope/memory.max", "8589934592\n");
        write("user.slice/memory.max", "3221225472\n");
        assert_eq!(cgroup_limit_in("0::/user.slice/run.scope\n", root.path()), Some(3 << 30));
        write("user.slice/memory.max", "max\n");
        assert_eq!(cgroup_limit_in("0::/user.slice/run.scope\n", root.path()), Some(8 << 30));
        assert_eq!(cgroup_limit_in("0::/elsewhere\n", root.path()), None);
        // v1: memory.stat's hierarchical limit; the kernel's "no limit" is none.
        write("memory/jobs/a/memory.stat", "cache 0\nhierarchical_memory_limit 2147483648\n");
        assert_eq!(cgroup_limit_in("9:pids:/\n4:memory:/jobs/a\n0::/\n", root.path()), Some(2 << 30));
        write("memory/jobs/a/memory.stat", "hierarchical_memory_limit 9223372036854771712\n");
        assert_eq!(cgroup_limit_in("4:memory:/jobs/a\n", root.path()), None);
        // v1 in a container whose own group is mounted as the root.
        write("memory/memory.stat", "hierarchical_memory_limit 1073741824\n");
        assert_eq!(cgroup_limit_in("4:memory:/host/path/of/container\n", root.path()), Some(1 << 30));
    }

    #[test]
    fn memory_limits_read_as_people_write_them() {
        assert_eq!(MemoryLimit::parse("4G"), Ok(MemoryLimit::Bytes(4 << 30)));
        assert_eq!(MemoryLimit::parse("512MiB"), Ok(MemoryLimit::Bytes(512 << 20)));
        assert_eq!(MemoryLimit::parse("1.5gb"), Ok(MemoryLimit::Bytes(3 << 29)));
        assert_eq!(MemoryLimit::parse("2000000"), Ok(MemoryLimit::Bytes(2_000_000)));
        assert_eq!(MemoryLimit::parse("None"), Ok(MemoryLimit::Unbounded));
        for bad in ["", "4X", "G", "-1G", "0", "1.2.3M"] {
            assert!(MemoryLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(MemoryLimit::Bytes(3 << 29).describe(), "1.5 GiB");
        assert_eq!(MemoryLimit::Bytes(512 << 20).describe(), "512 MiB");
        assert!(matches!(MemoryLimit::default(), MemoryLimit::Bytes(bytes) if bytes >= 1 << 20));
    }
}
