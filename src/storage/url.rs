//! Storage locations as BR names them: URLs (`local:///backup`, `s3://bucket/prefix?...`) and the
//! base64 `StorageBackend` protobuf that `br operator base64ify` prints.
//!
//! Both forms are parsed into the same `StorageBackend` message, as BR's `ParseBackend` does
//! (pingcap/tidb `br/pkg/storage/parse.go`; table in ../shared/spec/br-tidb-formats.md §1.3), so the
//! rest of the crate deals with one type only.

use std::path::{Path, PathBuf};

use base64::Engine;
use prost::Message;

use crate::proto::backup::{storage_backend::Backend, Hdfs, Local, Noop, StorageBackend};
use crate::{Error, Result};

/// Parses a BR storage URL. A string without a scheme is a local path (relative paths are resolved
/// against the current directory, as BR does).
pub fn parse_url(url: &str) -> Result<StorageBackend> {
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
            return Err(Error::Unsupported(format!(
            "{scheme}:// storage is not available in this build yet; copy the backup to a local \
                 directory and pass it as local:///path"
        )))
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

    fn local_path(backend: &StorageBackend) -> &str {
        match &backend.backend {
            Some(Backend::Local(local)) => &local.path,
            other => panic!("expected local, got {other:?}"),
        }
    }

    #[test]
    fn local_forms() {
        assert_eq!(
            local_path(&parse_url("local:///data/b").unwrap()),
            "/data/b"
        );
        assert_eq!(local_path(&parse_url("file:///data/b").unwrap()), "/data/b");
        assert_eq!(
            local_path(&parse_url("LOCAL:///data/b").unwrap()),
            "/data/b"
        );
        assert_eq!(local_path(&parse_url("/data/b").unwrap()), "/data/b");
        let relative = parse_url("some/dir").unwrap();
        assert!(Path::new(local_path(&relative)).is_absolute());
        assert!(local_path(&relative).ends_with("some/dir"));
    }

    #[test]
    fn empty_local_path_is_a_usage_error() {
        let err = parse_url("local://").unwrap_err().to_string();
        assert!(err.contains("has no path"), "{err}");
    }

    #[test]
    fn cloud_schemes_are_unsupported_for_now() {
        for url in [
            "s3://b/p?access-key=AK&secret-access-key=SECRET",
            "gcs://b/p",
            "azure://c/p",
        ] {
            let err = parse_url(url).unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)), "{err}");
            assert!(!err.to_string().contains("SECRET"));
        }
    }

    #[test]
    fn unknown_scheme_hides_query() {
        let err = parse_url("ftp://u:pw@host/x?token=SECRET")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown storage scheme \"ftp\""), "{err}");
        assert!(!err.contains("SECRET") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn base64_round_trip() {
        let backend = parse_url("local:///tmp/backup").unwrap();
        let encoded = to_base64(&backend);
        assert_eq!(parse_base64(&encoded).unwrap(), backend);
        // Local{path: "/x"} hand-encoded: field 2 (local) len 4 { field 1 len 2 "/x" }.
        assert_eq!(
            local_path(&parse_base64("EgQKAi94").unwrap()),
            "/x",
            "decodes bytes 12 04 0a 02 2f 78"
        );
    }

    #[test]
    fn bad_base64() {
        let err = parse_base64("!!!").unwrap_err().to_string();
        assert!(err.contains("not valid base64"), "{err}");
        let err = parse_base64("").unwrap_err().to_string();
        assert!(err.contains("names no backend"), "{err}");
    }

    #[test]
    fn describe_never_prints_secrets() {
        let backend = StorageBackend {
            backend: Some(Backend::S3(crate::proto::backup::S3 {
                bucket: "b".into(),
                prefix: "p".into(),
                access_key: "AKIA".into(),
                secret_access_key: "SECRET".into(),
                ..Default::default()
            })),
        };
        assert_eq!(describe(&backend), "s3://b/p");
        assert_eq!(
            redact_url("hdfs://user:pw@nn:9000/x?y=1"),
            "hdfs://***@nn:9000/x"
        );
    }
}
