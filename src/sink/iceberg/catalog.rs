//! Registering the exported tables in an Iceberg catalog (`--iceberg-catalog`).
//!
//! The SQL catalog ("JDBC catalog" in Java) keeps one row per table in `iceberg_tables`
//! (`catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location`,
//! plus `iceberg_type`) and namespaces in `iceberg_namespace_properties`; PyIceberg's
//! `SqlCatalog`, Java's `JdbcCatalog` and iceberg-rust's `iceberg-catalog-sql` share that layout,
//! so a table registered here is loaded by each of them (`docs/iceberg.md`, "Catalogs").
//!
//! `iceberg-catalog-sql` connects, creates the catalog tables and namespaces, loads tables and
//! registers new ones. It cannot commit the snapshot an export of a newer backup makes: in
//! iceberg-rust 0.10 `Catalog::update_table` takes a `TableCommit` that only its `Transaction`
//! can build, and the only data action a transaction has is a fast append, while the export
//! replaces every file of the table (an `overwrite` snapshot). So [`table`](super::table) writes
//! that metadata version itself and [`Catalog::swap`] moves the table's pointer with the
//! compare-and-swap the crate's `update_table` and PyIceberg's `commit_table` run:
//! `UPDATE iceberg_tables SET metadata_location = new, previous_metadata_location = old WHERE …
//! AND metadata_location = old`. A swap that changes no row lost a race: the caller reloads the
//! table and commits again on top of the winner. AWS Glue is the other kind of catalog
//! ([`super::glue`]), with the same steps over Glue's API.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use iceberg::io::{FileIO, LocalFsStorageFactory, StorageFactory};
use iceberg::spec::TableMetadata;
use iceberg::{CatalogBuilder, ErrorKind, NamespaceIdent, TableIdent};
#[cfg(feature = "glue")]
use iceberg_catalog_glue::{GlueCatalog, GlueCatalogBuilder};
use iceberg_catalog_sql::{SqlBindStyle, SqlCatalog, SqlCatalogBuilder};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use super::file_io::OutputStorageFactory;
#[cfg(feature = "glue")]
use super::glue;
use super::glue::GlueLocation;
use crate::error::Setting;
use crate::storage::redact::Redactor;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

/// The catalog name the tables are registered under unless told otherwise (PyIceberg's
/// `SqlCatalog("default", …)`).
pub const DEFAULT_CATALOG_NAME: &str = "default";
/// The namespace template unless told otherwise: one namespace per TiDB database.
pub const DEFAULT_NAMESPACE: &str = "{db}";
/// The placeholder of the namespace template.
const DB_PLACEHOLDER: &str = "{db}";

/// Where the catalog lives, as `--iceberg-catalog` names it.
#[derive(Clone, PartialEq, Eq)]
pub enum CatalogUri {
    /// `sqlite:///ABSOLUTE/PATH.db`: a SQLite file, created when missing.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// `postgresql://user[:password]@host[:port]/database`.
    Postgres {
        /// The URL as given (it may hold the password; never printed).
        url: url::Url,
    },
    /// `glue://?region=R&endpoint=URL&catalog-id=ID&profile=P`: AWS Glue.
    Glue(GlueLocation),
}

