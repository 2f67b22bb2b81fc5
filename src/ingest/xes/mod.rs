//! The XES reader: OpenXES event logs (XML, optionally gzip-compressed), streamed element by
//! element. Each `<event>` becomes one row: its trace's attributes as `case:<key>` columns, its own
//! attributes as `<key>` columns, every value the text of the attribute's `value`, unescaped and
//! otherwise untouched (dates stay ISO text). Log-level declarations and attributes are ignored, as
//! are the children of nested attributes (lists, containers, meta-attributes).
//!
//! XES puts a trace's attributes before its events, and an event takes the trace attributes read
//! so far: holding whole traces back for a late attribute would make one huge trace cost its size
//! in memory.

mod rows;
mod state;

use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use self::state::{LogState, Problem};
use crate::error::{Error, Result};
use crate::ingest::raw::{BATCH_ROWS, RawChunk};
use crate::ingest::source;

pub fn read(path: &Path, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let mut xml = Reader::from_reader(source::open(path)?);
    let mut log = LogState::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        // Where this event starts: structural problems are reported there, not after it.
        let at = xml.buffer_position();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => return Err(unreadable(path, e, xml.error_position())),
        };
        let outcome = match event {
            Event::Start(el) => log.open(&el).map(|frame| log.stack.push((frame, el.name().as_ref().to_string()))),
            Event::Empty(el) => log.open(&el).map(|frame| log.close(frame)),
            Event::End(_) => {
                if let Some((frame, _)) = log.stack.pop() {
                    log.close(frame);
                }
                Ok(())
            }
            Event::Text(text) if log.stack.is_empty() && !text.trim().is_empty() => Err(Problem::Malformed("text outside the root element".into())),
            Event::CData(_) | Event::GeneralRef(_) if log.stack.is_empty() => Err(Problem::Malformed("text outside the root element".into())),
            Event::Decl(decl) => {
                log.version = decl.xml_version().unwrap_or(log.version);
                Ok(())
            }
            Event::Eof => break,
            _ => Ok(()),
        };
        match outcome {
            Ok(()) => {}
            Err(Problem::Malformed(what)) => return Err(unreadable(path, what, at)),
            Err(Problem::NotALog(root)) => {
                return Err(Error::input(path, format!("not an XES log: the root element is <{root}>, where XES has <log>")));
            }
        }
        if log.batch.len() >= BATCH_ROWS {
            sink(log.take())?;
        }
    }
    if let Some((_, innermost)) = log.stack.last() {
        let what = format!("the input ends inside <{innermost}> ({} element(s) left open)", log.stack.len());
        return Err(unreadable(path, what, xml.buffer_position()));
    }
    if !log.root_seen {
        return Err(unreadable(path, "no XML element found", xml.buffer_position()));
    }
    sink(log.take())
}

