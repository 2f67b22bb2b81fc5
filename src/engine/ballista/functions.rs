//! mttx's functions as bytes in a plan: each scalar function with the state it was registered with
//! (the reporting zone and buckets, the SLA calendars), and each aggregate by name. Decoding is
//! validation: a payload is input from the network like any other, so zones, buckets and calendars
//! are checked as the policy file and the flags are.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::common::{DataFusionError, Result as DfResult, not_impl_err, plan_err};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use serde::{Deserialize, Serialize};

use crate::functions::calendar::{Calendar, CalendarSpec};
use crate::functions::{Bucket, BusinessClock, Calendars, Scalar, aggregates};

/// Raised whenever the payload's meaning changes; a scheduler or executor of another mttx build
/// refuses the plan instead of reading it differently.
pub const CODEC_VERSION: u32 = 2;

/// A bucket label is a month (`2026-10`) or a window (`2026-01..2026-06`); anything much longer
/// did not come from mttx.
const MAX_LABEL: usize = 64;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    mttx_codec: u32,
    function: Function,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Function {
    ReportMonth { timezone: String, buckets: Vec<(String, i64, i64)> },
    FisherExactP,
    PoissonRateP,
    Ungrouped,
    BusinessTime { clock: BusinessClock, policy: String, calendars: BTreeMap<String, CalendarSpec> },
    Aggregate { name: String },
}

fn write(function: Function, buf: &mut Vec<u8>) -> DfResult<()> {
    serde_json::to_writer(buf, &Envelope { mttx_codec: CODEC_VERSION, function }).map_err(|e| DataFusionError::External(Box::new(e)))
}

fn read(name: &str, buf: &[u8]) -> DfResult<Function> {
    let envelope: Envelope =
        serde_json::from_slice(buf).map_err(|e| DataFusionError::Plan(format!("function `{name}`: its mttx payload does not read: {e}")))?;
    if envelope.mttx_codec != CODEC_VERSION {
        return plan_err!(
            "function `{name}`: the plan was encoded by mttx codec version {}, this mttx reads version {CODEC_VERSION}; run the same mttx build on the client, the scheduler and every executor",
            envelope.mttx_codec
        );
    }
    Ok(envelope.function)
}

/// Writes the payload of `udf` if it is one of mttx's; leaves `buf` empty for any other, which the
/// receiving side then finds by name among DataFusion's own.
pub fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
    let Some(scalar) = Scalar::of(udf) else { return Ok(()) };
    let function = match scalar {
        Scalar::ReportMonth { timezone, buckets } => {
            Function::ReportMonth { timezone: timezone.name().to_string(), buckets: buckets.into_iter().map(|b| (b.label, b.start, b.end)).collect() }
        }
        Scalar::FisherExactP => Function::FisherExactP,
        Scalar::PoissonRateP => Function::PoissonRateP,
        Scalar::Ungrouped => Function::Ungrouped,
        Scalar::BusinessTime { clock, calendars } => Function::BusinessTime {
            clock,
            policy: calendars.policy.clone(),
            calendars: calendars.by_name.iter().map(|(name, calendar)| (name.clone(), calendar.spec().clone())).collect(),
        },
    };
    write(function, buf)
}

/// The function `name` from its payload, checked.
pub fn decode_udf(name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return not_impl_err!("scalar function `{name}` is neither DataFusion's nor mttx's");
    }
    let scalar = match read(name, buf)? {
        Function::ReportMonth { timezone, buckets } => {
            let timezone: Tz = timezone.parse().map_err(|_| DataFusionError::Plan(format!("function `{name}`: `{timezone}` is not an IANA time zone")))?;
            Scalar::ReportMonth { timezone, buckets: checked_buckets(name, buckets)? }
        }
        Function::FisherExactP => Scalar::FisherExactP,
        Function::PoissonRateP => Scalar::PoissonRateP,
        Function::Ungrouped => Scalar::Ungrouped,
        Function::BusinessTime { clock, policy, calendars } => {
            let mut by_name = BTreeMap::new();
            for (calendar, spec) in &calendars {
                let made = Calendar::from_spec(calendar, spec).map_err(|e| DataFusionError::Plan(format!("function `{name}`, SLA policy {policy}: {e}")))?;
                by_name.insert(calendar.clone(), made);
            }
            Scalar::BusinessTime { clock, calendars: Calendars { policy, by_name: Arc::new(by_name) } }
        }
        Function::Aggregate { .. } => return plan_err!("function `{name}`: the payload is an aggregate's, where a scalar function was expected"),
    };
    let udf = scalar.udf();
    same_name(name, udf.name())?;
    Ok(Arc::new(udf))
}