impl CatalogUri {
    /// Parses `--iceberg-catalog`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming what is accepted.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |message: String| Error::setting(Setting::IcebergCatalog, message);
        let scheme = text.split_once("://").map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => {
                let path = &text["sqlite://".len()..];
                let path = path.split_once('?').map_or(path, |(path, _)| path);
                if !path.starts_with('/') || path.len() < 2 {
                    return Err(invalid(format!(
                        "{text}: give an absolute path, sqlite:///ABSOLUTE/PATH.db (three slashes)"
                    )));
                }
                // `sqlite:////abs` (SQLAlchemy's spelling of an absolute path) means the same.
                Ok(CatalogUri::Sqlite {
                    path: PathBuf::from(format!("/{}", path.trim_start_matches('/'))),
                })
            }
            "postgresql" | "postgres" => {
                let url = url::Url::parse(text).map_err(|e| {
                    invalid(format!(
                        "{}: {e}; expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
                        redact_url_text(text)
                    ))
                })?;
                if url.host_str().is_none_or(str::is_empty)
                    || url.path().trim_matches('/').is_empty()
                {
                    return Err(invalid(format!(
                        "{}: name the host and the database, \
                         postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
                        redact_url(&url)
                    )));
                }
                Ok(CatalogUri::Postgres { url })
            }
            "glue" => {
                let rest = &text["glue://".len()..];
                let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
                if !authority.trim_matches('/').is_empty() {
                    return Err(invalid(format!(
                        "{}: the Glue catalog is named by its parameters, \
                         glue://?region=REGION[&endpoint=URL][&catalog-id=ACCOUNT]",
                        redact_url_text(text)
                    )));
                }
                GlueLocation::parse_query(query)
                    .map(CatalogUri::Glue)
                    .map_err(|e| invalid(format!("glue://: {e}")))
            }
            "rest+http" | "rest+https" => Err(invalid(format!(
                "{}: REST catalogs are not supported yet (docs/iceberg.md, \"Catalogs\"); \
                 register the tables from their metadata files, or use a SQL or Glue catalog",
                redact_url_text(text)
            ))),
            _ => Err(invalid(format!(
                "{}: expected sqlite:///ABSOLUTE/PATH.db, \
                 postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or glue://?region=REGION",
                redact_url_text(text)
            ))),
        }
    }

    /// The URI without secrets, for messages and the report.
    pub fn redacted(&self) -> String {
        match self {
            CatalogUri::Sqlite { path } => format!("sqlite://{}", path.display()),
            CatalogUri::Postgres { url } => redact_url(url),
            CatalogUri::Glue(location) => location.to_uri(),
        }
    }

    /// The secrets the URI holds, or the driver takes from the environment (`PGPASSWORD`, the
    /// better place for a password than a URI the process list shows), for scrubbing messages.
    fn secrets(&self) -> Vec<String> {
        match self {
            CatalogUri::Postgres { url } => url
                .password()
                .map(str::to_string)
                .into_iter()
                .chain(std::env::var("PGPASSWORD").ok())
                .filter(|secret| !secret.is_empty())
                .collect(),
            // The AWS SDK's messages could quote the session token it sent.
            CatalogUri::Glue(_) => ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
                .into_iter()
                .filter_map(|name| std::env::var(name).ok())
                .filter(|secret| !secret.is_empty())
                .collect(),
            CatalogUri::Sqlite { .. } => Vec::new(),
        }
    }

    /// The URL `sqlx` connects to.
    fn connect_url(&self) -> String {
        match self {
            // `mode=rwc`: create the file on first use, like PyIceberg's SqlCatalog.
            CatalogUri::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            CatalogUri::Postgres { url } => {
                let mut url = url.clone();
                // sqlx's `Any` driver knows the scheme as `postgres`.
                if url.scheme() == "postgresql" {
                    let text = url.as_str().replacen("postgresql://", "postgres://", 1);
                    url = url::Url::parse(&text).unwrap_or(url);
                }
                url.to_string()
            }
            CatalogUri::Glue(location) => location.to_uri(),
        }
    }

    fn bind_style(&self) -> SqlBindStyle {
        match self {
            CatalogUri::Postgres { .. } => SqlBindStyle::DollarNumeric,
            CatalogUri::Sqlite { .. } | CatalogUri::Glue(_) => SqlBindStyle::QMark,
        }
    }
}

impl fmt::Debug for CatalogUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for CatalogUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A URL with its password replaced by `***`.
fn redact_url(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// [`redact_url`] for text that may not parse: everything between `:` and `@` of the authority.
fn redact_url_text(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let masked = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{masked}@{host}{}", &rest[authority_end..])
        }
        None => text.to_string(),
    }
}

