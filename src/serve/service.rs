//! The Flight SQL service: statements and prepared statements planned read-only on the current
//! store generation and run under the limits, the metadata calls, cancellation, and clear
//! refusals of everything that would write or that the server does not take (Substrait plans,
//! updates, bulk ingestion).

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, ActionCreatePreparedSubstraitPlanRequest, Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo,
    CommandGetTableTypes, CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementIngest,
    CommandStatementQuery, CommandStatementSubstraitPlan, CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use super::generations::Generations;
use super::queries::{Planned, Queries};
use super::statement::{self, Handle};
use super::{Limits, metadata};

type DoGetStream = <MttxFlightSql as FlightService>::DoGetStream;

/// The CancelFlightInfo action of Flight RPC, which arrow-flight's server leaves to the fallback.
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";

pub struct MttxFlightSql {
    generations: Arc<Generations>,
    queries: Arc<Queries>,
    limits: Limits,
}

impl MttxFlightSql {
    pub fn new(generations: Arc<Generations>, queries: Arc<Queries>, limits: Limits) -> MttxFlightSql {
        MttxFlightSql { generations, queries, limits }
    }

    /// Plans `sql` on the current generation and keeps it for DoGet; the FlightInfo names it.
    async fn plan<T>(&self, sql: &str, params: Option<&RecordBatch>, request: &Request<T>) -> Result<Response<FlightInfo>, Status> {
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + self.limits.query_timeout;
        let generation = self.generations.current().await;
        let client = request.remote_addr().map_or_else(|| "an unknown address".to_string(), |a| a.to_string());
        let frame = match statement::plan(&generation.ctx, sql, params).await {
            Ok(frame) => frame,
            Err(status) => {
                self.queries.log_refused(&client, generation.number, sql, started, &status);
                return Err(status);
            }
        };
        let schema: Schema = frame.schema().as_arrow().clone();
        let planned = Planned { generation, frame, client, statement: sql.to_string(), started, deadline };
        let id = self.queries.plan(planned)?;
        let ticket = TicketStatementQuery { statement_handle: id.to_le_bytes().to_vec().into() };
        info(&schema, ticket.as_any().encode_to_vec(), FlightDescriptor::new_cmd(Vec::new()))
    }

    /// The query a FlightInfo names, as the id it was kept under.
    fn query_of(info: &FlightInfo) -> Result<u128, Status> {
        let ticket = info.endpoint.first().and_then(|e| e.ticket.as_ref()).ok_or_else(|| Status::invalid_argument("the FlightInfo names no query"))?;
        let any = Any::decode(&*ticket.ticket).map_err(|e| Status::invalid_argument(format!("not a ticket of this server: {e}")))?;
        let ticket: TicketStatementQuery = any
            .unpack()
            .map_err(|e| Status::invalid_argument(e.to_string()))?
            .ok_or_else(|| Status::invalid_argument("not a statement ticket of this server"))?;
        statement::ticket_id(&ticket.statement_handle)
    }

    fn cancel(&self, info: &FlightInfo) -> Result<CancelStatus, Status> {
        let id = Self::query_of(info)?;
        if self.queries.cancel(id) { Ok(CancelStatus::Cancelled) } else { Err(Status::not_found("no such query: it has ended or was never planned here")) }
    }
}

fn info(schema: &Schema, ticket: Vec<u8>, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
    let endpoint = FlightEndpoint::new().with_ticket(Ticket { ticket: ticket.into() });
    let info = FlightInfo::new().try_with_schema(schema).map_err(|e| Status::internal(e.to_string()))?.with_endpoint(endpoint).with_descriptor(descriptor);
    Ok(Response::new(info))
}

/// FlightInfo for a metadata command: its ticket is the command itself.
fn metadata_info(schema: &Schema, command: impl ProstMessageExt, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
    info(schema, command.as_any().encode_to_vec(), request.into_inner())
}

fn encode(schema: SchemaRef, batches: impl Stream<Item = Result<RecordBatch, Status>> + Send + 'static) -> Response<DoGetStream> {
    let stream = FlightDataEncoderBuilder::new().with_schema(schema).build(batches.map_err(|s| FlightError::Tonic(Box::new(s)))).map_err(Status::from);
    Response::new(Box::pin(stream))
}

fn one(batch: RecordBatch) -> Response<DoGetStream> {
    encode(batch.schema(), futures::stream::once(async { Ok(batch) }))
}

fn read_only(what: &str) -> Status {
    Status::permission_denied(format!("mttx serve is read-only and takes SQL queries only: {what} is refused"))
}

fn substrait() -> Status {
    Status::unimplemented("mttx serve takes SQL only: Substrait plans are refused (they would bypass its read-only check)")
}

fn ipc_schema(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let IpcMessage(bytes) =
        SchemaAsIpc::new(schema, &IpcWriteOptions::default()).try_into().map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(bytes)
}

#[tonic::async_trait]
impl FlightSqlService for MttxFlightSql {
    type FlightService = MttxFlightSql;

