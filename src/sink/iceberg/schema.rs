//! The Iceberg schema of an exported table, derived from its Arrow export schema.
//!
//! Field ids are never assigned here: every Arrow field already carries the Parquet field id
//! `crate::batch` gave it (`PARQUET:field_id`: `_tidb_table_id` 1, `_tidb_handle` 2, other system
//! columns 3..=99, TiDB column `c` → `100 + c`), and the Iceberg schema reuses it, so Parquet
//! columns and Iceberg fields match by id in every file of every run.
//!
//! ```text
//! Arrow                                Iceberg v2
//! Boolean                              boolean
//! Int8, Int16, Int32                   int
//! Int64                                long
//! Duration(µs)  (TiDB TIME)            long   (signed µs; Iceberg `time` only spans one day)
//! Float32, Float64                     float, double
//! Decimal128(P ≤ 38, S ≥ 0)            decimal(P, S)
//! Date32                               date
//! Time64(µs)                           time
//! Timestamp(µs, none)                  timestamp
//! Timestamp(µs, zone)                  timestamptz  (Arrow stores UTC instants)
//! Utf8, LargeUtf8 (also JSON)          string
//! Binary, LargeBinary                  binary
//! FixedSizeBinary(L)                   fixed[L]
//! List(element with a field id)        list<element type>
//! Dictionary(_, V)                     the type of V
//! ```
//!
//! Anything else has no Iceberg v2 equivalent and is refused with the column's name.

use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};
use iceberg::spec::{ListType, NestedField, PrimitiveType, Schema, Type};
use serde_json::json;

use crate::batch::PARQUET_FIELD_ID_KEY;

/// The Parquet field id of an Arrow field, when it has one.
pub fn field_id(field: &Field) -> Option<i32> {
    field
        .metadata()
        .get(PARQUET_FIELD_ID_KEY)
        .and_then(|id| id.parse().ok())
}

/// The Iceberg schema (with id `schema_id`) for an Arrow export schema. `identifier` lists the
/// field ids that identify a row (Iceberg `identifier-field-ids`).
///
/// # Errors
/// A message naming the first column whose type or field id Iceberg cannot take.
pub fn iceberg_schema(
    arrow: &arrow_schema::Schema,
    schema_id: i32,
    identifier: &[i32],
) -> std::result::Result<Schema, String> {
    let mut fields = Vec::with_capacity(arrow.fields().len());
    for field in arrow.fields() {
        let id = field_id(field)
            .ok_or_else(|| format!("column {:?} has no Parquet field id", field.name()))?;
        let data_type = iceberg_type(field.data_type())
            .map_err(|reason| format!("column {:?}: {reason}", field.name()))?;
        let nested = if field.is_nullable() {
            NestedField::optional(id, field.name(), data_type)
        } else {
            NestedField::required(id, field.name(), data_type)
        };
        fields.push(Arc::new(nested));
    }
    Schema::builder()
        .with_schema_id(schema_id)
        .with_fields(fields)
        .with_identifier_field_ids(identifier.iter().copied())
        .build()
        .map_err(|e| e.to_string())
}

/// The Iceberg type of an Arrow type (see the module table).
pub fn iceberg_type(data_type: &DataType) -> std::result::Result<Type, String> {
    let primitive = |p| Ok(Type::Primitive(p));
    match data_type {
        DataType::Boolean => primitive(PrimitiveType::Boolean),
        DataType::Int8 | DataType::Int16 | DataType::Int32 => primitive(PrimitiveType::Int),
        DataType::Int64 | DataType::Duration(TimeUnit::Microsecond) => {
            primitive(PrimitiveType::Long)
        }
        DataType::Float32 => primitive(PrimitiveType::Float),
        DataType::Float64 => primitive(PrimitiveType::Double),
        DataType::Decimal128(precision, scale) if *precision <= 38 && *scale >= 0 => {
            primitive(PrimitiveType::Decimal {
                precision: u32::from(*precision),
                scale: u32::from(scale.unsigned_abs()),
            })
        }
        DataType::Date32 => primitive(PrimitiveType::Date),
        DataType::Time64(TimeUnit::Microsecond) => primitive(PrimitiveType::Time),
        DataType::Timestamp(TimeUnit::Microsecond, None) => primitive(PrimitiveType::Timestamp),
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => {
            primitive(PrimitiveType::Timestamptz)
        }
        DataType::Utf8 | DataType::LargeUtf8 => primitive(PrimitiveType::String),
        DataType::Binary | DataType::LargeBinary => primitive(PrimitiveType::Binary),
        DataType::FixedSizeBinary(len) if *len > 0 => {
            primitive(PrimitiveType::Fixed(len.unsigned_abs().into()))
        }
        DataType::Dictionary(_, value) => iceberg_type(value),
        DataType::List(element) | DataType::LargeList(element) => {
            let id = field_id(element).ok_or_else(|| {
                format!(
                    "Arrow type {data_type} has a list element without a Parquet field id, which \
                     an Iceberg list needs"
                )
            })?;
            let element_type = iceberg_type(element.data_type())?;
            Ok(Type::List(ListType::new(Arc::new(
                NestedField::list_element(id, element_type, !element.is_nullable()),
            ))))
        }
        other => Err(format!("Arrow type {other} has no Iceberg v2 equivalent")),
    }
}

