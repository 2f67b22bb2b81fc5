//! The Markdown renderer: GitHub-flavoured Markdown with the charts as PNG files beside it.
//! Every string from the document is escaped here.

use std::fmt::Write as _;

use super::document::{Block, ReportDocument, Tone};
use crate::escape::markdown as esc;

pub fn render(document: &ReportDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", esc(&document.title));
    for line in &document.subtitle {
        let _ = writeln!(out, "{}  ", esc(line));
    }
    out.push('\n');
    for (number, section) in document.sections.iter().enumerate() {
        let _ = writeln!(out, "{}. [{}](#{})", number + 1, esc(&section.title), anchor(&section.title));
    }
    for section in &document.sections {
        let _ = writeln!(out, "\n## {}\n", esc(&section.title));
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "{}\n", esc(text));
                }
                Block::Bullets(items) => {
                    for item in items {
                        let _ = writeln!(out, "- {}", esc(item));
                    }
                    out.push('\n');
                }
                Block::Table(table) => {
                    let header: Vec<String> = table.columns.iter().map(|c| esc(&c.title)).collect();
                    let _ = writeln!(out, "| {} |", header.join(" | "));
                    let rule: Vec<&str> = table.columns.iter().map(|c| if c.numeric { "---:" } else { "---" }).collect();
                    let _ = writeln!(out, "| {} |", rule.join(" | "));
                    for row in &table.rows {
                        let cells: Vec<String> = row
                            .iter()
                            .map(|cell| match cell.tone {
                                // Bold draws the eye to what needs attention; the words already say it.
                                Tone::Bad if !cell.text.is_empty() => format!("**{}**", esc(&cell.text)),
                                _ => esc(&cell.text),
                            })
                            .collect();
                        let _ = writeln!(out, "| {} |", cells.join(" | "));
                    }
                    if let Some(note) = &table.note {
                        let _ = writeln!(out, "\n{}", esc(note));
                    }
                    out.push('\n');
                }
                Block::Chart(chart) => {
                    if chart.has_data {
                        let _ = writeln!(out, "![{}](charts/{}.png)\n", esc(&chart.title), chart.name);
                    } else {
                        let _ = writeln!(out, "*{}: no data for this period.*\n", esc(&chart.title));
                    }
                    let _ = writeln!(out, "{}\n", esc(&chart.caption));
                }
            }
        }
    }
    out
}

/// GitHub's heading anchor: lower case, spaces to hyphens, punctuation dropped.
fn anchor(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
