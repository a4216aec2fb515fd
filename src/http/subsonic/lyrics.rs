//! Lyrics: `getLyricsBySongId` (OpenSubsonic's `songLyrics`: lines with their start times when
//! synced) and `getLyrics` (by artist and title, as plain text). Read from the track's `.lrc` file
//! or its tags when asked, on the blocking pool, never kept.

use actix_web::web;

use super::browsing::track_at;
use super::envelope::Element;
use super::{Call, Fault};
use crate::library::lyrics::Lyrics;
use crate::library::{Library, ids};

impl Call<'_> {
    /// The lyrics of the track at `i`, read on the blocking pool.
    async fn lyrics_of(&self, library: &Library, i: usize) -> Result<Option<Lyrics>, Fault> {
        let shared = std::sync::Arc::clone(&self.state.library);
        let track = library.tracks()[i].clone();
        web::block(move || shared.lyrics(&track))
            .await
            .map_err(|_| Fault::Busy)
    }

    /// `getLyricsBySongId`: the song's lyrics as lines (none if it has none).
    pub(super) async fn lyrics_by_id(&self, library: &Library) -> Result<Element, Fault> {
        let i = track_at(library, self.params.required("id")?)?;
        let track = &library.tracks()[i];
        let mut found = Vec::new();
        if let Some(lyrics) = self.lyrics_of(library, i).await? {
            let lines = lyrics
                .lines
                .iter()
                .map(|line| {
                    Element::new("line")
                        .maybe("start", line.start_ms)
                        .text(line.text.as_str())
                })
                .collect();
            found.push(
                Element::new("structuredLyrics")
                    .attr("lang", "und")
                    .attr("synced", lyrics.synced)
                    .maybe("displayArtist", track.tags.artist.as_deref())
                    .attr("displayTitle", track.title.as_str())
                    .list("line", lines),
            );
        }
        Ok(Element::new("lyricsList").list("structuredLyrics", found))
    }

    /// `getLyrics`: the lyrics of the first song by `artist` titled `title` that has any, as text.
    pub(super) async fn lyrics(&self, library: &Library) -> Result<Element, Fault> {
        let artist = self.params.get("artist").map(ids::normalize);
        let title = self.params.get("title").map(ids::normalize);
        let lyrics = Element::new("lyrics");
        let none = || Element::new("lyrics").text("");
        if artist.is_none() && title.is_none() {
            return Ok(none());
        }
        let catalog = library.catalog();
        let candidates = library.tracks().iter().enumerate().filter(|(i, track)| {
            let has = track.tags.has_lyrics || track.lyrics_file.is_some();
            let titled = title
                .as_ref()
                .is_none_or(|t| ids::normalize(&track.title) == *t);
            let by = artist.as_ref().is_none_or(|a| {
                catalog
                    .track_artists(*i)
                    .any(|artist| ids::normalize(&artist.name) == *a)
            });
            has && titled && by
        });
        let candidates: Vec<usize> = candidates.map(|(i, _)| i).take(5).collect();
        for i in candidates {
            if let Some(found) = self.lyrics_of(library, i).await? {
                let track = &library.tracks()[i];
                let text: Vec<&str> = found.lines.iter().map(|line| line.text.as_str()).collect();
                return Ok(lyrics
                    .maybe("artist", track.tags.artist.as_deref())
                    .attr("title", track.title.as_str())
                    .text(text.join("\n")));
            }
        }
        Ok(none())
    }
}
