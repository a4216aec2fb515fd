//! A track's audio as the encoders take it: decoded (symphonia; Opus with libopus), down to at
//! most two channels, at 48 kHz (rubato's FFT resampler), from any sample on.
//!
//! Reading from output sample `r` always starts the same way, so that what follows is the same
//! samples every time: the file opened afresh, an accurate seek to 100 ms before the source
//! sample that `r` falls on (the decoder's warm-up, decoded and dropped), a fresh resampler. `r`
//! must fall on a whole source sample (`Facts::aligned`); the segments are laid out so that their
//! starting points do.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::audio::Channels;
use symphonia::core::audio::Position;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{TimeBase, Timestamp};

use super::Error;
use super::layout::RATE;

/// Bytes read at any offset: one opened file serves every segment's reader at once.
pub trait ReadAt: Send + Sync + 'static {
    /// Reads into `buf` from `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        FileExt::read_at(self, buf, offset)
    }
}

/// A track's bytes, as the decoders read them.
#[derive(Clone)]
pub struct Source {
    bytes: Arc<dyn ReadAt>,
    len: u64,
    /// The file's extension, a hint to the format probe.
    extension: Option<Arc<str>>,
}

impl Source {
    /// `len` bytes read from `bytes`; `extension` (`flac`) hints at the format.
    pub fn new(bytes: Arc<dyn ReadAt>, len: u64, extension: Option<&str>) -> Self {
        Self {
            bytes,
            len,
            extension: extension.map(Arc::from),
        }
    }

    /// The file at `path`.
    pub fn open(path: &std::path::Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let extension = path.extension().and_then(|e| e.to_str());
        Ok(Self::new(Arc::new(file), len, extension))
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// One reader's position in a [`Source`].
struct Cursor {
    source: Source,
    at: u64,
}

impl Read for Cursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.bytes.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for Cursor {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.source.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.at.checked_add_signed(delta),
        };
        self.at =
            at.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "before the start"))?;
        Ok(self.at)
    }
}

impl MediaSource for Cursor {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.source.len)
    }
}

/// What the layout needs to know of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Its sample rate.
    pub rate: u32,
    /// Its channels.
    pub channels: u16,
    /// Its length in samples (per channel) at its own rate.
    pub frames: u64,
}

impl Facts {
    /// Reads them from the file at `path`: from its headers where they say the length, else by
    /// reading every packet's duration (an MP3 without a Xing header).
    pub fn read(source: &Source) -> Result<Self, Error> {
        let mut reader = open(source)?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::Unsupported("no audio track".into()))?;
        let params = audio_params(track.codec_params.as_ref())?;
        let rate = params
            .sample_rate
            .ok_or_else(|| Error::Unsupported("no sample rate".into()))?;
        let channels = params
            .channels
            .as_ref()
            .map(Channels::count)
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::Unsupported("no channels".into()))?;
        let id = track.id;
        let lead = lead_in(track, params);
        let frames = match track.num_frames {
            Some(frames) => frames.saturating_sub(lead),
            None => {
                let mut frames = 0u64;
                while let Some(packet) = reader.next_packet().map_err(corrupt)? {
                    if packet.track_id == id {
                        frames += packet.dur.get();
                    }
                }
                frames
            }
        };
        Ok(Self {
            rate,
            channels: u16::try_from(channels).unwrap_or(u16::MAX),
            frames,
        })
    }

    /// The source's length in output samples.
    pub fn output_samples(&self) -> u64 {
        (u128::from(self.frames) * u128::from(RATE)).div_ceil(u128::from(self.rate)) as u64
    }

    /// Whether output sample `r` falls on a whole source sample.
    pub fn aligned(&self, r: u64) -> bool {
        (u128::from(r) * u128::from(self.rate)) % u128::from(RATE) == 0
    }

    /// The channels of the output (the source's, down to two).
    pub fn output_channels(&self) -> u8 {
        if self.channels == 1 { 1 } else { 2 }
    }
}

