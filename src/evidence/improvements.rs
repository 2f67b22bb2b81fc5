//! The evidence whether each initiative of the improvement register (`register`) worked. The
//! months before each go-live are compared with the months after it (`evidence::windows`), never
//! past the cut-off, durations on the cohorts opened in each; only the named measures are tested,
//! against a control group where one is named (`control`), and Benjamini–Hochberg corrects over
//! all of them in the register: they are hypotheses stated before the data was looked at.

use chrono::{Datelike, NaiveDate};

use super::comparison::Comparison;
use super::control::{self, Control};
use super::stats::benjamini_hochberg;
use super::verdict::Verdict;
use super::windows;
use crate::error::Result;
use crate::kpi::{Better, Kpi, Tuning};
use crate::pipeline::Pipeline;
use crate::time::{MonthRange, YearMonth, days_micros};

pub use super::register::{Expectation, Initiative, Register};

/// One expected move, measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub expectation: String,
    pub comparison: Option<Comparison>,
    pub outcome: Verdict,
    /// For a duration judged on cohorts: the share of each cohort (before, after) that had not
    /// reached the measured timestamp within the follow-up, and the follow-up in days.
    pub still_open: Option<(f64, f64, u32)>,
    /// Set against the initiative's control group, when it names one.
    pub control: Option<Control>,
}

/// A cohort with more than this share beyond its follow-up makes its verdict provisional.
pub const STILL_OPEN_WARNING: f64 = 0.01;

impl Measured {
    /// What the verdict must say of cohorts partly beyond the follow-up: "3.2% of the after cohort
    /// took longer than 30 days or is still open; both cohorts are cut there alike".
    pub fn open_warning(&self) -> Option<String> {
        let (before, after, days) = self.still_open?;
        let worst = if after >= before { (after, "after") } else { (before, "before") };
        (worst.0 > STILL_OPEN_WARNING).then(|| {
            format!("{:.1}% of the {} cohort took longer than {} days or is still open; both cohorts are cut there alike", worst.0 * 100.0, worst.1, days)
        })
    }
}

/// One initiative, measured.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub initiative: Initiative,
    /// None when no complete month after the go-live lies before the cut-off yet.
    pub windows: Option<(MonthRange, MonthRange)>,
    pub measured: Vec<Measured>,
    /// Other initiatives that expect to move one of the same measures over overlapping months.
    pub warnings: Vec<String>,
}

impl Evaluated {
    /// The initiative's verdict: worked when every expected move did, partly when some did.
    pub fn verdict(&self) -> &'static str {
        let outcomes: Vec<Verdict> = self.measured.iter().map(|m| m.outcome).collect();
        if self.windows.is_none() {
            "too early to tell"
        } else if outcomes.contains(&Verdict::Worse) {
            "went the wrong way"
        } else if !outcomes.is_empty() && outcomes.iter().all(|o| *o == Verdict::Improved) {
            "worked"
        } else if outcomes.contains(&Verdict::Improved) {
            "partly worked"
        } else {
            "no evidence that it worked"
        }
    }
}

/// The months before and after an initiative: full calendar months before the month it went live,
/// and full months from the first month wholly after the go-live, the last ending at least
/// `settle` microseconds (the longest settling time of its measures) before `as_of`.
pub fn windows(initiative: &Initiative, first_data: Option<YearMonth>, as_of: i64, settle: i64, timezone: chrono_tz::Tz) -> Option<(MonthRange, MonthRange)> {
    let month = |d: NaiveDate| YearMonth { year: d.year(), month: d.month() };
    let live_month = month(initiative.live.0);
    let before_last = live_month.previous();
    let mut before_first = before_last.plus(1 - initiative.months_before as i32);
    if let Some(first) = first_data {
        before_first = before_first.max(first);
    }
    if before_first > before_last {
        return None;
    }
    let last_live = initiative.live.1;
    let after_first = if last_live.day() == 1 && initiative.live.0 == last_live { month(last_live) } else { month(last_live).next() };
    let mut after_last = after_first.plus(initiative.months_after as i32 - 1);
    while after_last >= after_first && after_last.next().start(timezone).saturating_add(settle) > as_of {
        after_last = after_last.previous();
    }
    (after_last >= after_first).then_some((MonthRange { first: before_first, last: before_last }, MonthRange { first: after_first, last: after_last }))
}

