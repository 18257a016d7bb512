//! Storage locations as BR names them: URLs (`local:///backup`, `s3://bucket/prefix?...`) and the
//! base64 `StorageBackend` protobuf that `br operator base64ify` prints.
//!
//! Both forms are parsed into the same `StorageBackend` message, as BR's `ParseBackend` does
//! (pingcap/tidb `br/pkg/storage/parse.go`; table in `docs/formats.md` §2), so the
//! rest of the crate deals with one type only.
//!
//! ```text
//! s3://bucket/prefix?region=..&endpoint=..&access-key=..&secret-access-key=..&session-token=..
//!                    &force-path-style=..&provider=..&sse=..&sse-kms-key-id=..&storage-class=..
//!                    &acl=..&role-arn=..&external-id=..&profile=..&object-lock-enabled=..
//!                    &use-accelerate-endpoint=..
//! gcs://bucket/prefix?endpoint=..&storage-class=..&predefined-acl=..&credentials-file=PATH
//! azure://container/prefix?endpoint=..&account-name=..&account-key=..&sas-token=..
//!                    &access-tier=..&encryption-scope=..&encryption-key=..
//! ```
//!
//! As in BR, a query name is lower-cased and `_` becomes `-` (`secret_access_key` works), unknown
//! names are ignored, a boolean that does not parse leaves the default, and every `+` in the raw URL
//! is read as a literal `+` (BR pre-escapes it to `%2B`: secret keys contain `+`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::proto::backup::{
    storage_backend::Backend, AzureBlobStorage, AzureCustomerKey, Gcs, Hdfs, Local, Noop,
    StorageBackend, S3,
};
use crate::{Error, Result};

/// Where `parse_url` looks up environment variables (BR reads `AZURE_ENCRYPTION_KEY` while parsing).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset (as BR's `os.Getenv` checks do).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Parses a BR storage URL. A string without a scheme is a local path (relative paths are resolved
/// against the current directory, as BR does).
pub fn parse_url(url: &str) -> Result<StorageBackend> {
    parse_url_with_env(url, &process_env)
}

/// [`parse_url`] with an explicit environment (for tests).
pub fn parse_url_with_env(url: &str, env: EnvLookup<'_>) -> Result<StorageBackend> {
    if url.is_empty() {
        return Err(Error::Usage(
            "empty storage URL; pass a path or a URL such as s3://bucket/prefix".into(),
        ));
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => return Ok(local_backend(absolute(Path::new(url))?)),
    };
    let backend = match scheme.as_str() {
        "local" | "file" => {
            if rest.is_empty() {
                return Err(Error::Usage(format!(
                    "storage URL {url:?} has no path; write e.g. local:///data/backup"
                )));
            }
            return Ok(local_backend(absolute(Path::new(rest))?));
        }
        "noop" => Backend::Noop(Noop {}),
        "hdfs" => Backend::Hdfs(Hdfs {
            remote: url.to_string(),
        }),
        "s3" | "gcs" | "gs" | "azure" | "azblob" => {
            let parsed = CloudUrl::parse(url)?;
            match scheme.as_str() {
                "s3" => Backend::S3(s3_backend(&parsed, url)?),
                "gcs" | "gs" => Backend::Gcs(gcs_backend(&parsed)?),
                _ => Backend::AzureBlobStorage(azure_backend(&parsed, env)?),
            }
        }
        _ => {
            return Err(Error::Usage(format!(
                "unknown storage scheme {scheme:?} in {:?}; use a local path, local://, file://, \
                 s3://, gcs://, azure:// or noop://",
                redact_url(url)
            )))
        }
    };
    Ok(StorageBackend {
        backend: Some(backend),
    })
}

/// A cloud URL split the way Go's `net/url` splits it for BR: host = bucket, path = prefix,
/// query = options (first value of each normalized name).
struct CloudUrl {
    scheme: String,
    bucket: String,
    prefix: String,
    options: HashMap<String, String>,
}

