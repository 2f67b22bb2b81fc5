//! Selectors: the names that rules files, targets and the improvement register give to KPI values,
//! `kpi.column{key=value,…}`, with the grammar that reads them and the rows they match.

use std::fmt;

/// Which values a rule speaks of: a KPI, optionally one column, optionally rows whose key columns
/// have the given values.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub kpi: String,
    pub column: Option<String>,
    pub keys: Vec<(String, String)>,
}

/// Keys a selector need not name: a row whose key holds another value is matched only by a
/// selector that names the key. A gate written before the overall rows (`scope=all`) existed, or
/// without them in mind, keeps meaning the per-priority rows.
pub const DEFAULT_KEYS: [(&str, &str); 1] = [("scope", "priority")];

impl Selector {
    /// For gates and the improvement register: the rows this selector names, where a row off a
    /// default key (`scope=all`) must be named explicitly.
    pub fn matches(&self, kpi: &str, column: &str, row_keys: &[(String, String)]) -> bool {
        self.covers(kpi, column, row_keys)
            && DEFAULT_KEYS.iter().all(|(key, default)| self.keys.iter().any(|(k, _)| k == key) || row_keys.iter().all(|(rk, rv)| rk != key || rv == default))
    }

    /// For tolerances: every row whose keys include the selector's; `mttr = "relative 0.05"` speaks
    /// of all of mttr's rows, overall ones included.
    pub fn covers(&self, kpi: &str, column: &str, row_keys: &[(String, String)]) -> bool {
        self.kpi == kpi
            && self.column.as_deref().is_none_or(|c| c == column)
            && self.keys.iter().all(|(k, v)| row_keys.iter().any(|(rk, rv)| rk == k && rv == v))
    }

    /// More specific selectors win: a column beats none, then more keys beat fewer.
    pub fn specificity(&self) -> (bool, usize) {
        (self.column.is_some(), self.keys.len())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kpi)?;
        if let Some(c) = &self.column {
            write!(f, ".{c}")?;
        }
        if !self.keys.is_empty() {
            let keys: Vec<String> = self.keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "{{{}}}", keys.join(","))?;
        }
        Ok(())
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

pub fn skip_spaces(chars: &[char], at: &mut usize) {
    while *at < chars.len() && chars[*at].is_whitespace() {
        *at += 1;
    }
}

fn word(chars: &[char], at: &mut usize, what: &str) -> std::result::Result<String, Syntax> {
    skip_spaces(chars, at);
    let start = *at;
    while *at < chars.len() && is_word(chars[*at]) {
        *at += 1;
    }
    if start == *at {
        return Err(Syntax { at: start, message: format!("expected {what}") });
    }
    Ok(chars[start..*at].iter().collect())
}

impl Selector {
    /// Parses a whole selector, `kpi.column{key=value,…}`, as gates write one; the error says
    /// what was expected, and at which character.
    pub fn parse(text: &str) -> std::result::Result<Selector, String> {
        let mut at = 0;
        let selector = parse_selector(text, &mut at).map_err(|e| format!("{} at character {}", e.message, e.at + 1))?;
        if at < text.chars().count() {
            return Err(format!("unexpected `{}` at character {}", text.chars().skip(at).collect::<String>(), at + 1));
        }
        Ok(selector)
    }
}

/// A selector from character `at` of `text` on, leaving `at` after it (and after spaces).
pub fn parse_selector(text: &str, at: &mut usize) -> std::result::Result<Selector, Syntax> {
    let chars: Vec<char> = text.chars().collect();
    let kpi = word(&chars, at, "a KPI id")?;
    let mut column = None;
    if chars.get(*at) == Some(&'.') {
        *at += 1;
        column = Some(word(&chars, at, "a column name after `.`")?);
    }
    let mut keys = Vec::new();
    skip_spaces(&chars, at);
    if chars.get(*at) == Some(&'{') {
        *at += 1;
        loop {
            let key = word(&chars, at, "a key column inside `{…}`")?;
            skip_spaces(&chars, at);
            if chars.get(*at) != Some(&'=') {
                return Err(Syntax { at: *at, message: format!("expected `=` after `{key}`") });
            }
            *at += 1;
            skip_spaces(&chars, at);
            let start = *at;
            while *at < chars.len() && !matches!(chars[*at], ',' | '}') {
                *at += 1;
            }
            let value: String = chars[start..*at].iter().collect::<String>().trim().to_string();
            if value.is_empty() {
                return Err(Syntax { at: start, message: format!("expected a value for `{key}`") });
            }
            keys.push((key, value));
            match chars.get(*at) {
                Some(',') => *at += 1,
                Some('}') => {
                    *at += 1;
                    break;
                }
                _ => return Err(Syntax { at: *at, message: "expected `,` or `}`".into() }),
            }
        }
    }
    skip_spaces(&chars, at);
    Ok(Selector { kpi, column, keys })
}

/// A parse failure at a character offset of the rule text.
pub struct Syntax {
    pub at: usize,
    pub message: String,
}
