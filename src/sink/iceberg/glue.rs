//! AWS Glue as the Iceberg catalog (`--iceberg-catalog glue://?region=…`).
//!
//! Glue keeps an Iceberg table as a Glue table of type `EXTERNAL_TABLE` whose parameters hold
//! `table_type=ICEBERG` and `metadata_location` (plus `previous_metadata_location`), one Glue
//! database per namespace: the layout of Java's `GlueCatalog`, PyIceberg's `GlueCatalog` and
//! `iceberg-catalog-glue`, so Athena, EMR, Trino, Spark and Snowflake find the tables there.
//!
//! `iceberg-catalog-glue` creates databases, loads and registers tables. As with the SQL catalog
//! ([`super::catalog`]), its `update_table` takes a `TableCommit` only its own transactions can
//! build, so `swap` commits a new metadata version with Glue's own optimistic concurrency:
//! `UpdateTable` carrying the `VersionId` read with the table, which Glue refuses with
//! `ConcurrentModificationException` when another writer updated the table in between.
//!
//! Built with the cargo feature `glue` only; without it [`GlueLocation`] still parses, and
//! `--iceberg-catalog glue://…` is refused with a message that says how to build it.

#[cfg(feature = "glue")]
use std::collections::HashMap;

#[cfg(feature = "glue")]
use aws_config::{BehaviorVersion, Region};
#[cfg(feature = "glue")]
use aws_sdk_glue::operation::update_table::UpdateTableError;
#[cfg(feature = "glue")]
use aws_sdk_glue::types::{Column, StorageDescriptor, TableInput};
#[cfg(feature = "glue")]
use iceberg::spec::{NestedField, PrimitiveType, TableMetadata, Type};
#[cfg(feature = "glue")]
use iceberg::TableIdent;

#[cfg(feature = "glue")]
use super::catalog::Swap;

/// The Glue table parameter that points at the current metadata file.
#[cfg(feature = "glue")]
const METADATA_LOCATION: &str = "metadata_location";
/// The parameter that keeps the metadata file before it.
#[cfg(feature = "glue")]
const PREVIOUS_METADATA_LOCATION: &str = "previous_metadata_location";

/// Where and as whom Glue is reached: `glue://?region=R&endpoint=URL&catalog-id=ID&profile=P`,
/// every part optional. Credentials come from the environment, as for S3 (`AWS_ACCESS_KEY_ID`
/// and `AWS_SECRET_ACCESS_KEY`, a profile, web identity, the instance's role).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlueLocation {
    /// The AWS region (else the environment's).
    pub region: Option<String>,
    /// Another endpoint than AWS's (a VPC endpoint, a local server).
    pub endpoint: Option<String>,
    /// The Glue catalog id, the AWS account that owns it (else the caller's).
    pub catalog_id: Option<String>,
    /// A profile of the shared AWS configuration.
    pub profile: Option<String>,
}

impl GlueLocation {
    /// Parses the query of a `glue://` URI.
    ///
    /// # Errors
    /// A message naming the parameter that is not known.
    pub fn parse_query(query: &str) -> std::result::Result<Self, String> {
        let mut location = GlueLocation::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "region" => &mut location.region,
                "endpoint" => &mut location.endpoint,
                "catalog-id" | "catalog_id" => &mut location.catalog_id,
                "profile" => &mut location.profile,
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}; a Glue catalog takes region, endpoint, \
                         catalog-id and profile, and credentials from the environment"
                    ))
                }
            };
            *slot = Some(value.into_owned()).filter(|v| !v.is_empty());
        }
        Ok(location)
    }

    /// The URI again, as it is shown (it holds no secrets).
    pub fn to_uri(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("region", &self.region),
            ("endpoint", &self.endpoint),
            ("catalog-id", &self.catalog_id),
            ("profile", &self.profile),
        ] {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        format!("glue://?{}", query.finish())
    }

    /// The properties `iceberg-catalog-glue` is built with. `warehouse` is required by the
    /// builder but only used by `create_table`, which the export never calls (it registers).
    #[cfg(feature = "glue")]
    pub fn catalog_properties(&self) -> HashMap<String, String> {
        let mut props = HashMap::from([("warehouse".to_string(), "s3://unused".to_string())]);
        for (key, value) in [
            (iceberg_catalog_glue::GLUE_CATALOG_PROP_URI, &self.endpoint),
            (iceberg_catalog_glue::AWS_REGION_NAME, &self.region),
            (
                iceberg_catalog_glue::GLUE_CATALOG_PROP_CATALOG_ID,
                &self.catalog_id,
            ),
            (iceberg_catalog_glue::AWS_PROFILE_NAME, &self.profile),
        ] {
            if let Some(value) = value {
                props.insert(key.to_string(), value.clone());
            }
        }
        props
    }

    /// A Glue client for `swap`, configured like the catalog's own.
    #[cfg(feature = "glue")]
    pub async fn client(&self) -> aws_sdk_glue::Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(endpoint) = &self.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        aws_sdk_glue::Client::new(&loader.load().await)
    }
}

