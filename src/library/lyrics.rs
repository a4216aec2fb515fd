//! Lyrics text into lines: LRC (`[mm:ss.xx]line`) into lines with their start times, anything else
//! into lines without. Framework-free and pure; the text comes from a `.lrc` file beside the track
//! or from its tags, read on demand by [`super::SharedLibrary::lyrics`] and never kept.
//!
//! What LRC parsing accepts: any number of time stamps before a line's text (`[00:12.00][01:02.5]`
//! repeats the line at each), stamps as `m:ss`, `m:ss.f` to `m:ss.fff` or `m:ss:ff`, minutes of any
//! length; `[offset:±ms]` (a positive offset shows lines sooner, as the format's authors meant);
//! the ID tags (`[ar:…]`, `[ti:…]`, `[al:…]`, `[au:…]`, `[by:…]`, `[length:…]`, `[re:…]`,
//! `[tool:…]`, `[ve:…]`, `[la:…]`, `[lr:…]`, `[#:…]`) are dropped, and so are the word stamps of
//! enhanced LRC (`<00:12.30>`). Text in brackets that is none of these (`[Chorus]`) is text.

/// Lyrics as lines, with start times when the text was synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lyrics {
    /// Whether the lines carry start times (the text was LRC with at least one stamp).
    pub synced: bool,
    /// The lines: synced ones by start time; unsynced ones in their order, blank lines between
    /// verses kept, blank lines at either end dropped.
    pub lines: Vec<Line>,
}

/// One line of lyrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When it starts, in milliseconds from the track's start (offset applied); `None` unsynced.
    pub start_ms: Option<u64>,
    /// The words (an empty line in synced lyrics marks an instrumental gap).
    pub text: String,
}

/// LRC's ID tags, whose lines say nothing to sing.
const ID_TAGS: &[&str] = &[
    "ar", "al", "ti", "au", "by", "length", "re", "tool", "ve", "la", "lr", "#",
];

/// What one bracket at the start of a line is.
#[derive(Debug, PartialEq)]
enum Bracket {
    /// A time stamp, in milliseconds.
    Stamp(u64),
    /// `[offset:±ms]`.
    Offset(i64),
    /// Another ID tag.
    Id,
}

impl Lyrics {
    /// The lines of `text`: synced if any line starts with a time stamp, else every line as it is
    /// (then ID tag lines are dropped too). `None` when no line has words.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut offset = 0i64;
        let mut synced = Vec::new();
        let mut plain = Vec::new();
        for line in text.lines() {
            let (brackets, rest) = brackets(line);
            let mut stamps = Vec::new();
            for bracket in &brackets {
                match *bracket {
                    Bracket::Stamp(ms) => stamps.push(ms),
                    Bracket::Offset(ms) => offset = ms,
                    Bracket::Id => {}
                }
            }
            if !stamps.is_empty() {
                let words = without_word_stamps(rest);
                synced.extend(stamps.into_iter().map(|ms| (ms, words.clone())));
            } else if brackets.is_empty() {
                plain.push(line.trim_end().to_owned());
            }
        }
        let lyrics = if synced.is_empty() {
            let first = plain.iter().position(|l| !l.trim().is_empty())?;
            let last = plain.iter().rposition(|l| !l.trim().is_empty())?;
            let lines = plain.drain(first..=last).map(|text| Line {
                start_ms: None,
                text,
            });
            Self {
                synced: false,
                lines: lines.collect(),
            }
        } else {
            // A stable sort: lines stamped alike keep the file's order.
            synced.sort_by_key(|&(ms, _)| ms);
            let shift = |ms: u64| (ms as i64).saturating_sub(offset).max(0) as u64;
            let lines = synced.into_iter().map(|(ms, text)| Line {
                start_ms: Some(shift(ms)),
                text,
            });
            Self {
                synced: true,
                lines: lines.collect(),
            }
        };
        lyrics
            .lines
            .iter()
            .any(|l| !l.text.trim().is_empty())
            .then_some(lyrics)
    }
}

/// The brackets a line starts with that are stamps or ID tags, and the text after them.
fn brackets(line: &str) -> (Vec<Bracket>, &str) {
    let mut found = Vec::new();
    let mut rest = line.trim_start();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some((content, after)) = inner.split_once(']') else {
            break;
        };
        let Some(bracket) = bracket(content) else {
            break;
        };
        found.push(bracket);
        rest = after.trim_start();
    }
    (found, rest.trim_end())
}

fn bracket(content: &str) -> Option<Bracket> {
    if let Some(ms) = stamp(content) {
        return Some(Bracket::Stamp(ms));
    }
    let (tag, value) = content.split_once(':')?;
    let tag = tag.trim().to_ascii_lowercase();
    if tag == "offset" {
        let value = value.trim();
        let value = value.strip_prefix('+').unwrap_or(value);
        return value.parse().ok().map(Bracket::Offset);
    }
    ID_TAGS.contains(&tag.as_str()).then_some(Bracket::Id)
}