    /// The interceptor has checked the credentials; a client that sent a user name and password
    /// gets the token back as a bearer token for its next calls.
    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>, Status> {
        let bearer = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).and_then(super::auth::bearer_of);
        let output = futures::stream::iter([Ok(HandshakeResponse { protocol_version: 0, payload: Default::default() })]);
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> = Response::new(Box::pin(output));
        if let Some(bearer) = bearer {
            let value = format!("Bearer {bearer}").parse().map_err(|_| Status::invalid_argument("the token is not a valid header value"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(&self, query: CommandStatementQuery, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.plan(&query.query, None, &request).await
    }

    async fn get_flight_info_substrait_plan(&self, _: CommandStatementSubstraitPlan, _: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        Err(substrait())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let handle = Handle::decode(&query.prepared_statement_handle)?;
        self.plan(&handle.sql, handle.params.as_ref(), &request).await
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        metadata_info(&schema, query, request)
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        metadata_info(&schema, query, request)
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        metadata_info(&schema, query, request)
    }

    async fn get_flight_info_table_types(&self, query: CommandGetTableTypes, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        metadata_info(&schema, query, request)
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&metadata::SQL_INFO).schema();
        metadata_info(&schema, query, request)
    }

    async fn get_flight_info_xdbc_type_info(&self, query: CommandGetXdbcTypeInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder(&metadata::XDBC_TYPES).schema();
        metadata_info(&schema, query, request)
    }

    async fn do_get_statement(&self, ticket: TicketStatementQuery, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let id = statement::ticket_id(&ticket.statement_handle)?;
        let (schema, batches) = self.queries.run(id)?;
        Ok(encode(schema, batches))
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(metadata::catalogs(&self.generations.current().await.ctx, query)?))
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(metadata::schemas(&self.generations.current().await.ctx, query)?))
    }

    async fn do_get_tables(&self, query: CommandGetTables, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(metadata::list_tables(&self.generations.current().await.ctx, query).await?))
    }

    async fn do_get_table_types(&self, query: CommandGetTableTypes, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(metadata::table_types(query)?))
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(query.into_builder(&metadata::SQL_INFO).build().map_err(|e| Status::internal(e.to_string()))?))
    }

    async fn do_get_xdbc_type_info(&self, query: CommandGetXdbcTypeInfo, _: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        Ok(one(query.into_builder(&metadata::XDBC_TYPES).build().map_err(|e| Status::internal(e.to_string()))?))
    }

    async fn do_put_statement_update(&self, _: CommandStatementUpdate, _: Request<PeekableFlightDataStream>) -> Result<i64, Status> {
        Err(read_only("an update statement"))
    }

    async fn do_put_statement_ingest(&self, _: CommandStatementIngest, _: Request<PeekableFlightDataStream>) -> Result<i64, Status> {
        Err(read_only("bulk ingestion"))
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let handle = Handle::decode(&query.prepared_statement_handle)?;
        let stream = request.into_inner().map_err(|s| FlightError::Tonic(Box::new(s)));
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(stream).try_collect().await.map_err(Status::from)?;
        let params = statement::one_batch(batches)?;
        let bound = Handle { sql: handle.sql, params: Some(params) };
        Ok(DoPutPreparedStatementResult { prepared_statement_handle: Some(bound.encode()?.into()) })
    }

    async fn do_put_prepared_statement_update(&self, _: CommandPreparedStatementUpdate, _: Request<PeekableFlightDataStream>) -> Result<i64, Status> {
        Err(read_only("an update statement"))
    }

    async fn do_put_substrait_plan(&self, _: CommandStatementSubstraitPlan, _: Request<PeekableFlightDataStream>) -> Result<i64, Status> {
        Err(substrait())
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let generation = self.generations.current().await;
        let frame = statement::plan(&generation.ctx, &query.query, None).await?;
        let parameters = statement::parameter_schema(&frame)?;
        let dataset_schema = ipc_schema(frame.schema().as_arrow())?;
        let parameter_schema = if parameters.fields().is_empty() { Default::default() } else { ipc_schema(&parameters)? };
        let handle = Handle { sql: query.query, params: None }.encode()?;
        Ok(ActionCreatePreparedStatementResult { prepared_statement_handle: handle.into(), dataset_schema, parameter_schema })
    }

    async fn do_action_close_prepared_statement(&self, _: ActionClosePreparedStatementRequest, _: Request<Action>) -> Result<(), Status> {
        // The client holds the whole handle; the server keeps nothing to close.
        Ok(())
    }

    async fn do_action_create_prepared_substrait_plan(
        &self,
        _: ActionCreatePreparedSubstraitPlanRequest,
        _: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        Err(substrait())
    }

    async fn do_action_cancel_query(&self, query: ActionCancelQueryRequest, _: Request<Action>) -> Result<ActionCancelQueryResult, Status> {
        let info = FlightInfo::decode(&*query.info).map_err(|e| Status::invalid_argument(format!("not a FlightInfo: {e}")))?;
        self.cancel(&info)?;
        // CANCEL_RESULT_CANCELLED; arrow-flight does not export the enum's module.
        Ok(ActionCancelQueryResult { result: 1 })
    }

    async fn do_action_fallback(&self, request: Request<Action>) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        let action = request.into_inner();
        if action.r#type != CANCEL_FLIGHT_INFO {
            return Err(Status::unimplemented(format!("mttx serve has no action {:?}", action.r#type)));
        }
        let cancel = CancelFlightInfoRequest::decode(&*action.body).map_err(|e| Status::invalid_argument(format!("not a CancelFlightInfoRequest: {e}")))?;
        let info = cancel.info.ok_or_else(|| Status::invalid_argument("the CancelFlightInfoRequest holds no FlightInfo"))?;
        let status = self.cancel(&info)?;
        let result = CancelFlightInfoResult { status: status as i32 };
        let body = arrow_flight::Result { body: result.encode_to_vec().into() };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(body)]))))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
