//! A library in S3-compatible object storage (`--library s3://bucket/prefix`): Ceph's gateway,
//! MinIO, AWS. Objects under the prefix are tracks by the same rules as files under a folder; each
//! replica keeps a bounded cache of whole objects.
//!
//! - `client`: the clients and the store's own runtime; `listing`: the signed listing;
//! - `ranges`: ranged reads of one object version; `seek`: a seekable reader over them;
//! - `cache`: the replica's bounded copy; `fill`: fetching an object whole into it;
//!   `small_reads`: the small-buffered HTTP client that cold streams read through.
//!
//! A cached track is a local file (sendfile), opened under a lease. A track not cached yet is
//! answered at once, each range read from the store as the response goes, while one fill per
//! object fetches it whole into the cache.

mod cache;
mod client;
mod fill;
mod listing;
mod ranges;
mod seek;
mod small_reads;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use object_store::path::Path as Key;
use percent_encoding::percent_decode_str;

use self::cache::relative_path;
pub use self::cache::{Cache, Lease};
use self::client::Client;
use self::ranges::{ObjectRanges, Version};
use self::seek::ObjectReader;
use super::folder::{open_regular, open_regular_cached};
use super::listing::Listing;
use super::storage::{Content, LocalFile, Opened, SeekRead, Storage};
use super::{LibraryError, lock};

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
    version: Version,
    size: u64,
    modified: SystemTime,
}

/// The object store as the library's storage, with the replica's cache.
#[derive(Debug)]
pub(crate) struct ObjectLibrary {
    client: Client,
    cache: Arc<Cache>,
    /// The last listing, by the path each object has in the cache.
    objects: RwLock<HashMap<PathBuf, Object>>,
    /// Keys skipped as unusable names (each is logged once).
    skipped: Mutex<HashSet<String>>,
}

impl ObjectLibrary {
    /// The store `config` names, cached in `cache`. Contacts nothing yet: a store that is down
    /// makes the replica unready, not unable to start.
    pub(crate) fn new(config: &StoreConfig, cache: Arc<Cache>) -> Result<Self, LibraryError> {
        Ok(Self {
            client: Client::new(config)?,
            cache,
            objects: RwLock::default(),
            skipped: Mutex::default(),
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
        open: impl FnOnce(&Path) -> Option<io::Result<(File, std::fs::Metadata)>>,
    ) -> Option<io::Result<(File, Lease)>> {
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
        Some(Ok((file, lease)))
    }

    /// The cached copy of `object` opened for a response (its validators are the object's).
    fn opened(
        object: &Object,
        cached: Option<io::Result<(File, Lease)>>,
    ) -> Option<io::Result<Opened>> {
        Some(cached?.map(|(file, lease)| Opened {
            len: object.size,
            modified: Some(object.modified),
            etag: unquoted(&object.version.etag),
            content: Content::Local(LocalFile::kept_by(file, lease)),
        }))
    }

    /// Fetches `object` whole into the cache in the background, unless it is there, being
    /// fetched, or cannot fit.
    fn fill(&self, path: &Path, object: &Object) {
        let Some(fill) = self.cache.reserve(path, object.size) else {
            return;
        };
        let store = Arc::clone(&self.client.store);
        let object = object.clone();
        let path = path.to_owned();
        self.client.runtime().spawn(async move {
            let (version, size) = (&object.version, object.size);
            match fill::fetch(&store, version, size, object.modified, fill).await {
                Ok(()) => log::info!("cache: fetched {} ({size} bytes)", version.key),
                Err(err) => log::warn!("cache: fetching {} failed: {err}", path.display()),
            }
        });
    }

    fn store_error(&self, err: io::Error) -> LibraryError {
        LibraryError::Store {
            location: self.client.location.clone(),
            reason: err.to_string(),
        }
    }
}

impl Storage for ObjectLibrary {
    fn location(&self) -> String {
        self.client.location.clone()
    }

    fn list(&self) -> Result<Listing, LibraryError> {
        let listed = listing::list_objects(&self.client).map_err(|err| self.store_error(err))?;
        let mut listing = Listing::default();
        let mut objects = HashMap::with_capacity(listed.len());
        for item in listed {
            // `encoding-type=url`: keys arrive percent-encoded, so that any byte survives the XML.
            let key = percent_decode_str(&item.key)
                .decode_utf8_lossy()
                .into_owned();
            let Some(relative) = key.strip_prefix(&self.client.prefix) else {
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
            if listing.add(relative, &path, item.size, Some(modified)) {
                let key = Key::parse(&key).expect("checked by relative_path");
                let etag = item.etag.unwrap_or_default();
                let object = Object {
                    version: Version { key, etag },
                    size: item.size,
                    modified,
                };
                objects.insert(path, object);
            }
        }
        *self.objects.write().unwrap_or_else(|e| e.into_inner()) = objects;
        Ok(listing)
    }

    fn check(&self) -> Result<(), LibraryError> {
        listing::check(&self.client).map_err(|err| self.store_error(err))
    }

    fn open(&self, path: &Path) -> io::Result<Opened> {
        let object = self.object(path)?;
        if let Some(cached) = Self::opened(&object, self.cached(path, &object, blocking)) {
            return cached;
        }
        self.fill(path, &object);
        Ok(Opened {
            len: object.size,
            modified: Some(object.modified),
            etag: unquoted(&object.version.etag),
            content: Content::Ranged(Box::new(ObjectRanges {
                store: Arc::clone(&self.client.stream_store),
                runtime: self.client.runtime().clone(),
                version: object.version,
            })),
        })
    }

    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        let object = self.object(path).ok()?;
        Self::opened(&object, self.cached(path, &object, open_regular_cached))
    }

    /// The whole cached copy, leased while it is read; else the object itself, block by block.
    fn reader(&self, path: &Path) -> io::Result<Box<dyn SeekRead>> {
        let object = self.object(path)?;
        if let Some(Ok((file, lease))) = self.cached(path, &object, blocking) {
            return Ok(Box::new(Leased(BufReader::new(file), lease)));
        }
        Ok(Box::new(ObjectReader::new(
            Arc::clone(&self.client.store),
            self.client.runtime().clone(),
            object.version,
            object.size,
        )))
    }
}

/// A cached file read under its lease.
struct Leased(
    BufReader<File>,
    #[allow(dead_code, reason = "held, not read")] Lease,
);

impl io::Read for Leased {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl io::Seek for Leased {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.0.seek(to)
    }
}

/// Opens a cached file, waiting for the disk if need be (on a blocking thread).
fn blocking(path: &Path) -> Option<io::Result<(File, std::fs::Metadata)>> {
    Some(open_regular(path))
}

/// An ETag as the HTTP layer wants it: without its quotes.
fn unquoted(etag: &str) -> String {
    etag.trim_start_matches("W/").trim_matches('"').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