/// `--iceberg-catalog` and its companions, settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogOptions {
    /// The catalog.
    pub uri: CatalogUri,
    /// The catalog name (`catalog_name` of the SQL catalog's rows).
    pub name: String,
    /// The namespace of a table: `{db}` stands for its TiDB database; `.` separates levels.
    pub namespace: String,
}

impl CatalogOptions {
    /// A catalog with the default name and namespaces.
    pub fn new(uri: CatalogUri) -> Self {
        CatalogOptions {
            uri,
            name: DEFAULT_CATALOG_NAME.to_string(),
            namespace: DEFAULT_NAMESPACE.to_string(),
        }
    }

    /// Checks the name and the namespace template.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`].
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::setting(
                Setting::IcebergCatalog,
                "the catalog name is empty",
            ));
        }
        let namespace = self.namespace_of("db")?;
        if matches!(self.uri, CatalogUri::Glue(_)) && namespace.len() > 1 {
            return Err(Error::setting(
                Setting::IcebergNamespace,
                format!(
                    "{:?}: a Glue namespace is one database, without `.` levels \
                     (docs/iceberg.md, \"Catalogs\")",
                    self.namespace
                ),
            ));
        }
        if matches!(self.uri, CatalogUri::Glue(_)) && !cfg!(feature = "glue") {
            return Err(Error::setting(
                Setting::IcebergCatalog,
                format!(
                    "{}: this br-parquet is built without AWS Glue support; build it with \
                     `cargo build --release --features glue` (docs/iceberg.md, \"AWS Glue\")",
                    self.uri.redacted()
                ),
            ));
        }
        Ok(())
    }

    /// The namespace a table of database `db` is registered in.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an empty level.
    pub fn namespace_of(&self, db: &str) -> Result<NamespaceIdent> {
        let levels: Vec<String> = self
            .namespace
            .split('.')
            .map(|level| level.replace(DB_PLACEHOLDER, db))
            .collect();
        if levels.iter().any(|level| level.trim().is_empty()) {
            return Err(Error::setting(
                Setting::IcebergNamespace,
                format!(
                    "{:?}: a namespace level is empty; levels are separated by `.`, and {{db}} \
                     stands for the TiDB database",
                    self.namespace
                ),
            ));
        }
        NamespaceIdent::from_vec(levels)
            .map_err(|e| Error::setting(Setting::IcebergNamespace, e.to_string()))
    }
}

/// A table as the catalog has it.
pub struct CatalogTable {
    /// Its current metadata file.
    pub metadata_location: String,
    /// That file's contents.
    pub metadata: TableMetadata,
    /// Reads the files the metadata refers to.
    pub file_io: FileIO,
}

/// How a pointer update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// The table now points at the new metadata.
    Done,
    /// Another writer moved the table first (or registered it first); reload and retry.
    Conflict,
}

/// A connected catalog.
pub struct Catalog {
    options: CatalogOptions,
    backend: Backend,
    redactor: Redactor,
}

/// The catalog's client, and what [`Catalog::swap`] needs besides.
enum Backend {
    Sql {
        catalog: SqlCatalog,
        /// A second pool for the swap (the crate keeps its own private).
        pool: AnyPool,
    },
    #[cfg(feature = "glue")]
    Glue {
        catalog: GlueCatalog,
        /// A second client for the swap (the crate keeps its own private).
        client: aws_sdk_glue::Client,
        location: GlueLocation,
    },
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("uri", &self.options.uri)
            .field("name", &self.options.name)
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// How the catalog reads table metadata: through `output` (the export's output storage) for
    /// object stores, from the file system for a local output. Made outside any async context:
    /// dropping the last handle of an [`ExternalStorage`] there would stop its runtime.
    pub fn storage_factory(output: Arc<ExternalStorage>) -> Arc<dyn StorageFactory> {
        if output.is_local() {
            Arc::new(LocalFsStorageFactory)
        } else {
            Arc::new(OutputStorageFactory::new(output))
        }
    }

