//! Statements as the server takes them: SQL planned read-only, prepared-statement handles (the
//! SQL and its bound parameters, carried by the client), and statement tickets.
//!
//! Handles and tickets come back from the client, so they are decoded as untrusted bytes: a
//! handle's SQL is planned read-only again every time, and a ticket only names a query the server
//! planned.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};
use tonic::Status;

/// What the server runs: no DDL, no DML (`COPY` included), no `SET` or other statements.
pub fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// ODBC's and JDBC's positional placeholders `?` as DataFusion's `$1`, `$2`, …, found by the
/// SQL tokenizer, so that a `?` inside a string literal or a comment stays as it is; the rest of
/// the text is kept byte for byte.
pub fn numbered_placeholders(sql: &str) -> Result<String, Status> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    if !sql.contains('?') {
        return Ok(sql.to_string());
    }
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location().map_err(|e| Status::invalid_argument(e.to_string()))?;
    let at: std::collections::HashSet<(u64, u64)> =
        tokens.iter().filter(|t| matches!(&t.token, Token::Placeholder(p) if p == "?")).map(|t| (t.span.start.line, t.span.start.column)).collect();
    let (mut line, mut column, mut next) = (1u64, 1u64, 0);
    let mut out = String::with_capacity(sql.len() + at.len());
    for c in sql.chars() {
        if c == '?' && at.contains(&(line, column)) {
            next += 1;
            out.push_str(&format!("${next}"));
        } else {
            out.push(c);
        }
        if c == '\n' {
            (line, column) = (line + 1, 1);
        } else {
            column += 1;
        }
    }
    Ok(out)
}

/// Plans `sql` read-only on `ctx`, with `params` bound to its placeholders when given.
pub async fn plan(ctx: &SessionContext, sql: &str, params: Option<&RecordBatch>) -> Result<DataFrame, Status> {
    let sql = numbered_placeholders(sql)?;
    let frame = ctx.sql_with_options(&sql, read_only()).await.map_err(refusal)?;
    match params {
        None => Ok(frame),
        Some(batch) => frame.with_param_values(param_values(batch)?).map_err(|e| Status::invalid_argument(format!("binding the parameters: {e}"))),
    }
}

/// The error a client sees for a statement that does not plan: a statement the server refuses
/// is PERMISSION_DENIED, anything else INVALID_ARGUMENT.
fn refusal(e: datafusion::error::DataFusionError) -> Status {
    let message = e.to_string();
    let refused = ["DDL not supported", "DML not supported", "Statement not supported"].iter().any(|m| message.contains(m));
    if refused {
        Status::permission_denied(format!("mttx serve is read-only: it answers queries (SELECT, WITH, EXPLAIN), never DDL, DML, COPY or SET ({message})"))
    } else {
        Status::invalid_argument(message)
    }
}

