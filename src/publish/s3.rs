//! The S3 target (`s3://bucket/prefix`): AWS or any S3-compatible store
//! (MinIO, Scaleway, OVHcloud, Cloudflare R2, Garage…) through the
//! `object_store` crate.
//!
//! Each file is one PUT, which the store makes visible whole or not at all,
//! with the Content-Type and Cache-Control the store will serve it with.
//! Credentials come only from the standard AWS environment variables; the
//! endpoint and region from the target, else `AWS_ENDPOINT_URL` and
//! `AWS_REGION` / `AWS_DEFAULT_REGION`. The small runtime the HTTP client
//! needs is started here, only when an S3 target is published to.

use std::net::IpAddr;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};
use tokio::runtime::Runtime;

use super::remote::{Remote, RemoteError, Upload};
use super::target::S3Target;

/// Where the manifest of the last complete publish lives, under the prefix.
pub const MANIFEST: &str = ".atelier-manifest.json";

/// The environment variables that may hold credentials; without one of
/// them the client would ask the cloud's instance metadata service, which a
/// trainer's laptop does not have.
const CREDENTIAL_VARIABLES: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// The `AWS_*` variables the store's client is configured from, read from
/// the process by [`S3Environment::from_env`]; tests give their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Environment {
    /// `(name, value)` pairs, such as `("AWS_ACCESS_KEY_ID", "…")`.
    pub variables: Vec<(String, String)>,
}

impl S3Environment {
    /// Every `AWS_*` variable of the process environment.
    pub fn from_env() -> S3Environment {
        S3Environment {
            variables: std::env::vars()
                .filter(|(name, _)| name.starts_with("AWS_"))
                .collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }
}

/// Connects to `target` with the credentials of the process environment.
pub fn connect(target: &S3Target) -> Result<Box<dyn Remote>, RemoteError> {
    connect_with(target, &S3Environment::from_env())
}

/// Connects to `target` with the credentials and settings of `environment`,
/// and checks the bucket is there before anything is sent.
pub fn connect_with(
    target: &S3Target,
    environment: &S3Environment,
) -> Result<Box<dyn Remote>, RemoteError> {
    let described = describe(target, environment);
    if !CREDENTIAL_VARIABLES
        .iter()
        .any(|name| environment.get(name).is_some())
        && environment.get("AWS_SKIP_SIGNATURE") != Some("true")
    {
        return Err(RemoteError::Refused(format!(
            "no credentials for {described}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (never in the project's files)"
        )));
    }
    let store = build(target, environment)
        .map_err(|error| RemoteError::Failed(format!("cannot use {described}: {error}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| RemoteError::Failed(format!("cannot start the S3 client: {error}")))?;
    let remote = S3Remote {
        runtime,
        store,
        prefix: target.prefix.trim_matches('/').to_string(),
        bucket: target.bucket.clone(),
        described,
    };
    remote.check_bucket()?;
    Ok(Box::new(remote))
}

/// `s3://bucket/prefix/`, with the endpoint when it is not AWS.
fn describe(target: &S3Target, environment: &S3Environment) -> String {
    let prefix = target.prefix.trim_matches('/');
    let slash = if prefix.is_empty() { "" } else { "/" };
    let base = format!("s3://{}/{prefix}{slash}", target.bucket);
    match endpoint(target, environment) {
        Some(endpoint) => format!("{base} at {endpoint}"),
        None => base,
    }
}

fn endpoint<'a>(target: &'a S3Target, environment: &'a S3Environment) -> Option<&'a str> {
    target
        .endpoint
        .as_deref()
        .or_else(|| environment.get("AWS_ENDPOINT_URL"))
        .or_else(|| environment.get("AWS_ENDPOINT"))
}

fn build(target: &S3Target, environment: &S3Environment) -> object_store::Result<AmazonS3> {
    let mut builder = AmazonS3Builder::new();
    for (name, value) in &environment.variables {
        if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(key, value);
        }
    }
    builder = builder.with_bucket_name(&target.bucket);
    if let Some(region) = &target.region {
        builder = builder.with_region(region);
    }
    let mut client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(120));
    if let Some(endpoint) = endpoint(target, environment) {
        builder = builder.with_endpoint(endpoint);
        if is_loopback_http(endpoint) {
            // A store on this machine (a test server, a local MinIO):
            // plain HTTP, paths rather than bucket host names.
            client = client.with_allow_http(true);
            builder = builder.with_virtual_hosted_style_request(false);
        }
    }
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 2,
        retry_timeout: Duration::from_secs(30),
    };
    builder
        .with_client_options(client)
        .with_retry(retry)
        .build()
}

/// Whether `endpoint` is `http://` to this machine.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// A bucket, a prefix in it, and the runtime the client runs on.
struct S3Remote {
    runtime: Runtime,
    store: AmazonS3,
    prefix: String,
    bucket: String,
    described: String,
}

impl S3Remote {
    fn key(&self, path: &str) -> Result<ObjectPath, RemoteError> {
        let full = if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|error| {
            RemoteError::Failed(format!(
                "refusing to write {path:?} to {}: {error}",
                self.described
            ))
        })
    }

