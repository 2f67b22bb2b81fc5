//! What JDBC and ODBC clients ask before their first query: the server's SQL capabilities
//! (GetSqlInfo), the types it returns (GetXdbcTypeInfo), and its catalogs, schemas and tables.

use std::sync::LazyLock;

use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder};
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables, Nullable, Searchable, SqlInfo, SqlNullOrdering,
    SqlSupportedCaseSensitivity, SqlSupportedTransaction, XdbcDataType, XdbcDatetimeSubcode,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use tonic::Status;

pub static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "mttx");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    // The Arrow IPC format version (Schema.fbs MetadataVersion V5).
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.5");
    b.append(SqlInfo::FlightSqlServerReadOnly, true);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(SqlInfo::FlightSqlServerTransaction, SqlSupportedTransaction::None as i32);
    b.append(SqlInfo::FlightSqlServerCancel, true);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, false);
    b.append(SqlInfo::SqlDdlTable, false);
    b.append(SqlInfo::SqlIdentifierCase, SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32);
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(SqlInfo::SqlQuotedIdentifierCase, SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32);
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(SqlInfo::SqlNullOrdering, SqlNullOrdering::SqlNullsSortedHigh as i32);
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    b.append(SqlInfo::SqlTransactionsSupported, false);
    b.build().expect("the server's SqlInfo is well formed")
});

fn type_info(name: &str, data_type: XdbcDataType, column_size: Option<i32>, subcode: Option<XdbcDatetimeSubcode>) -> XdbcTypeInfo {
    let numeric = matches!(data_type, XdbcDataType::XdbcBigint | XdbcDataType::XdbcInteger | XdbcDataType::XdbcDouble | XdbcDataType::XdbcFloat);
    let text = matches!(data_type, XdbcDataType::XdbcVarchar);
    XdbcTypeInfo {
        type_name: name.into(),
        data_type,
        column_size,
        literal_prefix: text.then(|| "'".into()),
        literal_suffix: text.then(|| "'".into()),
        create_params: None,
        nullable: Nullable::NullabilityNullable,
        case_sensitive: text,
        searchable: Searchable::Full,
        unsigned_attribute: numeric.then_some(false),
        fixed_prec_scale: false,
        auto_increment: numeric.then_some(false),
        local_type_name: Some(name.into()),
        minimum_scale: None,
        maximum_scale: None,
        sql_data_type: data_type,
        datetime_subcode: subcode,
        num_prec_radix: numeric.then_some(10),
        interval_precision: None,
    }
}

/// The types the canonical tables and the KPIs return.
pub static XDBC_TYPES: LazyLock<XdbcTypeInfoData> = LazyLock::new(|| {
    let mut b = XdbcTypeInfoDataBuilder::new();
    b.append(type_info("BOOLEAN", XdbcDataType::XdbcBit, Some(1), None));
    b.append(type_info("INTEGER", XdbcDataType::XdbcInteger, Some(10), None));
    b.append(type_info("BIGINT", XdbcDataType::XdbcBigint, Some(19), None));
    b.append(type_info("DOUBLE", XdbcDataType::XdbcDouble, Some(15), None));
    b.append(type_info("VARCHAR", XdbcDataType::XdbcVarchar, None, None));
    b.append(type_info("DATE", XdbcDataType::XdbcDate, Some(10), Some(XdbcDatetimeSubcode::XdbcSubcodeUnknown)));
    b.append(type_info("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some(32), Some(XdbcDatetimeSubcode::XdbcSubcodeTimestampWithTimezone)));
    b.build().expect("the server's type list is well formed")
});

fn arrow_error(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// Every table of `ctx`'s catalogs, as (catalog, schema, table).
async fn tables(ctx: &SessionContext) -> Result<Vec<(String, String, String, std::sync::Arc<dyn datafusion::catalog::TableProvider>)>, Status> {
    let mut found = Vec::new();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else { continue };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else { continue };
            let mut names = schema.table_names();
            names.sort();
            for name in names {
                if let Some(table) = schema.table(&name).await.map_err(|e| Status::internal(e.to_string()))? {
                    found.push((catalog_name.clone(), schema_name.clone(), name, table));
                }
            }
        }
    }
    Ok(found)
}

pub fn catalogs(ctx: &SessionContext, query: CommandGetCatalogs) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    for name in ctx.catalog_names() {
        builder.append(name);
    }
    builder.build().map_err(arrow_error)
}

pub fn schemas(ctx: &SessionContext, query: CommandGetDbSchemas) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    for catalog_name in ctx.catalog_names() {
        if let Some(catalog) = ctx.catalog(&catalog_name) {
            for schema in catalog.schema_names() {
                builder.append(&catalog_name, schema);
            }
        }
    }
    builder.build().map_err(arrow_error)
}

/// The table type clients see: the KPI tables are views.
fn type_name(table: &dyn datafusion::catalog::TableProvider) -> &'static str {
    match table.table_type() {
        datafusion::datasource::TableType::View => "VIEW",
        _ => "TABLE",
    }
}

pub async fn list_tables(ctx: &SessionContext, query: CommandGetTables) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    for (catalog, schema, name, table) in tables(ctx).await? {
        builder.append(catalog, schema, name, type_name(table.as_ref()), &table.schema()).map_err(arrow_error)?;
    }
    builder.build().map_err(arrow_error)
}

pub fn table_types(query: CommandGetTableTypes) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    builder.append("TABLE");
    builder.append("VIEW");
    builder.build().map_err(arrow_error)
}
