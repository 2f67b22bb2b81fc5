//! Report charts: renderer-neutral chart specifications drawn with plotters, as SVG (inlined in
//! HTML) and PNG (beside the Markdown). PNG text uses the embedded DejaVu Sans through ab_glyph,
//! so rendering needs no system fonts. Colours are the Okabe–Ito palette, safe for colour-blind
//! readers; series also differ by marker shape.
//!
//! Kept whole: the chart kinds share one drawing path (canvas, axes, palette, markers, legend) for
//! both backends.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

use crate::error::{Error, Result};

pub const WIDTH: u32 = 860;
pub const HEIGHT: u32 = 440;
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 114, 178),   // blue
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),
];
const GREY: RGBColor = RGBColor(90, 90, 90);
/// The target band's shade: Okabe–Ito's bluish green, light, so the series stay readable on it.
const OKABE_ITO_BAND: RGBColor = RGBColor(0, 158, 115);

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// File stem under charts/ and the figure id.
    pub name: String,
    pub title: String,
    pub kind: ChartKind,
}

#[derive(Debug, Clone, Serialize)]
pub enum ChartKind {
    Lines(Lines),
    Bars(Bars),
    Boxes(Boxes),
}

/// A horizontal reference line (a target), across the chart or over one category.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub label: String,
    pub value: f64,
    pub category: Option<usize>,
}

/// Values over months, one line per series, optionally with a whisker from each point up to a
/// second value (p50 with its p90).
#[derive(Debug, Clone, Serialize)]
pub struct Lines {
    pub x_labels: Vec<String>,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<LineSeries>,
    pub whisker_label: Option<String>,
    pub references: Vec<Reference>,
    /// A log10 value axis, for durations that span minutes to weeks.
    pub log_y: bool,
    /// A shaded band across the chart, such as the values that meet a target.
    pub band: Option<Band>,
}

/// A shaded range of values, drawn behind the series and named in the legend.
#[derive(Debug, Clone, Serialize)]
pub struct Band {
    pub label: String,
    pub from: f64,
    pub to: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineSeries {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub whiskers: Option<Vec<Option<f64>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bars {
    pub categories: Vec<String>,
    pub category_desc: String,
    pub value_desc: String,
    pub series: Vec<BarSeries>,
    pub references: Vec<Reference>,
    /// Categories down the side (long names), values across.
    pub horizontal: bool,
    /// The value axis range; default from 0 to the largest value.
    pub value_range: Option<(f64, f64)>,
    /// How bar-end labels print a value.
    pub label_decimals: usize,
    pub label_suffix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BarSeries {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Distributions per category: box from p25 to p75, line at the median, whiskers p10 to p90.
#[derive(Debug, Clone, Serialize)]
pub struct Boxes {
    pub categories: Vec<String>,
    pub category_desc: String,
    pub value_desc: String,
    pub boxes: Vec<Option<BoxStats>>,
    pub legend: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct BoxStats {
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub n: usize,
}

impl Chart {
    pub fn has_data(&self) -> bool {
        match &self.kind {
            ChartKind::Lines(l) => l.series.iter().any(|s| s.values.iter().any(Option::is_some)),
            ChartKind::Bars(b) => b.series.iter().any(|s| s.values.iter().any(Option::is_some)),
            ChartKind::Boxes(b) => b.boxes.iter().any(Option::is_some),
        }
    }

    pub fn svg(&self) -> Result<String> {
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root).map_err(|e| self.error(e))?;
            root.present().map_err(|e| self.error(e.to_string()))?;
        }
        Ok(text)
    }

    pub fn png(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        self.draw(&root).map_err(|e| self.error(e))?;
        root.present().map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
    }

    fn error(&self, message: String) -> Error {
        Error::Chart { chart: self.name.clone(), message }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
        register_font();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        if !self.has_data() {
            return self.draw_no_data(root).map_err(|e| e.to_string());
        }
        match &self.kind {
            ChartKind::Lines(lines) => draw_lines(root, &self.title, lines),
            ChartKind::Bars(bars) => draw_bars(root, &self.title, bars),
            ChartKind::Boxes(boxes) => draw_boxes(root, &self.title, boxes),
        }
        .map_err(|e| e.to_string())
    }

    fn draw_no_data<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let centre = (WIDTH as i32 / 2, HEIGHT as i32 / 2);
        let title = TextStyle::from((FONT, 22).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(self.title.clone(), (centre.0, 30), title))?;
        let note = TextStyle::from((FONT, 18).into_font()).color(&GREY).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new("No data for this period".to_string(), centre, note))
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to parse; a failure here is a build defect.
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).ok().expect("the embedded DejaVu Sans parses");
    });
}

fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Room above the data for the legend box.
fn headroom(max: f64) -> f64 {
    if max > 0.0 { max * 1.3 } else { 1.0 }
}

fn axis_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Maps a whole-number position to its label and any other position to none, so that ticks
/// fall on categories only.
fn category_label(labels: &[String], position: f64) -> String {
    let index = position.round();
    if (position - index).abs() > 1e-6 || index < 0.0 {
        return String::new();
    }
    labels.get(index as usize).cloned().unwrap_or_default()
}

type XRange = plotters::coord::types::RangedCoordf64;

fn draw_lines<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, spec: &Lines) -> DrawResult<DB> {
    let count = spec.x_labels.len().max(1);
    // The band's far edge (a target) is kept in view; its open end is not stretched to.
    let band_edge = spec.band.as_ref().map(|b| if b.from <= 0.0 { b.to } else { b.from });
    let values = || {
        spec.series
            .iter()
            .flat_map(|s| s.values.iter().chain(s.whiskers.iter().flatten()))
            .flatten()
            .copied()
            .chain(spec.references.iter().map(|r| r.value))
            .chain(band_edge)
    };
    let max = values().fold(0.0f64, f64::max);
    let mut builder = frame(root, title, 64);
    let x_range = -0.5f64..(count as f64 - 0.5);
    let min = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    // A log axis needs a positive value to start from; all zeros draw on a linear one.
    if spec.log_y && min.is_finite() {
        let low = 10f64.powf(min.log10().floor());
        // Twice the top value leaves room for the legend on a log axis.
        let chart = builder.build_cartesian_2d(x_range, (low..(max * 4.0).max(low * 10.0)).log_scale())?;
        lines_body(chart, spec, count)
    } else {
        let chart = builder.build_cartesian_2d(x_range, 0.0f64..headroom(max))?;
        lines_body(chart, spec, count)
    }
}

