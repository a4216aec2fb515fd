//! The audio MIME table: which file extensions are tracks, and the `Content-Type` each is served with.
//!
//! Pure data, no framework: [`crate::library`] uses it to decide what a track is.

use std::borrow::Cow;

/// Extensions served with a type other than the one `mime_guess` would pick, because browsers reject
/// or misread its answer (Chromium's `canPlayType("audio/m4a")` is `""`; `audio/mp4` plays).
const OVERRIDES: &[(&str, &str, &str)] = &[
    // (extension, Content-Type, label shown in the page)
    ("mp3", "audio/mpeg", "MP3"),
    ("m4a", "audio/mp4", "M4A"),
    ("mp4a", "audio/mp4", "M4A"),
    ("aac", "audio/aac", "AAC"),
    ("ogg", "audio/ogg", "Ogg"),
    ("oga", "audio/ogg", "Ogg"),
    // Opus files are Ogg containers; `audio/ogg` is what every browser's media stack matches on.
    ("opus", "audio/ogg", "Opus"),
    ("flac", "audio/flac", "FLAC"),
    ("wav", "audio/wav", "WAV"),
    ("webm", "audio/webm", "WebM"),
    ("weba", "audio/webm", "WebM"),
];

/// What the server knows about one audio format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AudioFormat {
    /// The `Content-Type` the track is served with (static: every track of a type shares it).
    pub mime: &'static str,
    /// A short human label (`"MP3"`, `"FLAC"`): static for the known types.
    pub label: Cow<'static, str>,
    /// Preference when several files share a name: lower wins (MP3 first, as the most widely playable).
    pub rank: usize,
}

/// The audio format of a file extension (case-insensitive), or `None` when it is not audio.
///
/// Known formats come from [`OVERRIDES`]; any other extension that `mime_guess` maps to `audio/*`
/// (AIFF, MIDI, ...) is accepted with that type, labelled by its upper-cased extension.
pub(super) fn audio_format(extension: &str) -> Option<AudioFormat> {
    let ext = extension.to_ascii_lowercase();
    if let Some(rank) = OVERRIDES.iter().position(|(e, _, _)| *e == ext) {
        let (_, mime, label) = OVERRIDES[rank];
        return Some(AudioFormat {
            mime,
            label: Cow::Borrowed(label),
            rank,
        });
    }
    let mime = mime_guess::from_ext(&ext).first_raw()?;
    mime.starts_with("audio/").then(|| AudioFormat {
        mime,
        label: Cow::Owned(ext.to_ascii_uppercase()),
        rank: OVERRIDES.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_facing_types_for_every_supported_format() {
        let table = [
            ("mp3", "audio/mpeg"),
            ("MP3", "audio/mpeg"),
            ("ogg", "audio/ogg"),
            ("opus", "audio/ogg"),
            ("flac", "audio/flac"),
            ("wav", "audio/wav"),
            ("m4a", "audio/mp4"),
            ("aac", "audio/aac"),
            ("webm", "audio/webm"),
        ];
        for (ext, mime) in table {
            assert_eq!(audio_format(ext).unwrap().mime, mime, "{ext}");
        }
    }

    #[test]
    fn other_audio_types_fall_back_to_mime_guess() {
        let aiff = audio_format("aiff").unwrap();
        assert!(aiff.mime.starts_with("audio/"), "{}", aiff.mime);
        assert_eq!(aiff.label, "AIFF");
    }

    #[test]
    fn non_audio_extensions_are_not_tracks() {
        for ext in ["txt", "jpg", "toml", "", "mp3.bak", "html"] {
            assert!(audio_format(ext).is_none(), "{ext}");
        }
    }
}
