//! The HTML renderer: one self-contained file, charts inlined as SVG, no scripts, no external
//! resources, print styles for PDF. Every string from the document is escaped here.

use std::fmt::Write as _;

use super::document::{Block, ReportDocument, Tone};
use crate::escape::html as esc;

const STYLE: &str = include_str!("report.css");

/// `svgs` holds the SVG of each chart with data, by chart name.
pub fn render(document: &ReportDocument, svg_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        esc(&document.title),
        esc(&document.title)
    );
    for line in &document.subtitle {
        let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", esc(line));
    }
    out.push_str("<nav><ol>\n");
    for section in &document.sections {
        let _ = writeln!(out, "<li><a href=\"#{}\">{}</a></li>", esc(&section.id), esc(&section.title));
    }
    out.push_str("</ol></nav>\n</header>\n<main>\n");
    for section in &document.sections {
        if section.collapsed {
            let _ = writeln!(out, "<section id=\"{}\">\n<details>\n<summary><h2>{}</h2></summary>", esc(&section.id), esc(&section.title));
        } else {
            let _ = writeln!(out, "<section id=\"{}\">\n<h2>{}</h2>", esc(&section.id), esc(&section.title));
        }
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "<p>{}</p>", esc(text));
                }
                Block::Bullets(items) => {
                    out.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(out, "<li>{}</li>", esc(item));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table(table) => {
                    match &table.id {
                        Some(id) => {
                            let _ = write!(out, "<div class=\"table\" id=\"{}-table\"><table id=\"{}\">\n<thead><tr>", esc(id), esc(id));
                        }
                        None => out.push_str("<div class=\"table\"><table>\n<thead><tr>"),
                    }
                    for column in &table.columns {
                        let _ = write!(out, "<th{}>{}</th>", if column.numeric { " class=\"num\"" } else { "" }, esc(&column.title));
                    }
                    out.push_str("</tr></thead>\n<tbody>\n");
                    for row in &table.rows {
                        out.push_str("<tr>");
                        for (cell, column) in row.iter().zip(&table.columns) {
                            let mut classes = Vec::new();
                            if column.numeric {
                                classes.push("num");
                            }
                            match cell.tone {
                                Tone::Good => classes.push("good"),
                                Tone::Bad => classes.push("bad"),
                                Tone::Plain => {}
                            }
                            let class = if classes.is_empty() { String::new() } else { format!(" class=\"{}\"", classes.join(" ")) };
                            let _ = write!(out, "<td{class}>{}</td>", esc(&cell.text));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody>\n</table></div>\n");
                    if let Some(note) = &table.note {
                        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(note));
                    }
                }
                Block::Chart(chart) => {
                    let _ = writeln!(out, "<figure class=\"chart\" id=\"chart-{}\">", esc(&chart.name));
                    match svg_of(&chart.name).filter(|_| chart.has_data) {
                        Some(svg) => {
                            // plotters escapes every text and attribute it writes; the SVG is ours.
                            out.push_str(svg.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").trim());
                            out.push('\n');
                        }
                        None => {
                            let _ = writeln!(out, "<p class=\"no-data\">{}: no data for this period.</p>", esc(&chart.title));
                        }
                    }
                    let _ = writeln!(out, "<figcaption>{}</figcaption>\n</figure>", esc(&chart.caption));
                }
            }
        }
        out.push_str(if section.collapsed { "</details>\n</section>\n" } else { "</section>\n" });
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
