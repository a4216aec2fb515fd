//! The HTTP client that streams of tracks not cached yet read the store through: hyper with a
//! small read buffer, so that a listener who pauses holds kilobytes, not megabytes.
//!
//! object_store's default client (reqwest) gives hyper its adaptive read buffer, which grows to
//! 400 KiB on a fast store, and every piece handed on shares that allocation: 200 paused cold
//! streams held 1,990 KiB each (`cargo bench --bench store`); with 16 KiB reads and two pieces
//! queued, 108 KiB; with 8 KiB reads and one piece, 51–56 KiB, and one cold stream still reads at
//! 363 MB/s. Fills and listings keep the default client, where large reads are what is wanted.

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::client::{
    HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody, HttpResponse,
    HttpResponseBody, HttpService,
};
use object_store::{ClientOptions, client::HttpConnector as Connector};
use rustls_platform_verifier::ConfigVerifierExt as _;

/// Most bytes hyper reads from the store's socket at a time (its minimum).
pub(crate) const READ_BUFFER: usize = 8 * 1024;

/// Makes [`SmallReads`] clients for object_store.
#[derive(Debug, Default)]
pub(crate) struct SmallReadsConnector;

impl Connector for SmallReadsConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let tls = rustls::ClientConfig::with_platform_verifier().map_err(|err| {
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(err),
            }
        })?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(std::time::Duration::from_secs(3)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .http1_max_buf_size(READ_BUFFER)
            .build(https);
        Ok(HttpClient::new(SmallReads(client)))
    }
}

/// hyper's client with a bounded read buffer.
#[derive(Debug)]
struct SmallReads(Client<HttpsConnector<HttpConnector>, HttpRequestBody>);

#[async_trait::async_trait]
impl HttpService for SmallReads {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let res = self
            .0
            .request(req)
            .await
            .map_err(|err| HttpError::new(HttpErrorKind::Connect, err))?;
        Ok(res.map(|body| {
            HttpResponseBody::new(
                body.map_frame(|frame| frame.map_data(Bytes::from))
                    .map_err(|err| HttpError::new(HttpErrorKind::Decode, err)),
            )
        }))
    }
}