/// Measures every initiative of `register`.
pub fn evaluate(register: &Register, pipeline: &Pipeline, kpis: &[Kpi], tuning: Tuning) -> Result<Vec<Evaluated>> {
    let first_data = pipeline.extent.first_incident.map(|t| YearMonth::of_micros(t, pipeline.timezone));
    let as_of = pipeline.cut_off()?;
    let mut evaluated = Vec::new();
    for initiative in &register.initiatives {
        let named: Vec<Kpi> = kpis.iter().filter(|k| initiative.expects.iter().any(|e| e.selector.kpi == k.id)).cloned().collect();
        // The months after end late enough for every measure: settled, and, for a duration judged
        // on cohorts, with its whole follow-up behind them.
        let settle = named.iter().map(|k| days_micros(k.meta.settles_days)).max().unwrap_or(0).max(windows::cohort_horizon(&named));
        let windows = windows(initiative, first_data, as_of, settle, pipeline.timezone);
        let mut measured = Vec::new();
        if let Some((before, after)) = windows {
            // Durations on the cohorts opened in each window; the other measures by window.
            let compared = windows::compare_windows(pipeline, (before, after), &named, tuning, None, true)?;
            let comparisons = &compared.comparisons;
            let monthly = if initiative.control.is_empty() { None } else { Some(control::before_by_month(pipeline, before, &named, tuning)?) };
            for expectation in &initiative.expects {
                let column = expectation.selector.column.as_deref().unwrap_or_default();
                let matching: Vec<&Comparison> =
                    comparisons.iter().filter(|c| c.measure == column && expectation.selector.matches(&c.kpi, column, &c.key_values)).collect();
                if matching.is_empty() {
                    measured.push(Measured {
                        expectation: expectation.text.clone(),
                        comparison: None,
                        outcome: Verdict::NotTested,
                        still_open: None,
                        control: None,
                    });
                }
                for c in matching {
                    let still_open = compared.cohorts_of(&c.kpi).map(|group| {
                        // One priority's row counts that priority's tickets (an empty priority:
                        // those with none); a row over all priorities, all of them.
                        let priority = match (c.key_value("scope"), c.key_value("priority")) {
                            (Some("all"), _) | (_, None) => None,
                            (_, Some(p)) => Some(p.parse::<i64>().ok()),
                        };
                        (group.before.share(priority), group.after.share(priority), group.rule.days)
                    });
                    let control = monthly.as_ref().map(|monthly| control::control_of(c, &initiative.control, &named, &compared, monthly));
                    measured.push(Measured {
                        expectation: expectation.text.clone(),
                        comparison: Some(c.clone()),
                        outcome: Verdict::NotTested,
                        still_open,
                        control,
                    });
                }
            }
        }
        evaluated.push(Evaluated { initiative: initiative.clone(), windows, measured, warnings: Vec::new() });
    }
    correct(&mut evaluated, tuning.fdr);
    warn_of_overlaps(&mut evaluated);
    Ok(evaluated)
}

/// Warns each initiative that shares an expected measure (`kpi.column`) with another whose months
/// (before and after) overlap its own: the change either sees may be the other's.
fn warn_of_overlaps(evaluated: &mut [Evaluated]) {
    let span = |e: &Evaluated| e.windows.map(|(before, after)| MonthRange { first: before.first, last: after.last });
    // Two expectations can see the same rows when they name one measure and no key that both name
    // differs: `{priority=1}` and `{priority=5}` never meet, `{priority=1}` and no key do.
    let meet = |x: &Expectation, y: &Expectation| {
        x.selector.kpi == y.selector.kpi
            && x.selector.column == y.selector.column
            && x.selector.keys.iter().all(|(k, v)| y.selector.keys.iter().all(|(k2, v2)| k != k2 || v == v2))
    };
    for i in 0..evaluated.len() {
        for j in 0..evaluated.len() {
            if i == j {
                continue;
            }
            let (Some(a), Some(b)) = (span(&evaluated[i]), span(&evaluated[j])) else { continue };
            let mut shared: Vec<String> = Vec::new();
            for x in &evaluated[i].initiative.expects {
                if evaluated[j].initiative.expects.iter().any(|y| meet(x, y)) {
                    let name = format!("{}.{}", x.selector.kpi, x.selector.column.as_deref().unwrap_or(""));
                    if !shared.contains(&name) {
                        shared.push(name);
                    }
                }
            }
            if a.overlaps(&b) && !shared.is_empty() {
                let warning = format!(
                    "{} also expects to move {} over overlapping months ({} to {}): the change seen here may be partly its",
                    evaluated[j].initiative.name,
                    shared.join(", "),
                    b.first.label(),
                    b.last.label()
                );
                evaluated[i].warnings.push(warning);
            }
        }
    }
}

