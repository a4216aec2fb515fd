//! What a body sends, in order: text the server made (a multipart part's header) and byte ranges
//! of the track, walked by a [`Cursor`] that every producer of bytes shares. One range of a file,
//! the parts of a `multipart/byteranges` answer and (later) a transcode are all lists of segments.

use std::collections::VecDeque;
use std::io;

use bytes::Bytes;

/// One piece of a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Bytes made by the server (a multipart part's header).
    Text(Bytes),
    /// `len` bytes of the track from `offset`.
    Range {
        /// Where in the track.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

impl Segment {
    /// Bytes this segment adds to the body.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Text(text) => text.len() as u64,
            Self::Range { len, .. } => *len,
        }
    }
}

/// What comes next in a body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// This text, already taken off the cursor.
    Text(Bytes),
    /// Bytes of the track: `len` (at least one) from `offset`, to be produced and then
    /// [`Cursor::advance`]d over.
    Range {
        /// Where in the track.
        offset: u64,
        /// How many bytes are left of this range.
        len: u64,
    },
}

/// Walks a list of segments: text goes out whole, ranges as their bytes are produced.
#[derive(Debug)]
pub(crate) struct Cursor {
    segments: VecDeque<Segment>,
    len: u64,
}

impl Cursor {
    /// A cursor at the start of `segments`.
    pub(crate) fn new(segments: Vec<Segment>) -> Self {
        Self {
            len: segments.iter().map(Segment::len).sum(),
            segments: segments.into(),
        }
    }

    /// The body's whole length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The first range with bytes in it, if any (what a producer may start fetching early).
    pub(crate) fn first_range(&self) -> Option<std::ops::Range<u64>> {
        self.segments.iter().find_map(|s| match s {
            Segment::Range { offset, len } if *len > 0 => Some(*offset..offset + len),
            _ => None,
        })
    }

    /// What comes next; `None` once the body is complete. Text is taken off the cursor; empty
    /// ranges are skipped.
    pub(crate) fn next(&mut self) -> Option<Next> {
        loop {
            match self.segments.front_mut()? {
                Segment::Text(text) => {
                    let text = std::mem::take(text);
                    self.segments.pop_front();
                    return Some(Next::Text(text));
                }
                Segment::Range { len: 0, .. } => {
                    self.segments.pop_front();
                }
                Segment::Range { offset, len } => {
                    return Some(Next::Range {
                        offset: *offset,
                        len: *len,
                    });
                }
            }
        }
    }

    /// Moves the front range on by the `n` bytes just produced for it. None at all means the
    /// track ended early (a file that shrank); more than the range holds is a producer's error.
    pub(crate) fn advance(&mut self, n: u64) -> io::Result<()> {
        let Some(Segment::Range { offset, len }) = self.segments.front_mut() else {
            return Err(io::Error::other("bytes produced with no range to send"));
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the track ended early (a file that shrank while it was streamed)",
            ));
        }
        if n > *len {
            return Err(io::Error::other("more bytes produced than the range holds"));
        }
        *offset += n;
        *len -= n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_whole_ranges_by_what_was_produced_and_empty_ranges_are_skipped() {
        let mut cursor = Cursor::new(vec![
            Segment::Range { offset: 0, len: 0 },
            Segment::Text(Bytes::from_static(b"head")),
            Segment::Range { offset: 10, len: 5 },
            Segment::Text(Bytes::from_static(b"tail")),
        ]);
        assert_eq!(cursor.len(), 13);
        assert_eq!(cursor.first_range(), Some(10..15));
        assert_eq!(cursor.next(), Some(Next::Text(Bytes::from_static(b"head"))));
        assert_eq!(cursor.next(), Some(Next::Range { offset: 10, len: 5 }));
        cursor.advance(3).unwrap();
        assert_eq!(cursor.next(), Some(Next::Range { offset: 13, len: 2 }));
        assert!(cursor.advance(3).is_err(), "more than the range holds");
        assert_eq!(
            cursor.advance(0).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        cursor.advance(2).unwrap();
        assert_eq!(cursor.next(), Some(Next::Text(Bytes::from_static(b"tail"))));
        assert_eq!(cursor.next(), None);
        assert!(cursor.advance(1).is_err(), "nothing left to advance");
    }
}
