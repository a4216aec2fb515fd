//! A library in a folder on a local (or mounted) filesystem: the default, `--audio-dir`. The walk
//! (`walk`) lists it; tracks open only if they are still regular files, and on a worker only when
//! the kernel can resolve the path without I/O.

mod walk;

use std::fs::File;
use std::io::{self, BufReader};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use super::LibraryError;
use super::listing::Listing;
use super::storage::{LocalFile, Opened, SeekRead, Storage};

/// A folder of tracks.
#[derive(Debug)]
pub(crate) struct Folder {
    root: PathBuf,
}

impl Folder {
    /// The folder at `root`, once it is known to be one this process can list.
    pub(crate) fn new(root: PathBuf) -> Result<Self, LibraryError> {
        walk::readable_folder(&root)?;
        Ok(Self { root })
    }
}

impl Storage for Folder {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self) -> Result<Listing, LibraryError> {
        walk::walk(&self.root)
    }

    fn check(&self) -> Result<(), LibraryError> {
        walk::readable_folder(&self.root).map(drop)
    }

    fn open(&self, path: &Path) -> io::Result<Opened> {
        open_regular(path).map(opened)
    }

    /// The usual case, and the only one a worker thread may take: see [`open_regular_cached`]; a
    /// cold or stalled mount goes to the pool.
    fn open_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        Some(open_regular_cached(path)?.map(opened))
    }

    fn reader(&self, path: &Path) -> io::Result<Box<dyn SeekRead>> {
        let (file, _) = open_regular(path)?;
        Ok(Box::new(BufReader::new(file)))
    }
}

fn opened((file, metadata): (File, std::fs::Metadata)) -> Opened {
    Opened::local(
        LocalFile::new(file),
        metadata.len(),
        metadata.modified().ok(),
    )
}

/// [`open_regular`] if it needs no I/O: `openat2(RESOLVE_CACHED)` (Linux 5.12+) fails with `EAGAIN`
/// instead of doing any I/O for the lookup, so a path whose every component is in the kernel's
/// cache opens here, on a worker; `None` when it would wait (then the blocking pool opens it).
pub(crate) fn open_regular_cached(path: &Path) -> Option<io::Result<(File, std::fs::Metadata)>> {
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
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, std::fs::Metadata)> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    regular(file, path)
}

/// `file` with its metadata, if it is a regular file; anything else is `NotFound`.
fn regular(file: File, path: &Path) -> io::Result<(File, std::fs::Metadata)> {
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
    use std::fs;
    use std::io::{Read as _, Seek as _, SeekFrom};

    use super::*;

    #[test]
    fn only_regular_files_open_and_a_fifo_does_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::new(dir.path().to_owned()).unwrap();
        fs::write(dir.path().join("a.mp3"), b"abc").unwrap();
        let opened = folder.open(&dir.path().join("a.mp3")).unwrap();
        assert_eq!(opened.len, 3);

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
        assert_eq!(opened.len, 3, "a cached lookup opens at once");
        for name in ["d.mp3", "f.mp3", "missing.mp3"] {
            let err = folder.open(&dir.path().join(name)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
            let err = folder
                .open_cached(&dir.path().join(name))
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
            assert!(folder.reader(&dir.path().join(name)).is_err(), "{name}");
        }
        let mut reader = folder.reader(&dir.path().join("a.mp3")).unwrap();
        reader.seek(SeekFrom::Start(1)).unwrap();
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "bc");
    }
}