/// The table's `schema.name-mapping.default`: every field id with the Parquet column name it is
/// written under, so that readers that resolve columns by name (files without ids) find them.
pub fn name_mapping(arrow: &arrow_schema::Schema) -> serde_json::Value {
    fn mapping(field: &Field) -> Option<serde_json::Value> {
        let id = field_id(field)?;
        let mut entry = json!({"field-id": id, "names": [field.name()]});
        if let DataType::List(element) | DataType::LargeList(element) = field.data_type() {
            if let Some(element) = mapping(element) {
                entry["fields"] = json!([element]);
            }
        }
        Some(entry)
    }
    serde_json::Value::Array(arrow.fields().iter().filter_map(|f| mapping(f)).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn field(name: &str, data_type: DataType, nullable: bool, id: i32) -> Field {
        Field::new(name, data_type, nullable).with_metadata(HashMap::from([(
            PARQUET_FIELD_ID_KEY.to_string(),
            id.to_string(),
        )]))
    }

    #[test]
    fn ids_types_and_nullability_carry_over() {
        let element = Arc::new(field("element", DataType::Float32, false, 1_000_007));
        let arrow = arrow_schema::Schema::new(vec![
            field("_tidb_table_id", DataType::Int64, false, 1),
            field("_tidb_handle", DataType::Int64, false, 2),
            field("name", DataType::Utf8, true, 102),
            field("price", DataType::Decimal128(20, 0), true, 104),
            field(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
                105,
            ),
            field("d", DataType::Date32, false, 106),
            field("t", DataType::Duration(TimeUnit::Microsecond), true, 107),
            field("v", DataType::List(element), true, 108),
        ]);
        let schema = iceberg_schema(&arrow, 0, &[1, 2]).unwrap();
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["schema-id"], 0);
        let mut identifiers: Vec<i32> = schema.identifier_field_ids().collect();
        identifiers.sort_unstable();
        assert_eq!(identifiers, [1, 2]);
        let fields = json["fields"].as_array().unwrap();
        let summary: Vec<(i64, &str, bool, serde_json::Value)> = fields
            .iter()
            .map(|f| {
                (
                    f["id"].as_i64().unwrap(),
                    f["name"].as_str().unwrap(),
                    f["required"].as_bool().unwrap(),
                    f["type"].clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "_tidb_table_id", true, json!("long")),
                (2, "_tidb_handle", true, json!("long")),
                (102, "name", false, json!("string")),
                (104, "price", false, json!("decimal(20, 0)")),
                (105, "at", false, json!("timestamptz")),
                (106, "d", true, json!("date")),
                (107, "t", false, json!("long")),
                (
                    108,
                    "v",
                    false,
                    json!({"type": "list", "element-id": 1_000_007, "element": "float",
                           "element-required": true})
                ),
            ]
        );
        assert_eq!(schema.highest_field_id(), 1_000_007);

        let mapping = name_mapping(&arrow);
        assert_eq!(
            mapping[0],
            json!({"field-id": 1, "names": ["_tidb_table_id"]})
        );
        assert_eq!(
            mapping[7],
            json!({"field-id": 108, "names": ["v"],
                   "fields": [{"field-id": 1_000_007, "names": ["element"]}]})
        );
    }

    #[test]
    fn unrepresentable_columns_are_named() {
        let arrow = arrow_schema::Schema::new(vec![
            field("_tidb_table_id", DataType::Int64, false, 1),
            field("u", DataType::UInt64, true, 101),
        ]);
        let err = iceberg_schema(&arrow, 0, &[]).unwrap_err();
        assert!(
            err.contains("column \"u\"") && err.contains("UInt64"),
            "{err}"
        );

        let no_id = arrow_schema::Schema::new(vec![Field::new("x", DataType::Int64, true)]);
        let err = iceberg_schema(&no_id, 0, &[]).unwrap_err();
        assert!(err.contains("no Parquet field id"), "{err}");

        let list = DataType::List(Arc::new(Field::new("element", DataType::Float32, false)));
        let err = iceberg_type(&list).unwrap_err();
        assert!(
            err.contains("list element without a Parquet field id"),
            "{err}"
        );
    }
}
