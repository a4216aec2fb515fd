//! Setting up the object store's clients from `--library s3://bucket/prefix`, the endpoint and the
//! region, and the small runtime all store I/O runs on (the blocking calls of the storage seam wait
//! on it from the blocking pool).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{HttpClient, HttpConnector as _, ReqwestConnector};
use object_store::{ClientOptions, RetryConfig};
use tokio::runtime::Runtime;

use super::StoreConfig;
use super::cache::relative_path;
use super::small_reads::SmallReadsConnector;
use crate::library::LibraryError;

/// The store's clients and where the library is in it.
#[derive(Debug)]
pub(super) struct Client {
    /// `s3://bucket/prefix`, as configured.
    pub(super) location: String,
    /// `<endpoint>/<bucket>`, path-style.
    pub(super) bucket_url: String,
    /// The prefix the keys are listed under, ending in `/` (or empty).
    pub(super) prefix: String,
    pub(super) region: String,
    /// Listings, fills and tag reads: large reads.
    pub(super) store: Arc<AmazonS3>,
    /// Streams of tracks not cached yet: small reads (see `small_reads`).
    pub(super) stream_store: Arc<AmazonS3>,
    /// Signed requests of our own (the listing).
    pub(super) http: HttpClient,
    runtime: Option<Runtime>,
}

impl Drop for Client {
    fn drop(&mut self) {
        // Possibly inside another runtime, which may not block on this one's shutdown.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Client {
    /// The clients for the store `config` names. Contacts nothing yet: a store that is down makes
    /// the replica unready, not unable to start.
    pub(super) fn new(config: &StoreConfig) -> Result<Self, LibraryError> {
        let bad = |reason: String| LibraryError::Store {
            location: config.url.clone(),
            reason,
        };
        let rest = config
            .url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an s3://bucket/prefix address".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket named".into()));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() && relative_path(prefix).is_none() {
            return Err(bad(format!("{prefix:?} is not a usable prefix")));
        }
        // A process-wide TLS provider for https endpoints (ring, as the server uses).
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        let region = builder
            .get_config_value(&AmazonS3ConfigKey::Region)
            .unwrap_or_else(|| "us-east-1".into());
        let endpoint = endpoint
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"))
            .trim_end_matches('/')
            .to_owned();
        let options = ClientOptions::new()
            .with_allow_http(endpoint.starts_with("http://"))
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout_disabled();
        let builder = builder
            .with_region(&region)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options.clone())
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(5),
                ..RetryConfig::default()
            });
        let stream_store = builder
            .clone()
            .with_http_connector(SmallReadsConnector)
            .build()
            .map_err(|err| bad(err.to_string()))?;
        let store = builder.build().map_err(|err| bad(err.to_string()))?;
        let http = ReqwestConnector::default()
            .connect(&options)
            .map_err(|err| bad(err.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("store")
            .enable_all()
            .build()
            .map_err(|err| bad(err.to_string()))?;
        Ok(Self {
            location: config.url.clone(),
            bucket_url: format!("{endpoint}/{bucket}"),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            region,
            store: Arc::new(store),
            stream_store: Arc::new(stream_store),
            http,
            runtime: Some(runtime),
        })
    }

    /// The runtime store I/O runs on.
    pub(super) fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime
            .as_ref()
            .expect("taken only when dropped")
            .handle()
    }

    /// Runs `future` on the store's runtime and waits for it, at most `timeout` (from a blocking
    /// thread).
    pub(super) fn block_on<T: Send + 'static>(
        &self,
        timeout: Duration,
        future: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        block_on(self.runtime(), timeout, future)
    }
}

/// [`Client::block_on`] on a runtime `handle`.
pub(super) fn block_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    timeout: Duration,
    future: impl Future<Output = io::Result<T>> + Send + 'static,
) -> io::Result<T> {
    handle.block_on(async move {
        tokio::time::timeout(timeout, future)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the store did not answer"))?
    })
}
