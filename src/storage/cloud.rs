//! Building an `object_store` client for S3, GCS and Azure Blob from a BR `StorageBackend`, with
//! credentials looked up the way BR looks them up (docs/storage.md has the full table).
//!
//! Nothing here talks to the network: clients fetch credentials lazily, on their first request.
//! Unlike BR, the instance metadata services (EC2 IMDS and the GCE metadata server, both at
//! 169.254.169.254) are only used when asked for explicitly, with `AWS_EC2_METADATA_DISABLED=false`
//! or `NO_GCE_CHECK=false`: an offline export with missing credentials gets a clear error instead
//! of a request to a link-local address. Azure managed identity is not used at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{Attribute, Attributes, ClientOptions, ObjectStore, RetryConfig};

use super::url::EnvLookup;
use crate::proto::backup::{AzureBlobStorage, Gcs, S3};
use crate::{Error, Result};

/// A configured client and what the storage needs to know about it.
pub(crate) struct CloudStore {
    /// The client, rooted at the bucket (the prefix is applied by the caller).
    pub store: Arc<dyn ObjectStore>,
    /// Attributes of every object written (storage class / access tier).
    pub put_attributes: Attributes,
    /// Credentials taken from the environment or files, to scrub from errors.
    pub secrets: Vec<String>,
}

/// How a client connects; the same for every cloud.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub retry: RetryConfig,
    pub client: ClientOptions,
    /// Whether the storage is written to (storage class and ACL matter only then).
    pub output: bool,
}

impl Connection {
    fn client_for(&self, endpoint: &str) -> ClientOptions {
        self.client
            .clone()
            .with_allow_http(endpoint.starts_with("http://"))
    }
}

/// Environment variables that hold credentials, scrubbed from every error of a storage.
const SECRET_VARIABLES: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_CLIENT_SECRET",
];

/// The values of the credential variables that are set.
pub(crate) fn env_secrets(env: EnvLookup<'_>) -> Vec<String> {
    SECRET_VARIABLES
        .iter()
        .filter_map(|name| env(name))
        .collect()
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn store_error(what: &str, source: object_store::Error) -> Error {
    Error::Storage {
        path: what.to_string(),
        source,
    }
}

/// Where S3 credentials come from, in the AWS SDK's default-chain order.
#[derive(Debug, PartialEq, Eq)]
enum AwsCredentials {
    /// Keys from the URL, the environment or a shared credentials file.
    Static {
        key: String,
        secret: String,
        token: Option<String>,
        origin: &'static str,
    },
    /// EKS IRSA: a web identity token file and a role.
    WebIdentity {
        token_file: String,
        role_arn: String,
        session_name: Option<String>,
    },
    /// ECS task role.
    ContainerRelative(String),
    /// EKS Pod Identity.
    ContainerFull { uri: String, token_file: String },
    /// EC2 instance profile through IMDS.
    Instance,
}

fn aws_credentials(s3: &S3, env: EnvLookup<'_>) -> Result<AwsCredentials> {
    if !s3.access_key.is_empty() && !s3.secret_access_key.is_empty() {
        return Ok(AwsCredentials::Static {
            key: s3.access_key.clone(),
            secret: s3.secret_access_key.clone(),
            token: nonempty(&s3.session_token),
            origin: "the URL",
        });
    }
    if !s3.profile.is_empty() {
        return shared_profile(&s3.profile, env)?.ok_or_else(|| {
            Error::Usage(format!(
                "s3 profile {:?} not found in {}",
                s3.profile,
                shared_credentials_file(env)
                    .map_or("(no home directory)".into(), |p| p.display().to_string())
            ))
        });
    }
    let key = env("AWS_ACCESS_KEY_ID").or_else(|| env("AWS_ACCESS_KEY"));
    let secret = env("AWS_SECRET_ACCESS_KEY").or_else(|| env("AWS_SECRET_KEY"));
    if let (Some(key), Some(secret)) = (key, secret) {
        return Ok(AwsCredentials::Static {
            key,
            secret,
            token: env("AWS_SESSION_TOKEN"),
            origin: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        });
    }
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    if let Some(found) = shared_profile(&profile, env)? {
        return Ok(found);
    }
    if let Some(token_file) = env("AWS_WEB_IDENTITY_TOKEN_FILE") {
        if let Some(role_arn) = nonempty(&s3.role_arn).or_else(|| env("AWS_ROLE_ARN")) {
            return Ok(AwsCredentials::WebIdentity {
                token_file,
                role_arn,
                session_name: env("AWS_ROLE_SESSION_NAME"),
            });
        }
    }
    if let Some(uri) = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        return Ok(AwsCredentials::ContainerRelative(uri));
    }
    if let (Some(uri), Some(token_file)) = (
        env("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
    ) {
        return Ok(AwsCredentials::ContainerFull { uri, token_file });
    }
    if metadata_allowed(env, "AWS_EC2_METADATA_DISABLED") {
        return Ok(AwsCredentials::Instance);
    }
    Err(Error::Usage(
        "no S3 credentials: pass access-key and secret-access-key in the URL, set \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile; to use the EC2 instance \
         profile, set AWS_EC2_METADATA_DISABLED=false"
            .into(),
    ))
}

/// Whether an instance metadata service may be asked: only when `variable` (a "disabled" switch)
/// is explicitly `false`.
fn metadata_allowed(env: EnvLookup<'_>, variable: &str) -> bool {
    env(variable).is_some_and(|v| v.eq_ignore_ascii_case("false"))
}

fn shared_credentials_file(env: EnvLookup<'_>) -> Option<PathBuf> {
    env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".aws/credentials")))
}

