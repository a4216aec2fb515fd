//! Where every byte of a transcode lies, known before any audio is encoded: the output is constant
//! bit rate in frames of one size (Opus packets padded to it, MP3 frames at 48 kHz, which need no
//! padding slot), so its length, and which frames any byte range holds, follow from the number of
//! samples alone. Frames are grouped in segments, each encoded on its own from a fixed point before
//! it (see `segment`): a byte offset maps to a segment, and a segment's bytes are a function of
//! the source, the target and the segment's number only.

use std::ops::Range;

use super::{Format, Target};

/// The output sample rate of every transcode (the only one Opus codes natively; at it an MP3 frame
/// is a whole number of bytes at every bit rate).
pub const RATE: u32 = 48_000;

/// Opus packets per Ogg page: one second.
const PACKETS_PER_PAGE: u64 = 50;
/// Ogg pages per segment (four seconds).
const PAGES_PER_SEGMENT: u64 = 4;
/// MP3 frames per segment: three seconds at 48 kHz.
const MP3_FRAMES_PER_SEGMENT: u64 = 125;

/// Samples the Opus encoder delays its output by at 48 kHz (libopus's lookahead, the stream's
/// pre-skip); `encode` checks that libopus agrees.
pub const OPUS_PRESKIP: u64 = 312;
/// Samples LAME delays its output by (its encoder delay); an MP3 decoder adds 529 of its own.
pub const MP3_ENCODER_DELAY: u64 = 576;
const MP3_DECODER_DELAY: u64 = 529;

/// The byte layout of one transcode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// What is made.
    pub target: Target,
    /// The source's length in output samples (at [`RATE`]).
    pub samples: u64,
    /// Bytes of every encoded frame (a padded Opus packet, or an MP3 frame).
    pub frame_bytes: u64,
    /// Encoded frames in the stream (the Opus packets, the MP3 audio frames).
    pub frames: u64,
    /// Bytes before the first audio frame (the Ogg header pages, the MP3 Info frame).
    pub head_len: u64,
}

impl Layout {
    /// The layout of `target` for a source of `samples` samples at [`RATE`], with a head of
    /// `head_len` bytes.
    pub fn new(target: Target, samples: u64, head_len: u64) -> Self {
        let frame = target.format.frame();
        let frames = match target.format {
            // Enough packets to carry the pre-skip and every sample.
            Format::Opus => (samples + OPUS_PRESKIP).div_ceil(frame),
            // Enough frames that the decoder's and the encoder's delays are followed by every
            // sample.
            Format::Mp3 => (samples + MP3_ENCODER_DELAY + MP3_DECODER_DELAY).div_ceil(frame),
        };
        let frame_bytes = target.frame_bytes();
        Self {
            target,
            samples,
            frame_bytes,
            frames,
            head_len,
        }
    }

    /// Frames per segment.
    pub fn frames_per_segment(&self) -> u64 {
        match self.target.format {
            Format::Opus => PACKETS_PER_PAGE * PAGES_PER_SEGMENT,
            Format::Mp3 => MP3_FRAMES_PER_SEGMENT,
        }
    }

    /// Opus packets per full Ogg page.
    pub fn packets_per_page(&self) -> u64 {
        PACKETS_PER_PAGE
    }

    /// Lacing values per Opus packet in an Ogg page: 255 for each full 255 bytes, then the rest.
    fn lacing(&self) -> u64 {
        self.frame_bytes / 255 + 1
    }

    /// Bytes of an Ogg page of `packets` packets.
    pub fn page_len(&self, packets: u64) -> u64 {
        27 + packets * (self.lacing() + self.frame_bytes)
    }

    /// The whole transcode's length in bytes (never 0: there is always the head).
    #[expect(clippy::len_without_is_empty, reason = "a transcode is never empty")]
    pub fn len(&self) -> u64 {
        self.frame_end(self.frames)
    }

    /// The number of segments (at least one: the head is in the first).
    pub fn segments(&self) -> u64 {
        self.frames.div_ceil(self.frames_per_segment()).max(1)
    }

