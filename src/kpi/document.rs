//! The versioned KPI results document (`mttx kpi --format json`, and later `kpis.json` in
//! reports): what scripts, checks and reports read. Bump `VERSION` on any incompatible change.

use std::collections::BTreeMap;

use datafusion::arrow::record_batch::RecordBatch;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::breakdown::{self, Breakdown};
use super::catalog::Better;
use super::params::{KpiParams, Tuning};
use super::rows::rows;
pub use super::rows::{BatchRows, EachRow, Rows, key_pairs_of, key_text, plain};
use super::run::KpiOutcome;
use crate::error::Result;
use crate::time::rfc3339;

pub const SCHEMA: &str = "mttx.kpis";
/// 2: month × priority KPIs gained the key `scope` (`priority` rows as before, plus one `all` row
/// per month pooling every priority, with priority null), and the window records `breakdown`.
/// 3: columns renamed (`renames::RENAMES`); a version 2 document reads under the new names.
pub const VERSION: u32 = 3;

/// `R` is how the rows are held: `Rows` where they are read, compared and checked, `BatchRows`
/// where a run's results are written out once (`mttx kpi --format json|csv`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KpiDocument<R = Rows> {
    /// Always "mttx.kpis".
    pub schema: String,
    /// Layout version of this document.
    pub version: u32,
    /// The mttx release that wrote it.
    pub mttx_version: String,
    pub window: Window,
    pub parameters: Tuning,
    /// Every KPI that ran, in catalog order.
    pub kpis: Vec<KpiValues<R>>,
    /// KPIs whose query failed; they have no entry in `kpis`.
    pub errors: Vec<KpiError>,
    /// What else the values depend on besides the data and each KPI's SQL.
    #[serde(default)]
    pub provenance: Provenance,
}

