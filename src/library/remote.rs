//! A library in S3-compatible object storage (`--library s3://bucket/prefix`): Ceph's gateway,
//! MinIO, AWS. Objects under the prefix are tracks by the same rules as files under a folder; each
//! replica keeps a bounded cache of whole objects (see [`super::cache`]).
//!
//! - **Listing**: a signed `ListObjectsV2` of our own (signed by object_store's `AwsAuthorizer`).
//!   object_store's own listing fails as a whole at the first key it cannot represent (`a/../b`,
//!   `a//b`: S3 stores any key), so one hostile object would freeze the library; here every key is
//!   checked by [`relative_path`] and the ones that fail are skipped with a warning.
//! - **A cached track** is a local file: the normal path (sendfile), under a lease.
//! - **A track not cached yet** is answered at once: each range is read from the store as the
//!   response goes (two chunks in flight at most), while one fill per object fetches it whole into
//!   the cache. Reads and fills name the listed ETag (`If-Match`), so bytes of a replaced object are
//!   never mixed with the old ones.
//!
//! All store I/O runs on a small runtime of its own; the blocking calls of the `Storage` seam wait
//! on it from the blocking pool.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer};
use object_store::client::{HttpClient, HttpConnector as _, HttpRequestBody, ReqwestConnector};
use object_store::path::Path as Key;
use object_store::{ClientOptions, GetOptions, GetRange, ObjectStore as _, RetryConfig};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

use super::cache::{Cache, Fill, relative_path};
use super::storage::{Opened, Source, Storage, open_regular, open_regular_cached};
use super::store_client::SmallReadsConnector;
use super::tags::{self, Image, Tags};
use super::walk::Walk;
use super::{LibraryError, lock};

/// How long the store has to answer a request (its head; a body may then take as long as the
/// listener does).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a body from the store may stall before the read fails.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a readiness check waits for the store.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// What of an uncached file is fetched to read its tags: its head (tags, headers, an embedded
/// cover) and its tail (ID3v1, APE, the last Ogg page).
const TAG_HEAD: u64 = 512 * 1024;
const TAG_TAIL: u64 = 128 * 1024;

/// RFC 3986 unreserved characters: what SigV4 leaves unencoded in a query.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where the library's objects are, as given on the command line.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// The S3 endpoint (`http://127.0.0.1:7480`); by default AWS's, or `AWS_ENDPOINT`.
    pub endpoint: Option<String>,
    /// The region; by default `AWS_REGION`, else `us-east-1`.
    pub region: Option<String>,
}

/// One listed object.
#[derive(Debug, Clone)]
struct Object {
    key: Key,
    size: u64,
    modified: SystemTime,
    /// As the store gives it, quoted.
    etag: String,
}

/// The object store as the library's storage, with the replica's cache.
#[derive(Debug)]
pub(crate) struct ObjectLibrary {
    location: String,
    bucket_url: String,
    /// The prefix the keys are listed under, ending in `/` (or empty).
    prefix: String,
    region: String,
    /// Listings, fills and tag reads: large reads.
    store: Arc<AmazonS3>,
    /// Streams of tracks not cached yet: small reads (see `store_client`).
    stream_store: Arc<AmazonS3>,
    http: HttpClient,
    cache: Arc<Cache>,
    /// The last listing, by the path each object has in the cache.
    objects: RwLock<HashMap<PathBuf, Object>>,
    /// Keys skipped as unusable names (each is logged once).
    skipped: Mutex<HashSet<String>>,
    runtime: Option<Runtime>,
}

