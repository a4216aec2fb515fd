//! Ranged reads of one object version: streamed for a response ([`ObjectRanges`], at most one
//! piece waiting for the listener), or whole for a reader ([`read_range`]). Every read names the
//! listed ETag (`If-Match`), so bytes of a replaced object are never mixed with the old ones.

use std::future::Future;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use object_store::aws::AmazonS3;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore as _};
use tokio::sync::oneshot;

use crate::library::storage::{Chunks, RangedRead};

/// How long the store has to answer a request (its head; a body may then take as long as the
/// listener does).
pub(super) const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a body from the store may stall before the read fails.
pub(super) const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a readiness check waits for the store.
pub(super) const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One version of one object: what every read names.
#[derive(Debug, Clone)]
pub(super) struct Version {
    pub(super) key: Key,
    /// As the store gives it, quoted.
    pub(super) etag: String,
}

impl Version {
    fn options(&self, range: Option<Range<u64>>) -> GetOptions {
        GetOptions {
            range: range.map(GetRange::Bounded),
            if_match: Some(self.etag.clone()),
            ..GetOptions::default()
        }
    }
}

/// The ranges of one object version, read for one response through the small-buffered client.
#[derive(Debug)]
pub(super) struct ObjectRanges {
    pub(super) store: Arc<AmazonS3>,
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) version: Version,
}

impl RangedRead for ObjectRanges {
    /// At most one piece (of at most `small_reads::READ_BUFFER` bytes) waits in memory for the
    /// listener; an error if the store does not answer within [`ANSWER_TIMEOUT`].
    fn read(&self, range: Range<u64>) -> Pin<Box<dyn Future<Output = io::Result<Chunks>> + Send>> {
        let (tx, chunks) = Chunks::channel(1);
        let (answered, answer) = oneshot::channel();
        let store = Arc::clone(&self.store);
        let key = self.version.key.clone();
        let options = self.version.options(Some(range));
        self.runtime.spawn(async move {
            let result =
                match tokio::time::timeout(ANSWER_TIMEOUT, store.get_opts(&key, options)).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(err)) => return answered.send(Err(store_error(err))),
                    Err(_) => return answered.send(Err(unavailable("the store did not answer"))),
                };
            let _ = answered.send(Ok(()));
            let mut body = result.into_stream();
            loop {
                let piece = match tokio::time::timeout(STALL_TIMEOUT, body.next()).await {
                    Ok(None) => break,
                    Ok(Some(piece)) => piece.map_err(store_error),
                    Err(_) => Err(unavailable("the store stopped sending")),
                };
                let failed = piece.is_err();
                if tx.send(piece).await.is_err() || failed {
                    break;
                }
            }
            Ok(())
        });
        Box::pin(async move {
            answer
                .await
                .map_err(|_| unavailable("the store's runtime has stopped"))??;
            Ok(chunks)
        })
    }
}

/// The bytes of `range` of `version`, whole (or the whole object with `None`).
pub(super) async fn read_range(
    store: &AmazonS3,
    version: &Version,
    range: Option<Range<u64>>,
) -> io::Result<Bytes> {
    let result = tokio::time::timeout(
        ANSWER_TIMEOUT,
        store.get_opts(&version.key, version.options(range)),
    )
    .await
    .map_err(|_| unavailable("the store did not answer"))?
    .map_err(store_error)?;
    tokio::time::timeout(STALL_TIMEOUT, result.bytes())
        .await
        .map_err(|_| unavailable("the store stopped sending"))?
        .map_err(store_error)
}

/// The whole body of `version` as it arrives, for a fill.
pub(super) async fn stream_whole(
    store: &AmazonS3,
    version: &Version,
) -> io::Result<impl futures_util::Stream<Item = object_store::Result<Bytes>>> {
    let result = tokio::time::timeout(
        ANSWER_TIMEOUT,
        store.get_opts(&version.key, version.options(None)),
    )
    .await
    .map_err(|_| unavailable("the store did not answer"))?
    .map_err(store_error)?;
    Ok(result.into_stream())
}

/// A store error as I/O: gone (or replaced since the listing) is `NotFound`; anything else means
/// the store cannot serve it now.
pub(super) fn store_error(err: object_store::Error) -> io::Error {
    match err {
        object_store::Error::NotFound { .. } | object_store::Error::Precondition { .. } => {
            io::Error::new(io::ErrorKind::NotFound, err)
        }
        err => unavailable(err),
    }
}

/// The store cannot answer now: the HTTP layer's 503 with `Retry-After`.
pub(super) fn unavailable(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, err)
}
