//! Where a test may stop a change to a store (a load or a compaction) as a crash would:
//! `MTTX_FAULT=<point>` aborts the process there.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The new data files are written; the manifest does not list them yet.
    AfterDataFiles,
    /// Every new file and directory entry is synced; the manifest is about to switch.
    BeforeSwitch,
    /// The manifest has switched; the files it no longer lists are not deleted yet.
    AfterSwitch,
}

pub fn fault(point: Fault) {
    let wanted = match point {
        Fault::AfterDataFiles => "after-data-files",
        Fault::BeforeSwitch => "before-switch",
        Fault::AfterSwitch => "after-switch",
    };
    if std::env::var("MTTX_FAULT").is_ok_and(|f| f == wanted) {
        // As abrupt as a crash: no destructors, no cleanup.
        std::process::abort();
    }
}
