//! Builds the report's content from the KPI runs: the sections, tables and chart specifications,
//! in the order a monthly service review reads them. Pure data in, data out; no I/O.

use super::charts::Chart;
use super::document::{Block, ReportDocument};
use super::format::{instant, month_name, thousands};
use super::sections::attention::{self, Attention};
use super::sections::{
    Inputs, appendix, behaviour, changes, data_quality, definitions, flow, improvements, majors, problems, reliability, response, sla, summary, teams, tickets,
};

/// The KPIs drawn month by month over the trend window; `mod.rs` runs only these over it.
pub const TREND_KPIS: [&str; 9] = ["mtta", "mttd", "mttr", "sla_breach", "backlog", "volume", "major_incidents", "problem_trend", "change_failure"];

pub struct Built {
    pub document: ReportDocument,
    pub charts: Vec<Chart>,
    /// The headline measures' process-behaviour charts, for kpis.json.
    pub process: Vec<crate::evidence::xmr::ProcessChart>,
    /// The first page's lists, whole, for kpis.json.
    pub attention: Attention,
    /// Every monthly series the line charts draw, for kpis.json and trend.csv.
    pub trend: Vec<super::trend::TrendSeries>,
    /// The period's field coverage, for kpis.json.
    pub fields: super::fields::Coverage,
    /// The tickets behind the red items, for tickets.csv.
    pub tickets: Vec<tickets::TicketList>,
}

pub fn build(inputs: &Inputs) -> Built {
    let mut charts = Vec::new();
    let process = behaviour::process_charts(inputs);
    let attention = attention::attention(inputs, &process);
    let ticket_lists = tickets::lists(inputs);
    let mut sections = vec![
        summary::executive_summary(inputs, &attention, inputs.review_notes),
        behaviour::behaviour(inputs, &process, &mut charts),
        majors::major_incidents(inputs),
        response::response_and_restoration(inputs, &mut charts),
        sla::sla(inputs, &mut charts),
        flow::flow(inputs, &mut charts),
        teams::teams_and_services(inputs),
        reliability::reliability(inputs, &mut charts),
        problems::problems(inputs, &mut charts),
        changes::changes(inputs, &mut charts),
    ];
    sections.extend(improvements::improvements(inputs));
    sections.extend([
        tickets::tickets(inputs, &ticket_lists),
        data_quality::data_quality(inputs),
        appendix::appendix(inputs, &attention),
        definitions::definitions(inputs),
    ]);
    // Every chart block says whether its chart has data, for renderers that show a note instead.
    for section in &mut sections {
        for block in &mut section.blocks {
            if let Block::Chart(reference) = block {
                reference.has_data = charts.iter().any(|c| c.name == reference.name && c.has_data());
            }
        }
    }
    let period = month_name(inputs.period);
    let mut subtitle = vec![match inputs.partial {
        Some(share) => format!("{period}, a partial month: data to the cut-off {} ({:.1}% of the month)", instant(&inputs.as_of, inputs.zone()), share * 100.0),
        None => format!("{period}, cut-off {}", instant(&inputs.as_of, inputs.zone())),
    }];
    if let Some(service) = &inputs.service {
        subtitle.push(format!(
            "Service {service}: its incidents, problems, changes, CIs and outages, and those without a service whose CI is the service's; {} of its incidents in the data.",
            thousands(inputs.coverage.incidents as i64)
        ));
    }
    let loaded = if inputs.service.is_some() { String::new() } else { format!("; {} incidents loaded", thousands(inputs.coverage.incidents as i64)) };
    subtitle.push(format!(
        "Times in {}; trends over {} to {}{loaded}.",
        inputs.timezone,
        inputs.window.first().map(|m| month_name(*m)).unwrap_or_default(),
        inputs.window.last().map(|m| month_name(*m)).unwrap_or_default(),
    ));
    let months: Vec<String> = inputs.window.iter().map(|m| m.label()).collect();
    let trend = super::trend::series(&charts, &months, &super::sections::month_labels(inputs));
    let title = match &inputs.service {
        Some(service) => format!("Service report: {period}, {service}"),
        None => format!("Service report: {period}"),
    };
    Built { document: ReportDocument { title, subtitle, sections }, charts, process, attention, trend, fields: inputs.fields.clone(), tickets: ticket_lists }
}