fn lines_body<'a, DB, Y>(mut chart: ChartContext<'a, DB, Cartesian2d<XRange, Y>>, spec: &Lines, count: usize) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let labels = spec.x_labels.clone();
    let formatter = move |x: &f64| category_label(&labels, *x);
    let y_formatter = |y: &f64| axis_number(*y);
    chart
        .configure_mesh()
        .x_labels(count + 1)
        .x_label_formatter(&formatter)
        .y_label_formatter(&y_formatter)
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc(spec.x_desc.as_str())
        .y_desc(spec.y_desc.as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    if let Some(band) = &spec.band {
        let range = chart.y_range();
        let (from, to) = (band.from.max(range.start), band.to.min(range.end));
        if from < to {
            let shade = OKABE_ITO_BAND.mix(0.18);
            chart
                .draw_series(std::iter::once(Rectangle::new([(-0.5, from), (count as f64 - 0.5, to)], shade.filled())))?
                .label(band.label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 22, y + 6)], shade.filled()));
        }
    }
    let series_count = spec.series.len();
    for (index, series) in spec.series.iter().enumerate() {
        let colour = colour(index);
        // Dodge the series sideways a little so whiskers of equal months do not overlap.
        let dodge = if series.whiskers.is_some() && series_count > 1 { (index as f64 - (series_count as f64 - 1.0) / 2.0) * 0.07 } else { 0.0 };
        let points: Vec<(f64, f64)> = series.values.iter().enumerate().filter_map(|(x, v)| v.map(|v| (x as f64 + dodge, v))).collect();
        // Consecutive months only: a gap in the data is a gap in the line.
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (x, v) in series.values.iter().enumerate() {
            match v {
                Some(v) if x > 0 && series.values[x - 1].is_some() => runs.last_mut().expect("run started").push((x as f64 + dodge, *v)),
                Some(v) => runs.push(vec![(x as f64 + dodge, *v)]),
                None => {}
            }
        }
        for run in &runs {
            chart.draw_series(plotters::series::LineSeries::new(run.clone(), colour.stroke_width(2)))?;
        }
        let style = colour.filled();
        let drawn = match index % 4 {
            0 => chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, style)))?,
            1 => chart.draw_series(points.iter().map(|p| TriangleMarker::new(*p, 5, style)))?,
            2 => chart.draw_series(points.iter().map(|p| EmptyElement::at(*p) + Rectangle::new([(-4, -4), (4, 4)], style)))?,
            _ => chart.draw_series(points.iter().map(|p| Cross::new(*p, 4, colour.stroke_width(2))))?,
        };
        drawn.label(series.name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], colour.stroke_width(3)));
        if let Some(whiskers) = &series.whiskers {
            let segments = series.values.iter().zip(whiskers).enumerate().filter_map(|(x, (low, high))| {
                let (low, high) = (low.as_ref()?, high.as_ref()?);
                Some(PathElement::new(vec![(x as f64 + dodge, *low), (x as f64 + dodge, *high)], colour.mix(0.55).stroke_width(2)))
            });
            chart.draw_series(segments)?;
        }
    }
    if let Some(label) = &spec.whisker_label {
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label(label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x + 11, y - 7), (x + 11, y + 7)], GREY.mix(0.7).stroke_width(2)));
    }
    draw_references(&mut chart, &spec.references, count)?;
    // The legend goes where the lines are not: below them when they all run in the upper half of a
    // linear axis (shares near 100%).
    let range = chart.y_range();
    let lowest = spec.series.iter().flat_map(|s| s.values.iter()).flatten().copied().fold(f64::INFINITY, f64::min);
    let position = if !spec.log_y && lowest.is_finite() && lowest > range.start + (range.end - range.start) / 2.0 {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    legend(&mut chart, position)
}

fn draw_references<'a, DB: DrawingBackend + 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<XRange, Y>>,
    references: &[Reference],
    count: usize,
) -> DrawResult<DB> {
    let mut labelled = Vec::new();
    for reference in references {
        let (from, to) = match reference.category {
            Some(c) => (c as f64 - 0.45, c as f64 + 0.45),
            None => (-0.5, count as f64 - 0.5),
        };
        // A centre line is solid grey, limits and targets dashed black: told apart by their stroke
        // as well as their label.
        let centre = reference.label.starts_with("centre");
        let series = if centre {
            chart.draw_series(plotters::series::LineSeries::new(vec![(from, reference.value), (to, reference.value)], GREY.stroke_width(2)))?
        } else {
            chart.draw_series(DashedLineSeries::new(vec![(from, reference.value), (to, reference.value)], 8, 5, BLACK.stroke_width(2)))?
        };
        if !labelled.contains(&reference.label) {
            labelled.push(reference.label.clone());
            if centre {
                series.label(reference.label.clone()).legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], GREY.stroke_width(2)));
            } else {
                series
                    .label(reference.label.clone())
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 8, y), (x + 14, y), (x + 22, y)], BLACK.stroke_width(2)));
            }
        }
    }
    Ok(())
}

/// Every chart's frame: its title, margin and axis label areas (the value labels' width varies).
fn frame<'a, 'b, DB: DrawingBackend>(root: &'a DrawingArea<DB, Shift>, title: &str, y_label_area: u32) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(root);
    builder.caption(title, (FONT, 22)).margin(14).x_label_area_size(46).y_label_area_size(y_label_area);
    builder
}

fn legend<'a, DB: DrawingBackend + 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<XRange, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart.configure_series_labels().position(position).background_style(WHITE.mix(0.9)).border_style(GREY.mix(0.5)).label_font((FONT, 13)).draw()
}

