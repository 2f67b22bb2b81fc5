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

/// The longest cell a terminal table shows; longer text ends in `…` (csv and json keep it whole).
pub const TERMINAL_CELL_CHARS: usize = 80;

/// Untrusted text for a terminal table: control characters (escape sequences that could rewrite
/// the screen, line breaks that would break the table) are shown escaped, as `\u{1b}` or `\n`, and
/// the cell is cut at `TERMINAL_CELL_CHARS`, so one huge value cannot stall the table layout.
pub fn terminal(value: &str) -> Cow<'_, str> {
    let long = value.len() > TERMINAL_CELL_CHARS && value.chars().nth(TERMINAL_CELL_CHARS).is_some();
    if !long && !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(TERMINAL_CELL_CHARS + 8);
    for (shown, c) in value.chars().enumerate() {
        if shown == TERMINAL_CELL_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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

    /// See: issue 11. A 10 MB cell took minutes to lay out in a terminal table; an escape sequence
    /// in a ticket value could rewrite the user's screen.
    #[test]
    fn terminal_cells_are_escaped_and_cut() {
        assert_eq!(terminal("plain"), "plain");
        assert_eq!(terminal("red\u{1b}[31m\nnext"), "red\\u{1b}[31m\\nnext");
        let long = "x".repeat(10 * 1024 * 1024);
        let cut = terminal(&long);
        assert_eq!(cut.chars().count(), TERMINAL_CELL_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(terminal(&"é".repeat(TERMINAL_CELL_CHARS)).chars().count(), TERMINAL_CELL_CHARS, "exactly the limit is not cut");
    }

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