/// Samples at the start of `track` that are its encoder's lead-in and that its timestamps and
/// length count: Ogg Opus's pre-skip. (symphonia's own decoders trim theirs.)
fn lead_in(
    track: &symphonia::core::formats::Track,
    params: &symphonia::core::codecs::audio::AudioCodecParameters,
) -> u64 {
    if params.codec == CODEC_ID_OPUS {
        track.delay.map_or(0, u64::from)
    } else {
        0
    }
}

/// The audio parameters of a track, if it is audio.
fn audio_params(
    params: Option<&CodecParameters>,
) -> Result<&symphonia::core::codecs::audio::AudioCodecParameters, Error> {
    params
        .and_then(CodecParameters::audio)
        .ok_or_else(|| Error::Unsupported("not an audio track".into()))
}

fn corrupt(err: SymphoniaError) -> Error {
    match err {
        SymphoniaError::IoError(err) if err.kind() != std::io::ErrorKind::UnexpectedEof => {
            Error::Io(err)
        }
        err => Error::Corrupt(err.to_string()),
    }
}

/// A reader of `source` from its start, its format probed.
fn open(source: &Source) -> Result<Box<dyn FormatReader>, Error> {
    let cursor = Cursor {
        source: source.clone(),
        at: 0,
    };
    let stream = MediaSourceStream::new(
        Box::new(cursor),
        MediaSourceStreamOptions {
            buffer_len: 64 * 1024,
        },
    );
    let mut hint = Hint::new();
    if let Some(ext) = &source.extension {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|err| Error::Unsupported(err.to_string()))
}

/// A decoder: symphonia's, or libopus for Opus (which symphonia does not decode).
enum Decoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(opus::Decoder),
}

/// The output samples of a track from one point on, interleaved, at [`RATE`].
pub struct Samples {
    reader: Box<dyn FormatReader>,
    decoder: Decoder,
    track_id: u32,
    time_base: Option<TimeBase>,
    rate: u32,
    /// Output channels, and for each the weight of every source channel.
    mix: Vec<[f32; 2]>,
    channels: usize,
    /// The next source sample wanted: earlier ones are dropped, a gap before it is silence.
    next: u64,
    /// Decoded samples, mixed down, at the source's rate, not yet resampled.
    decoded: Vec<f32>,
    /// Scratch for one packet's samples as decoded.
    scratch: Vec<f32>,
    resampler: Option<(Fft<f32>, usize)>,
    /// Output samples ready, and how many of them were taken.
    ready: Vec<f32>,
    taken: usize,
    ended: bool,
    /// See [`lead_in`].
    lead: u64,
}

