//! Transcoding inside the server: any track the decoders read (MP3, FLAC, Ogg Vorbis, Opus,
//! AAC/ALAC in MP4, WAV) made into Opus in Ogg or MP3 at a constant bit rate, in segments that can
//! be made in any order and are the same bytes every time ([`layout`], [`segment`]). The HTTP
//! layer serves them like a file: exact length, ranges, a strong ETag.
//!
//! - [`source`]: the decoded, downmixed and resampled samples from any point of a track;
//! - [`encode`]: libopus and LAME, each frame of one size;
//! - [`ogg`], [`lametag`]: the framing and headers around them;
//! - [`segment`]: one segment's bytes, piece by piece;
//! - [`jobs`]: the threads they are made on, and the cap.

pub mod encode;
pub mod jobs;
pub mod lametag;
pub mod layout;
pub mod ogg;
pub mod segment;
pub mod source;

pub use self::jobs::{Job, Permit, Transcoder};
pub use self::layout::{Layout, RATE};
pub use self::segment::Plan;
pub use self::source::{Facts, ReadAt, Source};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Opus in Ogg.
    Opus,
    /// MPEG-1 Layer III.
    Mp3,
}

impl Format {
    /// The format a request names (`opus`, `mp3`), if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "opus" | "ogg" => Some(Self::Opus),
            "mp3" => Some(Self::Mp3),
            _ => None,
        }
    }

    /// Its name in a request and a file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Opus => "opus",
            Self::Mp3 => "mp3",
        }
    }

    /// Its `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Opus => "audio/ogg; codecs=opus",
            Self::Mp3 => "audio/mpeg",
        }
    }

    /// Samples (at [`RATE`]) in one encoded frame.
    pub fn frame(self) -> u64 {
        match self {
            Self::Opus => 960,
            Self::Mp3 => 1152,
        }
    }

    /// The bit rates it is made at, in kbit/s, lowest first.
    pub fn bitrates(self) -> &'static [u32] {
        match self {
            Self::Opus => &[32, 48, 64, 96, 128, 160, 192, 256],
            Self::Mp3 => &[96, 112, 128, 160, 192, 224, 256, 320],
        }
    }

    /// The bit rate used when a request names none.
    pub fn default_bitrate(self) -> u32 {
        match self {
            Self::Opus => 128,
            Self::Mp3 => 192,
        }
    }
}

/// A format at a bit rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The format.
    pub format: Format,
    /// The bit rate in kbit/s, one of [`Format::bitrates`].
    pub kbps: u32,
}

impl Target {
    /// `format` at the highest bit rate it is made at that is not above `kbps` (the lowest if all
    /// are).
    pub fn new(format: Format, kbps: u32) -> Self {
        let rates = format.bitrates();
        let kbps = rates
            .iter()
            .rev()
            .find(|&&rate| rate <= kbps)
            .copied()
            .unwrap_or(rates[0]);
        Self { format, kbps }
    }

    /// Bytes of every encoded frame: a 20 ms Opus packet padded to the bit rate (kbps × 2.5), or
    /// an MP3 frame at 48 kHz (144 × bit rate / 48,000: kbps × 3).
    pub fn frame_bytes(self) -> u64 {
        match self.format {
            Format::Opus => u64::from(self.kbps) * 5 / 2,
            Format::Mp3 => u64::from(self.kbps) * 3,
        }
    }
}

/// Why a transcode could not be made, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("reading the source: {0}")]
    Io(#[from] std::io::Error),
    /// No decoder reads this file, or its stream is not audio this server can transcode.
    #[error("cannot transcode this file: {0}")]
    Unsupported(String),
    /// The source is corrupt or truncated: the transcode ends at its last good frame.
    #[error("the source is damaged: {0}")]
    Corrupt(String),
    /// An encoder refused its settings or its input.
    #[error("the encoder failed: {0}")]
    Encoder(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bit_rate_is_rounded_down_to_one_made() {
        assert_eq!(Target::new(Format::Opus, 128).kbps, 128);
        assert_eq!(Target::new(Format::Opus, 127).kbps, 96);
        assert_eq!(Target::new(Format::Opus, 9_999).kbps, 256);
        assert_eq!(Target::new(Format::Opus, 1).kbps, 32);
        assert_eq!(Target::new(Format::Mp3, 320).kbps, 320);
        assert_eq!(Target::new(Format::Mp3, 0).kbps, 96);
    }
}