impl CloudUrl {
    fn parse(raw: &str) -> Result<Self> {
        // BR: "In aws the secret key may contain '/+=' and '+' has a special meaning in URL."
        let escaped = raw.replace('+', "%2B");
        let parsed = url::Url::parse(&escaped).map_err(|e| {
            Error::Usage(format!(
                "storage URL {:?} does not parse: {e}",
                redact_url(raw)
            ))
        })?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        let bucket = percent_decode(parsed.host_str().unwrap_or_default());
        if bucket.is_empty() {
            let kind = match scheme.as_str() {
                "gs" | "gcs" => "gcs",
                "azure" | "azblob" => "azblob",
                other => other,
            };
            return Err(Error::Usage(format!(
                "please specify the bucket for {kind} in {:?}",
                redact_url(raw)
            )));
        }
        let prefix = percent_decode(parsed.path()).trim_matches('/').to_string();
        let mut options = HashMap::new();
        for (key, value) in parsed.query_pairs() {
            let normalized = key.to_ascii_lowercase().replace('_', "-");
            options
                .entry(normalized)
                .or_insert_with(|| value.into_owned());
        }
        Ok(CloudUrl {
            scheme,
            bucket,
            prefix,
            options,
        })
    }

    fn string(&self, name: &str) -> String {
        self.options.get(name).cloned().unwrap_or_default()
    }

    /// Go's `strconv.ParseBool`; a value that does not parse leaves `default`, as in BR.
    fn boolean(&self, name: &str, default: bool) -> bool {
        match self.options.get(name).map(String::as_str) {
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => true,
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => false,
            _ => default,
        }
    }
}

/// BR's `S3BackendOptions.Apply` plus `SetForcePathStyle`.
fn s3_backend(u: &CloudUrl, raw: &str) -> Result<S3> {
    let endpoint = u.string("endpoint");
    if !endpoint.is_empty() {
        let parsed = url::Url::parse(&endpoint).map_err(|e| {
            Error::Usage(format!(
                "s3 endpoint {endpoint:?} is not a URL with a scheme: {e}"
            ))
        })?;
        if parsed.host_str().unwrap_or_default().is_empty() {
            return Err(Error::Usage(format!(
                "s3 endpoint {endpoint:?}: host not found in endpoint"
            )));
        }
    }
    let s3 = S3 {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        region: u.string("region"),
        bucket: u.bucket.clone(),
        prefix: u.prefix.clone(),
        storage_class: u.string("storage-class"),
        sse: u.string("sse"),
        acl: u.string("acl"),
        access_key: u.string("access-key"),
        secret_access_key: u.string("secret-access-key"),
        force_path_style: force_path_style(u, raw),
        sse_kms_key_id: u.string("sse-kms-key-id"),
        role_arn: u.string("role-arn"),
        external_id: u.string("external-id"),
        object_lock_enabled: u.boolean("object-lock-enabled", false),
        session_token: u.string("session-token"),
        provider: u.string("provider"),
        profile: u.string("profile"),
    };
    if s3.profile.is_empty() {
        if s3.access_key.is_empty() && !s3.secret_access_key.is_empty() {
            return Err(Error::Usage(
                "s3 URL has secret-access-key but no access-key; give both or neither".into(),
            ));
        }
        if !s3.access_key.is_empty() && s3.secret_access_key.is_empty() {
            return Err(Error::Usage(
                "s3 URL has access-key but no secret-access-key; give both or neither".into(),
            ));
        }
    }
    Ok(s3)
}

/// Path style is the default; BR switches to virtual-host style for providers that need it, for
/// the accelerate endpoint, and for AWS when the URL did not mention force-path-style.
fn force_path_style(u: &CloudUrl, raw: &str) -> bool {
    let mut path_style = u.boolean("force-path-style", true);
    let provider = u.string("provider");
    let mentioned = raw.contains("force-path-style") || raw.contains("force_path_style");
    let aws = provider == "aws"
        || u.string("endpoint").contains("amazonaws.com")
        || !u.string("role-arn").is_empty();
    if matches!(provider.as_str(), "alibaba" | "netease" | "tencent")
        || u.boolean("use-accelerate-endpoint", false)
        || (!mentioned && aws)
    {
        path_style = false;
    }
    path_style
}

/// BR's `GCSBackendOptions.apply`: `credentials-file` is read now and travels as the blob.
fn gcs_backend(u: &CloudUrl) -> Result<Gcs> {
    let credentials_file = u.string("credentials-file");
    let credentials_blob = if credentials_file.is_empty() {
        String::new()
    } else {
        std::fs::read_to_string(&credentials_file)
            .map_err(|e| Error::io(format!("gcs credentials-file {credentials_file}"), e))?
    };
    Ok(Gcs {
        endpoint: u.string("endpoint"),
        bucket: u.bucket.clone(),
        prefix: u.prefix.clone(),
        storage_class: u.string("storage-class"),
        predefined_acl: u.string("predefined-acl"),
        credentials_blob,
    })
}

