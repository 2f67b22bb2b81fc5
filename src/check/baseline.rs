//! The baseline of `mttx check`: reading it, and whether it can be compared with this run at all:
//! the same window (or months to pair across periods), the same breakdown, and the same
//! definitions (each KPI's SQL and the SLA policy, by their hashes).

use super::Pairing;
use crate::error::{Error, Result};
use crate::kpi::KpiDocument;
use crate::kpi::document::{SCHEMA, VERSION};
use crate::kpi::renames;
use crate::store::load::short_hash;

/// Whether `baseline` can be compared with `current` under `pairing`; the message says why not and
/// what to do instead. Rows of different windows never meet, so without this every row of both
/// would be reported as missing and new.
pub fn comparable(baseline: &KpiDocument, current: &KpiDocument, pairing: Pairing) -> std::result::Result<(), String> {
    let describe = |w: &crate::kpi::document::Window| {
        let months = if w.first_month == w.last_month { w.first_month.clone() } else { format!("{} to {}", w.first_month, w.last_month) };
        format!("{months} ({})", w.timezone)
    };
    let (b, c) = (&baseline.window, &current.window);
    if b.breakdown != c.breakdown {
        let describe = |by: Option<crate::kpi::Breakdown>| by.map(|b| format!("--by {b}")).unwrap_or_else(|| "no --by".into());
        return Err(format!(
            "the baseline was made with {} and this run with {}; their rows are cut differently and cannot be compared, so check with {} or bless a new baseline",
            describe(b.breakdown),
            describe(c.breakdown),
            describe(b.breakdown)
        ));
    }
    if b.timezone != c.timezone {
        return Err(format!(
            "the baseline was made in time zone {} and this run is in {}; months differ between zones, so give --timezone {}",
            b.timezone, c.timezone, b.timezone
        ));
    }
    match pairing {
        Pairing::SameWindow if (b.first_month != c.first_month || b.last_month != c.last_month) => Err(format!(
            "the baseline covers {} and this run {}, so no row could match; check the same months (--period or --from/--to as the baseline), bless a new baseline with --bless, or give --across-periods to compare each row with the baseline's row of the same keys in its own month",
            describe(b),
            describe(c)
        )),
        Pairing::AcrossPeriods if b.first_month != b.last_month || c.first_month != c.last_month => {
            Err(format!("--across-periods compares one month with one month; the baseline covers {} and this run {}", describe(b), describe(c)))
        }
        _ => Ok(()),
    }
}

/// What differs between the definitions behind `baseline` and `current`: each KPI whose SQL has
/// another hash, and the SLA policy. A document written before these hashes were recorded
/// differs in nothing that can be told.
pub fn definitions_changed(baseline: &KpiDocument, current: &KpiDocument) -> Vec<String> {
    let mut changed = Vec::new();
    for kpi in &current.kpis {
        if let Some(base) = baseline.kpis.iter().find(|b| b.id == kpi.id)
            && let (Some(a), Some(b)) = (&base.sql_sha256, &kpi.sql_sha256)
            && a != b
        {
            changed.push(format!("{}'s SQL (sha256 {} in the baseline, {} now)", kpi.id, short_hash(a), short_hash(b)));
        }
    }
    if let (Some(a), Some(b)) = (&baseline.provenance.sla_policy_sha256, &current.provenance.sla_policy_sha256)
        && a != b
    {
        changed.push(format!("the SLA policy (sha256 {} in the baseline, {} now)", short_hash(a), short_hash(b)));
    }
    changed
}

/// Reads a baseline written by `mttx kpi --format json`, `mttx check --bless` or a report.
pub fn read_baseline(path: &std::path::Path) -> Result<KpiDocument> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut document: KpiDocument = serde_json::from_str(&text)
        .map_err(|e| Error::input(path, format!("not a KPI document ({e}); write one with `mttx kpi --format json` or `mttx check --bless`")))?;
    let readable = renames::OLDEST_READABLE_VERSION..=VERSION;
    if document.schema != SCHEMA || !readable.contains(&document.version) {
        return Err(Error::input(
            path,
            format!(
                "schema {} version {} is not {SCHEMA} version {} to {VERSION}, which this mttx reads (version 2 added the `scope` key and the overall rows); make the baseline again with this mttx (`mttx check --bless`)",
                document.schema,
                document.version,
                readable.start(),
            ),
        ));
    }
    // An older version's renamed columns read under their new names (CHANGELOG.md lists them).
    renames::upgrade(&mut document);
    Ok(document)
}
