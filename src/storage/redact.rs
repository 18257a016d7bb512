//! Keeps credentials out of error messages.
//!
//! `object_store` errors can quote the request URL (Azure SAS tokens travel in the query string)
//! and response bodies. Every error that leaves [`super::ExternalStorage`] goes through
//! [`Redactor::scrub`]: the whole cause chain is rendered to text, each known secret (and its
//! percent-encoded form) becomes `***`, and query strings and user info are cut from every URL in
//! the text. The original error, which still holds the raw text, is dropped.

use std::fmt;

/// The secrets of one storage, and the scrubbing of text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// Secrets shorter than this are not searched for: replacing every "1" in a message would make it
/// unreadable, and such values are not credentials anyway.
const MIN_SECRET_LEN: usize = 4;

impl Redactor {
    /// A redactor for these secrets (empty and very short ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut all = Vec::new();
        for secret in secrets {
            if secret.len() < MIN_SECRET_LEN {
                continue;
            }
            let encoded = percent_encode(&secret);
            if encoded != secret {
                all.push(encoded);
            }
            // Multi-line secrets (a service-account JSON) are also hidden line by line: the
            // private key is what matters and error text may quote only part of it.
            for line in secret.lines().map(str::trim) {
                if line.len() >= 16 && line != secret {
                    all.push(line.to_string());
                }
            }
            all.push(secret);
        }
        // Longest first, so that a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
        Redactor { secrets: all }
    }

    /// Adds more secrets (from the environment, found while building a store).
    pub fn extend(&mut self, secrets: impl IntoIterator<Item = String>) {
        let mut all = std::mem::take(&mut self.secrets);
        all.extend(secrets);
        *self = Redactor::new(all);
    }

    /// `text` without secrets, URL query strings or URL user info.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        strip_url_queries(&out)
    }

    /// Renders `error` and its causes as one line, scrubbed, and wraps it into an `object_store`
    /// error of the same kind (not found stays not found) that holds only the scrubbed text.
    pub fn scrub_error(&self, error: object_store::Error) -> object_store::Error {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        let scrubbed = Box::new(Scrubbed(self.scrub(&text)));
        match error {
            object_store::Error::NotFound { path, .. } => object_store::Error::NotFound {
                path: self.scrub(&path),
                source: scrubbed,
            },
            _ => object_store::Error::Generic {
                store: "object store",
                source: scrubbed,
            },
        }
    }
}

/// Error text that has been scrubbed; it has no source, so nothing unscrubbed is reachable.
#[derive(Debug)]
pub struct Scrubbed(pub String);

impl fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Scrubbed {}

/// Cuts `?query`/`#fragment` and `user:pass@` out of every `scheme://...` in `text`.
fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')'))
            .unwrap_or(after.len());
        let (url_rest, tail) = after.split_at(end);
        let mut url_rest = url_rest;
        if let Some(cut) = url_rest.find(['?', '#']) {
            url_rest = url_rest.get(..cut).unwrap_or_default();
        }
        let authority_end = url_rest.find('/').unwrap_or(url_rest.len());
        match url_rest.get(..authority_end).and_then(|a| a.rfind('@')) {
            Some(at) => {
                out.push_str("***@");
                out.push_str(url_rest.get(at + 1..).unwrap_or_default());
            }
            None => out.push_str(url_rest),
        }
        if url_rest.len() < after.len() - tail.len() {
            out.push_str("?…");
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters (how a secret looks once it
/// sits in a query string).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_queries_are_removed() {
        let r = Redactor::new(["S3CR+T/KEY".to_string(), "ab".to_string()]);
        let text = "Error performing PUT http://127.0.0.1:1/c/x?sv=1&sig=SIGNATURE in 1s: \
                    key S3CR+T/KEY or S3CR%2BT%2FKEY; ab stays";
        let out = r.scrub(text);
        assert_eq!(
            out,
            "Error performing PUT http://127.0.0.1:1/c/x?… in 1s: key *** or ***; ab stays"
        );
    }

    #[test]
    fn user_info_is_removed() {
        let r = Redactor::default();
        assert_eq!(
            r.scrub("see https://user:pw@host:1/p?x=1#f then \"s3://b/k\""),
            "see https://***@host:1/p?… then \"s3://b/k\""
        );
        assert_eq!(r.scrub("no urls here"), "no urls here");
        assert_eq!(r.scrub("trailing ://"), "trailing ://");
    }

    #[test]
    fn scrubbed_errors_keep_not_found_and_drop_the_source() {
        let r = Redactor::new(["TOPSECRET".to_string()]);
        let inner = object_store::Error::Generic {
            store: "S3",
            source: "GET http://h/b/k?X-Amz-Signature=abc failed with TOPSECRET".into(),
        };
        let scrubbed = r.scrub_error(inner);
        let text = scrubbed.to_string();
        assert!(
            !text.contains("TOPSECRET") && !text.contains("abc"),
            "{text}"
        );
        assert!(text.contains("http://h/b/k?…"), "{text}");
        let source = std::error::Error::source(&scrubbed).unwrap();
        assert!(source.source().is_none());

        let nf = object_store::Error::NotFound {
            path: "b/k".into(),
            source: "404 TOPSECRET".into(),
        };
        assert!(matches!(
            r.scrub_error(nf),
            object_store::Error::NotFound { .. }
        ));
    }

    #[test]
    fn multi_line_secrets_are_hidden_line_by_line() {
        let key = "{\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----MIIEvQIBADANBg\"\n}";
        let r = Redactor::new([key.to_string()]);
        let out = r.scrub(
            "parse error near \"private_key\": \"-----BEGIN PRIVATE KEY-----MIIEvQIBADANBg\"",
        );
        assert!(!out.contains("MIIEvQIBADANBg"), "{out}");
    }
}
