//! The chunk path's reads: how big the next chunk is, given the room in the socket, whether a range
//! is in the page cache, and the reads that wait for the disk, for the blocking pool (the worker's
//! own reads of cached pages are [`crate::library::LocalFile::read_cached`]).

use std::fs::File;
use std::io;

use bytes::{Bytes, BytesMut};

use crate::library::read_nowait;

/// A chunk that fits actix's initial 8 KiB connection write buffer beside a response head, so it
/// never makes that buffer grow: what a stalled listener can leave behind.
pub(crate) const SMALL_CHUNK: usize = 3 * 1024;
/// The smallest large chunk: above actix's 128 KiB write-buffer retention limit, so the buffer that
/// held it is released as soon as the socket has taken it all, instead of staying with the
/// connection.
pub(crate) const LARGE_CHUNK_MIN: usize = 136 * 1024;
/// The largest chunk read at once.
pub(crate) const LARGE_CHUNK_MAX: usize = 512 * 1024;
/// The chunk size when the socket cannot be asked (in-process tests, other platforms).
pub(crate) const FALLBACK_CHUNK: usize = 64 * 1024;

/// How many bytes to read next, given what is left to send and the room in the socket.
///
/// Chunk sizes between [`SMALL_CHUNK`] and [`LARGE_CHUNK_MIN`] would grow actix's write buffer and
/// keep it grown for the life of the connection, so they are used only when a whole short response
/// fits the socket at once. A large chunk is used only when the socket will take it whole.
pub(crate) fn chunk_len(remaining: u64, room: Option<usize>) -> usize {
    let remaining = usize::try_from(remaining).unwrap_or(usize::MAX);
    let Some(room) = room else {
        return remaining.min(FALLBACK_CHUNK);
    };
    if remaining <= SMALL_CHUNK || (remaining < LARGE_CHUNK_MIN && remaining <= room) {
        remaining
    } else if room >= LARGE_CHUNK_MIN && remaining >= LARGE_CHUNK_MIN {
        remaining.min(room).min(LARGE_CHUNK_MAX)
    } else {
        SMALL_CHUNK
    }
}

/// Whether all `len` bytes from `offset` are in the page cache, so that a `sendfile` of them will
/// not wait for the disk. One `cachestat(2)` call where the kernel has it; else a one-byte read that
/// may not block at each end (readahead fills pages in order, so the ones between are cached too).
/// Bytes past the end of a file that shrank count as cached for the reads, not for `cachestat`:
/// either way the `sendfile` after finds the end.
pub(crate) fn range_cached(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let last = offset + len - 1;
    if let Some(cached) = crate::sys::cached_pages(file, offset, len) {
        let page = rustix::param::page_size() as u64;
        return Ok(cached > last / page - offset / page);
    }
    Ok(page_cached(file, offset)? && page_cached(file, last)?)
}

/// Whether the page holding `offset` is in the page cache (or `offset` is past the end): a
/// one-byte read that may not block.
fn page_cached(file: &File, offset: u64) -> io::Result<bool> {
    Ok(read_nowait(file, &mut [0u8; 1], offset)?.is_some())
}

/// Brings `len` bytes from `offset` into the page cache, waiting for the disk: asks the kernel to
/// read the whole range ahead, then reads its first and last bytes. For the blocking pool.
pub(crate) fn warm(file: &File, offset: u64, len: u64) -> io::Result<()> {
    // Only advice: a filesystem that ignores it still gets the two reads.
    let _ = rustix::fs::fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        rustix::fs::Advice::WillNeed,
    );
    let mut byte = [0u8; 1];
    rustix::io::pread(file, &mut byte, offset)?;
    rustix::io::pread(file, &mut byte, offset + len.saturating_sub(1))?;
    Ok(())
}

/// Reads up to `len` bytes at `offset`, waiting for the disk if need be.
pub(crate) fn read_blocking(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    let n = rustix::io::pread(file, &mut buf[..], offset)?;
    buf.truncate(n);
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: usize = 1024;

    #[test]
    fn chunks_are_small_or_large_never_in_between_unless_a_short_response_fits_whole() {
        let table: &[(u64, Option<usize>, usize)] = &[
            // (remaining, room, chunk)
            (100, Some(0), 100),
            (3 * K as u64, Some(0), 3 * K),
            (64 * K as u64, Some(1024 * K), 64 * K), // a 64 KiB range into an empty socket: one write
            (64 * K as u64, Some(32 * K), SMALL_CHUNK), // would not fit: stay small
            (50_000_000, Some(4096 * K), LARGE_CHUNK_MAX),
            (50_000_000, Some(200 * K), 200 * K),
            (50_000_000, Some(135 * K), SMALL_CHUNK), // mid-size room: small, not mid-size
            (50_000_000, Some(0), SMALL_CHUNK),       // full socket: a small probe
            (150 * K as u64, Some(4096 * K), 150 * K),
            (50_000_000, None, FALLBACK_CHUNK),
            (10, None, 10),
        ];
        for &(remaining, room, want) in table {
            assert_eq!(
                chunk_len(remaining, room),
                want,
                "remaining {remaining}, room {room:?}"
            );
        }
    }

    #[test]
    fn a_range_is_cached_only_when_every_page_of_it_is() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("track.raw");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&vec![7u8; 64 * 4096])
            .unwrap();
        let file = File::open(&path).unwrap();
        assert!(range_cached(&file, 5, 60 * 4096).unwrap(), "just written");
        assert!(range_cached(&file, 0, 0).unwrap(), "nothing to send");
        if !testkit::evict(&path) {
            eprintln!("skipped: the temp folder's filesystem keeps every page in memory");
            return;
        }
        assert!(!range_cached(&file, 0, 64 * 4096).unwrap(), "evicted");
        // Only the two ends read back in: the pages between are still on the disk.
        let mut byte = [0u8; 1];
        rustix::io::pread(&file, &mut byte, 0).unwrap();
        rustix::io::pread(&file, &mut byte, 64 * 4096 - 1).unwrap();
        rustix::fs::fadvise(
            &file,
            4096,
            std::num::NonZeroU64::new(62 * 4096),
            rustix::fs::Advice::DontNeed,
        )
        .unwrap();
        assert!(range_cached(&file, 0, 4096).unwrap(), "the first page");
        if crate::sys::cached_pages(&file, 0, 1).is_some() {
            assert!(
                !range_cached(&file, 0, 64 * 4096).unwrap(),
                "a hole between the ends"
            );
        }
    }

    proptest::proptest! {
        /// A chunk is never empty, never beyond what is left, and never in the band that makes
        /// actix keep a grown write buffer unless it is the whole rest of a response that fits.
        #[test]
        fn chunk_sizes_stay_in_their_bands(remaining in 1u64..100_000_000, room in proptest::option::of(0usize..8_000_000)) {
            let n = chunk_len(remaining, room);
            proptest::prop_assert!(n >= 1 && n as u64 <= remaining);
            if let Some(room) = room {
                let whole_fit = n as u64 == remaining && n <= room;
                proptest::prop_assert!(n <= SMALL_CHUNK || n >= LARGE_CHUNK_MIN || whole_fit);
                proptest::prop_assert!(n <= SMALL_CHUNK || n <= room);
                proptest::prop_assert!(n <= LARGE_CHUNK_MAX.max(SMALL_CHUNK));
            }
        }
    }
}