/// BR's `AzblobBackendOptions.apply`, including the `AZURE_ENCRYPTION_KEY` fallback.
fn azure_backend(u: &CloudUrl, env: EnvLookup<'_>) -> Result<AzureBlobStorage> {
    let mut key = u.string("encryption-key");
    if key.is_empty() {
        key = env("AZURE_ENCRYPTION_KEY").unwrap_or_default();
    }
    let encryption_key = (!key.is_empty()).then(|| {
        let engine = base64::engine::general_purpose::STANDARD;
        AzureCustomerKey {
            encryption_key: engine.encode(key.as_bytes()),
            encryption_key_sha256: engine.encode(Sha256::digest(key.as_bytes())),
        }
    });
    debug_assert!(matches!(u.scheme.as_str(), "azure" | "azblob"));
    Ok(AzureBlobStorage {
        endpoint: u.string("endpoint"),
        bucket: u.bucket.clone(),
        prefix: u.prefix.clone(),
        storage_class: u.string("access-tier"),
        account_name: u.string("account-name"),
        shared_key: u.string("account-key"),
        access_sig: u.string("sas-token"),
        encryption_scope: u.string("encryption-scope"),
        encryption_key,
    })
}

/// Decodes `%XX` escapes (what Go's `url.URL.Path` and `Host` hold); invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(value) = hex {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes the base64 `StorageBackend` printed by `br operator base64ify`.
pub fn parse_base64(encoded: &str) -> Result<StorageBackend> {
    let encoded = encoded.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded))
        .map_err(|e| Error::Usage(format!("storage backend is not valid base64: {e}")))?;
    let backend = StorageBackend::decode(bytes.as_slice()).map_err(|e| {
        Error::Usage(format!(
            "storage backend ({} bytes) is not a protobuf StorageBackend: {e}",
            bytes.len()
        ))
    })?;
    if backend.backend.is_none() {
        return Err(Error::Usage(
            "storage backend is empty: it names no backend (local, s3, gcs, azure...)".into(),
        ));
    }
    Ok(backend)
}

/// Encodes a backend the way `br operator base64ify` does.
pub fn to_base64(backend: &StorageBackend) -> String {
    base64::engine::general_purpose::STANDARD.encode(backend.encode_to_vec())
}

/// A description of a backend that is safe to print: no keys, tokens or query strings.
pub fn describe(backend: &StorageBackend) -> String {
    match &backend.backend {
        Some(Backend::Local(local)) => format!("local://{}", local.path),
        Some(Backend::Noop(_)) => "noop://".into(),
        Some(Backend::S3(s3)) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        Some(Backend::Gcs(gcs)) => format!("gcs://{}/{}", gcs.bucket, gcs.prefix),
        Some(Backend::AzureBlobStorage(az)) => format!("azure://{}/{}", az.bucket, az.prefix),
        Some(Backend::Hdfs(hdfs)) => redact_url(&hdfs.remote),
        Some(Backend::CloudDynamic(cd)) => format!("{}://(dynamic)", cd.provider_name),
        None => "(no backend)".into(),
    }
}

/// The same storage at the root of its bucket (or container): the prefix dropped, every other
/// setting (endpoint, credentials, options) kept. Other backends are returned as they are.
pub fn bucket_root(backend: &StorageBackend) -> StorageBackend {
    let mut root = backend.clone();
    match &mut root.backend {
        Some(Backend::S3(s3)) => s3.prefix.clear(),
        Some(Backend::Gcs(gcs)) => gcs.prefix.clear(),
        Some(Backend::AzureBlobStorage(az)) => az.prefix.clear(),
        _ => {}
    }
    root
}

/// Drops the query string and any user info from a URL, where credentials live.
pub fn redact_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    match without_query.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => without_query.to_string(),
        },
        None => without_query.to_string(),
    }
}