    /// The frames segment `segment` holds.
    pub fn segment_frames(&self, segment: u64) -> Range<u64> {
        let per = self.frames_per_segment();
        (segment * per).min(self.frames)..((segment + 1) * per).min(self.frames)
    }

    /// The bytes segment `segment` holds (the first starts with the head).
    pub fn segment_bytes(&self, segment: u64) -> Range<u64> {
        let frames = self.segment_frames(segment);
        let start = if segment == 0 {
            0
        } else {
            self.frame_end(frames.start)
        };
        start..self.frame_end(frames.end)
    }

    /// The segment holding byte `offset` (the last one for an offset past the end).
    pub fn segment_at(&self, offset: u64) -> u64 {
        let (mut low, mut high) = (0, self.segments() - 1);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if self.segment_bytes(mid).start <= offset {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        low
    }

    /// The byte just past the first `frames` frames (and whatever pages frame them).
    fn frame_end(&self, frames: u64) -> u64 {
        match self.target.format {
            Format::Mp3 => self.head_len + frames * self.frame_bytes,
            Format::Opus => {
                let per = PACKETS_PER_PAGE;
                let full = frames / per;
                let rest = frames % per;
                let last = if rest == 0 { 0 } else { self.page_len(rest) };
                self.head_len + full * self.page_len(per) + last
            }
        }
    }

    /// The Ogg page carrying the last of the first `packets` packets ends the stream.
    pub fn opus_granule(&self, packets: u64) -> u64 {
        if packets >= self.frames {
            self.samples + OPUS_PRESKIP
        } else {
            packets * Format::Opus.frame()
        }
    }

    /// Samples at the end of the last MP3 frame that are not audio (for the LAME tag).
    pub fn mp3_padding(&self) -> u64 {
        self.frames * Format::Mp3.frame() - self.samples - MP3_ENCODER_DELAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opus(samples: u64) -> Layout {
        Layout::new(Target::new(Format::Opus, 128), samples, 100)
    }

    #[test]
    fn opus_pages_and_segments_tile_the_stream() {
        // 10.5 s: 525 packets with the pre-skip (504,312 samples), 11 pages, 3 segments.
        let layout = opus(504_000);
        assert_eq!(layout.frame_bytes, 320);
        assert_eq!(layout.frames, 526);
        assert_eq!(layout.page_len(50), 27 + 50 * 2 + 50 * 320);
        assert_eq!(layout.segments(), 3);
        assert_eq!(
            layout.len(),
            100 + 10 * layout.page_len(50) + layout.page_len(26)
        );
        let mut end = 0;
        for s in 0..layout.segments() {
            let bytes = layout.segment_bytes(s);
            assert_eq!(bytes.start, end, "segment {s} follows the one before");
            end = bytes.end;
            assert_eq!(layout.segment_at(bytes.start), s);
            assert_eq!(layout.segment_at(bytes.end - 1), s);
        }
        assert_eq!(end, layout.len());
        assert_eq!(layout.segment_frames(2), 400..526);
        assert_eq!(layout.opus_granule(50), 48_000);
        assert_eq!(layout.opus_granule(526), 504_312);
    }

    #[test]
    fn mp3_frames_cover_both_delays() {
        let layout = Layout::new(Target::new(Format::Mp3, 192), 48_000, 576);
        assert_eq!(layout.frame_bytes, 576);
        // 48,000 + 1,105 samples in 1,152-sample frames.
        assert_eq!(layout.frames, 43);
        assert_eq!(layout.len(), 576 + 43 * 576);
        assert_eq!(layout.mp3_padding(), 43 * 1152 - 48_000 - 576);
        assert_eq!(layout.segments(), 1);
        assert_eq!(layout.segment_bytes(0), 0..layout.len());
    }

    #[test]
    fn an_empty_source_still_has_its_head_and_a_frame() {
        let layout = opus(0);
        assert_eq!(layout.frames, 1);
        assert_eq!(layout.segments(), 1);
        assert_eq!(layout.len(), 100 + layout.page_len(1));
    }
}