fn unreadable(path: &Path, e: impl std::fmt::Display, pos: u64) -> Error {
    Error::input(path, format!("not a readable XES file: {e} at byte {pos}"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use datafusion::arrow::array::AsArray;

    use super::*;

    const LOG: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<!-- OpenXES-style header -->
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
	<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
	<global scope="event">
		<string key="concept:name" value="UNKNOWN"/>
	</global>
	<classifier name="Activity classifier" keys="concept:name lifecycle:transition"/>
	<float key="meta:log_level" value="7.6">
		<float key="nested" value="0.1"/>
	</float>
	<trace>
		<string key="concept:name" value="INC-1"/>
		<int key="priority" value="2"/>
		<event>
			<string key="concept:name" value="Accepted"/>
			<date key="time:timestamp" value="2010-03-31T16:59:42.000+02:00"/>
			<string key="org:resource" value="Tom &amp; Jerry"/>
		</event>
		<event>
			<string key="concept:name" value="Queued"/>
			<date key="time:timestamp" value="2010-03-31T17:45:48.000+02:00"/>
			<string key="note" value="a &lt; b, &quot;quoted&quot;"/>
			<list key="tags">
				<values>
					<string key="tag" value="x"/>
				</values>
			</list>
		</event>
	</trace>
	<trace>
		<string key="concept:name" value="INC-2"/>
		<event>
			<string key="concept:name" value="Accepted"/>
			<float key="cost" value="1.5">
				<string key="currency" value="EUR"/>
			</float>
			<boolean key="urgent" value="true"/>
		</event>
		<event/>
		<event>
			<string key="concept:name" value="Completed"/>
			<id key="ref" value="5f0c"/>
			<string key="concept:name" value="Closed"/>
		</event>
	</trace>
</log>
"#;

    fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn read_all(path: &Path) -> Result<Vec<RawChunk>> {
        let mut chunks = Vec::new();
        read(path, &mut |chunk| {
            chunks.push(chunk);
            Ok(())
        })?;
        Ok(chunks)
    }

    fn names(chunk: &RawChunk) -> Vec<String> {
        chunk.batch.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    fn column(chunk: &RawChunk, name: &str) -> Vec<Option<String>> {
        let array = chunk.batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        array.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| if v.is_empty() { None } else { Some(v.to_string()) }).collect()
    }

    fn input_error(result: Result<Vec<RawChunk>>) -> String {
        match result {
            Err(e @ Error::Input { .. }) => e.to_string(),
            Err(other) => panic!("expected an input error, got {other}"),
            Ok(_) => panic!("expected an input error, got batches"),
        }
    }

    #[test]
    fn reads_one_row_per_event_with_case_columns() {
        let dir = tempfile::tempdir().unwrap();
        let chunks = read_all(&write(&dir, "log.xes", LOG.as_bytes())).unwrap();
        assert_eq!(chunks.len(), 1);
        let chunk = &chunks[0];
        assert!(!chunk.complete_schema);
        assert!(chunk.lines.is_empty() && chunk.malformed.is_empty());
        assert_eq!(chunk.rows, vec![1, 2, 3, 4, 5]);
        assert_eq!(names(chunk), ["case:concept:name", "case:priority", "concept:name", "time:timestamp", "org:resource", "note", "cost", "urgent", "ref",]);
        assert_eq!(column(chunk, "case:concept:name"), some(&["INC-1", "INC-1", "INC-2", "INC-2", "INC-2"]));
        assert_eq!(column(chunk, "case:priority"), some(&["2", "2", "", "", ""]));
        assert_eq!(column(chunk, "concept:name"), some(&["Accepted", "Queued", "Accepted", "", "Closed"]));
        assert_eq!(column(chunk, "time:timestamp"), some(&["2010-03-31T16:59:42.000+02:00", "2010-03-31T17:45:48.000+02:00", "", "", ""]));
        assert_eq!(column(chunk, "org:resource"), some(&["Tom & Jerry", "", "", "", ""]));
        assert_eq!(column(chunk, "note"), some(&["", "a < b, \"quoted\"", "", "", ""]));
        assert_eq!(column(chunk, "cost"), some(&["", "", "1.5", "", ""]));
        assert_eq!(column(chunk, "urgent"), some(&["", "", "true", "", ""]));
        assert_eq!(column(chunk, "ref"), some(&["", "", "", "", "5f0c"]));
    }

    #[test]
    fn gzipped_log_reads_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(LOG.as_bytes()).unwrap();
        let plain = read_all(&write(&dir, "log.xes", LOG.as_bytes())).unwrap();
        let gzipped = read_all(&write(&dir, "log.xes.gz", &gz.finish().unwrap())).unwrap();
        assert_eq!(plain.len(), gzipped.len());
        for (a, b) in plain.iter().zip(&gzipped) {
            assert_eq!(a.batch, b.batch);
            assert_eq!(a.rows, b.rows);
        }
    }

    #[test]
    fn events_outside_traces_have_no_case_columns() {
        let dir = tempfile::tempdir().unwrap();
        let xml = r#"<log><event><string key="a" value="1"/></event><trace><string key="concept:name" value="T"/></trace><event><string key="a" value="2"/></event></log>"#;
        let chunks = read_all(&write(&dir, "loose.xes", xml.as_bytes())).unwrap();
        assert_eq!(names(&chunks[0]), ["a"]);
        assert_eq!(column(&chunks[0], "a"), some(&["1", "2"]));
        assert_eq!(chunks[0].rows, vec![1, 2]);
    }

    #[test]
    fn empty_log_still_calls_the_sink() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [("a.xes", "<log/>"), ("b.xes", "\u{FEFF}<?xml version=\"1.0\"?>\n<log>\n<trace/>\n</log>\n")];
        for (name, xml) in cases {
            let chunks = read_all(&write(&dir, name, xml.as_bytes())).unwrap();
            assert_eq!(chunks.len(), 1);
            assert_eq!(chunks[0].batch.num_rows(), 0);
            assert_eq!(chunks[0].batch.num_columns(), 0);
        }
    }

    #[test]
    fn batches_hold_the_columns_they_saw() {
        let dir = tempfile::tempdir().unwrap();
        let mut xml = String::from("<log><trace><string key=\"concept:name\" value=\"big\"/>");
        for i in 0..BATCH_ROWS + 10 {
            xml.push_str(&format!("<event><int key=\"n\" value=\"{i}\"/></event>"));
        }
        xml.push_str("<event><string key=\"late\" value=\"yes\"/></event></trace></log>");
        let chunks = read_all(&write(&dir, "big.xes", xml.as_bytes())).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(names(&chunks[0]), ["case:concept:name", "n"]);
        assert_eq!(names(&chunks[1]), ["case:concept:name", "n", "late"]);
        let rows: Vec<u64> = chunks.iter().flat_map(|c| c.rows.iter().copied()).collect();
        assert_eq!(rows, (1..=BATCH_ROWS as u64 + 11).collect::<Vec<_>>());
        assert_eq!(column(&chunks[1], "n")[0].as_deref(), Some(BATCH_ROWS.to_string().as_str()));
    }

    #[test]
    fn sink_errors_stop_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "log.xes", LOG.as_bytes());
        let result = read(&path, &mut |_| Err(Error::Usage("stop".into())));
        assert!(matches!(result, Err(Error::Usage(m)) if m == "stop"));
    }

    #[test]
    fn malformed_xml_is_an_input_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], u64); 6] = [
            ("unclosed.xes", b"<log><trace><event><string key=\"a\" value=\"1\"/></event>", 54),
            ("mismatched.xes", b"<log><trace></event></log>", 12),
            ("cut.xes", b"<log><trace><string key=\"a\" value=\"1", 12),
            ("renamed.xes", b"number,opened,priority\nINC1,2024-01-01,P1\n", 0),
            ("empty.xes", b"", 0),
            ("bad-entity.xes", b"<log><event><string key=\"a\" value=\"&nope;\"/></event></log>", 12),
        ];
        for (name, content, at) in cases {
            let path = write(&dir, name, content);
            let message = input_error(read_all(&path));
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("not a readable XES file"), "{message}");
            assert!(message.ends_with(&format!(" at byte {at}")), "{message}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "latin1.xes", b"<log><event><string key=\"a\" value=\"caf\xE9\"/></event></log>");
        let message = input_error(read_all(&path));
        assert!(message.contains("UTF-8"), "{message}");
    }

    #[test]
    fn a_root_other_than_log_is_not_an_xes_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "page.xes", b"<?xml version=\"1.0\"?><html><body/></html>");
        let message = input_error(read_all(&path));
        assert!(message.contains("not an XES log") && message.contains("<html>"), "{message}");
        let path = write(&dir, "two.xes", b"<log/><log/>");
        assert!(input_error(read_all(&path)).contains("second root"));
    }

    #[test]
    #[ignore = "reads the real BPIC 2013 logs from /work/shared when present"]
    fn reads_the_real_volvo_log() {
        let dir = Path::new("/work/shared/realdata/bpic2013-volvo");
        for (file, events, cases) in [("BPI_Challenge_2013_incidents.xes.gz", 65_533, 7_554), ("BPI_Challenge_2013_closed_problems.xes.gz", 6_660, 1_487)] {
            let path = dir.join(file);
            if !path.exists() {
                eprintln!("{} not found; skipped", path.display());
                continue;
            }
            let started = std::time::Instant::now();
            let (mut rows, mut chunks, mut last_row) = (0usize, 0usize, 0u64);
            let mut names = std::collections::HashSet::new();
            read(&path, &mut |chunk| {
                chunks += 1;
                rows += chunk.batch.num_rows();
                last_row = chunk.rows.last().copied().unwrap_or(last_row);
                for name in column(&chunk, "case:concept:name").into_iter().flatten() {
                    names.insert(name);
                }
                assert!(column(&chunk, "time:timestamp").iter().all(Option::is_some));
                Ok(())
            })
            .unwrap();
            eprintln!("{file}: {rows} events, {} distinct case:concept:name, {chunks} chunks, {:?}", names.len(), started.elapsed());
            assert_eq!((rows, last_row as usize, names.len()), (events, events, cases));
        }
    }
}
