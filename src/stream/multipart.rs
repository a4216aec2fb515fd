//! The layout of a `multipart/byteranges` body (RFC 9110 §14.6): each part a boundary line, its
//! own `Content-Type` and `Content-Range`, a blank line and the bytes; a closing boundary last.
//! Written as nginx writes it, as a list of [`Segment`]s the pump sends in order.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::cursor::Segment;

/// A `multipart/byteranges` response: its `Content-Type` and body.
#[derive(Debug)]
pub(crate) struct Multipart {
    /// `multipart/byteranges; boundary=...`.
    pub(crate) content_type: String,
    /// What to send, in order.
    pub(crate) segments: Vec<Segment>,
}

impl Multipart {
    /// The body sending `parts` of a file of `len` bytes served as `mime`.
    pub(crate) fn new(parts: &[RangeInclusive<u64>], len: u64, mime: &str) -> Self {
        let boundary = boundary();
        let mut segments = Vec::with_capacity(parts.len() * 2 + 1);
        for part in parts {
            let head = format!(
                "\r\n--{boundary}\r\nContent-Type: {mime}\r\nContent-Range: bytes {}-{}/{len}\r\n\r\n",
                part.start(),
                part.end()
            );
            segments.push(Segment::Text(Bytes::from(head)));
            segments.push(Segment::Range {
                offset: *part.start(),
                len: part.end() - part.start() + 1,
            });
        }
        segments.push(Segment::Text(Bytes::from(format!(
            "\r\n--{boundary}--\r\n"
        ))));
        Self {
            content_type: format!("multipart/byteranges; boundary={boundary}"),
            segments,
        }
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.segments.iter().map(Segment::len).sum()
    }
}

/// A boundary unlikely to occur in the parts: 20 digits that differ per response and per process.
fn boundary() -> String {
    use std::hash::{BuildHasher as _, RandomState};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = RandomState::new().hash_one(NEXT.fetch_add(1, Ordering::Relaxed));
    format!("{seed:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_as_rfc_9110_shows_and_the_length_adds_up() {
        let body = Multipart::new(&[0..=1, 8..=9], 10, "audio/mpeg");
        let boundary = body
            .content_type
            .strip_prefix("multipart/byteranges; boundary=")
            .unwrap();
        assert_eq!(boundary.len(), 20);
        let text: Vec<String> = body
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                Segment::Range { offset, len } => format!("<{offset}+{len}>"),
            })
            .collect();
        let want = format!(
            "\r\n--{b}\r\nContent-Type: audio/mpeg\r\nContent-Range: bytes 0-1/10\r\n\r\n<0+2>\
             \r\n--{b}\r\nContent-Type: audio/mpeg\r\nContent-Range: bytes 8-9/10\r\n\r\n<8+2>\
             \r\n--{b}--\r\n",
            b = boundary
        );
        assert_eq!(text.concat(), want);
        assert_eq!(body.len() as usize, want.len() - "<0+2><8+2>".len() + 4);
        assert_ne!(
            boundary,
            &Multipart::new(&[0..=1], 10, "x").content_type[31..]
        );
    }
}
