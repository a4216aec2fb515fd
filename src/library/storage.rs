//! The storage seam: where the tracks' bytes live. The scan lists through it, tags and covers are
//! read through it and handlers open through it; none of them names an implementation (the local
//! folder is in `folder/`, the object store in `store/`, chosen once at start-up).
//!
//! Every call may block (a cold disk, a stalled network mount, the object store): callers run them
//! on a blocking thread, except [`Storage::open_cached`], which never waits.

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek};
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rustix::io::{Errno, IoSliceMut, ReadWriteFlags};
use tokio::sync::mpsc;

use super::LibraryError;
use super::listing::Listing;

/// A place tracks are read from.
pub(crate) trait Storage: fmt::Debug + Send + Sync {
    /// Where the tracks live, as people know it (the folder's path, the store's address).
    fn location(&self) -> String;

    /// Lists every audio file and cover image; fails only when the whole store cannot be read.
    fn list(&self) -> Result<Listing, LibraryError>;

    /// Opens one listed track for one response, with its validators. A file that has gone, or
    /// that is no longer a regular file (replaced by a folder, a FIFO, a device), is `NotFound`;
    /// storage that cannot answer now is `NotConnected` or `TimedOut`.
    fn open(&self, path: &Path) -> io::Result<Opened>;

    /// [`Storage::open`] if it can be done without waiting on the storage, else `None` (then the
    /// caller opens on a blocking thread). Never waits; by default always `None`.
    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        let _ = path;
        None
    }

    /// A reader of a listed file that can seek to and read any byte of it: what tag readers and
    /// decoders read from.
    fn reader(&self, path: &Path) -> io::Result<Box<dyn SeekRead>>;

    /// Whether the storage answers now (for readiness checks); may block.
    fn check(&self) -> Result<(), LibraryError>;
}

/// What tag readers and decoders read from: any byte, in any order.
pub trait SeekRead: Read + Seek + Send {}
impl<T: Read + Seek + Send> SeekRead for T {}

/// A track opened for one response.
#[derive(Debug)]
pub(crate) struct Opened {
    /// Its length in bytes, as of opening.
    pub len: u64,
    /// When it last changed, as of opening.
    pub modified: Option<SystemTime>,
    /// A strong validator of these bytes that every replica gives alike (never the inode).
    pub etag: String,
    /// How its bytes are read.
    pub content: Content,
}

/// How an opened track's bytes can be read: what the byte pump needs to know (whether the kernel
/// can send them from a file), never which storage they come from.
#[derive(Debug)]
pub(crate) enum Content {
    /// A local file: sent with `sendfile(2)`, or read at any offset.
    Local(LocalFile),
    /// Bytes read range by range from elsewhere, as the listener takes them.
    Ranged(Box<dyn RangedRead>),
}

/// A local file holding a track's bytes, with whatever keeps it valid while it is read (a cached
/// copy's lease, which keeps it from being evicted).
#[derive(Debug)]
pub(crate) struct LocalFile {
    file: File,
    _keep: Option<Box<dyn fmt::Debug + Send + Sync>>,
}

impl LocalFile {
    /// `file`, valid for as long as it is open.
    pub(crate) fn new(file: File) -> Self {
        Self { file, _keep: None }
    }

    /// `file`, valid while `keep` is held.
    pub(crate) fn kept_by(file: File, keep: impl fmt::Debug + Send + Sync + 'static) -> Self {
        Self {
            file,
            _keep: Some(Box::new(keep)),
        }
    }

    /// The open file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Up to `len` bytes at `offset` if they are in the page cache; `Ok(None)` where reading them
    /// would wait for the disk. Never waits.
    pub(crate) fn read_cached(&self, offset: u64, len: usize) -> io::Result<Option<Bytes>> {
        let mut buf = BytesMut::zeroed(len);
        Ok(read_nowait(&self.file, &mut buf, offset)?.map(|n| {
            buf.truncate(n);
            buf.freeze()
        }))
    }
}

/// Reads into `buf` at `offset` only from the page cache: `Ok(None)` where that would wait for the
/// disk, or where the filesystem cannot say (no `RWF_NOWAIT`).
pub(crate) fn read_nowait(file: &File, buf: &mut [u8], offset: u64) -> io::Result<Option<usize>> {
    match rustix::io::preadv2(
        file,
        &mut [IoSliceMut::new(buf)],
        offset,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(n) => Ok(Some(n)),
        Err(Errno::AGAIN | Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Reads ranges of one opened track that has no local file.
pub(crate) trait RangedRead: fmt::Debug + Send + Sync {
    /// Starts reading `range`: ready once the storage has answered for it (an error if it cannot,
    /// or no longer has these bytes), then its pieces in order.
    fn read(&self, range: Range<u64>) -> Pin<Box<dyn Future<Output = io::Result<Chunks>> + Send>>;
}

/// The pieces of one range as they arrive.
#[derive(Debug)]
pub(crate) struct Chunks(mpsc::Receiver<io::Result<Bytes>>);

impl Chunks {
    /// A channel whose sender feeds the pieces; it holds at most `queued` pieces ahead of the
    /// listener.
    pub(crate) fn channel(queued: usize) -> (mpsc::Sender<io::Result<Bytes>>, Self) {
        let (tx, rx) = mpsc::channel(queued);
        (tx, Self(rx))
    }

    /// The next piece; `None` once the sender is done.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        self.0.poll_recv(cx)
    }
}

impl Opened {
    /// A local file, validated by its length and modification time.
    pub(crate) fn local(file: LocalFile, len: u64, modified: Option<SystemTime>) -> Self {
        Self {
            len,
            modified,
            etag: etag(len, modified),
            content: Content::Local(file),
        }
    }

    /// A file with these bytes' length and modification time, for a negotiator that judges a
    /// request by a file's metadata (`NamedFile`): the local file itself (a second descriptor), or
    /// for bytes that have none, an empty in-memory file of that length and time (no data is
    /// ever read from it).
    pub(crate) fn metadata_file(&self) -> io::Result<File> {
        match &self.content {
            Content::Local(local) => local.file.try_clone(),
            Content::Ranged(_) => {
                let fd = rustix::fs::memfd_create("track", rustix::fs::MemfdFlags::CLOEXEC)?;
                let file = File::from(fd);
                file.set_len(self.len)?;
                if let Some(modified) = self.modified {
                    file.set_modified(modified)?;
                }
                Ok(file)
            }
        }
    }
}

/// A validator from a length and a modification time: the same for a copy that kept its time
/// (rsync -t, a shared mount, a cache of the same object).
pub(crate) fn etag(len: u64, modified: Option<SystemTime>) -> String {
    let since = modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    format!("{len:x}-{:x}.{:x}", since.as_secs(), since.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Nowhere;

    impl RangedRead for Nowhere {
        fn read(&self, _: Range<u64>) -> Pin<Box<dyn Future<Output = io::Result<Chunks>> + Send>> {
            Box::pin(async { Err(io::Error::from(io::ErrorKind::NotConnected)) })
        }
    }

    #[test]
    fn bytes_without_a_file_are_negotiated_against_a_file_of_their_length_and_time() {
        let modified = UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 5);
        let opened = Opened {
            len: 50_000_000,
            modified: Some(modified),
            etag: "e".into(),
            content: Content::Ranged(Box::new(Nowhere)),
        };
        let metadata = opened.metadata_file().unwrap().metadata().unwrap();
        assert_eq!(metadata.len(), 50_000_000);
        assert_eq!(metadata.modified().unwrap(), modified);
        assert!(metadata.is_file());
    }
}
