//! A reader that can seek anywhere in an object not cached yet: what tag readers (and decoders)
//! read from. It fetches the blocks it is asked for as ranged reads, keeping the last few, so a tag
//! reader that reads the head and the tail of a file costs a request or two, not the whole object.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3;

use super::client::block_on;
use super::ranges::{ANSWER_TIMEOUT, STALL_TIMEOUT, Version, read_range};

/// What one fetch reads past the start of a file: its tags, headers and an embedded cover
/// usually fit.
const HEAD_BLOCK: u64 = 512 * 1024;
/// What one fetch reads elsewhere.
const BLOCK: u64 = 128 * 1024;
/// Blocks kept (the head, the tail, and where a reader is).
const KEPT: usize = 6;

/// One object version, read block by block on demand.
pub(super) struct ObjectReader {
    store: Arc<AmazonS3>,
    runtime: tokio::runtime::Handle,
    version: Version,
    len: u64,
    position: u64,
    /// `(start, bytes)` of the fetched blocks, most recently used last.
    blocks: VecDeque<(u64, Bytes)>,
}

impl ObjectReader {
    /// A reader of `version`, `len` bytes long; fetches nothing yet.
    pub(super) fn new(
        store: Arc<AmazonS3>,
        runtime: tokio::runtime::Handle,
        version: Version,
        len: u64,
    ) -> Self {
        Self {
            store,
            runtime,
            version,
            len,
            position: 0,
            blocks: VecDeque::new(),
        }
    }

    /// The block holding `at` (< `len`), fetched if it is not kept.
    fn block(&mut self, at: u64) -> io::Result<&(u64, Bytes)> {
        let found = self
            .blocks
            .iter()
            .position(|(start, bytes)| (*start..start + bytes.len() as u64).contains(&at));
        let index = match found {
            Some(index) => index,
            None => {
                let (start, size) = if at < HEAD_BLOCK {
                    (0, HEAD_BLOCK)
                } else {
                    (at - at % BLOCK, BLOCK)
                };
                let range = start..(start + size).min(self.len);
                let (store, version) = (Arc::clone(&self.store), self.version.clone());
                let expected = range.end - range.start;
                let bytes = block_on(&self.runtime, ANSWER_TIMEOUT + STALL_TIMEOUT, async move {
                    read_range(&store, &version, Some(range)).await
                })?;
                if bytes.len() as u64 != expected {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the store sent {} of {expected} bytes", bytes.len()),
                    ));
                }
                if self.blocks.len() == KEPT {
                    self.blocks.pop_front();
                }
                self.blocks.push_back((start, bytes));
                self.blocks.len() - 1
            }
        };
        // Most recently used last.
        let block = self.blocks.remove(index).expect("in range");
        self.blocks.push_back(block);
        Ok(self.blocks.back().expect("just pushed"))
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.position;
        if at >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let (start, bytes) = self.block(at)?;
        let part = &bytes[(at - start) as usize..];
        let n = part.len().min(buf.len());
        buf[..n].copy_from_slice(&part[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for ObjectReader {
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
