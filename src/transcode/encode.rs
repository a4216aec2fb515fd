//! The encoders, each making frames of exactly one size: libopus in hard constant bit rate with
//! every packet padded to 20 ms at the bit rate, and LAME at constant bit rate and 48 kHz with its
//! bit reservoir off, so that every frame stands alone (a segment's first frame cannot borrow bits
//! from a frame another run encoded).

use super::layout::{OPUS_PRESKIP, RATE};
use super::{Error, Format, Target};

/// An encoder for one target.
pub enum Encoder {
    /// libopus.
    Opus(Box<opus::Encoder>, usize),
    /// LAME, with what it has made that does not yet fill a frame.
    Mp3(Box<mp3lame_encoder::Encoder>, Vec<u8>, usize),
}

impl Encoder {
    /// A fresh encoder for `target` with `channels` (1 or 2) channels at [`RATE`].
    pub fn new(target: Target, channels: u8) -> Result<Self, Error> {
        let bytes = target.frame_bytes() as usize;
        match target.format {
            Format::Opus => {
                let layout = if channels == 1 {
                    opus::Channels::Mono
                } else {
                    opus::Channels::Stereo
                };
                let mut encoder = opus::Encoder::new(RATE, layout, opus::Application::Audio)
                    .map_err(opus_error)?;
                encoder
                    .set_bitrate(opus::Bitrate::Bits(target.kbps as i32 * 1000))
                    .map_err(opus_error)?;
                encoder.set_vbr(false).map_err(opus_error)?;
                let lookahead = encoder.get_lookahead().map_err(opus_error)?;
                if lookahead as u64 != OPUS_PRESKIP {
                    return Err(Error::Encoder(format!(
                        "libopus looks ahead {lookahead} samples, the stream says {OPUS_PRESKIP}"
                    )));
                }
                Ok(Self::Opus(Box::new(encoder), bytes))
            }
            Format::Mp3 => {
                use mp3lame_encoder::{Bitrate, Builder, Quality};
                let mut builder = Builder::new().ok_or_else(|| Error::Encoder("LAME".into()))?;
                let bitrate = match target.kbps {
                    96 => Bitrate::Kbps96,
                    112 => Bitrate::Kbps112,
                    128 => Bitrate::Kbps128,
                    160 => Bitrate::Kbps160,
                    192 => Bitrate::Kbps192,
                    224 => Bitrate::Kbps224,
                    256 => Bitrate::Kbps256,
                    _ => Bitrate::Kbps320,
                };
                let lame = |err: mp3lame_encoder::BuildError| Error::Encoder(err.to_string());
                builder.set_num_channels(channels).map_err(lame)?;
                builder.set_sample_rate(RATE).map_err(lame)?;
                builder
                    .set_output_sample_rate(std::num::NonZeroU32::new(RATE))
                    .map_err(lame)?;
                builder.set_brate(bitrate).map_err(lame)?;
                builder.set_quality(Quality::Good).map_err(lame)?;
                builder.set_to_write_vbr_tag(false).map_err(lame)?;
                crate::sys::lame_without_reservoir(&mut builder);
                let encoder = builder.build().map_err(lame)?;
                Ok(Self::Mp3(Box::new(encoder), Vec::new(), bytes))
            }
        }
    }

    /// Encodes one frame's samples (interleaved), appending every whole frame made to `out`;
    /// returns how many. libopus makes one frame per call; LAME may lag by a few.
    pub fn encode(&mut self, pcm: &[f32], out: &mut Vec<u8>) -> Result<usize, Error> {
        match self {
            Self::Opus(encoder, bytes) => {
                let start = out.len();
                out.resize(start + *bytes, 0);
                let made = encoder
                    .encode_float(pcm, &mut out[start..])
                    .map_err(opus_error)?;
                // Hard CBR makes packets of the size asked; padding (RFC 6716 §3.2.5) makes sure.
                opus::packet::pad(&mut out[start..], made).map_err(opus_error)?;
                Ok(1)
            }
            Self::Mp3(encoder, pending, bytes) => {
                pending.reserve(mp3lame_encoder::max_required_buffer_size(pcm.len()));
                let made = if encoder.num_channels() == 1 {
                    encoder.encode_to_vec(mp3lame_encoder::MonoPcm(pcm), pending)
                } else {
                    encoder.encode_to_vec(mp3lame_encoder::InterleavedPcm(pcm), pending)
                };
                made.map_err(|err| Error::Encoder(err.to_string()))?;
                let whole = pending.len() / *bytes;
                for frame in pending.chunks_exact(*bytes) {
                    if frame[0] != 0xff || frame[1] & 0xe0 != 0xe0 {
                        return Err(Error::Encoder("LAME made a frame of another size".into()));
                    }
                }
                out.extend_from_slice(&pending[..whole * *bytes]);
                pending.drain(..whole * *bytes);
                Ok(whole)
            }
        }
    }
}

fn opus_error(err: opus::Error) -> Error {
    Error::Encoder(err.to_string())
}
