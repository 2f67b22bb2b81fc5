//! Process-behaviour (XmR) charts of a monthly measure: the centre line, the natural process
//! limits from the mean moving range, and Wheeler's detection rules, so a review acts on sustained
//! shifts rather than on one month against the next.
//!
//! The limits are the mean ± 2.66 × the mean moving range, and the moving-range chart's upper
//! limit is 3.268 × the mean moving range. p- and u-chart limits are not used: with n in the
//! thousands, real month-to-month variation exceeds them and nearly every month would signal.

use serde::Serialize;

/// Scaling constants of the individuals and moving-range chart (for moving ranges of two).
pub const NATURAL_LIMIT: f64 = 2.66;
pub const MOVING_RANGE_LIMIT: f64 = 3.268;
/// Fewer values than this give no limits; fewer than `FIRM_POINTS` give provisional ones.
pub const MIN_POINTS: usize = 6;
pub const FIRM_POINTS: usize = 20;
/// Successive values on one side of the centre line that signal a shift.
pub const RUN_LENGTH: usize = 8;

/// A chart of one measure over months: each month's value (None where the month has none), the
/// limits, and the signals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XmrChart {
    pub points: Vec<Point>,
    pub centre: f64,
    pub mean_moving_range: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    pub moving_range_limit: f64,
    /// Computed from fewer than `FIRM_POINTS` values.
    pub provisional: bool,
    /// The months the limits come from (first, last), and how many values they hold.
    pub limits_from: (String, String),
    pub limit_points: usize,
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub month: String,
    pub value: Option<f64>,
    /// |value − the previous month's value| where both exist.
    pub moving_range: Option<f64>,
}

/// Wheeler's detection rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A value beyond a natural process limit.
    BeyondLimit,
    /// Eight successive values on one side of the centre line.
    RunOfEight,
    /// Three of four successive values closer to the same limit than to the centre line.
    ThreeOfFour,
}

/// Which side of the centre line a signal lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Above,
    Below,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// The month whose value completes the pattern.
    pub month: String,
    pub rule: Rule,
    pub side: Side,
}

/// An XmR chart of one KPI measure for one key (`scope=all,priority=`), as kpis.json carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessChart {
    pub kpi: String,
    pub measure: String,
    pub key: String,
    /// In words: "MTTR median, P1".
    pub label: String,
    /// Which way is better, so a signal reads as favourable or not.
    pub better: crate::kpi::Better,
    #[serde(flatten)]
    pub chart: XmrChart,
}

impl Signal {
    /// Whether the signal is a move the better way for a measure that is better `better`; None
    /// for a neutral measure.
    pub fn favourable(&self, better: crate::kpi::Better) -> Option<bool> {
        match better {
            crate::kpi::Better::Lower => Some(self.side == Side::Below),
            crate::kpi::Better::Higher => Some(self.side == Side::Above),
            crate::kpi::Better::Neutral => None,
        }
    }

    /// The rule in words: "beyond the lower limit", "8 months in a row above the centre line".
    pub fn describe(&self) -> String {
        let side = match self.side {
            Side::Above => "above",
            Side::Below => "below",
        };
        let limit = match self.side {
            Side::Above => "upper",
            Side::Below => "lower",
        };
        match self.rule {
            Rule::BeyondLimit => format!("beyond the {limit} limit"),
            Rule::RunOfEight => format!("{RUN_LENGTH} months in a row {side} the centre line"),
            Rule::ThreeOfFour => format!("3 of 4 months near the {limit} limit"),
        }
    }
}

/// The chart of `points` (month label and value, in time order), with limits from the months
/// `limits_from` (indices into `points`, inclusive; all of them when None). None when those months
/// hold fewer than `MIN_POINTS` values.
pub fn chart(points: &[(String, Option<f64>)], limits_from: Option<(usize, usize)>) -> Option<XmrChart> {
    let (first, last) = limits_from.unwrap_or((0, points.len().checked_sub(1)?));
    let base = points.get(first..=last)?;
    let values: Vec<f64> = base.iter().filter_map(|p| p.1).collect();
    if values.len() < MIN_POINTS {
        return None;
    }
    let ranges = moving_ranges(base);
    let centre = values.iter().sum::<f64>() / values.len() as f64;
    let mean_moving_range = ranges.iter().flatten().sum::<f64>() / ranges.iter().flatten().count() as f64;
    let (lower_limit, upper_limit) = (centre - NATURAL_LIMIT * mean_moving_range, centre + NATURAL_LIMIT * mean_moving_range);
    let all_ranges = moving_ranges(points);
    let chart_points: Vec<Point> =
        points.iter().zip(all_ranges).map(|((month, value), range)| Point { month: month.clone(), value: *value, moving_range: range }).collect();
    let mut chart = XmrChart {
        signals: Vec::new(),
        points: chart_points,
        centre,
        mean_moving_range,
        lower_limit,
        upper_limit,
        moving_range_limit: MOVING_RANGE_LIMIT * mean_moving_range,
        provisional: values.len() < FIRM_POINTS,
        limits_from: (base[0].0.clone(), base[base.len() - 1].0.clone()),
        limit_points: values.len(),
    };
    chart.signals = signals(&chart);
    Some(chart)
}

/// Each value's moving range from the value before it (months without a value are skipped over).
fn moving_ranges(points: &[(String, Option<f64>)]) -> Vec<Option<f64>> {
    let mut previous: Option<f64> = None;
    points
        .iter()
        .map(|(_, value)| {
            let range = value.zip(previous).map(|(v, p)| (v - p).abs());
            if value.is_some() {
                previous = *value;
            }
            range
        })
        .collect()
}

