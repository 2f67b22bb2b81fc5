//! Escaping of untrusted ticket values for the outputs that show them.

use std::borrow::Cow;

/// Neutralises spreadsheet formula injection: a text cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return is prefixed with a single quote, which spreadsheets show as text and never
/// evaluate. Numbers are not text cells and are never passed through here.
pub fn spreadsheet_safe(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Text for HTML element content and quoted attribute values.
pub fn html(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Untrusted text for GitHub-flavoured Markdown, inline or in a table cell: every character that
/// can open inline markup (links and images need `[`, emphasis `*` `_` `~`, code `` ` ``, HTML `<`
/// and entities `&`, table cells `|`) is backslash-escaped or written as an entity, and line breaks
/// become spaces, so the text renders literally. Block markers (`#`, `-`, `1.`) only act at the
/// start of a line, where reports always put their own words.
pub fn markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_markdown_show_hostile_text_literally() {
        assert_eq!(html("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(html("a \"b\" & 'c'"), "a &quot;b&quot; &amp; &#39;c&#39;");
        assert_eq!(markdown("[x](javascript:alert(1)) | <b> *y*"), "\\[x\\](javascript:alert(1)) \\| &lt;b&gt; \\*y\\*");
        assert_eq!(markdown("a\nb"), "a b");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("db-01"), "db-01");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