impl Drop for ObjectLibrary {
    fn drop(&mut self) {
        // Possibly inside another runtime, which may not block on this one's shutdown.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl ObjectLibrary {
    /// The store `config` names, cached in `cache`. Contacts nothing yet: a store that is down
    /// makes the replica unready, not unable to start.
    pub(crate) fn new(config: &StoreConfig, cache: Arc<Cache>) -> Result<Self, LibraryError> {
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
            cache,
            objects: RwLock::default(),
            skipped: Mutex::default(),
            runtime: Some(runtime),
        })
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("taken only when dropped")
    }

    /// Runs `future` on the store's runtime and waits for it (from a blocking thread).
    fn block_on<T: Send + 'static>(
        &self,
        timeout: Duration,
        future: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        self.runtime().block_on(async move {
            tokio::time::timeout(timeout, future)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the store did not answer"))?
        })
    }

    fn object(&self, path: &Path) -> io::Result<Object> {
        self.objects
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not in the store's listing"))
    }

    /// The cached copy of `object`, leased, if the cache holds one that matches it, opened with
    /// `open` (`None` from it: the file cannot be opened without waiting).
    fn cached(
        &self,
        path: &Path,
        object: &Object,
        open: impl FnOnce(&Path) -> Option<io::Result<(File, fs::Metadata)>>,
    ) -> Option<io::Result<Opened>> {
        let lease = self.cache.lease(path)?;
        let (file, metadata) = match open(path)? {
            Ok(opened) => opened,
            Err(err) => return Some(Err(err)),
        };
        if metadata.len() != object.size || metadata.modified().ok() != Some(object.modified) {
            drop(lease);
            self.cache.discard(path);
            return None;
        }
        Some(Ok(Opened {
            file,
            metadata,
            etag: unquoted(&object.etag),
            source: Source::File(Some(lease)),
        }))
    }

    /// Fetches `object` whole into the cache in the background, unless it is there, being
    /// fetched, or cannot fit.
    fn fill(&self, path: &Path, object: &Object) {
        let Some(fill) = self.cache.reserve(path, object.size) else {
            return;
        };
        let store = Arc::clone(&self.store);
        let object = object.clone();
        let path = path.to_owned();
        self.runtime().spawn(async move {
            match fetch(&store, &object, fill).await {
                Ok(()) => log::info!("cache: fetched {} ({} bytes)", object.key, object.size),
                Err(err) => log::warn!("cache: fetching {} failed: {err}", path.display()),
            }
        });
    }

    /// One page of `ListObjectsV2`.
    async fn list_page(
        store: &AmazonS3,
        http: &HttpClient,
        region: &str,
        url: String,
    ) -> io::Result<ListPage> {
        let credential = store
            .credentials()
            .get_credential()
            .await
            .map_err(store_error)?;
        let mut request = http::Request::get(url)
            .body(HttpRequestBody::empty())
            .map_err(io::Error::other)?;
        AwsAuthorizer::new(&credential, "s3", region)
            .try_authorize(&mut request, None)
            .map_err(store_error)?;
        let response = http.execute(request).await.map_err(unavailable)?;
        let status = response.status();
        let body = response.into_body().bytes().await.map_err(unavailable)?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(unavailable(format!("listing answered {status}: {text}")));
        }
        quick_xml::de::from_reader(&body[..]).map_err(io::Error::other)
    }

    /// Every object under the prefix.
    fn list_objects(&self) -> io::Result<Vec<ListedObject>> {
        let (store, http) = (Arc::clone(&self.store), self.http.clone());
        let (region, base, prefix) = (
            self.region.clone(),
            self.bucket_url.clone(),
            self.prefix.clone(),
        );
        self.block_on(Duration::from_secs(300), async move {
            let mut objects = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut query = format!(
                    "encoding-type=url&list-type=2&prefix={}",
                    utf8_percent_encode(&prefix, QUERY)
                );
                if let Some(token) = &token {
                    // Parameters in order, as SigV4 signs them.
                    let token = utf8_percent_encode(token, QUERY);
                    query = format!("continuation-token={token}&{query}");
                }
                let url = format!("{base}?{query}");
                let page = tokio::time::timeout(
                    ANSWER_TIMEOUT,
                    Self::list_page(&store, &http, &region, url),
                )
                .await
                .map_err(|_| unavailable("the store did not answer"))??;
                objects.extend(page.contents);
                match page.next_continuation_token {
                    Some(next) if page.is_truncated => token = Some(next),
                    _ => return Ok(objects),
                }
            }
        })
    }

    /// The bytes of `range` of `object`, whole.
    fn read_range(&self, object: &Object, range: Range<u64>) -> io::Result<Bytes> {
        let store = Arc::clone(&self.store);
        let (key, etag) = (object.key.clone(), object.etag.clone());
        self.block_on(STALL_TIMEOUT, async move {
            let options = GetOptions {
                range: Some(GetRange::Bounded(range)),
                if_match: Some(etag),
                ..GetOptions::default()
            };
            let result = store.get_opts(&key, options).await.map_err(store_error)?;
            result.bytes().await.map_err(store_error)
        })
    }

    /// What of the object at `path` lofty needs: the whole cached copy, else its head and tail.
    fn tag_reader(&self, path: &Path) -> io::Result<Box<dyn ReadSeek>> {
        let object = self.object(path)?;
        if let Some(Ok(opened)) = self.cached(path, &object, blocking) {
            return Ok(Box::new(io::BufReader::new(opened.file)));
        }
        let head_len = object.size.min(TAG_HEAD);
        let head = if head_len > 0 {
            self.read_range(&object, 0..head_len)?
        } else {
            Bytes::new()
        };
        let tail_start = object.size.saturating_sub(TAG_TAIL).max(head_len);
        let tail = if tail_start < object.size {
            self.read_range(&object, tail_start..object.size)?
        } else {
            Bytes::new()
        };
        Ok(Box::new(Sparse {
            len: object.size,
            head,
            tail_start,
            tail,
            position: 0,
        }))
    }
}