impl Samples {
    /// The output samples of `source` (whose facts are `facts`) from output sample `from`, which
    /// must be [`Facts::aligned`].
    pub fn open(source: &Source, facts: &Facts, from: u64) -> Result<Self, Error> {
        assert!(facts.aligned(from), "a segment starts on a source sample");
        let start = (u128::from(from) * u128::from(facts.rate) / u128::from(RATE)) as u64;
        let mut reader = open(source)?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::Unsupported("no audio track".into()))?;
        let track_id = track.id;
        let time_base = track.time_base;
        let params = audio_params(track.codec_params.as_ref())?.clone();
        let lead = lead_in(track, &params);
        let source_channels = usize::from(facts.channels);
        let decoder = if params.codec == CODEC_ID_OPUS {
            let channels = match source_channels {
                1 => opus::Channels::Mono,
                2 => opus::Channels::Stereo,
                n => return Err(Error::Unsupported(format!("Opus with {n} channels"))),
            };
            let decoder = opus::Decoder::new(RATE, channels)
                .map_err(|err| Error::Unsupported(err.to_string()))?;
            Decoder::Opus(decoder)
        } else {
            let decoder = symphonia::default::get_codecs()
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
                .map_err(|err| Error::Unsupported(err.to_string()))?;
            Decoder::Symphonia(decoder)
        };
        let channels = usize::from(facts.output_channels());
        let mix = mix(params.channels.as_ref(), source_channels, channels);
        let warm_up = u64::from(facts.rate) / 10;
        let mut ended = false;
        if start > 0 {
            let ts = (start + lead).saturating_sub(warm_up);
            let to = SeekTo::Timestamp {
                ts: Timestamp::new(ts as i64),
                track_id,
            };
            match reader.seek(SeekMode::Accurate, to) {
                Ok(_) => {}
                Err(SymphoniaError::SeekError(_)) => ended = true,
                Err(err) => return Err(corrupt(err)),
            }
        }
        let resampler = if facts.rate == RATE {
            None
        } else {
            let fft = Fft::<f32>::new(
                facts.rate as usize,
                RATE as usize,
                1024,
                channels,
                FixedSync::Input,
            )
            .map_err(|err| Error::Unsupported(err.to_string()))?;
            let delay = fft.output_delay();
            Some((fft, delay))
        };
        Ok(Self {
            reader,
            decoder,
            track_id,
            time_base,
            rate: facts.rate,
            mix,
            channels,
            next: start,
            decoded: Vec::new(),
            scratch: Vec::new(),
            resampler,
            ready: Vec::new(),
            taken: 0,
            ended,
            lead,
        })
    }

    /// Output channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Fills `out` (whole frames) with the next output samples; silence once the source has ended.
    pub fn read(&mut self, out: &mut [f32]) -> Result<(), Error> {
        let mut filled = 0;
        while filled < out.len() {
            if self.taken == self.ready.len() {
                self.ready.clear();
                self.taken = 0;
                self.produce()?;
            }
            let n = (self.ready.len() - self.taken).min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&self.ready[self.taken..self.taken + n]);
            self.taken += n;
            filled += n;
        }
        Ok(())
    }

    /// Makes more output samples ready.
    fn produce(&mut self) -> Result<(), Error> {
        let Some((mut fft, mut delay)) = self.resampler.take() else {
            if !self.ended && self.decoded.is_empty() {
                self.decode()?;
            }
            if self.decoded.is_empty() {
                self.ready.resize(1024 * self.channels, 0.0);
            } else {
                std::mem::swap(&mut self.ready, &mut self.decoded);
            }
            return Ok(());
        };
        let made = self.resample(&mut fft, &mut delay);
        self.resampler = Some((fft, delay));
        made
    }

    /// Resamples what is decoded until some output is ready, dropping the resampler's delay (its
    /// first output samples come before the first input).
    fn resample(&mut self, fft: &mut Fft<f32>, delay: &mut usize) -> Result<(), Error> {
        let channels = self.channels;
        loop {
            let need = fft.input_frames_next();
            while !self.ended && self.decoded.len() < need * channels {
                self.decode()?;
            }
            if self.decoded.len() < need * channels {
                self.decoded.resize(need * channels, 0.0);
            }
            let out_frames = fft.output_frames_next();
            let start = self.ready.len();
            self.ready.resize(start + out_frames * channels, 0.0);
            let input = InterleavedSlice::new(&self.decoded[..need * channels], channels, need)
                .expect("sized above");
            let mut output =
                InterleavedSlice::new_mut(&mut self.ready[start..], channels, out_frames)
                    .expect("sized above");
            let (used, made) = fft
                .process_into_buffer(&input, &mut output, None)
                .map_err(|err| Error::Encoder(err.to_string()))?;
            self.decoded.drain(..used * channels);
            self.ready.truncate(start + made * channels);
            if *delay > 0 {
                let drop = (*delay * channels).min(self.ready.len());
                self.ready.drain(..drop);
                *delay -= drop / channels;
            }
            if !self.ready.is_empty() {
                return Ok(());
            }
        }
    }

    /// Decodes the next packet into `decoded`, or marks the source ended.
    fn decode(&mut self) -> Result<(), Error> {
        let packet = match self.reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => {
                self.ended = true;
                return Ok(());
            }
            Err(err) => {
                self.ended = true;
                return Err(corrupt(err));
            }
        };
        if packet.track_id != self.track_id {
            return Ok(());
        }
        // Timestamps in Ogg Opus count the pre-skip (`lead`): libopus's first samples are the
        // encoder's lead-in, dropped here (symphonia's own decoders trim theirs).
        let at = packet.pts.get().saturating_sub(self.lead as i64);
        let lead_in = usize::try_from(at.unsigned_abs()).unwrap_or(usize::MAX);
        let (first, lead_in) = if at < 0 {
            (0, lead_in)
        } else {
            (self.sample_of(Timestamp::new(at)), 0)
        };
        let warming = first < self.next;
        self.scratch.clear();
        let source_channels = self.mix.len();
        match &mut self.decoder {
            Decoder::Symphonia(decoder) => match decoder.decode(&packet) {
                Ok(buffer) => buffer.copy_to_vec_interleaved(&mut self.scratch),
                Err(SymphoniaError::DecodeError(_)) if warming => return Ok(()),
                Err(err) => return Err(corrupt(err)),
            },
            Decoder::Opus(decoder) => {
                self.scratch.resize(5760 * source_channels, 0.0);
                match decoder.decode_float(&packet.data, &mut self.scratch, false) {
                    Ok(n) => {
                        let end = n.saturating_sub(packet.trim_end.get() as usize);
                        self.scratch.truncate(end * source_channels);
                        let start = lead_in.min(end);
                        self.scratch.drain(..start * source_channels);
                    }
                    Err(_) if warming => return Ok(()),
                    Err(err) => return Err(Error::Corrupt(err.to_string())),
                }
            }
        }
        let frames = self.scratch.len() / source_channels.max(1);
        let end = first + frames as u64;
        if end <= self.next {
            return Ok(());
        }
        // A gap before the packet is silence; what comes before the wanted sample is dropped.
        if first > self.next {
            let gap = (first - self.next) as usize * self.channels;
            self.decoded.extend(std::iter::repeat_n(0.0, gap));
        }
        let skip = self.next.saturating_sub(first) as usize;
        for frame in self.scratch.chunks_exact(source_channels).skip(skip) {
            if self.channels == source_channels {
                self.decoded.extend_from_slice(frame);
            } else {
                for out in 0..self.channels {
                    let sum = frame
                        .iter()
                        .zip(&self.mix)
                        .map(|(sample, weights)| sample * weights[out])
                        .sum();
                    self.decoded.push(sum);
                }
            }
        }
        self.next = end;
        Ok(())
    }

    /// The source sample a packet timestamp falls on.
    fn sample_of(&self, ts: Timestamp) -> u64 {
        let ts = ts.get().max(0) as u128;
        match self.time_base {
            Some(tb) => {
                (ts * u128::from(tb.numer.get()) * u128::from(self.rate)
                    / u128::from(tb.denom.get())) as u64
            }
            None => ts as u64,
        }
    }
}

