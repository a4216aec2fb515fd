//! Which bytes of a track go out, and how: the `Range` header and its plan ([`range`]), the
//! `multipart/byteranges` layout, the segment cursor every body walks, the pump that sends it with
//! a producer's bytes (a local file's with sendfile or in chunks sized by the socket's room, or
//! ranged reads from elsewhere), the socket facts, and the send-timeout watchdog. No HTTP
//! framework here: `http::body` wraps the pump for actix.

mod chunks;
mod cursor;
mod file;
mod multipart;
mod pump;
pub(crate) mod range;
mod ranged;
mod socket;
mod transcoded;
mod watchdog;

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) use self::cursor::{Cursor, Segment};
pub(crate) use self::file::{Delivery, FileProducer};
pub(crate) use self::multipart::Multipart;
pub(crate) use self::pump::{Piece, Producer, Pump};
pub(crate) use self::ranged::RangedProducer;
pub(crate) use self::socket::{ConnSocket, listen};
pub(crate) use self::transcoded::TranscodeProducer;
pub(crate) use self::watchdog::Watchdog;
use crate::library::Content;
use crate::stats::Counters;

/// The producer of a stored track's bytes, whichever way its storage gives them.
pub(crate) enum TrackBytes {
    /// A local file.
    File(FileProducer),
    /// Ranged reads.
    Ranged(RangedProducer),
    /// A transcode's job.
    Transcode(TranscodeProducer),
}

impl Producer for TrackBytes {
    fn sends_directly(&self) -> bool {
        match self {
            Self::File(file) => file.sends_directly(),
            Self::Ranged(ranged) => ranged.sends_directly(),
            Self::Transcode(transcode) => transcode.sends_directly(),
        }
    }

    fn watched_from_start(&self) -> bool {
        match self {
            Self::File(file) => file.watched_from_start(),
            Self::Ranged(ranged) => ranged.watched_from_start(),
            Self::Transcode(transcode) => transcode.watched_from_start(),
        }
    }

    fn poll_range(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        match self {
            Self::File(file) => file.poll_range(cx, offset, len),
            Self::Ranged(ranged) => ranged.poll_range(cx, offset, len),
            Self::Transcode(transcode) => transcode.poll_range(cx, offset, len),
        }
    }
}

/// A pump sending `segments` of a transcode made by `job`, over the connection's `socket`.
pub(crate) fn transcode_pump(
    job: Arc<crate::transcode::Job>,
    segments: Vec<Segment>,
    socket: Option<ConnSocket>,
    counters: Arc<Counters>,
    watchdog: Arc<Watchdog>,
) -> Pump<TrackBytes> {
    let producer = TrackBytes::Transcode(TranscodeProducer(job));
    Pump::new(Cursor::new(segments), producer, socket, counters, watchdog)
}

/// A pump sending `segments` of a track whose bytes are `content`, over the connection's
/// `socket` (when the request has it to itself). Ready at once for a local file; for ranged reads,
/// once the storage has answered for the first range (an error before any header is sent).
pub(crate) async fn track_pump(
    content: Content,
    segments: Vec<Segment>,
    socket: Option<ConnSocket>,
    counters: Arc<Counters>,
    watchdog: Arc<Watchdog>,
) -> io::Result<Pump<TrackBytes>> {
    let cursor = Cursor::new(segments);
    let producer = match content {
        Content::Local(file) => {
            TrackBytes::File(FileProducer::new(file, Delivery::for_socket(socket)))
        }
        Content::Ranged(reader) => {
            // Boxed: its state would otherwise size every request's future.
            let start = RangedProducer::start(reader, cursor.first_range());
            TrackBytes::Ranged(Box::pin(start).await?)
        }
    };
    Ok(Pump::new(cursor, producer, socket, counters, watchdog))
}
