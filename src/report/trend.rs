//! Every month the report's line charts show, as data: kpis.json's `trend` and trend.csv hold each
//! monthly series of each chart (the trends and the process-behaviour charts) with its whiskers,
//! in the units the chart draws.

use serde::Serialize;

use super::charts::{Chart, ChartKind};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct TrendSeries {
    /// The chart's file name, `charts/<chart>.svg`.
    pub chart: String,
    pub series: String,
    /// The value axis: "hours", "%", "incidents".
    pub unit: String,
    pub months: Vec<String>,
    pub values: Vec<Option<f64>>,
    /// The whisker ends where the chart draws whiskers (p90 for duration trends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whiskers: Option<Vec<Option<f64>>>,
}

/// The series of every line chart drawn month by month over `months` (labels YYYY-MM), whose axis
/// labels are `axis`.
pub fn series(charts: &[Chart], months: &[String], axis: &[String]) -> Vec<TrendSeries> {
    let mut out = Vec::new();
    for chart in charts {
        let ChartKind::Lines(lines) = &chart.kind else { continue };
        if lines.x_labels != axis {
            continue;
        }
        let unit = lines.y_desc.trim_end_matches(" (log scale)").to_string();
        for s in &lines.series {
            out.push(TrendSeries {
                chart: chart.name.clone(),
                series: s.name.clone(),
                unit: unit.clone(),
                months: months.to_vec(),
                values: s.values.clone(),
                whiskers: s.whiskers.clone(),
            });
        }
    }
    out
}

/// trend.csv: chart, series, unit, month, value, whisker; one row per series and month.
pub fn csv(series: &[TrendSeries]) -> Result<Vec<u8>> {
    use crate::escape::spreadsheet_safe;
    let csv_error = |e: csv::Error| Error::io("trend.csv", std::io::Error::other(e));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["chart", "series", "unit", "month", "value", "whisker"]).map_err(csv_error)?;
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for s in series {
        for (i, month) in s.months.iter().enumerate() {
            let whisker = s.whiskers.as_ref().and_then(|w| w.get(i).copied().flatten());
            writer
                .write_record([
                    spreadsheet_safe(&s.chart).as_ref(),
                    spreadsheet_safe(&s.series).as_ref(),
                    s.unit.as_str(),
                    month.as_str(),
                    &number(s.values.get(i).copied().flatten()),
                    &number(whisker),
                ])
                .map_err(csv_error)?;
        }
    }
    writer.into_inner().map_err(|e| Error::io("trend.csv", std::io::Error::other(e.to_string())))
}