/// Every credential a backend carries, for scrubbing error text (see `redact::Redactor`).
pub fn secrets_of(backend: &StorageBackend) -> Vec<String> {
    let mut secrets = Vec::new();
    match &backend.backend {
        Some(Backend::S3(s3)) => {
            secrets.extend([
                s3.access_key.clone(),
                s3.secret_access_key.clone(),
                s3.session_token.clone(),
            ]);
        }
        Some(Backend::Gcs(gcs)) => secrets.push(gcs.credentials_blob.clone()),
        Some(Backend::AzureBlobStorage(az)) => {
            secrets.extend([az.shared_key.clone(), az.access_sig.clone()]);
            if let Some(key) = &az.encryption_key {
                secrets.push(key.encryption_key.clone());
            }
        }
        Some(Backend::CloudDynamic(cd)) => secrets.extend(cd.attrs.values().cloned()),
        Some(Backend::Hdfs(hdfs)) => secrets.push(hdfs.remote.clone()),
        _ => {}
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn local_backend(path: PathBuf) -> StorageBackend {
    StorageBackend {
        backend: Some(Backend::Local(Local {
            path: path.to_string_lossy().into_owned(),
        })),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(path.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(url: &str) -> Result<StorageBackend> {
        parse_url_with_env(url, &no_env)
    }

    fn local_path(backend: &StorageBackend) -> &str {
        match &backend.backend {
            Some(Backend::Local(local)) => &local.path,
            other => panic!("expected local, got {other:?}"),
        }
    }

    fn s3(url: &str) -> S3 {
        match parse(url).unwrap().backend {
            Some(Backend::S3(s3)) => s3,
            other => panic!("expected s3, got {other:?}"),
        }
    }

    fn gcs(url: &str) -> Gcs {
        match parse(url).unwrap().backend {
            Some(Backend::Gcs(gcs)) => gcs,
            other => panic!("expected gcs, got {other:?}"),
        }
    }

    fn azure_with(url: &str, env: EnvLookup<'_>) -> AzureBlobStorage {
        match parse_url_with_env(url, env).unwrap().backend {
            Some(Backend::AzureBlobStorage(az)) => az,
            other => panic!("expected azure, got {other:?}"),
        }
    }

    #[test]
    fn local_forms() {
        assert_eq!(local_path(&parse("local:///data/b").unwrap()), "/data/b");
        assert_eq!(local_path(&parse("file:///data/b").unwrap()), "/data/b");
        assert_eq!(local_path(&parse("LOCAL:///data/b").unwrap()), "/data/b");
        assert_eq!(local_path(&parse("/data/b").unwrap()), "/data/b");
        let relative = parse("some/dir").unwrap();
        assert!(Path::new(local_path(&relative)).is_absolute());
        assert!(local_path(&relative).ends_with("some/dir"));
    }

    #[test]
    fn empty_urls_are_usage_errors() {
        let err = parse("local://").unwrap_err().to_string();
        assert!(err.contains("has no path"), "{err}");
        assert!(matches!(parse(""), Err(Error::Usage(_))));
        for url in [
            "s3://",
            "s3:///prefix",
            "gcs:///p",
            "gs://",
            "azure:///p",
            "azblob://",
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(err.contains("please specify the bucket"), "{url}: {err}");
        }
    }

    #[test]
    fn noop_and_hdfs() {
        assert_eq!(
            parse("noop://").unwrap().backend,
            Some(Backend::Noop(Noop {}))
        );
        match parse("hdfs://nn:9000/backup").unwrap().backend {
            Some(Backend::Hdfs(h)) => assert_eq!(h.remote, "hdfs://nn:9000/backup"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn s3_bucket_prefix_and_defaults() {
        let s = s3("s3://my-bucket/a/b/");
        assert_eq!(s.bucket, "my-bucket");
        assert_eq!(s.prefix, "a/b");
        assert!(s.force_path_style, "path style is BR's default");
        assert_eq!(s.region, "");
        assert_eq!(s.endpoint, "");
        let s = s3("S3://bkt");
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("bkt", ""));
        assert_eq!(s3("s3://b/with%20space/x").prefix, "with space/x");
    }

    #[test]
    fn s3_every_query_option_in_both_spellings() {
        for (dash, underscore) in [
            ("access-key", "access_key"),
            ("secret-access-key", "secret_access_key"),
            ("session-token", "session_token"),
            ("storage-class", "storage_class"),
            ("sse-kms-key-id", "sse_kms_key_id"),
            ("role-arn", "role_arn"),
            ("external-id", "external_id"),
        ] {
            for name in [dash, underscore, &dash.to_ascii_uppercase()[..]] {
                let url = format!(
                    "s3://b/p?{name}=V1&access-key=AK&secret-access-key=SK&force-path-style=true"
                );
                let s = s3(&url);
                let got = match dash {
                    "access-key" => &s.access_key,
                    "secret-access-key" => &s.secret_access_key,
                    "session-token" => &s.session_token,
                    "storage-class" => &s.storage_class,
                    "sse-kms-key-id" => &s.sse_kms_key_id,
                    "role-arn" => &s.role_arn,
                    "external-id" => &s.external_id,
                    _ => unreachable!(),
                };
                // access-key / secret-access-key appear twice; the first one wins.
                assert_eq!(got, "V1", "{url}");
            }
        }
        let s = s3(
            "s3://b/p?endpoint=http://127.0.0.1:9000/&region=eu-west-1&sse=aws:kms\
                    &acl=bucket-owner-full-control&provider=ceph&profile=dev\
                    &object_lock_enabled=true&Force_Path_Style=false",
        );
        assert_eq!(
            s.endpoint, "http://127.0.0.1:9000",
            "trailing slash trimmed"
        );
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.sse, "aws:kms");
        assert_eq!(s.acl, "bucket-owner-full-control");
        assert_eq!(s.provider, "ceph");
        assert_eq!(s.profile, "dev");
        assert!(s.object_lock_enabled);
        assert!(!s.force_path_style);
    }

    #[test]
    fn s3_plus_is_a_literal_plus() {
        let s = s3("s3://b/p?access-key=AK&secret-access-key=ab+cd/ef=&session-token=x%2By");
        assert_eq!(s.secret_access_key, "ab+cd/ef=");
        assert_eq!(s.session_token, "x+y");
    }

    #[test]
    fn s3_path_style_rules() {
        assert!(s3("s3://b/p?endpoint=http://minio:9000").force_path_style);
        for url in [
            "s3://b/p?provider=alibaba",
            "s3://b/p?provider=netease",
            "s3://b/p?provider=tencent",
            "s3://b/p?use-accelerate-endpoint=true",
            "s3://b/p?provider=aws",
            "s3://b/p?endpoint=https://s3.us-west-2.amazonaws.com",
            "s3://b/p?role-arn=arn:aws:iam::1:role/r",
            "s3://b/p?force-path-style=false",
        ] {
            assert!(!s3(url).force_path_style, "{url}");
        }
        // AWS, but the URL says path style: it stays.
        assert!(s3("s3://b/p?provider=aws&force_path_style=true").force_path_style);
        // A boolean that does not parse leaves the default, as Go's ParseBool failure does.
        assert!(s3("s3://b/p?force-path-style=maybe").force_path_style);
        // The accelerate endpoint wins even over an explicit force-path-style.
        assert!(!s3("s3://b/p?force-path-style=1&use_accelerate_endpoint=1").force_path_style);
    }

    #[test]
    fn s3_invalid_options() {
        for (url, want) in [
            ("s3://b/p?access-key=AK", "no secret-access-key"),
            ("s3://b/p?secret-access-key=SECRET", "no access-key"),
            ("s3://b/p?endpoint=127.0.0.1:9000", "endpoint"),
            ("s3://b/p?endpoint=http://", "endpoint"),
        ] {
            let err = parse(url).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
            let text = err.to_string();
            assert!(text.contains(want), "{url}: {text}");
            assert!(!text.contains("SECRET"), "{text}");
        }
        // With a profile, one key alone is allowed (the profile supplies the rest).
        assert_eq!(s3("s3://b/p?profile=x&access-key=AK").access_key, "AK");
    }

    #[test]
    fn gcs_every_query_option() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("sa.json");
        std::fs::write(&creds, r#"{"type":"service_account"}"#).unwrap();
        for scheme in ["gcs", "gs", "GS"] {
            let g = gcs(&format!(
                "{scheme}://bkt/pre/fix?endpoint=http://127.0.0.1:9023&storage_class=NEARLINE\
                 &Predefined-Acl=projectPrivate&credentials-file={}",
                creds.display()
            ));
            assert_eq!(g.bucket, "bkt");
            assert_eq!(g.prefix, "pre/fix");
            assert_eq!(g.endpoint, "http://127.0.0.1:9023");
            assert_eq!(g.storage_class, "NEARLINE");
            assert_eq!(g.predefined_acl, "projectPrivate");
            assert_eq!(g.credentials_blob, r#"{"type":"service_account"}"#);
        }
        let err = parse("gcs://b/p?credentials_file=/no/such/file.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("credentials-file /no/such/file.json"), "{err}");
    }

    #[test]
    fn azure_every_query_option() {
        for scheme in ["azure", "azblob"] {
            let a = azure_with(
                &format!(
                    "{scheme}://container/pre?endpoint=http://127.0.0.1:10000/devstoreaccount1\
                     &account_name=acct&Account-Key=KEY+1/2==&access-tier=Cool\
                     &sas-token=sv%3D2020%26sig%3DSIG&encryption-scope=scope1"
                ),
                &no_env,
            );
            assert_eq!(a.bucket, "container");
            assert_eq!(a.prefix, "pre");
            assert_eq!(a.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
            assert_eq!(a.account_name, "acct");
            assert_eq!(a.shared_key, "KEY+1/2==");
            assert_eq!(a.storage_class, "Cool");
            assert_eq!(a.access_sig, "sv=2020&sig=SIG");
            assert_eq!(a.encryption_scope, "scope1");
            assert_eq!(a.encryption_key, None);
        }
    }

    #[test]
    fn azure_encryption_key_from_url_or_env() {
        let expected = AzureCustomerKey {
            encryption_key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
            // base64(sha256("0123456789abcdef0123456789abcdef"))
            encryption_key_sha256: base64::engine::general_purpose::STANDARD
                .encode(Sha256::digest(b"0123456789abcdef0123456789abcdef")),
        };
        let a = azure_with(
            "azure://c/p?encryption_key=0123456789abcdef0123456789abcdef",
            &no_env,
        );
        assert_eq!(a.encryption_key.as_ref(), Some(&expected));
        let env = |name: &str| {
            (name == "AZURE_ENCRYPTION_KEY").then(|| "0123456789abcdef0123456789abcdef".into())
        };
        assert_eq!(
            azure_with("azure://c/p", &env).encryption_key,
            Some(expected)
        );
    }

    #[test]
    fn unknown_scheme_hides_query() {
        let err = parse("ftp://u:pw@host/x?token=SECRET")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown storage scheme \"ftp\""), "{err}");
        assert!(!err.contains("SECRET") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn unknown_query_names_are_ignored_like_br() {
        let s = s3("s3://b/p?no-such-option=1&region=r");
        assert_eq!(s.region, "r");
    }

    #[test]
    fn base64_round_trip_for_every_backend() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("c.json");
        std::fs::write(&creds, "{}").unwrap();
        for url in [
            "local:///tmp/backup".to_string(),
            "noop://".to_string(),
            "hdfs://nn/x".to_string(),
            "s3://b/p?access-key=AK&secret-access-key=SK&region=r&endpoint=http://h:1\
             &sse=aws:kms&sse-kms-key-id=k&storage-class=GLACIER&acl=private&session-token=T"
                .to_string(),
            format!(
                "gcs://b/p?credentials-file={}&storage-class=COLDLINE",
                creds.display()
            ),
            "azure://c/p?account-name=a&account-key=k&sas-token=s&encryption-key=0123".to_string(),
        ] {
            let backend = parse(&url).unwrap();
            let encoded = to_base64(&backend);
            assert_eq!(parse_base64(&encoded).unwrap(), backend, "{url}");
        }
        // Local{path: "/x"} hand-encoded: field 2 (local) len 4 { field 1 len 2 "/x" }.
        assert_eq!(
            local_path(&parse_base64("EgQKAi94").unwrap()),
            "/x",
            "decodes bytes 12 04 0a 02 2f 78"
        );
        // S3{bucket: "b", prefix: "p"}: field 3 (s3) len 6 { field 3 "b", field 4 "p" }.
        match parse_base64("GgYaAWIiAXA=").unwrap().backend {
            Some(Backend::S3(s)) => assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("b", "p")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_base64() {
        let err = parse_base64("!!!").unwrap_err().to_string();
        assert!(err.contains("not valid base64"), "{err}");
        let err = parse_base64("").unwrap_err().to_string();
        assert!(err.contains("names no backend"), "{err}");
        let err = parse_base64("/w==").unwrap_err().to_string();
        assert!(err.contains("not a protobuf StorageBackend"), "{err}");
    }

    #[test]
    fn describe_never_prints_secrets() {
        let backend =
            parse("s3://b/p?access-key=AKIA&secret-access-key=SECRET&session-token=TOKEN").unwrap();
        assert_eq!(describe(&backend), "s3://b/p");
        assert_eq!(describe(&bucket_root(&backend)), "s3://b/");
        assert_eq!(secrets_of(&bucket_root(&backend)).len(), 3);
        let mut secrets = secrets_of(&backend);
        secrets.sort();
        assert_eq!(secrets, ["AKIA", "SECRET", "TOKEN"]);
        let az = parse("azure://c/p?account-key=KEY&sas-token=SAS").unwrap();
        assert_eq!(describe(&az), "azure://c/p");
        assert_eq!(secrets_of(&az), ["KEY", "SAS"]);
        assert_eq!(
            redact_url("hdfs://user:pw@nn:9000/x?y=1"),
            "hdfs://***@nn:9000/x"
        );
    }
}
