//! The XES element state machine: what each open element is (log, trace, event, or skipped), which
//! attribute elements become values of the trace or event, and how a closing event becomes a row
//! carrying its trace's attributes read so far.

use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;

use super::rows::{Batch, Columns, Values};
use crate::ingest::raw::RawChunk;

/// The XES attribute elements; any other element inside a trace or event is skipped whole.
const ATTRIBUTE_ELEMENTS: [&str; 8] = ["string", "date", "int", "float", "boolean", "id", "list", "container"];

pub(super) enum Problem {
    Malformed(String),
    NotALog(String),
}

impl From<quick_xml::Error> for Problem {
    fn from(e: quick_xml::Error) -> Self {
        Problem::Malformed(e.to_string())
    }
}

/// What an open element is to the reader.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Frame {
    Log,
    Trace,
    Event,
    /// Declarations, log attributes, nested attribute values, unknown elements: read past.
    Skip,
}

#[derive(Default)]
pub(super) struct LogState {
    /// Open elements, with their names for the unclosed-element message.
    pub(super) stack: Vec<(Frame, String)>,
    pub(super) root_seen: bool,
    pub(super) version: XmlVersion,
    trace: Values,
    event: Values,
    events: u64,
    columns: Columns,
    pub(super) batch: Batch,
}

impl LogState {
    /// Classifies a starting element and records it if it is an attribute of a trace or event.
    pub(super) fn open(&mut self, el: &BytesStart) -> std::result::Result<Frame, Problem> {
        let name = el.local_name().into_inner();
        let frame = match self.stack.last().map(|(f, _)| *f) {
            None if self.root_seen => return Err(Problem::Malformed(format!("a second root element <{name}>"))),
            None if name != "log" => return Err(Problem::NotALog(el.name().as_ref().to_string())),
            None => {
                self.root_seen = true;
                Frame::Log
            }
            Some(Frame::Log) if name == "trace" => {
                self.trace.clear();
                Frame::Trace
            }
            Some(Frame::Log | Frame::Trace) if name == "event" => {
                self.event.clear();
                Frame::Event
            }
            Some(parent @ (Frame::Trace | Frame::Event)) if ATTRIBUTE_ELEMENTS.contains(&name) => {
                self.attribute(el, parent == Frame::Trace)?;
                Frame::Skip
            }
            Some(_) => Frame::Skip,
        };
        Ok(frame)
    }

    fn attribute(&mut self, el: &BytesStart, of_trace: bool) -> std::result::Result<(), Problem> {
        let (mut key, mut value) = (None, None);
        for attr in el.attributes() {
            let attr = attr.map_err(quick_xml::Error::from)?;
            match attr.key.as_ref() {
                "key" => key = Some(attr.normalized_value(self.version)?),
                "value" => value = Some(attr.normalized_value(self.version)?),
                _ => {}
            }
        }
        // A keyless attribute has no column, and a list or container has no value of its own.
        if let (Some(key), Some(value)) = (key, value) {
            let (prefix, values) = if of_trace { ("case:", &mut self.trace) } else { ("", &mut self.event) };
            values.push((self.columns.id(prefix, &key), value.into_owned()));
        }
        Ok(())
    }

    pub(super) fn close(&mut self, frame: Frame) {
        match frame {
            Frame::Event => {
                self.events += 1;
                let in_trace = self.stack.last().is_some_and(|(f, _)| *f == Frame::Trace);
                let mut values = if in_trace { self.trace.clone() } else { Vec::new() };
                values.append(&mut self.event);
                self.batch.rows.push(self.events);
                self.batch.values.push(values);
            }
            Frame::Trace => self.trace.clear(),
            Frame::Log | Frame::Skip => {}
        }
    }

    pub(super) fn take(&mut self) -> RawChunk {
        self.batch.take(&self.columns)
    }
}