    /// Lists one page under the prefix: a missing bucket, refused
    /// credentials or a wrong endpoint show here, before anything is sent.
    fn check_bucket(&self) -> Result<(), RemoteError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        self.runtime
            .block_on(self.store.list_with_delimiter(prefix.as_ref()))
            .map(|_| ())
            .map_err(|error| match error {
                // S3's own code for it; listing reports it as a generic
                // 404 rather than as a missing object.
                _ if reason(&error).contains("NoSuchBucket") => self.missing_bucket(),
                _ if refused_credentials(&reason(&error)) || denied(&reason(&error)) => {
                    RemoteError::Refused(format!(
                        "{} refused the credentials of AWS_ACCESS_KEY_ID: {}",
                        self.described,
                        reason(&error)
                    ))
                }
                object_store::Error::NotFound { .. } => self.missing_bucket(),
                object_store::Error::Generic { .. } => RemoteError::Unreachable(format!(
                    "cannot list {}: {}",
                    self.described,
                    reason(&error)
                )),
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => RemoteError::Refused(format!(
                    "{} refused the credentials of AWS_ACCESS_KEY_ID: {}",
                    self.described,
                    reason(&error)
                )),
                other => self.error("list", &self.prefix, other),
            })
    }

    fn missing_bucket(&self) -> RemoteError {
        RemoteError::Unreachable(format!(
            "the bucket {} does not exist on {} (create it first; publish never creates \
             buckets)",
            self.bucket, self.described
        ))
    }

    fn error(&self, action: &str, key: &str, error: object_store::Error) -> RemoteError {
        let why = reason(&error);
        match error {
            _ if why.contains("NoSuchBucket") => self.missing_bucket(),
            _ if refused_credentials(&why) => RemoteError::Refused(format!(
                "{} refused the credentials ({action} {key}): {why}",
                self.described
            )),
            _ if denied(&why) => RemoteError::Denied(format!(
                "{} refused to {action} {key} (access denied): check the key's permissions \
                 on the bucket",
                self.described
            )),
            object_store::Error::Unauthenticated { .. } => RemoteError::Refused(format!(
                "{} refused the credentials ({action} {key}): {why}",
                self.described
            )),
            object_store::Error::PermissionDenied { .. } => RemoteError::Denied(format!(
                "{} refused to {action} {key} (access denied): check the key's permissions \
                 on the bucket",
                self.described
            )),
            object_store::Error::NotFound { .. } => RemoteError::Unreachable(format!(
                "{} answered “not found” to {action} {key}: is the bucket still there?",
                self.described
            )),
            _ if is_network(&error) => RemoteError::Unreachable(format!(
                "cannot reach {} ({action} {key}): {why}",
                self.described
            )),
            _ => RemoteError::Failed(format!(
                "{} could not {action} {key}: {why}",
                self.described
            )),
        }
    }
}