/// Reads one profile of the shared credentials file (INI: `[name]`, `key = value`).
fn shared_profile(profile: &str, env: EnvLookup<'_>) -> Result<Option<AwsCredentials>> {
    let Some(path) = shared_credentials_file(env) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path.display().to_string(), e)),
    };
    Ok(parse_shared_profile(&text, profile))
}

fn parse_shared_profile(text: &str, profile: &str) -> Option<AwsCredentials> {
    let mut in_section = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = name.trim() == profile;
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => key = Some(v),
                "aws_secret_access_key" => secret = Some(v),
                "aws_session_token" => token = Some(v),
                _ => {}
            }
        }
    }
    Some(AwsCredentials::Static {
        key: key?,
        secret: secret?,
        token,
        origin: "the shared credentials file",
    })
}

/// An S3 client (AWS or any S3-compatible endpoint).
pub(crate) fn s3_store(s3: &S3, conn: &Connection, env: EnvLookup<'_>) -> Result<CloudStore> {
    let described = format!("s3://{}/{}", s3.bucket, s3.prefix);
    if conn.output && !s3.acl.is_empty() {
        return Err(Error::Unsupported(format!(
            "{described}: acl={} cannot be applied (object_store does not send x-amz-acl); \
             remove it and let the bucket's Object Ownership setting decide",
            s3.acl
        )));
    }
    let region = nonempty(&s3.region)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(&region)
        .with_retry(conn.retry.clone())
        .with_client_options(conn.client_for(&s3.endpoint))
        .with_virtual_hosted_style_request(!s3.force_path_style);
    if !s3.endpoint.is_empty() {
        let endpoint = if s3.force_path_style {
            s3.endpoint.clone()
        } else {
            // object_store takes a virtual-host endpoint with the bucket already in it.
            virtual_host_endpoint(&s3.endpoint, &s3.bucket)?
        };
        builder = builder.with_endpoint(endpoint);
    }
    if !s3.sse.is_empty() || !s3.sse_kms_key_id.is_empty() {
        let sse = nonempty(&s3.sse).unwrap_or_else(|| "aws:kms".into());
        builder = builder.with_config(s3_key("aws_server_side_encryption")?, sse);
        if !s3.sse_kms_key_id.is_empty() {
            builder = builder.with_config(s3_key("aws_sse_kms_key_id")?, &s3.sse_kms_key_id);
        }
    }
    let credentials = aws_credentials(s3, env)?;
    if !s3.role_arn.is_empty() && !matches!(credentials, AwsCredentials::WebIdentity { .. }) {
        return Err(Error::Unsupported(format!(
            "{described}: role-arn (STS AssumeRole) is not supported; pass the role's keys \
             (access-key, secret-access-key, session-token) or use a web identity token \
             (AWS_WEB_IDENTITY_TOKEN_FILE)"
        )));
    }
    let mut secrets = Vec::new();
    builder = match credentials {
        AwsCredentials::Static {
            key, secret, token, ..
        } => {
            secrets.extend([key.clone(), secret.clone()]);
            let builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
            match token {
                Some(token) => {
                    secrets.push(token.clone());
                    builder.with_token(token)
                }
                None => builder,
            }
        }
        AwsCredentials::WebIdentity {
            token_file,
            role_arn,
            session_name,
        } => {
            let builder = builder
                .with_config(AmazonS3ConfigKey::WebIdentityTokenFile, token_file)
                .with_config(AmazonS3ConfigKey::RoleArn, role_arn);
            match session_name {
                Some(name) => builder.with_config(AmazonS3ConfigKey::RoleSessionName, name),
                None => builder,
            }
        }
        AwsCredentials::ContainerRelative(uri) => {
            builder.with_config(AmazonS3ConfigKey::ContainerCredentialsRelativeUri, uri)
        }
        AwsCredentials::ContainerFull { uri, token_file } => builder
            .with_config(AmazonS3ConfigKey::ContainerCredentialsFullUri, uri)
            .with_config(
                AmazonS3ConfigKey::ContainerAuthorizationTokenFile,
                token_file,
            ),
        AwsCredentials::Instance => builder,
    };
    let store = builder.build().map_err(|e| store_error(&described, e))?;
    let mut put_attributes = Attributes::new();
    if conn.output && !s3.storage_class.is_empty() {
        put_attributes.insert(Attribute::StorageClass, s3.storage_class.clone().into());
    }
    Ok(CloudStore {
        store: Arc::new(store),
        put_attributes,
        secrets,
    })
}