fn bar_label(value: f64, spec: &Bars) -> String {
    format!("{:.*}{}", spec.label_decimals, value, spec.label_suffix)
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, spec: &Bars) -> DrawResult<DB> {
    let count = spec.categories.len().max(1);
    let max = spec.series.iter().flat_map(|s| s.values.iter()).flatten().copied().chain(spec.references.iter().map(|r| r.value)).fold(0.0f64, f64::max);
    let (low, high) = spec.value_range.unwrap_or((0.0, if spec.horizontal { max * 1.15 } else { headroom(max) }));
    let high = if high > low { high } else { low + 1.0 };
    let labels = spec.categories.clone();
    let formatter = move |x: &f64| category_label(&labels, *x);
    let value_formatter = |v: &f64| axis_number(*v);
    let groups = spec.series.len().max(1);
    let width = 0.8 / groups as f64;
    if spec.horizontal {
        let longest = spec.categories.iter().map(|c| c.chars().count()).max().unwrap_or(4);
        let mut chart = frame(root, title, (longest as u32 * 8 + 16).clamp(60, 300)).build_cartesian_2d(low..high, (count as f64 - 0.5)..-0.5f64)?;
        chart
            .configure_mesh()
            .y_labels(count + 1)
            .y_label_formatter(&formatter)
            .x_label_formatter(&value_formatter)
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_desc(spec.value_desc.as_str())
            .y_desc(spec.category_desc.as_str())
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()?;
        for (index, series) in spec.series.iter().enumerate() {
            let colour = colour(index + 2);
            let bars = series.values.iter().enumerate().filter_map(|(c, v)| {
                let y0 = c as f64 - 0.4 + index as f64 * width;
                v.map(|v| Rectangle::new([(low, y0), (v.max(low), y0 + width * 0.9)], colour.filled()))
            });
            chart.draw_series(bars)?.label(series.name.clone()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.filled()));
            let label_style = TextStyle::from((FONT, 12).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let texts = series.values.iter().enumerate().filter_map(|(c, v)| {
                let y = c as f64 - 0.4 + (index as f64 + 0.45) * width;
                v.map(|v| Text::new(format!(" {}", bar_label(v, spec)), (v.max(low), y), label_style.clone()))
            });
            chart.draw_series(texts)?;
        }
        // Bars grow from the left, so the lower right corner is where they are shortest.
        return legend(&mut chart, SeriesLabelPosition::LowerRight);
    }
    let mut chart = frame(root, title, 64).build_cartesian_2d(-0.5f64..(count as f64 - 0.5), low..high)?;
    chart
        .configure_mesh()
        .x_labels(count + 1)
        .x_label_formatter(&formatter)
        .y_label_formatter(&value_formatter)
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc(spec.category_desc.as_str())
        .y_desc(spec.value_desc.as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    for (index, series) in spec.series.iter().enumerate() {
        let colour = colour(index + 2);
        let x0 = |c: usize| c as f64 - 0.4 + index as f64 * width;
        let bars = series
            .values
            .iter()
            .enumerate()
            .filter_map(|(c, v)| v.map(|v| Rectangle::new([(x0(c), low), (x0(c) + width * 0.92, v.max(low))], colour.filled())));
        chart.draw_series(bars)?.label(series.name.clone()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.filled()));
        let label_style = TextStyle::from((FONT, 12).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        let texts = series
            .values
            .iter()
            .enumerate()
            .filter_map(|(c, v)| v.map(|v| Text::new(bar_label(v, spec), (x0(c) + width * 0.46, v.max(low)), label_style.clone())));
        chart.draw_series(texts)?;
    }
    draw_references(&mut chart, &spec.references, count)?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_boxes<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, spec: &Boxes) -> DrawResult<DB> {
    // Resolution times span minutes to weeks: a log10 axis keeps every priority readable.
    const FLOOR_HOURS: f64 = 1.0 / 60.0;
    let log = |v: f64| v.max(FLOOR_HOURS).log10();
    let count = spec.categories.len().max(1);
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for b in spec.boxes.iter().flatten() {
        low = low.min(log(b.p10));
        high = high.max(log(b.p90));
    }
    let (low, high) = ((low - 0.2).floor(), (high + 0.6).ceil());
    let labels = spec.categories.clone();
    let formatter = move |x: &f64| category_label(&labels, *x);
    let y_formatter = |y: &f64| axis_number(10f64.powf(*y));
    let mut chart = frame(root, title, 64).build_cartesian_2d(-0.5f64..(count as f64 - 0.5), low..high)?;
    chart
        .configure_mesh()
        .x_labels(count + 1)
        .x_label_formatter(&formatter)
        .y_labels(((high - low) as usize + 1).max(2))
        .y_label_formatter(&y_formatter)
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc(spec.category_desc.as_str())
        .y_desc(spec.value_desc.as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    for (c, stats) in spec.boxes.iter().enumerate() {
        let Some(b) = stats else { continue };
        let colour = colour(c);
        let x = c as f64;
        chart.draw_series([
            PathElement::new(vec![(x, log(b.p10)), (x, log(b.p25))], BLACK.stroke_width(1)),
            PathElement::new(vec![(x, log(b.p75)), (x, log(b.p90))], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - 0.1, log(b.p10)), (x + 0.1, log(b.p10))], BLACK.stroke_width(1)),
            PathElement::new(vec![(x - 0.1, log(b.p90)), (x + 0.1, log(b.p90))], BLACK.stroke_width(1)),
        ])?;
        chart.draw_series([Rectangle::new([(x - 0.25, log(b.p25)), (x + 0.25, log(b.p75))], colour.mix(0.75).filled())])?;
        chart.draw_series([Rectangle::new([(x - 0.25, log(b.p25)), (x + 0.25, log(b.p75))], BLACK.stroke_width(1))])?;
        chart.draw_series([PathElement::new(vec![(x - 0.25, log(b.p50)), (x + 0.25, log(b.p50))], BLACK.stroke_width(3))])?;
    }
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
        .label(spec.legend.clone())
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], GREY.mix(0.6).filled()));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend() -> Chart {
        Chart {
            name: "t".into(),
            title: "MTTR <by> priority".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: vec!["Sep 26".into(), "Oct 26".into()],
                x_desc: "month".into(),
                y_desc: "hours".into(),
                series: vec![LineSeries { name: "P1 & <b>".into(), values: vec![Some(1.0), Some(2.0)], whiskers: Some(vec![Some(3.0), None]) }],
                whisker_label: Some("p50 to p90".into()),
                references: vec![Reference { label: "target".into(), value: 2.5, category: None }],
                log_y: false,
                band: None,
            }),
        }
    }

    #[test]
    fn svg_has_title_axes_legend_and_escapes_text() {
        let svg = trend().svg().unwrap();
        assert!(svg.contains("MTTR &lt;by&gt; priority"), "{svg}");
        assert!(svg.contains(">\nhours\n<") || svg.contains("hours"), "y axis description");
        assert!(svg.contains("Oct 26"));
        assert!(svg.contains("P1 &amp; &lt;b&gt;"), "legend escapes series names");
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn a_chart_without_data_says_so() {
        let mut chart = trend();
        if let ChartKind::Lines(l) = &mut chart.kind {
            l.series[0].values = vec![None, None];
        }
        assert!(!chart.has_data());
        let svg = chart.svg().unwrap();
        assert!(svg.contains("No data for this period"));
        assert!(!svg.contains("Oct 26"), "no axes are drawn");
    }

    #[test]
    fn a_log_axis_of_zeros_falls_back_to_linear() {
        // plotters' log scale has no start for all-zero data (every ticket acknowledged at once).
        let mut chart = trend();
        if let ChartKind::Lines(l) = &mut chart.kind {
            l.log_y = true;
            l.series[0].values = vec![Some(0.0), Some(0.0)];
            l.series[0].whiskers = Some(vec![Some(0.0), None]);
            l.references.clear();
        }
        assert!(chart.svg().unwrap().contains("Oct 26"));
    }

    #[test]
    fn png_renders_without_system_fonts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.png");
        trend().png(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
