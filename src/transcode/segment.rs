//! One segment of a transcode, piece by piece. Every segment after the first is made by a fresh
//! pipeline started a little before it (the pre-roll: at least 100 ms, on a whole source sample),
//! whose frames before the segment are made and dropped; so a segment is the same bytes whether
//! it follows the one before in a whole answer or starts a range fetched on its own, on any
//! replica.

use super::encode::Encoder;
use super::layout::Layout;
use super::source::{Facts, Samples, Source};
use super::{Error, Format, lametag, ogg};

/// Output samples a segment's pipeline starts at least this far before it.
const PRE_ROLL: u64 = 4_800;
/// MP3 frames in one piece (about 10 KB at 192 kbit/s).
const MP3_FRAMES_PER_PIECE: u64 = 16;

/// What a transcode is made from and what it states.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Where every byte lies.
    pub layout: Layout,
    /// The source's facts.
    pub facts: Facts,
    /// The bytes before the first frame.
    pub head: Vec<u8>,
    /// The Ogg stream's serial number.
    pub serial: u32,
    /// The output sample of the source the transcode begins at (0, or a `timeOffset`).
    pub start: u64,
}

impl Plan {
    /// The plan of `target` for a source with `facts`, from its output sample `start` (on a whole
    /// source sample, as every whole second is) to its end, made as a file of its own; `serial`
    /// numbers its Ogg stream and `comments` (`KEY=value`) tag it.
    pub fn new(
        target: super::Target,
        facts: Facts,
        start: u64,
        serial: u32,
        comments: &[String],
    ) -> Self {
        assert!(
            facts.aligned(start),
            "a transcode starts on a source sample"
        );
        let channels = facts.output_channels();
        let samples = facts.output_samples().saturating_sub(start);
        let head = match target.format {
            Format::Opus => ogg::head(channels, facts.rate, serial, comments),
            Format::Mp3 => Vec::new(),
        };
        let head_len = match target.format {
            Format::Opus => head.len() as u64,
            // The Info frame is one frame.
            Format::Mp3 => target.frame_bytes(),
        };
        let layout = Layout::new(target, samples, head_len);
        let head = match target.format {
            Format::Opus => head,
            Format::Mp3 => lametag::info_frame(&layout, channels),
        };
        Self {
            layout,
            facts,
            head,
            serial,
            start,
        }
    }

