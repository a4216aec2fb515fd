//! The storage seam: where the tracks' bytes live. The scan lists through it and handlers open
//! through it, so another kind of storage can sit beside the local folder without either changing.
//!
//! Every call may block (a cold disk, a stalled network mount, the object store): callers run them
//! on a blocking thread.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::LibraryError;
use super::cache::Lease;
use super::remote::Reader;
use super::tags::{self, Image, Tags};
use super::walk::{Walk, readable_folder, walk};

/// A track opened for one response.
#[derive(Debug)]
pub struct Opened {
    /// The file to read. For a track only in the object store, a stand-in that has the object's
    /// length and date and no data: what the response is negotiated against.
    pub file: File,
    /// `file`'s metadata as of opening.
    pub metadata: fs::Metadata,
    /// A strong validator of these bytes that every replica gives alike (never the inode).
    pub etag: String,
    /// Where the bytes are read from.
    pub source: Source,
}

/// Where an opened track's bytes are read from.
#[derive(Debug)]
pub enum Source {
    /// `file` itself; a lease keeps a cached copy from being evicted while it is read.
    File(Option<Lease>),
    /// The object store, range by range (the track is not cached yet).
    Store(Reader),
}

impl Opened {
    /// A local file, validated by its length and modification time.
    pub(crate) fn file(file: File, metadata: fs::Metadata, lease: Option<Lease>) -> Self {
        let etag = etag(metadata.len(), metadata.modified().ok());
        Self {
            file,
            metadata,
            etag,
            source: Source::File(lease),
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

/// A place tracks are read from.
pub(crate) trait Storage: fmt::Debug + Send + Sync {
    /// Where the tracks live, as people know it (the folder's path).
    fn location(&self) -> String;

    /// Lists every audio file and cover image; fails only when the whole store cannot be read.
    fn list(&self) -> Result<Walk, LibraryError>;

    /// Opens one listed track for reading. A file that has gone, or that is no longer a regular
    /// file (replaced by a folder, a FIFO, a device), is `NotFound`.
    fn open(&self, path: &Path) -> io::Result<Opened>;

    /// Whether the store answers now (for readiness checks); may block.
    fn check(&self) -> Result<(), LibraryError>;

    /// [`Storage::open`] if it can be done without waiting on the storage, else `None` (then the
    /// caller opens on a blocking thread). Never waits; by default always `None`.
    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        let _ = path;
        None
    }

    /// Reads a listed file's tags.
    fn tags(&self, path: &Path) -> Tags {
        Tags::read(path)
    }

    /// The cover embedded in a listed audio file, if any.
    fn embedded_cover(&self, path: &Path) -> Option<Image> {
        tags::embedded_cover(path)
    }

    /// A listed file's whole content, if it is at most `max` bytes (`None` when larger).
    fn read_small(&self, path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
        let (file, metadata) = open_regular(path)?;
        if metadata.len() > max {
            return Ok(None);
        }
        let mut data = Vec::with_capacity(metadata.len() as usize);
        file.take(max).read_to_end(&mut data)?;
        Ok(Some(data))
    }
}

/// A folder on a local (or mounted) filesystem: the default, `--audio-dir`.
#[derive(Debug)]
pub(crate) struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    /// The folder at `root`, once it is known to be one this process can list.
    pub(crate) fn new(root: PathBuf) -> Result<Self, LibraryError> {
        readable_folder(&root)?;
        Ok(Self { root })
    }
}

impl Storage for LocalFolder {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self) -> Result<Walk, LibraryError> {
        walk(&self.root)
    }

    fn check(&self) -> Result<(), LibraryError> {
        readable_folder(&self.root).map(drop)
    }

    fn open(&self, path: &Path) -> io::Result<Opened> {
        let (file, metadata) = open_regular(path)?;
        Ok(Opened::file(file, metadata, None))
    }

    /// The usual case, and the only one a worker thread may take: see [`open_regular_cached`]; a
    /// cold or stalled mount goes to the pool.
    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        let opened = open_regular_cached(path)?;
        Some(opened.map(|(file, metadata)| Opened::file(file, metadata, None)))
    }
}

/// [`open_regular`] if it needs no I/O: `openat2(RESOLVE_CACHED)` (Linux 5.12+) fails with `EAGAIN`
/// instead of doing any I/O for the lookup, so a path whose every component is in the kernel's
/// cache opens here, on a worker; `None` when it would wait (then the blocking pool opens it).
pub(crate) fn open_regular_cached(path: &Path) -> Option<io::Result<(File, fs::Metadata)>> {
    use rustix::fs::{CWD, Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    match rustix::fs::openat2(CWD, path, flags, Mode::empty(), ResolveFlags::CACHED) {
        Ok(fd) => Some(regular(File::from(fd), path)),
        // Needs I/O, or a kernel (or sandbox) without openat2.
        Err(Errno::AGAIN | Errno::NOSYS | Errno::INVAL | Errno::PERM) => None,
        Err(err) => Some(Err(err.into())),
    }
}

/// Opens `path` if it is a regular file; anything else is `NotFound`. Non-blocking, so that
/// opening a FIFO planted under a track's name returns at once instead of waiting for a writer
/// (regular files ignore the flag).
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, fs::Metadata)> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    regular(file, path)
}

/// `file` with its metadata, if it is a regular file; anything else is `NotFound`.
fn regular(file: File, path: &Path) -> io::Result<(File, fs::Metadata)> {
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is no longer a regular file", path.display()),
        ));
    }
    Ok((file, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open_and_a_fifo_does_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let folder = LocalFolder::new(dir.path().to_owned()).unwrap();
        fs::write(dir.path().join("a.mp3"), b"abc").unwrap();
        let opened = folder.open(&dir.path().join("a.mp3")).unwrap();
        assert_eq!(opened.metadata.len(), 3);

        fs::create_dir(dir.path().join("d.mp3")).unwrap();
        let fifo = dir.path().join("f.mp3");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let opened = folder
            .open_cached(&dir.path().join("a.mp3"))
            .unwrap()
            .unwrap();
        assert_eq!(opened.metadata.len(), 3, "a cached lookup opens at once");
        for name in ["d.mp3", "f.mp3", "missing.mp3"] {
            let err = folder.open(&dir.path().join(name)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
            let err = folder
                .open_cached(&dir.path().join(name))
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
        }
    }
}