/// A configuration key by name (the encryption keys' enum is not exported by object_store).
fn s3_key(name: &str) -> Result<AmazonS3ConfigKey> {
    name.parse().map_err(|e| store_error("s3 configuration", e))
}

/// `https://host:port/path` → `https://bucket.host:port/path`.
fn virtual_host_endpoint(endpoint: &str, bucket: &str) -> Result<String> {
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| Error::Usage(format!("s3 endpoint {endpoint:?} is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.starts_with(&format!("{bucket}.")) {
        return Ok(endpoint.to_string());
    }
    url.set_host(Some(&format!("{bucket}.{host}")))
        .map_err(|e| Error::Usage(format!("s3 endpoint {endpoint:?}: {e}")))?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// What kind of Google credential a JSON document is.
fn google_credential_type(json: &str) -> Result<String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        // serde's message names a line and column, never the content.
        Error::Usage(format!("gcs credentials are not JSON: {e}"))
    })?;
    if value
        .get("disable_oauth")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        return Ok("service_account".into());
    }
    Ok(value
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// A GCS client.
pub(crate) fn gcs_store(gcs: &Gcs, conn: &Connection, env: EnvLookup<'_>) -> Result<CloudStore> {
    let described = format!("gcs://{}/{}", gcs.bucket, gcs.prefix);
    let mut client = conn.client_for(&gcs.endpoint);
    if conn.output && !gcs.predefined_acl.is_empty() {
        let acl = xml_acl_name(&gcs.predefined_acl);
        let mut headers = http::HeaderMap::new();
        let value = http::HeaderValue::from_str(&acl).map_err(|_| {
            Error::Usage(format!("gcs predefined-acl {acl:?} is not a header value"))
        })?;
        headers.insert("x-goog-acl", value);
        client = client.with_default_headers(headers);
    }
    let mut builder = GoogleCloudStorageBuilder::new()
        .with_bucket_name(&gcs.bucket)
        .with_retry(conn.retry.clone())
        .with_client_options(client);
    if !gcs.endpoint.is_empty() {
        builder = builder.with_base_url(&gcs_base_url(&gcs.endpoint));
    }
    let mut secrets = Vec::new();
    // Holds an authorized-user blob on disk while the builder reads it.
    let mut _blob_file = None;
    if !gcs.credentials_blob.is_empty() {
        match google_credential_type(&gcs.credentials_blob)?.as_str() {
            "service_account" => {
                builder = builder.with_service_account_key(gcs.credentials_blob.clone());
            }
            "authorized_user" => {
                let mut file = tempfile::Builder::new()
                    .prefix("br-parquet-gcs-")
                    .tempfile()
                    .map_err(|e| Error::io("temporary credentials file", e))?;
                std::io::Write::write_all(&mut file, gcs.credentials_blob.as_bytes())
                    .map_err(|e| Error::io("temporary credentials file", e))?;
                builder = builder
                    .with_application_credentials(file.path().to_string_lossy().into_owned());
                _blob_file = Some(file);
            }
            other => return Err(unsupported_google_credential(&described, other)),
        }
    } else if let Some(path) = env("GOOGLE_APPLICATION_CREDENTIALS") {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("GOOGLE_APPLICATION_CREDENTIALS {path}"), e))?;
        secrets.push(text.clone());
        match google_credential_type(&text)?.as_str() {
            "service_account" => builder = builder.with_service_account_path(path),
            "authorized_user" => builder = builder.with_application_credentials(path),
            other => return Err(unsupported_google_credential(&described, other)),
        }
    } else if let Some(path) = gcloud_adc_file(env).filter(|p| p.is_file()) {
        builder = builder.with_application_credentials(path.to_string_lossy().into_owned());
    } else if !metadata_allowed(env, "NO_GCE_CHECK") {
        return Err(Error::Usage(format!(
            "{described}: no GCS credentials: pass credentials-file in the URL or set \
             GOOGLE_APPLICATION_CREDENTIALS; to use the GCE metadata server, set NO_GCE_CHECK=false"
        )));
    }
    let store = builder.build().map_err(|e| store_error(&described, e))?;
    drop(_blob_file);
    let mut put_attributes = Attributes::new();
    if conn.output && !gcs.storage_class.is_empty() {
        put_attributes.insert(Attribute::StorageClass, gcs.storage_class.clone().into());
    }
    Ok(CloudStore {
        store: Arc::new(store),
        put_attributes,
        secrets,
    })
}