/// A time stamp's milliseconds: `m:ss`, `m:ss.f`, `m:ss.ff`, `m:ss.fff`, `m:ss:ff`.
fn stamp(text: &str) -> Option<u64> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (minutes, rest) = text.trim().split_once(':')?;
    let (seconds, fraction) = match rest.split_once(['.', ':']) {
        Some((seconds, fraction)) => (seconds, Some(fraction)),
        None => (rest, None),
    };
    if !digits(minutes) || !digits(seconds) || seconds.len() > 2 {
        return None;
    }
    let (minutes, seconds): (u64, u64) = (minutes.parse().ok()?, seconds.parse().ok()?);
    if seconds >= 60 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if digits(f) && f.len() <= 3 => {
            f.parse::<u64>().ok()? * 10u64.pow(3 - f.len() as u32)
        }
        Some(_) => return None,
    };
    minutes
        .checked_mul(60_000)?
        .checked_add(seconds * 1000 + millis)
}

/// `text` without enhanced LRC's word stamps (`<00:12.30>`), spaces between words kept.
fn without_word_stamps(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let stamped = rest[open + 1..]
            .split_once('>')
            .filter(|(inside, _)| stamp(inside).is_some());
        match stamped {
            Some((_, after)) => {
                out.push_str(&rest[..open]);
                rest = after;
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced(lines: &[(u64, &str)]) -> Option<Lyrics> {
        Some(Lyrics {
            synced: true,
            lines: lines
                .iter()
                .map(|&(ms, text)| Line {
                    start_ms: Some(ms),
                    text: text.into(),
                })
                .collect(),
        })
    }

    #[test]
    fn lrc_lines_come_out_by_time_with_repeated_stamps_and_id_tags_dropped() {
        let text = "\u{feff}[ar:Someone]\n[ti:Song]\n[length: 03:20]\n\
                    [00:12.00]First line\r\n\
                    [00:45.50][01:30.5]Chorus\n\
                    [00:20]Second line\n\
                    [00:50.123]\n\
                    not a stamped line\n";
        assert_eq!(
            Lyrics::parse(text),
            synced(&[
                (12_000, "First line"),
                (20_000, "Second line"),
                (45_500, "Chorus"),
                (50_123, ""),
                (90_500, "Chorus"),
            ])
        );
    }

    #[test]
    fn an_offset_moves_every_line_and_never_before_the_start() {
        let sooner = "[offset:+500]\n[00:01.00]a\n[00:00.20]b";
        assert_eq!(Lyrics::parse(sooner), synced(&[(0, "b"), (500, "a")]));
        let later = "[00:01.00]a\n[offset: -250]";
        assert_eq!(Lyrics::parse(later), synced(&[(1250, "a")]));
    }

    #[test]
    fn stamps_are_read_in_every_usual_form_and_nothing_else() {
        for (text, ms) in [
            ("00:12", Some(12_000)),
            ("0:12.5", Some(12_500)),
            ("00:12.50", Some(12_500)),
            ("00:12.505", Some(12_505)),
            ("00:12:50", Some(12_500)),
            ("123:00.00", Some(7_380_000)),
            ("00:60.00", None),
            ("00:1a", None),
            ("00:12.5000", None),
            ("ar:Someone", None),
            (":12", None),
            ("12", None),
        ] {
            assert_eq!(stamp(text), ms, "{text:?}");
        }
    }

    #[test]
    fn enhanced_word_stamps_are_dropped_and_other_brackets_are_words() {
        let text = "[00:01.00]<00:01.00>Hello <00:01.50>world <b>\n[00:02.00][Chorus] la";
        assert_eq!(
            Lyrics::parse(text),
            synced(&[(1000, "Hello world <b>"), (2000, "[Chorus] la")])
        );
    }

    #[test]
    fn plain_text_is_unsynced_lines_with_its_verses_kept() {
        let text = "\n\n[ar:Someone]\nFirst verse\n  indented\n\nSecond verse  \n\n";
        let lyrics = Lyrics::parse(text).unwrap();
        assert!(!lyrics.synced);
        let lines: Vec<_> = lyrics.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["First verse", "  indented", "", "Second verse"]);
        assert!(lyrics.lines.iter().all(|l| l.start_ms.is_none()));
    }

    #[test]
    fn text_without_words_is_no_lyrics() {
        for text in [
            "",
            "\n  \n",
            "[ar:Someone]\n[ti:x]",
            "[00:01.00]\n[00:02.00]  ",
        ] {
            assert_eq!(Lyrics::parse(text), None, "{text:?}");
        }
    }
}