/// Wheeler's three rules over every month with a value. A run or a three-of-four pattern signals
/// at the value that completes it and at each later value that keeps it going.
fn signals(chart: &XmrChart) -> Vec<Signal> {
    let valued: Vec<(&str, f64)> = chart.points.iter().filter_map(|p| p.value.map(|v| (p.month.as_str(), v))).collect();
    let side = |v: f64| {
        if v > chart.centre {
            Some(Side::Above)
        } else if v < chart.centre {
            Some(Side::Below)
        } else {
            None
        }
    };
    // Closer to the limit on its side than to the centre line.
    let near_limit = |v: f64, s: Side| match s {
        Side::Above => v > (chart.centre + chart.upper_limit) / 2.0,
        Side::Below => v < (chart.centre + chart.lower_limit) / 2.0,
    };
    let mut out = Vec::new();
    for (i, &(month, v)) in valued.iter().enumerate() {
        let mut push = |rule: Rule, side: Side| out.push(Signal { month: month.to_string(), rule, side });
        if v > chart.upper_limit {
            push(Rule::BeyondLimit, Side::Above);
        } else if v < chart.lower_limit {
            push(Rule::BeyondLimit, Side::Below);
        }
        if let Some(s) = side(v)
            && i + 1 >= RUN_LENGTH
            && valued[i + 1 - RUN_LENGTH..=i].iter().all(|&(_, w)| side(w) == Some(s))
        {
            push(Rule::RunOfEight, s);
        }
        if i >= 3 {
            for s in [Side::Above, Side::Below] {
                if valued[i - 3..=i].iter().filter(|&&(_, w)| near_limit(w, s)).count() >= 3 {
                    push(Rule::ThreeOfFour, s);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months(values: &[f64]) -> Vec<(String, Option<f64>)> {
        values.iter().enumerate().map(|(i, v)| (format!("m{:02}", i + 1), Some(*v))).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// 10, 12, 10, 12, 10, 12: mean 11; five moving ranges of 2, mean 2; limits 11 ± 2.66 × 2 =
    /// 5.68 and 16.32; the moving-range limit 3.268 × 2 = 6.536. Six values: provisional. No
    /// value signals.
    #[test]
    fn limits_are_the_mean_plus_minus_2_66_mean_moving_ranges() {
        let c = chart(&months(&[10.0, 12.0, 10.0, 12.0, 10.0, 12.0]), None).unwrap();
        assert!(close(c.centre, 11.0) && close(c.mean_moving_range, 2.0));
        assert!(close(c.lower_limit, 5.68) && close(c.upper_limit, 16.32) && close(c.moving_range_limit, 6.536));
        assert!(c.provisional && c.limit_points == 6 && c.signals.is_empty());
        assert_eq!(c.points[0].moving_range, None);
        assert_eq!(c.points[1].moving_range, Some(2.0));
        // Five values give no limits at all.
        assert!(chart(&months(&[10.0, 12.0, 10.0, 12.0, 10.0]), None).is_none());
    }

    /// Limits fixed on the first six months, 12, 10, 12, 10, 12, 10 (centre 11, limits 5.68 and
    /// 16.32, halfway to the upper limit 13.66): a later 17 is beyond the upper limit; eight
    /// successive 11.5s signal a run at the eighth (the last base month, 10, is below the centre);
    /// 14, 14, 11, 14 put three of four past 13.66, signalled at the fourth. A missing month is
    /// skipped over, not a break.
    #[test]
    fn wheelers_rules_signal_against_fixed_limits() {
        let base = [12.0, 10.0, 12.0, 10.0, 12.0, 10.0];
        let beyond: Vec<f64> = base.iter().copied().chain([17.0]).collect();
        let c = chart(&months(&beyond), Some((0, 5))).unwrap();
        assert_eq!(c.signals, [Signal { month: "m07".into(), rule: Rule::BeyondLimit, side: Side::Above }]);
        assert_eq!(c.limits_from, ("m01".to_string(), "m06".to_string()));

        let mut run = months(&base.iter().copied().chain([11.5; 8]).collect::<Vec<_>>());
        run.insert(9, ("gap".into(), None));
        let c = chart(&run, Some((0, 5))).unwrap();
        assert_eq!(c.signals, [Signal { month: "m14".into(), rule: Rule::RunOfEight, side: Side::Above }]);

        let three: Vec<f64> = base.iter().copied().chain([14.0, 14.0, 11.0, 14.0]).collect();
        let c = chart(&months(&three), Some((0, 5))).unwrap();
        assert_eq!(c.signals, [Signal { month: "m10".into(), rule: Rule::ThreeOfFour, side: Side::Above }]);
    }

    /// Twenty values give firm limits; a value on the centre line breaks a run.
    #[test]
    fn twenty_values_give_firm_limits_and_the_centre_breaks_a_run() {
        let values: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 10.0 } else { 12.0 }).collect();
        assert!(!chart(&months(&values), None).unwrap().provisional);
        let on_centre = [10.0, 12.0, 10.0, 12.0, 10.0, 12.0, 11.5, 11.5, 11.5, 11.0, 11.5, 11.5, 11.5, 11.5, 11.5];
        assert!(chart(&months(&on_centre), Some((0, 5))).unwrap().signals.is_empty());
    }
}