impl Storage for ObjectLibrary {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list(&self) -> Result<Walk, LibraryError> {
        let listed = self.list_objects().map_err(|err| LibraryError::Store {
            location: self.location.clone(),
            reason: err.to_string(),
        })?;
        let mut walk = Walk::default();
        walk.folders.push(self.cache.root().to_owned());
        let mut objects = HashMap::with_capacity(listed.len());
        for item in listed {
            // `encoding-type=url`: keys arrive percent-encoded, so that any byte survives the XML.
            let key = percent_decode_str(&item.key)
                .decode_utf8_lossy()
                .into_owned();
            let Some(relative) = key.strip_prefix(&self.prefix) else {
                continue;
            };
            if relative.is_empty() || relative.ends_with('/') {
                continue; // a "folder" marker
            }
            let Some(cache_path) = relative_path(relative) else {
                // Once per key, not at every listing.
                if lock(&self.skipped).insert(key.clone()) {
                    log::warn!("skipping object {key:?}: not a usable track name");
                }
                continue;
            };
            let path = self.cache.root().join(&cache_path);
            let modified = SystemTime::from(item.last_modified);
            if walk.add_listed(relative, &path, item.size, Some(modified)) {
                let key = Key::parse(&key).expect("checked by relative_path");
                let object = Object {
                    key,
                    size: item.size,
                    modified,
                    etag: item.etag.unwrap_or_default(),
                };
                objects.insert(path, object);
            }
        }
        walk.sort();
        *self.objects.write().unwrap_or_else(|e| e.into_inner()) = objects;
        Ok(walk)
    }

    fn check(&self) -> Result<(), LibraryError> {
        let (store, http, region) = (
            Arc::clone(&self.store),
            self.http.clone(),
            self.region.clone(),
        );
        let url = format!("{}?list-type=2&max-keys=1", self.bucket_url);
        self.block_on(CHECK_TIMEOUT, async move {
            Self::list_page(&store, &http, &region, url).await.map(drop)
        })
        .map_err(|err| LibraryError::Store {
            location: self.location.clone(),
            reason: err.to_string(),
        })
    }

