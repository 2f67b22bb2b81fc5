//! What a profile says about parsing source text: separators, decimal commas, encodings, null and
//! boolean tokens, timestamp formats and zones, for all tables or one.

use serde::{Deserialize, Serialize};

/// How source text becomes typed values. Every key is optional so that tables can override some.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParseSettings {
    /// IANA zone of timestamps that carry no offset, e.g. "Europe/Amsterdam".
    pub timezone: Option<String>,
    /// Tried in order; "iso8601" is a fast built-in for RFC 3339 and its common variants, anything
    /// else is a chrono strftime pattern such as "%d/%m/%Y %H:%M".
    pub timestamp_formats: Option<Vec<String>>,
    /// Dates (YYYY-MM-DD) that the source writes for "none", such as 9999-12-31 for "never" or
    /// 1900-01-01 for "unknown": a timestamp on one of them, in UTC or the source zone, is null.
    pub sentinel_dates: Option<Vec<String>>,
    /// [from, to) as two dates: a timestamp outside it (and not a sentinel) is rejected as
    /// implausible_timestamp. Default ["1990-01-01", "2100-01-01"].
    pub plausible_range: Option<Vec<String>>,
    /// Values that mean "no value", compared after trimming.
    pub null_tokens: Option<Vec<String>>,
    pub true_tokens: Option<Vec<String>>,
    pub false_tokens: Option<Vec<String>>,
    /// CSV field separator: a single character, "\t", or "auto" to sniff it from the header.
    pub delimiter: Option<Delimiter>,
    pub quote: Option<char>,
    /// Decimal separator for numbers: "." or ",".
    pub decimal: Option<DecimalSeparator>,
    /// Text encoding of CSV input: "utf-8" or "latin1".
    pub encoding: Option<Encoding>,
}

/// A CSV field separator as profiles write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Delimiter {
    /// Sniffed from the header line.
    Auto,
    Byte(u8),
}

impl TryFrom<String> for Delimiter {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Delimiter, String> {
        match text.as_str() {
            "auto" => Ok(Delimiter::Auto),
            "\\t" | "\t" | "tab" => Ok(Delimiter::Byte(b'\t')),
            d if d.len() == 1 => Ok(Delimiter::Byte(d.as_bytes()[0])),
            d => Err(format!("delimiter `{d}` must be one ASCII character, \"\\t\" or \"auto\"")),
        }
    }
}

impl From<Delimiter> for String {
    fn from(d: Delimiter) -> String {
        match d {
            Delimiter::Auto => "auto".into(),
            Delimiter::Byte(b'\t') => "\t".into(),
            Delimiter::Byte(b) => char::from(b).to_string(),
        }
    }
}

/// The decimal separator of numbers in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "char", into = "char")]
pub enum DecimalSeparator {
    Point,
    Comma,
}

impl TryFrom<char> for DecimalSeparator {
    type Error = String;

    fn try_from(c: char) -> std::result::Result<DecimalSeparator, String> {
        match c {
            '.' => Ok(DecimalSeparator::Point),
            ',' => Ok(DecimalSeparator::Comma),
            d => Err(format!("decimal `{d}` must be \".\" or \",\"")),
        }
    }
}

impl From<DecimalSeparator> for char {
    fn from(d: DecimalSeparator) -> char {
        match d {
            DecimalSeparator::Point => '.',
            DecimalSeparator::Comma => ',',
        }
    }
}

/// The text encoding of CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Encoding {
    Utf8,
    Latin1,
}

impl TryFrom<String> for Encoding {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Encoding, String> {
        match text.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" => Ok(Encoding::Latin1),
            e => Err(format!("encoding `{e}` is not utf-8 or latin1")),
        }
    }
}

impl From<Encoding> for String {
    fn from(e: Encoding) -> String {
        match e {
            Encoding::Utf8 => "utf-8".into(),
            Encoding::Latin1 => "latin1".into(),
        }
    }
}