/// The SHA-256 of the files a run's values depend on besides the data and the KPIs' SQL (whose
/// hashes are each KPI's `sql_sha256`). None where the run had no such file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    /// The SLA policy, the built-in one included.
    pub sla_policy_sha256: Option<String>,
    /// The targets file of a report.
    pub targets_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Window {
    /// First and last reported month, YYYY-MM, in the reporting time zone.
    pub first_month: String,
    pub last_month: String,
    /// The window [start, end) and the cut-off, RFC 3339 UTC.
    pub start: String,
    pub end: String,
    pub as_of: String,
    /// IANA name of the reporting time zone.
    pub timezone: String,
    /// The field the KPIs were cut by (`--by`), if any.
    #[serde(default)]
    pub breakdown: Option<Breakdown>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KpiValues<R = Rows> {
    pub id: String,
    pub title: String,
    pub unit: String,
    pub better: Better,
    pub grain: String,
    /// Columns that identify a row; the other columns are values.
    pub keys: Vec<String>,
    /// Value columns that have a direction.
    #[serde(default)]
    pub measures: Vec<String>,
    /// Each measure's direction (`better` for the measures not listed: a document written before
    /// measures had directions of their own).
    #[serde(default)]
    pub directions: BTreeMap<String, Better>,
    /// The KPI's own tolerance for `mttx check`, if its header states one.
    #[serde(default)]
    pub tolerance: Option<String>,
    /// The column holding a row's n, if the header's `n:` names one (else a column named `n`).
    #[serde(default)]
    pub n: Option<String>,
    /// SHA-256 of the KPI's SQL file, so that a check can tell a changed definition from changed
    /// data.
    #[serde(default)]
    pub sql_sha256: Option<String>,
    pub definition: String,
    /// "built-in" or the path of the user's SQL file.
    pub origin: String,
    pub columns: Vec<Column>,
    /// One object per result row, column name → value (null where the value is null).
    pub rows: R,
    /// Days after a month's end until its rows settle (the header's `settles:`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub settles_days: u32,
    /// The months (`month` key values) whose rows have not settled by the cut-off: provisional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisional: Vec<String>,
}

impl KpiValues {
    /// A copy of everything but the rows (and the provisional months, which follow them): cloning
    /// the whole KPI to replace its rows would copy every row first.
    fn without_rows(&self) -> KpiValues {
        KpiValues {
            id: self.id.clone(),
            title: self.title.clone(),
            unit: self.unit.clone(),
            better: self.better,
            grain: self.grain.clone(),
            keys: self.keys.clone(),
            measures: self.measures.clone(),
            directions: self.directions.clone(),
            tolerance: self.tolerance.clone(),
            n: self.n.clone(),
            sql_sha256: self.sql_sha256.clone(),
            definition: self.definition.clone(),
            origin: self.origin.clone(),
            columns: self.columns.clone(),
            rows: Vec::new(),
            settles_days: self.settles_days,
            provisional: Vec::new(),
        }
    }
}

fn is_zero(days: &u32) -> bool {
    *days == 0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Column {
    pub name: String,
    /// Arrow type, e.g. Utf8, Int64, Float64.
    #[serde(rename = "type")]
    pub data_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KpiError {
    pub id: String,
    pub origin: String,
    pub message: String,
}

impl KpiDocument {
    /// The document of a run, every row as an object.
    pub fn new(params: &KpiParams, outcomes: &[KpiOutcome]) -> Result<KpiDocument> {
        KpiDocument::assemble(params, outcomes, rows)
    }
}

impl<'a> KpiDocument<BatchRows<'a>> {
    /// The document of a run, its rows left in the run's batches until they are written: the
    /// same JSON as `new`'s, without every row as an object in memory at once.
    pub fn streamed(params: &KpiParams, outcomes: &'a [KpiOutcome]) -> KpiDocument<BatchRows<'a>> {
        KpiDocument::assemble(params, outcomes, |batches| Ok(BatchRows(batches))).expect("holding the batches cannot fail")
    }
}

impl<R> KpiDocument<R> {
    fn assemble<'a>(params: &KpiParams, outcomes: &'a [KpiOutcome], rows_of: impl Fn(&'a [RecordBatch]) -> Result<R>) -> Result<KpiDocument<R>> {
        let mut kpis = Vec::new();
        let mut errors = Vec::new();
        for outcome in outcomes {
            let kpi = &outcome.kpi;
            match &outcome.result {
                Ok(batches) => kpis.push(KpiValues {
                    id: kpi.id.clone(),
                    title: kpi.meta.title.clone(),
                    unit: kpi.meta.unit.clone(),
                    better: kpi.meta.better,
                    grain: kpi.meta.grain.clone(),
                    keys: breakdown::keys(&kpi.meta.keys, params.by),
                    measures: kpi.meta.measures.clone(),
                    directions: kpi.meta.directions.clone(),
                    tolerance: kpi.meta.tolerance.clone(),
                    n: kpi.meta.n.clone(),
                    sql_sha256: Some(crate::store::hash::sha256_hex(kpi.sql.as_bytes())),
                    definition: kpi.meta.definition.clone(),
                    origin: kpi.origin.clone(),
                    columns: columns(batches),
                    rows: rows_of(batches)?,
                    settles_days: kpi.meta.settles_days,
                    provisional: unsettled(params, kpi.meta.settles_days),
                }),
                Err(message) => errors.push(KpiError { id: kpi.id.clone(), origin: kpi.origin.clone(), message: message.clone() }),
            }
        }
        Ok(KpiDocument {
            schema: SCHEMA.into(),
            version: VERSION,
            mttx_version: env!("CARGO_PKG_VERSION").into(),
            window: Window::of(params),
            parameters: params.tuning,
            kpis,
            errors,
            provenance: Provenance::default(),
        })
    }

    /// The document with the run's provenance recorded.
    pub fn with_provenance(mut self, provenance: Provenance) -> KpiDocument<R> {
        self.provenance = provenance;
        self
    }
}

impl KpiDocument {
    /// The document a run over `params`' months would give, taken from this run over more months:
    /// the KPIs among `ids` whose header lets their months be sliced (see `Kpi::slices_by_month`),
    /// with only the rows of those months, and `params`' window. The caller runs the others.
    pub fn months(&self, params: &KpiParams, ids: &[&str]) -> KpiDocument {
        let (first, last) = (params.first.label(), params.last.label());
        let within = |row: &Map<String, Value>| row.get("month").and_then(Value::as_str).is_some_and(|m| first.as_str() <= m && m <= last.as_str());
        let kpis = self
            .kpis
            .iter()
            .filter(|k| ids.contains(&k.id.as_str()))
            .map(|k| KpiValues {
                rows: k.rows.iter().filter(|r| within(r)).cloned().collect(),
                provisional: k.provisional.iter().filter(|m| first.as_str() <= m.as_str() && m.as_str() <= last.as_str()).cloned().collect(),
                ..k.without_rows()
            })
            .collect();
        let errors = self.errors.iter().filter(|e| ids.contains(&e.id.as_str())).cloned().collect();
        KpiDocument {
            schema: self.schema.clone(),
            version: self.version,
            mttx_version: self.mttx_version.clone(),
            window: Window::of(params),
            parameters: self.parameters,
            kpis,
            errors,
            provenance: self.provenance.clone(),
        }
    }

    /// This document's KPIs and `other`'s together, in the order of `order` (catalog order).
    pub fn merged(mut self, other: KpiDocument, order: &[&str]) -> KpiDocument {
        self.kpis.extend(other.kpis);
        self.errors.extend(other.errors);
        let position = |id: &str| order.iter().position(|o| *o == id).unwrap_or(usize::MAX);
        self.kpis.sort_by_key(|k| position(&k.id));
        self.errors.sort_by_key(|e| position(&e.id));
        self
    }
}

impl Window {
    /// The window of a run over `params`.
    fn of(params: &KpiParams) -> Window {
        Window {
            first_month: params.first.label(),
            last_month: params.last.label(),
            start: rfc3339(params.period_start),
            end: rfc3339(params.period_end),
            as_of: rfc3339(params.as_of),
            timezone: params.timezone.name().into(),
            breakdown: params.by,
        }
    }
}

/// The buckets of `params` that end less than `settles_days` before the cut-off: facts about them
/// may still arrive. None when the KPI settles at once.
fn unsettled(params: &KpiParams, settles_days: u32) -> Vec<String> {
    if settles_days == 0 {
        return Vec::new();
    }
    let settle = crate::time::days_micros(settles_days);
    params.bucket_list().into_iter().filter(|b| b.end.saturating_add(settle) > params.as_of).map(|b| b.label).collect()
}

fn columns(batches: &[RecordBatch]) -> Vec<Column> {
    batches
        .first()
        .map(|b| b.schema().fields().iter().map(|f| Column { name: f.name().clone(), data_type: f.data_type().to_string() }).collect())
        .unwrap_or_default()
}

impl<R> KpiValues<R> {
    /// Whether `row` is of a month that has not settled by the cut-off.
    pub fn is_provisional(&self, row: &Map<String, Value>) -> bool {
        !self.provisional.is_empty() && row.get("month").and_then(Value::as_str).is_some_and(|m| self.provisional.iter().any(|p| p == m))
    }

    /// Which way is good for `measure`.
    pub fn direction(&self, measure: &str) -> Better {
        self.directions.get(measure).copied().unwrap_or(self.better)
    }

    /// The column holding a row's n: the header's `n:`, else a column named `n`.
    pub fn n_column(&self) -> Option<String> {
        self.n.clone().or_else(|| self.columns.iter().any(|c| c.name == "n").then(|| "n".to_string()))
    }

    /// The row's key columns with their values as text.
    pub fn key_pairs(&self, row: &Map<String, Value>) -> Vec<(String, String)> {
        self.keys.iter().map(|k| (k.clone(), plain(row.get(k).unwrap_or(&Value::Null)))).collect()
    }

    /// The row's key columns other than month: the same row of another period has the same ones.
    pub fn period_free_pairs(&self, row: &Map<String, Value>) -> Vec<(String, String)> {
        self.key_pairs(row).into_iter().filter(|(k, _)| k != "month").collect()
    }

    /// `month=2026-10,priority=1`: how checks, reports and CSV name a row (see `key_text`).
    pub fn row_key(&self, row: &Map<String, Value>) -> String {
        key_text(&self.key_pairs(row))
    }
}