/// The first row of a parameter batch, as positional values `$1`, `$2`, …
fn param_values(batch: &RecordBatch) -> Result<ParamValues, Status> {
    if batch.num_rows() != 1 {
        return Err(Status::invalid_argument(format!("bind one row of parameters, not {}", batch.num_rows())));
    }
    let values = batch
        .columns()
        .iter()
        .map(|column| ScalarValue::try_from_array(column, 0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Status::invalid_argument(format!("reading the parameters: {e}")))?;
    Ok(ParamValues::List(values.into_iter().map(Into::into).collect()))
}

/// The parameters of a planned statement, `$1` first, as the schema a client binds to. A
/// parameter whose type the plan does not fix is text.
pub fn parameter_schema(frame: &DataFrame) -> Result<SchemaRef, Status> {
    let types = frame.logical_plan().get_parameter_types().map_err(|e| Status::invalid_argument(e.to_string()))?;
    let mut names: Vec<(usize, String, DataType)> = types
        .into_iter()
        .map(|(name, data_type)| {
            let position = name.trim_start_matches('$').parse::<usize>().unwrap_or(usize::MAX);
            (position, name, data_type.unwrap_or(DataType::Utf8))
        })
        .collect();
    names.sort();
    Ok(Arc::new(Schema::new(names.into_iter().map(|(_, name, data_type)| Field::new(name, data_type, true)).collect::<Vec<_>>())))
}

const HANDLE_MAGIC: &[u8; 6] = b"mttx1\0";

/// A prepared statement as the client carries it: its SQL, and its parameters once bound.
#[derive(Debug, Clone)]
pub struct Handle {
    pub sql: String,
    pub params: Option<RecordBatch>,
}

impl Handle {
    pub fn encode(&self) -> Result<Vec<u8>, Status> {
        let mut bytes = HANDLE_MAGIC.to_vec();
        bytes.extend((self.sql.len() as u64).to_le_bytes());
        bytes.extend(self.sql.as_bytes());
        if let Some(batch) = &self.params {
            let mut writer = StreamWriter::try_new(&mut bytes, &batch.schema()).map_err(internal)?;
            writer.write(batch).map_err(internal)?;
            writer.finish().map_err(internal)?;
        }
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Handle, Status> {
        let bad = || Status::invalid_argument("not a prepared-statement handle of this server");
        let rest = bytes.strip_prefix(HANDLE_MAGIC.as_slice()).ok_or_else(bad)?;
        let (length, rest) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
        let length = usize::try_from(u64::from_le_bytes(*length)).map_err(|_| bad())?;
        if length > rest.len() {
            return Err(bad());
        }
        let (sql, rest) = rest.split_at(length);
        let sql = String::from_utf8(sql.to_vec()).map_err(|_| bad())?;
        let params = if rest.is_empty() {
            None
        } else {
            let mut reader = StreamReader::try_new(rest, None).map_err(|_| bad())?;
            Some(reader.next().ok_or_else(bad)?.map_err(|_| bad())?)
        };
        Ok(Handle { sql, params })
    }
}

/// The batch of parameters a client sent with DoPut: the first batch of the stream.
pub fn one_batch(batches: Vec<RecordBatch>) -> Result<RecordBatch, Status> {
    let mut batches = batches.into_iter().filter(|b| b.num_rows() > 0);
    let first = batches.next().ok_or_else(|| Status::invalid_argument("no parameters were sent"))?;
    if batches.next().is_some() {
        return Err(Status::invalid_argument("bind one row of parameters, not several batches"));
    }
    Ok(first)
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// A query's ticket: the id under which the server keeps its plan until DoGet.
pub fn ticket_id(bytes: &[u8]) -> Result<u128, Status> {
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| Status::invalid_argument("not a query ticket of this server"))?;
    Ok(u128::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    #[tokio::test]
    async fn refuses_what_is_not_a_query() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t AS VALUES (1)").await.unwrap().collect().await.unwrap();
        for sql in [
            "CREATE TABLE u (a INT)",
            "INSERT INTO t VALUES (2)",
            "COPY t TO '/tmp/x.csv'",
            "SET datafusion.execution.batch_size = 1",
            "DROP TABLE t",
            "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'",
        ] {
            let status = plan(&ctx, sql, None).await.expect_err(sql);
            assert_eq!(status.code(), tonic::Code::PermissionDenied, "{sql}: {status}");
        }
        assert!(plan(&ctx, "SELECT * FROM t", None).await.is_ok());
        assert_eq!(plan(&ctx, "SELECT * FROM nowhere", None).await.unwrap_err().code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn binds_parameters_by_position() {
        let ctx = SessionContext::new();
        let frame = plan(&ctx, "SELECT $1 + 1 AS a, $2 AS b", None).await.unwrap();
        let schema = parameter_schema(&frame).unwrap();
        assert_eq!(schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>(), ["$1", "$2"]);
        let params =
            RecordBatch::try_from_iter([("$1", Arc::new(Int64Array::from(vec![41])) as _), ("$2", Arc::new(StringArray::from(vec!["x"])) as _)]).unwrap();
        let handle = Handle { sql: "SELECT $1 + 1 AS a, $2 AS b".into(), params: Some(params) };
        let decoded = Handle::decode(&handle.encode().unwrap()).unwrap();
        let rows = plan(&ctx, &decoded.sql, decoded.params.as_ref()).await.unwrap().collect().await.unwrap();
        let a = rows[0].column(0).as_any().downcast_ref::<Int64Array>().unwrap().value(0);
        assert_eq!(a, 42);
    }

    #[test]
    fn numbers_question_marks_outside_literals() {
        assert_eq!(numbered_placeholders("SELECT * FROM t WHERE a = ? AND b = '?' AND c > ?").unwrap(), "SELECT * FROM t WHERE a = $1 AND b = '?' AND c > $2");
        assert_eq!(numbered_placeholders("SELECT 'it''s' -- why?\nFROM t").unwrap(), "SELECT 'it''s' -- why?\nFROM t");
        assert_eq!(numbered_placeholders("SELECT 'it''s ?',\n  ? FROM t").unwrap(), "SELECT 'it''s ?',\n  $1 FROM t");
    }

    #[test]
    fn rejects_handles_it_did_not_make() {
        for bytes in [&b""[..], b"mttx1\0", b"mttx1\0\xff\xff\xff\xff\xff\xff\xff\xff", b"other"] {
            assert_eq!(Handle::decode(bytes).unwrap_err().code(), tonic::Code::InvalidArgument);
        }
    }
}