/// Benjamini–Hochberg over the distinct tests of the register's expected moves (the register is
/// one family; measures that one header test speaks for count once), then each move's verdict in
/// its expected direction; q below `fdr` is evidence.
fn correct(evaluated: &mut [Evaluated], fdr: f64) {
    // (initiative, KPI, row key, the header's test) names a test.
    let mut moves = Vec::new();
    for (i, e) in evaluated.iter().enumerate() {
        for (j, m) in e.measured.iter().enumerate() {
            let Some(c) = &m.comparison else { continue };
            // With a control group, the test of the difference in differences speaks for the move.
            let p = match m.control.as_ref().and_then(|control| control.did) {
                Some(did) => Some(did.p_value),
                None => c.previous.as_ref().and_then(|v| v.test).map(|t| t.p_value),
            };
            if let (Some(p), Some(clause)) = (p, c.test_clause) {
                moves.push((i, j, (i, c.kpi.clone(), c.key.clone(), clause), p));
            }
        }
    }
    let q_of = benjamini_hochberg(moves.iter().map(|(_, _, id, p)| (id.clone(), *p)));
    for (i, j, id, _) in &moves {
        let (i, j) = (*i, *j);
        let wanted = evaluated[i].initiative.expects.iter().find(|e| e.text == evaluated[i].measured[j].expectation).map(|e| e.direction);
        let measured = &mut evaluated[i].measured[j];
        let Some(versus) = measured.comparison.as_mut().and_then(|c| c.previous.as_mut()) else { continue };
        versus.q_value = Some(q_of[id]);
        versus.significant = q_of[id] < fdr;
        let Some(wanted) = wanted else { continue };
        measured.outcome = match measured.control.as_ref().and_then(|control| control.did) {
            // The treated group's change less the control's, judged like a change.
            Some(did) if versus.significant && did.estimate != 0.0 => match wanted {
                Better::Lower if did.estimate < 0.0 => Verdict::Improved,
                Better::Higher if did.estimate > 0.0 => Verdict::Improved,
                Better::Neutral => Verdict::Changed,
                _ => Verdict::Worse,
            },
            Some(_) => Verdict::NoEvidence,
            None => Verdict::judge(Some(versus), wanted),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live 2026-06-01, three months either side, cut-off 2026-09-10 00:00 UTC. Settling at once,
    /// the after-months are June to August (August ends 09-01). A measure that settles 14 days
    /// after its month would settle August on 09-15, after the cut-off: after is June and July.
    #[test]
    fn the_after_months_leave_room_for_settling() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let initiative = Initiative {
            name: "x".into(),
            live: (day("2026-06-01"), day("2026-06-01")),
            expects: Vec::new(),
            months_before: 3,
            months_after: 3,
            line: 1,
            control: Vec::new(),
        };
        let as_of = crate::time::parse_iso("2026-09-10T00:00:00Z", chrono_tz::UTC).unwrap();
        let month = |s: &str| s.parse::<YearMonth>().unwrap();
        let at_once = windows(&initiative, None, as_of, 0, chrono_tz::UTC).unwrap();
        assert_eq!(
            (at_once.0.first, at_once.0.last, at_once.1.first, at_once.1.last),
            (month("2026-03"), month("2026-05"), month("2026-06"), month("2026-08"))
        );
        let settling = windows(&initiative, None, as_of, days_micros(14), chrono_tz::UTC).unwrap();
        assert_eq!((settling.1.first, settling.1.last), (month("2026-06"), month("2026-07")));
        // Settling longer than the months after: too early to tell.
        assert!(windows(&initiative, None, as_of, days_micros(100), chrono_tz::UTC).is_none());
    }
}
