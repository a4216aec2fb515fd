//! Ogg framing for an Opus stream (RFC 3533, RFC 7845): the two header pages and audio pages of
//! whole packets. Written here rather than by the `ogg` crate because a page's number and granule
//! position must be chosen by the caller (a segment starts mid-stream) and pages end every
//! [`Layout::packets_per_page`] packets; the checksum is the `crc` crate's.

use crc::{Algorithm, Crc};

use super::layout::{Layout, OPUS_PRESKIP};

/// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, no initial value or final XOR.
const OGG_CRC: Crc<u32> = Crc::<u32>::new(&Algorithm {
    width: 32,
    poly: 0x04c1_1db7,
    init: 0,
    refin: false,
    refout: false,
    xorout: 0,
    check: 0x89a1_897f,
    residue: 0,
});

const BEGINS_STREAM: u8 = 0x02;
const ENDS_STREAM: u8 = 0x04;

/// The most comment bytes the tags page carries (one page, 255 lacing values of 255 bytes, less
/// the fixed fields).
const MAX_TAGS: usize = 60_000;

/// Appends one Ogg page of whole `packets` to `out`.
pub fn page(
    out: &mut Vec<u8>,
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    packets: &[&[u8]],
) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let lacing: usize = packets.iter().map(|p| p.len() / 255 + 1).sum();
    out.push(u8::try_from(lacing).expect("a page's packets fit its lacing table"));
    for packet in packets {
        out.extend(std::iter::repeat_n(255, packet.len() / 255));
        out.push((packet.len() % 255) as u8);
    }
    for packet in packets {
        out.extend_from_slice(packet);
    }
    let crc = OGG_CRC.checksum(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

/// The two header pages: `OpusHead` (channels, pre-skip, the source's rate) and `OpusTags` (the
/// encoder's name and `comments`, `KEY=value`, cut to fit one page).
pub fn head(channels: u8, source_rate: u32, serial: u32, comments: &[String]) -> Vec<u8> {
    let mut opus_head = Vec::with_capacity(19);
    opus_head.extend_from_slice(b"OpusHead");
    opus_head.push(1);
    opus_head.push(channels);
    opus_head.extend_from_slice(&(OPUS_PRESKIP as u16).to_le_bytes());
    opus_head.extend_from_slice(&source_rate.to_le_bytes());
    opus_head.extend_from_slice(&0i16.to_le_bytes());
    opus_head.push(0);

    let vendor = concat!("audio-streamer ", env!("CARGO_PKG_VERSION"));
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor.as_bytes());
    let mut kept = Vec::new();
    let mut room = MAX_TAGS;
    for comment in comments {
        if comment.len() + 4 <= room {
            room -= comment.len() + 4;
            kept.push(comment);
        }
    }
    tags.extend_from_slice(&(kept.len() as u32).to_le_bytes());
    for comment in kept {
        tags.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        tags.extend_from_slice(comment.as_bytes());
    }

    let mut out = Vec::new();
    page(&mut out, BEGINS_STREAM, 0, serial, 0, &[&opus_head]);
    page(&mut out, 0, 0, serial, 1, &[&tags]);
    out
}

/// Appends the audio page holding `packets`, which follow the first `before` packets.
pub fn audio_page(out: &mut Vec<u8>, layout: &Layout, serial: u32, before: u64, packets: &[&[u8]]) {
    let after = before + packets.len() as u64;
    let flags = if after >= layout.frames {
        ENDS_STREAM
    } else {
        0
    };
    let sequence = 2 + before / layout.packets_per_page();
    let sequence = u32::try_from(sequence).expect("fewer than 2^32 pages");
    page(
        out,
        flags,
        layout.opus_granule(after),
        serial,
        sequence,
        packets,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_oggs() {
        // The CRC of the ASCII digits under Ogg's parameters, and a page that libogg wrote.
        assert_eq!(OGG_CRC.checksum(b"123456789"), 0x89a1_897f);
    }

    #[test]
    fn a_page_has_its_lacing_and_length() {
        let mut out = Vec::new();
        let packet = [7u8; 320];
        page(&mut out, 0, 960, 1, 2, &[&packet, &packet]);
        assert_eq!(out.len(), 27 + 4 + 640);
        assert_eq!(&out[27..31], &[255, 65, 255, 65]);
    }
}