fn unsupported_google_credential(described: &str, kind: &str) -> Error {
    Error::Unsupported(format!(
        "{described}: Google credentials of type {kind:?} are not supported; use a service \
         account key or an authorized-user (gcloud) credentials file"
    ))
}

/// gcloud's application-default credentials file.
fn gcloud_adc_file(env: EnvLookup<'_>) -> Option<PathBuf> {
    let config = env("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".config/gcloud")))?;
    Some(config.join("application_default_credentials.json"))
}

/// BR's GCS endpoint is the JSON API's (`https://storage.googleapis.com/storage/v1/`);
/// object_store wants the host root.
fn gcs_base_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim_end_matches('/');
    trimmed
        .strip_suffix("/storage/v1")
        .unwrap_or(trimmed)
        .to_string()
}

/// BR takes the JSON API's camelCase ACL names; the XML API header wants kebab-case.
fn xml_acl_name(acl: &str) -> String {
    let mut out = String::with_capacity(acl.len() + 4);
    for c in acl.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An Azure Blob client.
pub(crate) fn azure_store(
    az: &AzureBlobStorage,
    conn: &Connection,
    env: EnvLookup<'_>,
) -> Result<CloudStore> {
    let described = format!("azure://{}/{}", az.bucket, az.prefix);
    if az.encryption_key.is_some() {
        return Err(Error::Unsupported(format!(
            "{described}: customer-provided encryption keys (encryption-key, \
             AZURE_ENCRYPTION_KEY) are not supported"
        )));
    }
    if conn.output && !az.encryption_scope.is_empty() {
        return Err(Error::Unsupported(format!(
            "{described}: encryption-scope is not supported for output; set a default \
             encryption scope on the container instead"
        )));
    }
    let account = nonempty(&az.account_name)
        .or_else(|| env("AZURE_STORAGE_ACCOUNT"))
        .ok_or_else(|| {
            Error::Usage(format!(
                "{described}: account name cannot be empty to access azure blob storage; pass \
                 account-name in the URL or set AZURE_STORAGE_ACCOUNT"
            ))
        })?;
    let mut builder = MicrosoftAzureBuilder::new()
        .with_account(&account)
        .with_container_name(&az.bucket)
        .with_retry(conn.retry.clone())
        .with_client_options(conn.client_for(&az.endpoint));
    if !az.endpoint.is_empty() {
        builder = builder.with_endpoint(az.endpoint.trim_end_matches('/').to_string());
    }
    let mut secrets = Vec::new();
    let client_secret = (
        env("AZURE_CLIENT_ID"),
        env("AZURE_TENANT_ID"),
        env("AZURE_CLIENT_SECRET"),
    );
    builder = if !az.access_sig.is_empty() {
        builder.with_config(AzureConfigKey::SasKey, &az.access_sig)
    } else if !az.shared_key.is_empty() {
        builder.with_access_key(&az.shared_key)
    } else if let (Some(id), Some(tenant), Some(secret)) = client_secret {
        secrets.push(secret.clone());
        builder.with_client_secret_authorization(id, secret, tenant)
    } else if let Some(key) = env("AZURE_STORAGE_KEY") {
        secrets.push(key.clone());
        builder.with_access_key(key)
    } else if let (Some(id), Some(tenant), Some(file)) = (
        env("AZURE_CLIENT_ID"),
        env("AZURE_TENANT_ID"),
        env("AZURE_FEDERATED_TOKEN_FILE"),
    ) {
        builder
            .with_client_id(id)
            .with_tenant_id(tenant)
            .with_federated_token_file(file)
    } else {
        return Err(Error::Usage(format!(
            "{described}: cannot find any credential info to access azure blob storage: pass \
             account-key or sas-token in the URL, or set AZURE_STORAGE_KEY, or \
             AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET"
        )));
    };
    let store = builder.build().map_err(|e| store_error(&described, e))?;
    let mut put_attributes = Attributes::new();
    if conn.output && !az.storage_class.is_empty() {
        let tier = match az.storage_class.to_ascii_lowercase().as_str() {
            "hot" => "Hot".to_string(),
            "cool" => "Cool".to_string(),
            "cold" => "Cold".to_string(),
            "archive" => "Archive".to_string(),
            _ => az.storage_class.clone(),
        };
        put_attributes.insert(Attribute::StorageClass, tier.into());
    }
    Ok(CloudStore {
        store: Arc::new(store),
        put_attributes,
        secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn conn(output: bool) -> Connection {
        Connection {
            retry: RetryConfig::default(),
            client: ClientOptions::new(),
            output,
        }
    }

    #[test]
    fn aws_chain_order() {
        let url_keys = S3 {
            access_key: "AK".into(),
            secret_access_key: "SK".into(),
            session_token: "T".into(),
            ..Default::default()
        };
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "ENVAK"),
            ("AWS_SECRET_ACCESS_KEY", "ENVSK"),
        ]);
        assert!(matches!(
            aws_credentials(&url_keys, &env).unwrap(),
            AwsCredentials::Static { ref key, token: Some(_), .. } if key == "AK"
        ));
        let none = S3::default();
        assert!(matches!(
            aws_credentials(&none, &env).unwrap(),
            AwsCredentials::Static { ref key, token: None, .. } if key == "ENVAK"
        ));
        let env = env_of(&[("AWS_ACCESS_KEY", "OLD"), ("AWS_SECRET_KEY", "OLDS")]);
        assert!(matches!(
            aws_credentials(&none, &env).unwrap(),
            AwsCredentials::Static { ref key, .. } if key == "OLD"
        ));
        let env = env_of(&[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ("AWS_ROLE_ARN", "arn:r"),
            ("HOME", "/nonexistent"),
        ]);
        assert_eq!(
            aws_credentials(&none, &env).unwrap(),
            AwsCredentials::WebIdentity {
                token_file: "/t".into(),
                role_arn: "arn:r".into(),
                session_name: None
            }
        );
        let env = env_of(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x")]);
        assert_eq!(
            aws_credentials(&none, &env).unwrap(),
            AwsCredentials::ContainerRelative("/v2/x".into())
        );
        // IMDS only on request.
        for env in [
            env_of(&[("HOME", "/nonexistent")]),
            env_of(&[("AWS_EC2_METADATA_DISABLED", "true")]),
        ] {
            let err = aws_credentials(&none, &env).unwrap_err().to_string();
            assert!(err.contains("no S3 credentials"), "{err}");
        }
        let env = env_of(&[
            ("HOME", "/nonexistent"),
            ("AWS_EC2_METADATA_DISABLED", "FALSE"),
        ]);
        assert_eq!(
            aws_credentials(&none, &env).unwrap(),
            AwsCredentials::Instance
        );
    }

    #[test]
    fn aws_shared_credentials_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key = DEFS\n\n\
             [dev]\naws_access_key_id=DEV\naws_secret_access_key=DEVS\naws_session_token=DEVT\n",
        )
        .unwrap();
        let path = file.to_string_lossy().into_owned();
        let env = env_of(&[("AWS_SHARED_CREDENTIALS_FILE", &path)]);
        let dev = S3 {
            profile: "dev".into(),
            ..Default::default()
        };
        assert_eq!(
            aws_credentials(&dev, &env).unwrap(),
            AwsCredentials::Static {
                key: "DEV".into(),
                secret: "DEVS".into(),
                token: Some("DEVT".into()),
                origin: "the shared credentials file"
            }
        );
        assert!(matches!(
            aws_credentials(&S3::default(), &env).unwrap(),
            AwsCredentials::Static { ref key, .. } if key == "DEF"
        ));
        let env2 = env_of(&[
            ("AWS_SHARED_CREDENTIALS_FILE", &path),
            ("AWS_PROFILE", "dev"),
        ]);
        assert!(matches!(
            aws_credentials(&S3::default(), &env2).unwrap(),
            AwsCredentials::Static { ref key, .. } if key == "DEV"
        ));
        let missing = S3 {
            profile: "nope".into(),
            ..Default::default()
        };
        let err = aws_credentials(&missing, &env).unwrap_err().to_string();
        assert!(err.contains("profile \"nope\" not found"), "{err}");
    }

    #[test]
    fn s3_options_that_cannot_be_honoured_are_errors() {
        let keys = S3 {
            bucket: "b".into(),
            access_key: "AK".into(),
            secret_access_key: "SK".into(),
            ..Default::default()
        };
        let env = env_of(&[]);
        let acl = S3 {
            acl: "public-read".into(),
            ..keys.clone()
        };
        assert!(
            s3_store(&acl, &conn(false), &env).is_ok(),
            "ACL is ignored on input"
        );
        let err = s3_store(&acl, &conn(true), &env).err().unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let role = S3 {
            role_arn: "arn:aws:iam::1:role/x".into(),
            ..keys.clone()
        };
        let err = s3_store(&role, &conn(false), &env).err().unwrap();
        assert!(err.to_string().contains("role-arn"), "{err}");
        let sse = S3 {
            sse: "aws:kms".into(),
            sse_kms_key_id: "key-1".into(),
            storage_class: "STANDARD_IA".into(),
            ..keys.clone()
        };
        let built = s3_store(&sse, &conn(true), &env).unwrap();
        assert_eq!(
            built
                .put_attributes
                .get(&Attribute::StorageClass)
                .map(|v| v.as_ref()),
            Some("STANDARD_IA")
        );
        let bad_sse = S3 {
            sse: "rot13".into(),
            ..keys
        };
        assert!(s3_store(&bad_sse, &conn(true), &env).is_err());
    }

    #[test]
    fn virtual_host_endpoints() {
        assert_eq!(
            virtual_host_endpoint("https://oss-cn-hangzhou.aliyuncs.com", "b").unwrap(),
            "https://b.oss-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            virtual_host_endpoint("http://b.minio:9000", "b").unwrap(),
            "http://b.minio:9000"
        );
    }

    #[test]
    fn gcs_helpers() {
        assert_eq!(
            gcs_base_url("https://storage.googleapis.com/storage/v1/"),
            "https://storage.googleapis.com"
        );
        assert_eq!(
            gcs_base_url("http://127.0.0.1:9023"),
            "http://127.0.0.1:9023"
        );
        assert_eq!(
            xml_acl_name("bucketOwnerFullControl"),
            "bucket-owner-full-control"
        );
        assert_eq!(xml_acl_name("private"), "private");
        assert_eq!(xml_acl_name("public-read"), "public-read");
        assert_eq!(
            google_credential_type(r#"{"type":"authorized_user"}"#).unwrap(),
            "authorized_user"
        );
        assert_eq!(
            google_credential_type(r#"{"disable_oauth":true}"#).unwrap(),
            "service_account"
        );
        let err = google_credential_type("{\"private_key\": SECRETKEY").unwrap_err();
        assert!(!err.to_string().contains("SECRETKEY"), "{err}");
    }

    #[test]
    fn gcs_credentials_are_required_or_the_metadata_server_allowed() {
        let gcs = Gcs {
            bucket: "b".into(),
            ..Default::default()
        };
        for env in [
            env_of(&[("NO_GCE_CHECK", "true"), ("HOME", "/nonexistent")]),
            env_of(&[("HOME", "/nonexistent")]),
        ] {
            let err = gcs_store(&gcs, &conn(false), &env).err().unwrap();
            assert!(err.to_string().contains("no GCS credentials"), "{err}");
        }
        let env = env_of(&[("NO_GCE_CHECK", "true"), ("HOME", "/nonexistent")]);
        let external = Gcs {
            credentials_blob: r#"{"type":"external_account"}"#.into(),
            ..gcs.clone()
        };
        let err = gcs_store(&external, &conn(false), &env).err().unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let emulator = Gcs {
            credentials_blob:
                r#"{"disable_oauth":true,"client_email":"","private_key":"","private_key_id":""}"#
                    .into(),
            endpoint: "http://127.0.0.1:1".into(),
            storage_class: "NEARLINE".into(),
            predefined_acl: "projectPrivate".into(),
            ..gcs
        };
        let built = gcs_store(&emulator, &conn(true), &env).unwrap();
        assert_eq!(
            built
                .put_attributes
                .get(&Attribute::StorageClass)
                .map(|v| v.as_ref()),
            Some("NEARLINE")
        );
    }

    #[test]
    fn azure_credentials_in_br_order() {
        let az = AzureBlobStorage {
            bucket: "container".into(),
            ..Default::default()
        };
        let empty = env_of(&[]);
        let err = azure_store(&az, &conn(false), &empty).err().unwrap();
        assert!(
            err.to_string().contains("account name cannot be empty"),
            "{err}"
        );
        let env = env_of(&[("AZURE_STORAGE_ACCOUNT", "acct")]);
        let err = azure_store(&az, &conn(false), &env).err().unwrap();
        assert!(
            err.to_string().contains("cannot find any credential"),
            "{err}"
        );
        let env = env_of(&[
            ("AZURE_STORAGE_ACCOUNT", "acct"),
            ("AZURE_STORAGE_KEY", "a2V5a2V5a2V5"),
        ]);
        let built = azure_store(&az, &conn(false), &env).unwrap();
        assert_eq!(built.secrets, ["a2V5a2V5a2V5"]);
        let sas = AzureBlobStorage {
            account_name: "acct".into(),
            access_sig: "sv=2021&sig=abc".into(),
            storage_class: "cool".into(),
            ..az.clone()
        };
        let built = azure_store(&sas, &conn(true), &empty).unwrap();
        assert_eq!(
            built
                .put_attributes
                .get(&Attribute::StorageClass)
                .map(|v| v.as_ref()),
            Some("Cool")
        );
        let cpk = AzureBlobStorage {
            encryption_key: Some(Default::default()),
            ..sas.clone()
        };
        assert!(matches!(
            azure_store(&cpk, &conn(false), &empty),
            Err(Error::Unsupported(_))
        ));
        let scope = AzureBlobStorage {
            encryption_scope: "s".into(),
            ..sas
        };
        assert!(azure_store(&scope, &conn(false), &empty).is_ok());
        assert!(matches!(
            azure_store(&scope, &conn(true), &empty),
            Err(Error::Unsupported(_))
        ));
    }
}