/// The innermost cause of `error`, which is what says what happened
/// (“connection refused”, “SignatureDoesNotMatch”…).
fn reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut current = error.source();
    while let Some(cause) = current {
        messages.push(cause.to_string());
        current = cause.source();
    }
    let innermost = messages.pop().unwrap_or_default();
    match (
        xml_field(&innermost, "Code"),
        xml_field(&innermost, "Message"),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => innermost,
    }
}

/// Whether an S3 error code says the credentials are wrong (unknown key,
/// bad secret, expired session): listing reports these as generic errors.
fn refused_credentials(why: &str) -> bool {
    [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "InvalidClientTokenId",
    ]
    .iter()
    .any(|code| why.starts_with(code))
}

/// Whether an S3 error code says the key may not do this.
fn denied(why: &str) -> bool {
    why.starts_with("AccessDenied")
}

/// `<Name>text</Name>` of an S3 error body, which says more than the
/// status line.
fn xml_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("<{name}>"))? + name.len() + 2;
    let length = text[start..].find(&format!("</{name}>"))?;
    Some(&text[start..start + length])
}

/// Whether the failure happened below HTTP: no connection, reset, timeout.
fn is_network(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(cause) = current {
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        current = cause.source();
    }
    false
}

impl Remote for S3Remote {
    fn describe(&self) -> String {
        self.described.clone()
    }

    fn read_manifest(&mut self) -> Result<Option<Vec<u8>>, RemoteError> {
        let key = self.key(MANIFEST)?;
        let read = async {
            match self.store.get(&key).await {
                Ok(result) => result.bytes().await.map(|bytes| Some(bytes.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        };
        self.runtime
            .block_on(read)
            .map_err(|error| self.error("read", key.as_ref(), error))
    }

    fn put(&mut self, file: &Upload<'_>) -> Result<(), RemoteError> {
        let key = self.key(file.path)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, file.content_type.to_string().into());
        attributes.insert(
            Attribute::CacheControl,
            file.cache_control.to_string().into(),
        );
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(file.bytes.to_vec());
        self.runtime
            .block_on(self.store.put_opts(&key, payload, options))
            .map(|_| ())
            .map_err(|error| self.error("write", key.as_ref(), error))
    }

    fn delete(&mut self, path: &str) -> Result<(), RemoteError> {
        let key = self.key(path)?;
        match self.runtime.block_on(self.store.delete(&key)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(self.error("delete", key.as_ref(), error)),
        }
    }

    fn commit(&mut self, manifest: &[u8]) -> Result<(), RemoteError> {
        self.put(&Upload {
            path: MANIFEST,
            bytes: manifest,
            content_type: "application/json",
            cache_control: "no-cache",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_is_let_through() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(is_loopback_http("http://[::1]:9000"));
        assert!(!is_loopback_http("http://s3.example.org"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
        assert!(!is_loopback_http("http://127.0.0.1.example.org"));
    }

    #[test]
    fn s3_error_bodies_are_shortened_to_code_and_message() {
        let body = "Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?>\
                    <Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        let error = std::io::Error::other(body);
        assert_eq!(reason(&error), "AccessDenied: Access Denied");
        assert_eq!(
            reason(&std::io::Error::other("connection refused")),
            "connection refused"
        );
    }

    #[test]
    fn no_credentials_is_refused_before_any_request() {
        let target = S3Target {
            bucket: "formations".into(),
            prefix: "histoire/".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: None,
        };
        let Err(RemoteError::Refused(why)) = connect_with(&target, &S3Environment::default())
        else {
            panic!("expected a refusal");
        };
        assert!(why.contains("AWS_ACCESS_KEY_ID"), "{why}");
        assert!(
            why.contains("s3://formations/histoire/ at http://127.0.0.1:9"),
            "{why}"
        );
    }
}