    /// Connects, creating the catalog's tables when missing; `factory` from
    /// [`Catalog::storage_factory`].
    pub async fn connect(
        options: &CatalogOptions,
        factory: Arc<dyn StorageFactory>,
    ) -> Result<Self> {
        let redactor = Redactor::new(options.uri.secrets());
        let failed = |e: String| Error::Catalog {
            catalog: options.uri.redacted(),
            message: redactor.scrub(&e),
        };
        if let CatalogUri::Sqlite { path } = &options.uri {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(dir.display().to_string(), e))?;
            }
        }
        #[cfg(feature = "glue")]
        if let CatalogUri::Glue(location) = &options.uri {
            let catalog = GlueCatalogBuilder::default()
                .with_storage_factory(factory)
                .load(options.name.clone(), location.catalog_properties())
                .await
                .map_err(|e| failed(format!("cannot open the catalog: {e}")))?;
            return Ok(Catalog {
                options: options.clone(),
                backend: Backend::Glue {
                    catalog,
                    client: location.client().await,
                    location: location.clone(),
                },
                redactor,
            });
        }
        let props = HashMap::from([
            ("uri".to_string(), options.uri.connect_url()),
            // Only used by `create_table`, which the export never calls (it registers tables).
            ("warehouse".to_string(), "file:///nonexistent".to_string()),
            (
                "sql_bind_style".to_string(),
                options.uri.bind_style().to_string(),
            ),
        ]);
        let catalog = SqlCatalogBuilder::default()
            .with_storage_factory(factory)
            .load(options.name.clone(), props)
            .await
            .map_err(|e| failed(format!("cannot open the catalog: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .connect(&options.uri.connect_url())
            .await
            .map_err(|e| failed(format!("cannot open the catalog: {e}")))?;
        Ok(Catalog {
            options: options.clone(),
            backend: Backend::Sql { catalog, pool },
            redactor,
        })
    }

    /// The catalog as iceberg-rust's interface.
    fn iceberg(&self) -> &dyn iceberg::Catalog {
        match &self.backend {
            Backend::Sql { catalog, .. } => catalog,
            #[cfg(feature = "glue")]
            Backend::Glue { catalog, .. } => catalog,
        }
    }

    /// The catalog's options.
    pub fn options(&self) -> &CatalogOptions {
        &self.options
    }

    fn error(&self, what: &str, error: impl fmt::Display) -> Error {
        Error::Catalog {
            catalog: self.options.uri.redacted(),
            message: self.redactor.scrub(&format!("{what}: {error}")),
        }
    }

    /// Creates `namespace` unless it exists (another export may create it at the same moment).
    pub async fn ensure_namespace(&self, namespace: &NamespaceIdent) -> Result<()> {
        let exists = |e| self.error(&format!("namespace {}", namespace.join(".")), e);
        if self
            .iceberg()
            .namespace_exists(namespace)
            .await
            .map_err(exists)?
        {
            return Ok(());
        }
        let created = self
            .iceberg()
            .create_namespace(namespace, HashMap::new())
            .await;
        match created {
            Ok(_) => Ok(()),
            // Lost a race to another creator: what matters is that it exists now.
            Err(e) => match self.iceberg().namespace_exists(namespace).await {
                Ok(true) => Ok(()),
                _ => Err(exists(e)),
            },
        }
    }

    /// The table's current metadata, or `None` when the catalog has no such table.
    pub async fn load(&self, table: &TableIdent) -> Result<Option<CatalogTable>> {
        let failed = |e| self.error(&format!("table {table}"), e);
        match self.iceberg().load_table(table).await {
            Ok(loaded) => Ok(Some(CatalogTable {
                metadata_location: loaded
                    .metadata_location_result()
                    .map_err(failed)?
                    .to_string(),
                metadata: loaded.metadata().clone(),
                file_io: loaded.file_io().clone(),
            })),
            Err(e) if e.kind() == ErrorKind::TableNotFound => Ok(None),
            // Glue answers a table in a database that does not exist with a generic error.
            Err(e) => match self.iceberg().namespace_exists(table.namespace()).await {
                Ok(false) => Ok(None),
                _ => Err(failed(e)),
            },
        }
    }

    /// The tables of `namespace` (none when it does not exist).
    pub async fn list_tables(&self, namespace: &NamespaceIdent) -> Result<Vec<TableIdent>> {
        match self.iceberg().namespace_exists(namespace).await {
            Ok(false) => return Ok(Vec::new()),
            Ok(true) => {}
            Err(e) => return Err(self.error(&format!("namespace {}", namespace.join(".")), e)),
        }
        self.iceberg()
            .list_tables(namespace)
            .await
            .map_err(|e| self.error(&format!("listing namespace {}", namespace.join(".")), e))
    }

    /// Renames `from` to `to` (`RENAME TABLE` applied), keeping its metadata and history.
    pub async fn rename(&self, from: &TableIdent, to: &TableIdent) -> Result<()> {
        self.iceberg()
            .rename_table(from, to)
            .await
            .map_err(|e| self.error(&format!("renaming table {from} to {to}"), e))
    }

    /// Registers a new table at `metadata_location`; [`Swap::Conflict`] when another writer
    /// registered it first.
    pub async fn register(&self, table: &TableIdent, metadata_location: &str) -> Result<Swap> {
        match self
            .iceberg()
            .register_table(table, metadata_location.to_string())
            .await
        {
            Ok(_) => Ok(Swap::Done),
            // The crate checks for the table before inserting it; a writer that inserts between
            // the two makes the insert fail on the primary key instead.
            Err(e) => match self.iceberg().table_exists(table).await {
                Ok(true) => Ok(Swap::Conflict),
                _ => Err(self.error(&format!("registering table {table}"), e)),
            },
        }
    }

    /// Moves `table` from metadata `expected` to `new` (whose contents are `metadata`), unless
    /// another writer moved it first.
    // `metadata` is for Glue's column list only.
    #[cfg_attr(not(feature = "glue"), allow(unused_variables))]
    pub async fn swap(
        &self,
        table: &TableIdent,
        expected: &str,
        new: &str,
        metadata: &TableMetadata,
    ) -> Result<Swap> {
        let pool = match &self.backend {
            Backend::Sql { pool, .. } => pool,
            #[cfg(feature = "glue")]
            Backend::Glue {
                client, location, ..
            } => {
                return glue::swap(client, location, table, expected, new, metadata)
                    .await
                    .map_err(|e| self.error(&format!("committing table {table}"), e))
            }
        };
        let placeholders: Vec<String> = match self.options.uri.bind_style() {
            SqlBindStyle::DollarNumeric => (1..=6).map(|i| format!("${i}")).collect(),
            SqlBindStyle::QMark => vec!["?".to_string(); 6],
        };
        let [p1, p2, p3, p4, p5, p6] = &placeholders[..] else {
            unreachable!("six placeholders");
        };
        let statement = format!(
            "UPDATE iceberg_tables SET metadata_location = {p1}, previous_metadata_location = {p2} \
             WHERE catalog_name = {p3} AND table_namespace = {p4} AND table_name = {p5} \
             AND metadata_location = {p6} AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"
        );
        let done = sqlx::query(&statement)
            .bind(new)
            .bind(expected)
            .bind(&self.options.name)
            .bind(table.namespace().join("."))
            .bind(table.name())
            .bind(expected)
            .execute(pool)
            .await
            .map_err(|e| self.error(&format!("committing table {table}"), e))?;
        Ok(if done.rows_affected() == 1 {
            Swap::Done
        } else {
            Swap::Conflict
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_uris_need_an_absolute_path() {
        assert_eq!(
            CatalogUri::parse("sqlite:///tmp/x/catalog.db").unwrap(),
            CatalogUri::Sqlite {
                path: PathBuf::from("/tmp/x/catalog.db")
            }
        );
        let relative = CatalogUri::parse("sqlite://catalog.db").unwrap_err();
        assert!(relative.to_string().contains("three slashes"), "{relative}");
        assert_eq!(
            CatalogUri::parse("sqlite:////tmp/x/catalog.db").unwrap(),
            CatalogUri::parse("sqlite:///tmp/x/catalog.db").unwrap()
        );
        assert_eq!(
            CatalogUri::parse("sqlite:///tmp/c.db")
                .unwrap()
                .connect_url(),
            "sqlite:///tmp/c.db?mode=rwc"
        );
    }

    #[test]
    fn postgres_passwords_never_show() {
        let uri = CatalogUri::parse("postgresql://lake:s3cr3t@127.0.0.1:5432/iceberg").unwrap();
        assert_eq!(
            uri.redacted(),
            "postgresql://lake:***@127.0.0.1:5432/iceberg"
        );
        assert_eq!(format!("{uri:?} {uri}").matches("s3cr3t").count(), 0);
        assert_eq!(
            uri.connect_url(),
            "postgres://lake:s3cr3t@127.0.0.1:5432/iceberg"
        );
        let no_db = CatalogUri::parse("postgresql://lake:s3cr3t@127.0.0.1:5432").unwrap_err();
        assert!(!no_db.to_string().contains("s3cr3t"), "{no_db}");
        assert!(no_db.to_string().contains("database"), "{no_db}");
        assert_eq!(
            redact_url_text("postgresql://lake:s3:cr@3t@host/db"),
            "postgresql://lake:***@host/db"
        );
    }

    #[test]
    fn other_catalogs_are_named_as_unsupported() {
        let error = CatalogUri::parse("rest+http://127.0.0.1:8181/catalog")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not supported yet"), "{error}");
        let error = CatalogUri::parse("mysql://x@y/z").unwrap_err().to_string();
        assert!(error.contains("sqlite:///"), "{error}");
    }

    #[test]
    fn namespaces_from_the_template() {
        let mut options = CatalogOptions::new(CatalogUri::parse("sqlite:///c.db").unwrap());
        assert_eq!(
            options.namespace_of("shop").unwrap(),
            NamespaceIdent::new("shop".into())
        );
        options.namespace = "lake.{db}".into();
        assert_eq!(
            options.namespace_of("shop").unwrap().inner(),
            vec!["lake".to_string(), "shop".to_string()]
        );
        options.namespace = "tidb_{db}".into();
        assert_eq!(
            options.namespace_of("shop").unwrap().inner(),
            vec!["tidb_shop".to_string()]
        );
        options.namespace = "lake..{db}".into();
        assert!(options.validate().is_err());
        options.uri = CatalogUri::parse("glue://?region=us-east-1").unwrap();
        options.namespace = "lake.{db}".into();
        assert!(options.validate().is_err());
        options.namespace = "tidb_{db}".into();
        let validated = options.validate();
        assert_eq!(validated.is_ok(), cfg!(feature = "glue"));
        if let Err(e) = validated {
            assert!(e.to_string().contains("--features glue"), "{e}");
        }
    }

    #[test]
    fn glue_uris() {
        let uri = CatalogUri::parse("glue://?region=eu-west-1&catalog-id=123456789012").unwrap();
        assert_eq!(
            uri.redacted(),
            "glue://?region=eu-west-1&catalog-id=123456789012"
        );
        let error = CatalogUri::parse("glue://my-account?region=x")
            .unwrap_err()
            .to_string();
        assert!(error.contains("glue://?region="), "{error}");
    }
}