    fn open(&self, path: &Path) -> io::Result<Opened> {
        let object = self.object(path)?;
        if let Some(cached) = self.cached(path, &object, blocking) {
            return cached;
        }
        self.fill(path, &object);
        // What the response is negotiated against: the object's length and date, no data.
        let stand_in = tempfile::tempfile_in(self.cache.root().join(".partial"))?;
        stand_in.set_len(object.size)?;
        stand_in.set_modified(object.modified)?;
        let metadata = stand_in.metadata()?;
        Ok(Opened {
            file: stand_in,
            metadata,
            etag: unquoted(&object.etag),
            source: Source::Store(Reader {
                store: Arc::clone(&self.stream_store),
                runtime: self.runtime().handle().clone(),
                key: object.key,
                etag: object.etag,
            }),
        })
    }

    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        let object = self.object(path).ok()?;
        self.cached(path, &object, open_regular_cached)
    }

    fn tags(&self, path: &Path) -> Tags {
        Tags::read_from(self.tag_reader(path), path)
    }

    fn embedded_cover(&self, path: &Path) -> Option<Image> {
        tags::embedded_cover_from(self.tag_reader(path).ok()?, path)
    }

    fn read_small(&self, path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
        let object = self.object(path)?;
        if object.size > max {
            return Ok(None);
        }
        if let Some(Ok(opened)) = self.cached(path, &object, blocking) {
            let mut data = Vec::new();
            opened.file.take(max).read_to_end(&mut data)?;
            return Ok(Some(data));
        }
        let size = object.size;
        Ok(Some(self.read_range(&object, 0..size)?.to_vec()))
    }
}

/// Reads an object's ranges for one response.
#[derive(Debug)]
pub struct Reader {
    store: Arc<AmazonS3>,
    runtime: tokio::runtime::Handle,
    key: Key,
    etag: String,
}

/// The bytes of one range as they arrive from the store.
#[derive(Debug)]
pub struct Chunks(mpsc::Receiver<io::Result<Bytes>>);

impl Chunks {
    /// The next piece; `None` once the range is complete.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        self.0.poll_recv(cx)
    }
}

impl Reader {
    /// Starts reading `range`; ready once the store has answered (an error if it does not within
    /// [`ANSWER_TIMEOUT`], or no longer has this version of the object). At most one piece (of
    /// at most `store_client::READ_BUFFER` bytes) waits in memory for the listener.
    pub fn read(
        &self,
        range: Range<u64>,
    ) -> impl Future<Output = io::Result<Chunks>> + Send + 'static {
        let (tx, rx) = mpsc::channel(1);
        let (answered, answer) = oneshot::channel();
        let store = Arc::clone(&self.store);
        let key = self.key.clone();
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            if_match: Some(self.etag.clone()),
            ..GetOptions::default()
        };
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
        async move {
            answer
                .await
                .map_err(|_| unavailable("the store's runtime has stopped"))??;
            Ok(Chunks(rx))
        }
    }
}

/// Fetches `object` whole into a partial file, then moves it into place.
async fn fetch(store: &AmazonS3, object: &Object, fill: Fill) -> io::Result<()> {
    let mut file = fill.partial()?;
    let options = GetOptions {
        if_match: Some(object.etag.clone()),
        ..GetOptions::default()
    };
    let result = tokio::time::timeout(ANSWER_TIMEOUT, store.get_opts(&object.key, options))
        .await
        .map_err(|_| unavailable("the store did not answer"))?
        .map_err(store_error)?;
    let mut body = result.into_stream();
    let mut written = 0;
    while let Some(piece) = tokio::time::timeout(STALL_TIMEOUT, body.next())
        .await
        .map_err(|_| unavailable("the store stopped sending"))?
    {
        let piece = piece.map_err(store_error)?;
        // The cache is a local disk: writes land in the page cache.
        file.write_all(&piece)?;
        written += piece.len() as u64;
    }
    if written != object.size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("got {written} of {} bytes", object.size),
        ));
    }
    file.as_file().set_modified(object.modified)?;
    fill.commit(file)
}

