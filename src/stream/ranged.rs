//! The bytes of a track that has no local file (an object-store track not cached yet): each range
//! read from the storage as the listener takes it. At most the storage reader's one piece and the
//! piece the HTTP layer is writing are in memory; a listener who stops taking data stops the
//! reads, and is cut off by the send timeout like any other.

use std::future::Future;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::pump::{Piece, Producer};
use crate::library::{Chunks, RangedRead};

type Opening = Pin<Box<dyn Future<Output = io::Result<Chunks>> + Send>>;

/// Makes a track's bytes from ranged reads.
pub(crate) struct RangedProducer {
    reader: Box<dyn RangedRead>,
    /// The front range's pieces, once the storage has answered for them.
    current: Option<Chunks>,
    opening: Option<Opening>,
}

impl RangedProducer {
    /// Starts reading `first` (the body's first range, if it has one): ready once the storage has
    /// answered for it, so that storage that cannot serve gives an error before any header is sent.
    pub(crate) async fn start(
        reader: Box<dyn RangedRead>,
        first: Option<Range<u64>>,
    ) -> io::Result<Self> {
        let current = match first {
            Some(range) => Some(reader.read(range).await?),
            None => None,
        };
        Ok(Self {
            reader,
            current,
            opening: None,
        })
    }
}

impl Producer for RangedProducer {
    fn poll_range(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        loop {
            if let Some(opening) = &mut self.opening {
                self.current = Some(ready!(opening.as_mut().poll(cx))?);
                self.opening = None;
            }
            let Some(current) = &mut self.current else {
                self.opening = Some(self.reader.read(offset..offset + len));
                continue;
            };
            let piece = match ready!(current.poll_next(cx)) {
                Some(piece) => piece?,
                None => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the storage sent less than asked",
                    )));
                }
            };
            let n = piece.len() as u64;
            if n == 0 {
                continue;
            }
            if n >= len {
                // The next range is another read (a piece past the range is the cursor's error).
                self.current = None;
            }
            return Poll::Ready(Ok(Piece::Data(piece)));
        }
    }
}