/// Moves Glue table `table` from metadata `expected` to `new` (whose contents are `metadata`),
/// unless another writer moved it first. Errors are returned as text for the caller to scrub.
#[cfg(feature = "glue")]
pub async fn swap(
    client: &aws_sdk_glue::Client,
    location: &GlueLocation,
    table: &TableIdent,
    expected: &str,
    new: &str,
    metadata: &TableMetadata,
) -> std::result::Result<Swap, String> {
    let database = table.namespace().join(".");
    let got = client
        .get_table()
        .set_catalog_id(location.catalog_id.clone())
        .database_name(&database)
        .name(table.name())
        .send()
        .await
        .map_err(|e| format!("reading the Glue table: {}", e.into_service_error()))?;
    let current = got
        .table()
        .ok_or_else(|| "Glue returned no table".to_string())?;
    let mut parameters = current.parameters().cloned().unwrap_or_default();
    if parameters.get(METADATA_LOCATION).map(String::as_str) != Some(expected) {
        return Ok(Swap::Conflict);
    }
    parameters.insert(METADATA_LOCATION.to_string(), new.to_string());
    parameters.insert(PREVIOUS_METADATA_LOCATION.to_string(), expected.to_string());
    let descriptor = StorageDescriptor::builder()
        .set_columns(Some(glue_columns(metadata)?))
        .location(metadata.location())
        .build();
    let input = TableInput::builder()
        .name(table.name())
        .set_description(current.description().map(str::to_string))
        .table_type("EXTERNAL_TABLE")
        .set_parameters(Some(parameters))
        .storage_descriptor(descriptor)
        .build()
        .map_err(|e| e.to_string())?;
    let updated = client
        .update_table()
        .set_catalog_id(location.catalog_id.clone())
        .database_name(&database)
        .table_input(input)
        .set_version_id(current.version_id().map(str::to_string))
        // Glue would otherwise keep a table version per commit, and it caps their number.
        .skip_archive(true)
        .send()
        .await;
    match updated {
        Ok(_) => Ok(Swap::Done),
        Err(e) => match e.into_service_error() {
            UpdateTableError::ConcurrentModificationException(_) => Ok(Swap::Conflict),
            other => Err(format!("updating the Glue table: {other}")),
        },
    }
}

/// The columns Glue shows for the current schema (Athena and the Glue console list them; the
/// engines read the schema from the metadata file), with the Iceberg field ids as parameters,
/// as Java's `GlueCatalog` writes them.
#[cfg(feature = "glue")]
fn glue_columns(metadata: &TableMetadata) -> std::result::Result<Vec<Column>, String> {
    metadata
        .current_schema()
        .as_struct()
        .fields()
        .iter()
        .map(|field| {
            Column::builder()
                .name(&field.name)
                .r#type(hive_type(&field.field_type))
                .set_comment(field.doc.clone())
                .parameters("iceberg.field.id", field.id.to_string())
                .parameters("iceberg.field.optional", (!field.required).to_string())
                .parameters("iceberg.field.current", "true")
                .build()
                .map_err(|e| format!("Glue column {}: {e}", field.name))
        })
        .collect()
}

/// The Hive type name of an Iceberg type, as Glue's column list spells it.
#[cfg(feature = "glue")]
fn hive_type(field_type: &Type) -> String {
    let fields = |fields: &[std::sync::Arc<NestedField>]| {
        fields
            .iter()
            .map(|f| format!("{}:{}", f.name, hive_type(&f.field_type)))
            .collect::<Vec<_>>()
            .join(",")
    };
    match field_type {
        Type::Primitive(primitive) => match primitive {
            PrimitiveType::Boolean => "boolean".into(),
            PrimitiveType::Int => "int".into(),
            PrimitiveType::Long => "bigint".into(),
            PrimitiveType::Float => "float".into(),
            PrimitiveType::Double => "double".into(),
            PrimitiveType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            PrimitiveType::Date => "date".into(),
            PrimitiveType::Timestamp
            | PrimitiveType::Timestamptz
            | PrimitiveType::TimestampNs
            | PrimitiveType::TimestamptzNs => "timestamp".into(),
            PrimitiveType::Time | PrimitiveType::String | PrimitiveType::Uuid => "string".into(),
            PrimitiveType::Fixed(_) | PrimitiveType::Binary => "binary".into(),
        },
        Type::Struct(record) => format!("struct<{}>", fields(record.fields())),
        Type::List(list) => format!("array<{}>", hive_type(&list.element_field.field_type)),
        Type::Map(map) => format!(
            "map<{},{}>",
            hive_type(&map.key_field.field_type),
            hive_type(&map.value_field.field_type)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_uris_round_trip_and_name_unknown_parameters() {
        let location = GlueLocation::parse_query(
            "region=us-east-1&endpoint=http%3A%2F%2F127.0.0.1%3A5000&catalog-id=123456789012",
        )
        .unwrap();
        assert_eq!(location.region.as_deref(), Some("us-east-1"));
        assert_eq!(location.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(location.catalog_id.as_deref(), Some("123456789012"));
        assert_eq!(
            GlueLocation::parse_query(location.to_uri().split_once('?').unwrap().1).unwrap(),
            location
        );
        let error = GlueLocation::parse_query("region=x&secret-access-key=S").unwrap_err();
        assert!(error.contains("environment"), "{error}");
        assert!(!error.contains("=S"), "{error}");
    }

    #[cfg(feature = "glue")]
    #[test]
    fn catalog_properties_of_a_location() {
        let location =
            GlueLocation::parse_query("region=us-east-1&endpoint=http://127.0.0.1:5000").unwrap();
        let props = location.catalog_properties();
        assert_eq!(props["uri"], "http://127.0.0.1:5000");
        assert_eq!(props["region_name"], "us-east-1");
    }

    #[cfg(feature = "glue")]
    #[test]
    fn hive_types_of_iceberg_types() {
        for (iceberg, hive) in [
            (PrimitiveType::Long, "bigint"),
            (
                PrimitiveType::Decimal {
                    precision: 38,
                    scale: 10,
                },
                "decimal(38,10)",
            ),
            (PrimitiveType::TimestampNs, "timestamp"),
            (PrimitiveType::Time, "string"),
            (PrimitiveType::Fixed(16), "binary"),
        ] {
            assert_eq!(hive_type(&Type::Primitive(iceberg)), hive);
        }
    }
}