/// Writes the payload of `udaf` if it is one of mttx's (by name and implementation: mttx's
/// `percentile_cont` replaces DataFusion's, and only mttx's travels as mttx's).
pub fn encode_udaf(udaf: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
    if aggregates().iter().any(|ours| ours == udaf) {
        write(Function::Aggregate { name: udaf.name().to_string() }, buf)?;
    }
    Ok(())
}

pub fn decode_udaf(name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
    if buf.is_empty() {
        return not_impl_err!("aggregate function `{name}` is neither DataFusion's nor mttx's");
    }
    match read(name, buf)? {
        Function::Aggregate { name: named } => {
            same_name(name, &named)?;
            match aggregates().into_iter().find(|ours| ours.name() == named) {
                Some(udaf) => Ok(Arc::new(udaf)),
                None => plan_err!("aggregate function `{name}`: this mttx has no such aggregate"),
            }
        }
        _ => plan_err!("function `{name}`: the payload is a scalar function's, where an aggregate was expected"),
    }
}

fn same_name(expected: &str, decoded: &str) -> DfResult<()> {
    if expected == decoded { Ok(()) } else { plan_err!("function `{expected}`: its payload describes `{decoded}`") }
}

/// Buckets as `ReportMonth` needs them: labels short, each bucket [start, end) non-empty, in
/// order and not overlapping.
fn checked_buckets(name: &str, buckets: Vec<(String, i64, i64)>) -> DfResult<Vec<Bucket>> {
    let mut checked: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for (label, start, end) in buckets {
        if label.is_empty() || label.len() > MAX_LABEL || label.chars().any(char::is_control) {
            return plan_err!("function `{name}`: bucket label {label:?} is not a month or window label");
        }
        if start >= end || checked.last().is_some_and(|previous| previous.end > start) {
            return plan_err!("function `{name}`: bucket `{label}` [{start}, {end}) is empty, out of order or overlaps the one before");
        }
        checked.push(Bucket { label, start, end });
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_from_elsewhere_are_refused_by_name() {
        let refuse = |name: &str, payload: &str| decode_udf(name, payload.as_bytes()).unwrap_err().to_string();
        assert!(refuse("report_month", r#"{"mttx_codec":3,"function":{"kind":"fisher_exact_p"}}"#).contains("version 3"));
        assert!(
            refuse("report_month", r#"{"mttx_codec":2,"function":{"kind":"report_month","timezone":"Mars/Olympus","buckets":[]}}"#).contains("Mars/Olympus")
        );
        let overlapping = r#"{"mttx_codec":2,"function":{"kind":"report_month","timezone":"UTC","buckets":[["2026-01",0,10],["2026-02",5,20]]}}"#;
        assert!(refuse("report_month", overlapping).contains("overlaps"));
        let bad_calendar =
            r#"{"mttx_codec":2,"function":{"kind":"business_time","clock":"hours","policy":"p","calendars":{"office":{"hours":{"funday":["08:00-17:00"]}}}}}"#;
        assert!(refuse("business_hours", bad_calendar).contains("funday"));
        assert!(refuse("report_month", r#"{"mttx_codec":2,"function":{"kind":"fisher_exact_p"}}"#).contains("describes `fisher_exact_p`"));
        assert!(refuse("report_month", "not json").contains("does not read"));
        assert!(decode_udf("upper", b"").is_err());
        let unknown_aggregate = r#"{"mttx_codec":2,"function":{"kind":"aggregate","name":"sum_of_wishes"}}"#;
        assert!(decode_udaf("sum_of_wishes", unknown_aggregate.as_bytes()).unwrap_err().to_string().contains("no such aggregate"));
    }
}
