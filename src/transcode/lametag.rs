//! The first frame of an MP3 transcode: a silent frame carrying the Xing "Info" header (frames,
//! bytes, a seek table) and its LAME extension with the encoder delay and padding, so that
//! decoders trim both and an album plays gapless. LAME writes the same frame only after the last
//! sample is encoded; here everything it holds is known beforehand (the layout), so it is written
//! first. The music CRC is left zero: decoders do not check it (the tag's own CRC they do).

use crc::{CRC_16_ARC, Crc};

use super::layout::{Layout, MP3_ENCODER_DELAY};

const TAG_CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// MPEG-1 Layer III bit rate indexes, by kbit/s.
const BITRATES: [u32; 15] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];

/// The Info frame for `layout` (MPEG-1 Layer III, 48 kHz, `channels` 1 or 2).
pub fn info_frame(layout: &Layout, channels: u8) -> Vec<u8> {
    let kbps = layout.target.kbps;
    let index = BITRATES
        .iter()
        .position(|&b| b == kbps)
        .expect("an MPEG-1 bit rate") as u8;
    let mut frame = vec![0u8; layout.frame_bytes as usize];
    // Sync, MPEG-1, Layer III, no CRC; the bit rate, 48 kHz (index 1), no padding; the mode:
    // joint stereo (01) or mono (11), as LAME codes the frames after it.
    let mode = if channels == 1 { 0b11 } else { 0b01 };
    frame[..4].copy_from_slice(&[0xff, 0xfb, index << 4 | 0b01 << 2, mode << 6]);
    let side_info = if channels == 1 { 17 } else { 32 };
    let mut at = 4 + side_info;
    let mut put = |bytes: &[u8]| {
        frame[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"Info");
    // Frames, bytes, seek table and quality present.
    put(&0x0fu32.to_be_bytes());
    put(&(layout.frames as u32).to_be_bytes());
    put(&(layout.len() as u32).to_be_bytes());
    // Constant bit rate: the table is a straight line.
    let toc: Vec<u8> = (0..100u32).map(|i| (i * 256 / 100) as u8).collect();
    put(&toc);
    put(&0u32.to_be_bytes());
    // The LAME extension.
    put(b"LAME3.100");
    // Tag revision 0, method 1 (constant bit rate); the lowpass not stated.
    put(&[0x01, 0]);
    // Peak signal, radio and audiophile gain unknown; no flags, no ATH type.
    put(&[0; 9]);
    put(&[kbps.min(255) as u8]);
    let delay = MP3_ENCODER_DELAY as u32;
    let padding = layout.mp3_padding() as u32;
    let both = delay << 12 | padding;
    put(&both.to_be_bytes()[1..]);
    // Misc: the output rate is 48 kHz (10 in the top two bits); no MP3Gain, preset or surround.
    put(&[0b10 << 6, 0, 0, 0]);
    put(&(layout.len() as u32).to_be_bytes());
    put(&0u16.to_be_bytes());
    let crc_at = at;
    let crc = TAG_CRC.checksum(&frame[..crc_at]);
    frame[crc_at..crc_at + 2].copy_from_slice(&crc.to_be_bytes());
    frame
}

/// Whether `kbps` is a bit rate an MPEG-1 Layer III frame can state.
pub fn is_mp3_bitrate(kbps: u32) -> bool {
    kbps != 0 && BITRATES.contains(&kbps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::{Format, Target};

    #[test]
    fn the_tag_states_the_delay_and_padding() {
        let layout = Layout::new(Target::new(Format::Mp3, 192), 480_000, 576);
        let frame = info_frame(&layout, 2);
        assert_eq!(frame.len(), 576);
        assert_eq!(&frame[36..40], b"Info");
        assert_eq!(&frame[156..165], b"LAME3.100");
        let both = u32::from_be_bytes([0, frame[177], frame[178], frame[179]]);
        assert_eq!(both >> 12, 576);
        assert_eq!(u64::from(both & 0xfff), layout.mp3_padding());
        let crc = u16::from_be_bytes([frame[190], frame[191]]);
        assert_eq!(crc, TAG_CRC.checksum(&frame[..190]));
    }
}