    /// Makes segment `segment` of `source`, handing `emit` each piece in order (an Ogg
    /// page, or a few MP3 frames; the head first in segment 0). Stops when `emit` returns false.
    pub fn make(
        &self,
        source: &Source,
        segment: u64,
        mut emit: impl FnMut(Vec<u8>) -> bool,
    ) -> Result<(), Error> {
        let layout = &self.layout;
        let format = layout.target.format;
        let frame = format.frame();
        let frames = layout.segment_frames(segment);
        if segment == 0 && !emit(self.head.clone()) {
            return Ok(());
        }
        if frames.is_empty() {
            return Ok(());
        }
        let pre_roll = self.pre_roll(frames.start);
        let from = self.start + (frames.start - pre_roll) * frame;
        let mut samples = Samples::open(source, &self.facts, from)?;
        let channels = self.facts.output_channels();
        let mut encoder = Encoder::new(layout.target, channels)?;
        let mut pcm = vec![0f32; frame as usize * samples.channels()];
        let bytes = layout.frame_bytes as usize;
        let per_piece = match format {
            Format::Opus => layout.packets_per_page(),
            Format::Mp3 => MP3_FRAMES_PER_PIECE,
        };
        let mut made = Vec::with_capacity(bytes * (per_piece as usize + 4));
        let mut to_drop = pre_roll;
        let mut done = frames.start;
        while done < frames.end {
            samples.read(&mut pcm)?;
            let new = encoder.encode(&pcm, &mut made)? as u64;
            if to_drop > 0 {
                let drop = to_drop.min(new);
                made.drain(..drop as usize * bytes);
                to_drop -= drop;
            }
            loop {
                let held = (made.len() / bytes) as u64;
                let want = per_piece.min(frames.end - done);
                if held < want {
                    break;
                }
                let piece = match format {
                    Format::Opus => {
                        let packets: Vec<&[u8]> =
                            made[..want as usize * bytes].chunks_exact(bytes).collect();
                        let mut page = Vec::with_capacity(layout.page_len(want) as usize);
                        ogg::audio_page(&mut page, layout, self.serial, done, &packets);
                        page
                    }
                    Format::Mp3 => made[..want as usize * bytes].to_vec(),
                };
                made.drain(..want as usize * bytes);
                done += want;
                if !emit(piece) {
                    return Ok(());
                }
                if done == frames.end {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Frames made and dropped before the frame `start` begins: at least [`PRE_ROLL`] samples,
    /// starting on a whole source sample (or from the start of the stream).
    fn pre_roll(&self, start: u64) -> u64 {
        let frame = self.layout.target.format.frame();
        let mut frames = PRE_ROLL.div_ceil(frame);
        while frames < start && !self.facts.aligned(self.start + (start - frames) * frame) {
            frames += 1;
        }
        frames.min(start)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::transcode::{Format, RATE, Target};

    /// A WAV file of `seconds` of a chord at `rate` Hz with `channels` channels.
    fn wav(rate: u32, channels: u16, seconds: u32) -> tempfile::NamedTempFile {
        let frames = rate * seconds;
        let data = frames * u32::from(channels) * 2;
        let mut file = tempfile::Builder::new().suffix(".wav").tempfile().unwrap();
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data.to_le_bytes());
        for i in 0..frames {
            let t = f64::from(i) / f64::from(rate);
            for c in 0..channels {
                let f = 220.0 * f64::from(c + 2);
                let v = (t * f * std::f64::consts::TAU).sin() * 0.3
                    + (t * 331.0 * std::f64::consts::TAU).sin() * 0.2;
                out.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes());
            }
        }
        file.write_all(&out).unwrap();
        file
    }

    fn made(plan: &Plan, source: &Source, segment: u64) -> Vec<u8> {
        let mut out = Vec::new();
        plan.make(source, segment, |piece| {
            out.extend_from_slice(&piece);
            true
        })
        .unwrap();
        out
    }

    /// Every segment made on its own, in reverse order, is the bytes the layout says, and the
    /// same as made in order; for rates that divide 48 kHz evenly and for one that does not, from
    /// the start and from a few seconds in.
    #[test]
    fn segments_are_the_same_bytes_in_any_order_and_fill_the_layout() {
        for (rate, channels, format, seconds_in) in [
            (44_100, 2, Format::Opus, 0),
            (22_050, 1, Format::Mp3, 0),
            (48_000, 2, Format::Mp3, 0),
            (47_999, 2, Format::Opus, 0),
            (44_100, 2, Format::Mp3, 5),
            (47_999, 1, Format::Opus, 3),
        ] {
            let file = wav(rate, channels, 9);
            let source = Source::open(file.path()).unwrap();
            let facts = Facts::read(&source).unwrap();
            assert_eq!((facts.rate, facts.frames), (rate, u64::from(rate) * 9));
            let target = Target::new(format, format.default_bitrate());
            let start = seconds_in * u64::from(RATE);
            let plan = Plan::new(target, facts, start, 7, &[]);
            assert_eq!(plan.layout.samples, (9 - seconds_in) * u64::from(RATE));
            let whole: Vec<u8> = (0..plan.layout.segments())
                .flat_map(|s| made(&plan, &source, s))
                .collect();
            assert_eq!(
                whole.len() as u64,
                plan.layout.len(),
                "{rate} Hz {format:?}"
            );
            for s in (0..plan.layout.segments()).rev() {
                let bytes = plan.layout.segment_bytes(s);
                let range = bytes.start as usize..bytes.end as usize;
                assert!(
                    made(&plan, &source, s) == whole[range],
                    "{rate} Hz {format:?} from {seconds_in} s: segment {s} made alone differs"
                );
            }
        }
    }

    /// A pipeline starts on a whole source sample at least the pre-roll before its segment.
    #[test]
    fn the_pre_roll_starts_on_a_source_sample() {
        for rate in [44_100, 22_050, 11_025, 8_000, 96_000, 47_999] {
            let facts = Facts {
                rate,
                channels: 2,
                frames: u64::from(rate) * 600,
            };
            for format in [Format::Opus, Format::Mp3] {
                let plan = Plan::new(Target::new(format, 128), facts, 0, 0, &[]);
                let frame = format.frame();
                for s in 1..plan.layout.segments() {
                    let start = plan.layout.segment_frames(s).start;
                    let pre_roll = plan.pre_roll(start);
                    assert!(pre_roll * frame >= PRE_ROLL || pre_roll == start);
                    assert!(
                        facts.aligned((start - pre_roll) * frame),
                        "{rate} {format:?} {s}"
                    );
                }
            }
        }
    }
}