/// For each source channel, its weight in the left and right output (or the mono one): the
/// usual downmix beyond stereo (centre and surrounds at −3 dB, no LFE), scaled so that a full
/// scale input stays in range.
fn mix(layout: Option<&Channels>, source: usize, output: usize) -> Vec<[f32; 2]> {
    if source <= 2 {
        return (0..source)
            .map(|c| if c == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
            .collect();
    }
    const HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let mut weights: Vec<[f32; 2]> = match layout {
        Some(Channels::Positioned(positions)) => positions
            .iter()
            .map(|p| {
                if p == Position::FRONT_LEFT {
                    [1.0, 0.0]
                } else if p == Position::FRONT_RIGHT {
                    [0.0, 1.0]
                } else if p == Position::FRONT_CENTER {
                    [HALF, HALF]
                } else if p == Position::LFE1 {
                    [0.0, 0.0]
                } else if p == Position::REAR_LEFT
                    || p == Position::SIDE_LEFT
                    || p == Position::FRONT_LEFT_CENTER
                {
                    [HALF, 0.0]
                } else if p == Position::REAR_RIGHT
                    || p == Position::SIDE_RIGHT
                    || p == Position::FRONT_RIGHT_CENTER
                {
                    [0.0, HALF]
                } else {
                    [HALF / 2.0, HALF / 2.0]
                }
            })
            .collect(),
        _ => (0..source)
            .map(|c| match c {
                0 => [1.0, 0.0],
                1 => [0.0, 1.0],
                _ => [0.0, 0.0],
            })
            .collect(),
    };
    weights.resize(source, [0.0, 0.0]);
    let scale = (0..output)
        .map(|o| weights.iter().map(|w| w[o]).sum::<f32>())
        .fold(1.0f32, f32::max);
    for w in &mut weights {
        w[0] /= scale;
        w[1] /= scale;
    }
    weights
}