/// Opens a cached file, waiting for the disk if need be (on a blocking thread).
fn blocking(path: &Path) -> Option<io::Result<(File, fs::Metadata)>> {
    Some(open_regular(path))
}

/// An ETag as the HTTP layer wants it: without its quotes.
fn unquoted(etag: &str) -> String {
    etag.trim_start_matches("W/").trim_matches('"').to_owned()
}

/// A store error as I/O: gone (or replaced since the listing) is `NotFound`; anything else means
/// the store cannot serve it now.
fn store_error(err: object_store::Error) -> io::Error {
    match err {
        object_store::Error::NotFound { .. } | object_store::Error::Precondition { .. } => {
            io::Error::new(io::ErrorKind::NotFound, err)
        }
        err => unavailable(err),
    }
}

/// The store cannot answer now: the HTTP layer's 503 with `Retry-After`.
fn unavailable(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, err)
}

/// One page of a `ListObjectsV2` answer.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPage {
    #[serde(default)]
    contents: Vec<ListedObject>,
    #[serde(default)]
    is_truncated: bool,
    next_continuation_token: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedObject {
    key: String,
    size: u64,
    last_modified: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "ETag")]
    etag: Option<String>,
}

/// What lofty reads from.
trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// An object of `len` bytes of which only the head and the tail were fetched; the rest reads as
/// zeros (never served: only tags are read from it).
struct Sparse {
    len: u64,
    head: Bytes,
    tail_start: u64,
    tail: Bytes,
    position: u64,
}

impl Read for Sparse {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.position;
        if at >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let head_len = self.head.len() as u64;
        let n = if at < head_len {
            let part = &self.head[at as usize..];
            let n = part.len().min(buf.len());
            buf[..n].copy_from_slice(&part[..n]);
            n
        } else if at >= self.tail_start {
            let part = &self.tail[(at - self.tail_start) as usize..];
            let n = part.len().min(buf.len());
            buf[..n].copy_from_slice(&part[..n]);
            n
        } else {
            let n = ((self.tail_start - at) as usize).min(buf.len());
            buf[..n].fill(0);
            n
        };
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Sparse {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = position
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_object_reads_its_head_and_tail_and_zeros_between() {
        let mut sparse = Sparse {
            len: 10,
            head: Bytes::from_static(b"ab"),
            tail_start: 7,
            tail: Bytes::from_static(b"xyz"),
            position: 0,
        };
        let mut all = Vec::new();
        sparse.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"ab\0\0\0\0\0xyz");
        sparse.seek(SeekFrom::End(-2)).unwrap();
        let mut two = [0; 2];
        sparse.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"yz");
        assert!(sparse.seek(SeekFrom::Current(-20)).is_err());
    }

    #[test]
    fn bad_addresses_are_refused_before_anything_starts() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 1000).unwrap();
        for url in [
            "http://bucket",
            "s3://",
            "s3:///prefix",
            "s3://bucket/../up",
        ] {
            let config = StoreConfig {
                url: url.into(),
                endpoint: Some("http://127.0.0.1:9".into()),
                region: None,
            };
            let err = ObjectLibrary::new(&config, Arc::clone(&cache)).unwrap_err();
            assert!(err.to_string().contains(url), "{err}");
        }
    }

    #[test]
    fn unreadable_keys_do_not_stop_a_listing_page() {
        let xml = r#"<ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>a%2F..%2F..%2Fx.mp3</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>3</Size></Contents>
            <Contents><Key>ok.mp3</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>"f"</ETag><Size>4</Size></Contents>
            </ListBucketResult>"#;
        let page: ListPage = quick_xml::de::from_str(xml).unwrap();
        assert_eq!(page.contents.len(), 2);
        let keys: Vec<_> = page
            .contents
            .iter()
            .map(|c| percent_decode_str(&c.key).decode_utf8_lossy().into_owned())
            .filter(|k| relative_path(k).is_some())
            .collect();
        assert_eq!(keys, ["ok.mp3"]);
    }
}
