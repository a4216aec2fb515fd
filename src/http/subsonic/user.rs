//! What a listener keeps, through the Subsonic API: stars (`star`, `unstar`), ratings
//! (`setRating`), plays and what plays now (`scrobble`, `getNowPlaying`), playlists, the play queue
//! and bookmarks; and what the listener is (`getUser`, `tokenInfo`), and the scan (`getScanStatus`,
//! `startScan`). Kept by [`crate::data`], the same rows the page's `/api/` reads and writes.
//!
//! Every id is checked against the library before anything is stored (70 for one it does not
//! have); a call names at most [`MAX_IDS`] of them.

use std::time::{Duration, SystemTime};

use super::super::browse::kind_of;
use super::envelope::Element;
use super::items::time;
use super::{Call, Fault};
use crate::data::{Playing, PlaylistEdit, PlaylistInfo};
use crate::library::Library;

/// The most ids one call may name (`star`, `scrobble`, a playlist's songs at once).
const MAX_IDS: usize = 1000;

/// Checks that every id of `ids` is a track of the library.
fn tracks_of(library: &Library, ids: &[String]) -> Result<(), Fault> {
    if ids.iter().all(|id| library.index_of(id).is_some()) {
        Ok(())
    } else {
        Err(Fault::NotFound)
    }
}

impl Call<'_> {
    /// Every value of `name`, at most [`MAX_IDS`].
    fn ids(&self, name: &'static str) -> Result<Vec<String>, Fault> {
        let ids: Vec<String> = self.params.all(name).map(str::to_owned).collect();
        if ids.len() > MAX_IDS {
            return Err(Fault::Invalid(format!(
                "at most {MAX_IDS} values of {name} in one call, not {}",
                ids.len()
            )));
        }
        Ok(ids)
    }

    /// The app's name (`c`), as the data keeps it.
    fn client(&self) -> String {
        let client = self.params.get("c").unwrap_or("Subsonic app").trim();
        let client: String = client
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        if client.is_empty() {
            "Subsonic app".to_owned()
        } else {
            client
        }
    }

    /// `star` (`on`) and `unstar`: songs, albums and artists by `id`, `albumId` and `artistId`.
    pub(super) async fn star(&self, library: &Library, on: bool) -> Result<Option<Element>, Fault> {
        let mut items = Vec::new();
        for name in ["id", "albumId", "artistId"] {
            for id in self.ids(name)? {
                items.push((kind_of(library, &id).ok_or(Fault::NotFound)?, id));
            }
        }
        if items.len() > MAX_IDS {
            return Err(Fault::Invalid(format!("at most {MAX_IDS} ids in one call")));
        }
        let data = &self.state.data;
        for (kind, id) in items {
            if on {
                data.star(self.user, kind, &id).await?;
            } else {
                data.unstar(self.user, kind, &id).await?;
            }
        }
        Ok(None)
    }

    /// `setRating`: 1 to 5, or 0 to take the rating off.
    pub(super) async fn rate(&self, library: &Library) -> Result<Option<Element>, Fault> {
        let id = self.params.required("id")?;
        let rating: u8 = self.params.number("rating", u8::MAX)?;
        let rating = match rating {
            u8::MAX => return Err(Fault::Missing("rating")),
            0 => None,
            1..=5 => Some(rating),
            _ => {
                return Err(Fault::Invalid(format!(
                    "rating must be 0 to 5, not {rating}"
                )));
            }
        };
        let kind = kind_of(library, id).ok_or(Fault::NotFound)?;
        self.state.data.rate(self.user, kind, id, rating).await?;
        Ok(None)
    }

    /// `scrobble`: with `submission=false`, what the listener plays now; else a play of each
    /// song, at its `time` (milliseconds) or now.
    pub(super) async fn scrobble(&self, library: &Library) -> Result<Option<Element>, Fault> {
        let ids = self.ids("id")?;
        if ids.is_empty() {
            return Err(Fault::Missing("id"));
        }
        tracks_of(library, &ids)?;
        let submission = self.params.flag("submission")?.unwrap_or(true);
        if !submission {
            let last = ids.last().expect("not empty");
            self.state
                .data
                .set_playing(self.user, last, &self.client())
                .await?;
            return Ok(None);
        }
        let times = self
            .params
            .all("time")
            .map(|t| {
                t.parse::<u64>()
                    .ok()
                    .and_then(|ms| SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
                    .ok_or_else(|| Fault::Invalid(format!("time must be milliseconds, not {t:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (n, id) in ids.iter().enumerate() {
            let at = times.get(n).copied().unwrap_or_else(SystemTime::now);
            self.state.data.record_play(self.user, id, at).await?;
        }
        Ok(None)
    }

    /// `getNowPlaying`: what each listener played last, in the last ten minutes.
    pub(super) async fn now_playing(&self, library: &Library) -> Result<Element, Fault> {
        let playing = self.state.data.now_playing().await?;
        let shown: Vec<(usize, &Playing)> = playing
            .iter()
            .filter_map(|entry| Some((library.index_of(&entry.track)?, entry)))
            .collect();
        let tracks: Vec<usize> = shown.iter().map(|&(i, _)| i).collect();
        let view = self.view(library, &tracks, &[], &[]).await?;
        let entries = shown
            .iter()
            .map(|&(i, entry)| {
                let minutes = entry.since.elapsed().map_or(0, |d| d.as_secs() / 60);
                view.song("entry", i)
                    .attr("username", entry.user.as_str())
                    .attr("minutesAgo", minutes)
                    .attr("playerId", 1i64)
                    .attr("playerName", entry.client.as_str())
            })
            .collect();
        Ok(Element::new("nowPlaying").list("entry", entries))
    }

    /// A playlist's element (without entries).
    fn playlist_element(info: &PlaylistInfo, songs: usize, duration: f64) -> Element {
        Element::new("playlist")
            .attr("id", info.id.as_str())
            .attr("name", info.name.as_str())
            .attr("comment", info.comment.as_str())
            .attr("owner", info.owner.as_str())
            .attr("public", info.public)
            .attr("songCount", songs)
            .attr("duration", duration.round() as i64)
            .attr("created", time(info.created))
            .attr("changed", time(info.changed))
    }

    /// `getPlaylists`: the listener's playlists and other listeners' public ones.
    pub(super) async fn playlists(&self) -> Result<Element, Fault> {
        let list = self.state.data.playlists(self.user).await?;
        let listed = list
            .iter()
            .map(|info| Self::playlist_element(info, info.entries, 0.0))
            .collect();
        Ok(Element::new("playlists").list("playlist", listed))
    }

    /// `getPlaylist`: one playlist and its songs (those the library still has).
    pub(super) async fn playlist(&self, library: &Library, id: &str) -> Result<Element, Fault> {
        let playlist = self.state.data.playlist(self.user, id).await?;
        let songs: Vec<usize> = playlist
            .tracks
            .iter()
            .filter_map(|id| library.index_of(id))
            .collect();
        let duration = songs
            .iter()
            .filter_map(|&i| library.tracks()[i].tags.duration_secs)
            .sum();
        let view = self.view(library, &songs, &[], &[]).await?;
        let entries = songs.iter().map(|&i| view.song("entry", i)).collect();
        Ok(Self::playlist_element(&playlist.info, songs.len(), duration).list("entry", entries))
    }

    /// `createPlaylist`: a new playlist of `songId`s named `name`, or, with `playlistId`, that
    /// playlist's songs replaced.
    pub(super) async fn create_playlist(&self, library: &Library) -> Result<Element, Fault> {
        let songs = self.ids("songId")?;
        tracks_of(library, &songs)?;
        let data = &self.state.data;
        let id = match self.params.get("playlistId") {
            Some(id) => {
                data.replace_playlist_tracks(self.user, id, songs, None)
                    .await?;
                id.to_owned()
            }
            None => {
                let name = self.params.required("name")?;
                data.create_playlist(self.user, name, songs).await?.id
            }
        };
        self.playlist(library, &id).await
    }

    /// `updatePlaylist`: name, comment, public; songs added at the end and removed by index.
    pub(super) async fn update_playlist(
        &self,
        library: &Library,
    ) -> Result<Option<Element>, Fault> {
        let id = self.params.required("playlistId")?;
        let append = self.ids("songIdToAdd")?;
        tracks_of(library, &append)?;
        let remove = self
            .ids("songIndexToRemove")?
            .iter()
            .map(|index| {
                index.parse::<usize>().map_err(|_| {
                    Fault::Invalid(format!("songIndexToRemove must be an index, not {index:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let public = self.params.flag("public")?;
        let edit = PlaylistEdit {
            name: self.params.get("name").map(str::to_owned),
            comment: self.params.get("comment").map(str::to_owned),
            public,
            remove,
            append,
            ..PlaylistEdit::default()
        };
        self.state.data.edit_playlist(self.user, id, edit).await?;
        Ok(None)
    }

    /// `deletePlaylist`.
    pub(super) async fn delete_playlist(&self) -> Result<Option<Element>, Fault> {
        let id = self.params.required("id")?;
        self.state.data.delete_playlist(self.user, id).await?;
        Ok(None)
    }

    /// `getPlayQueue`: the queue saved last, from any device; an empty one (changed at the epoch,
    /// by no one) if none was, since the answer must hold a `playQueue`.
    pub(super) async fn play_queue(&self, library: &Library) -> Result<Element, Fault> {
        let Some(queue) = self.state.data.play_queue(self.user).await? else {
            return Ok(Element::new("playQueue")
                .attr("username", self.user)
                .attr("changed", time(SystemTime::UNIX_EPOCH))
                .attr("changedBy", "")
                .list("entry", Vec::new()));
        };
        let songs: Vec<usize> = queue
            .tracks
            .iter()
            .filter_map(|id| library.index_of(id))
            .collect();
        let view = self.view(library, &songs, &[], &[]).await?;
        let entries = songs.iter().map(|&i| view.song("entry", i)).collect();
        Ok(Element::new("playQueue")
            .maybe("current", queue.current.as_deref())
            .attr("position", queue.position_ms)
            .attr("username", self.user)
            .attr("changed", time(queue.changed))
            .attr("changedBy", queue.changed_by.as_str())
            .list("entry", entries))
    }

    /// `savePlayQueue`: the queue (`id`s), the song playing (`current`) and how far into it
    /// (`position`, milliseconds); no `id` empties it.
    pub(super) async fn save_play_queue(
        &self,
        library: &Library,
    ) -> Result<Option<Element>, Fault> {
        let songs = self.ids("id")?;
        tracks_of(library, &songs)?;
        let current = self.params.get("current").map(str::to_owned);
        let position: u64 = self.params.number("position", 0)?;
        let client = self.client();
        let data = &self.state.data;
        data.save_play_queue(self.user, songs, current, position, &client)
            .await?;
        Ok(None)
    }

    /// `getBookmarks`.
    pub(super) async fn bookmarks(&self, library: &Library) -> Result<Element, Fault> {
        let bookmarks = self.state.data.bookmarks(self.user).await?;
        let shown: Vec<(usize, &crate::data::Bookmark)> = bookmarks
            .iter()
            .filter_map(|mark| Some((library.index_of(&mark.track)?, mark)))
            .collect();
        let tracks: Vec<usize> = shown.iter().map(|&(i, _)| i).collect();
        let view = self.view(library, &tracks, &[], &[]).await?;
        let listed = shown
            .iter()
            .map(|&(i, mark)| {
                Element::new("bookmark")
                    .attr("position", mark.position_ms)
                    .attr("username", self.user)
                    .attr("comment", mark.comment.as_str())
                    .attr("created", time(mark.created))
                    .attr("changed", time(mark.changed))
                    .child(view.song("entry", i))
            })
            .collect();
        Ok(Element::new("bookmarks").list("bookmark", listed))
    }

    /// `createBookmark` (one per song: again replaces it) and `deleteBookmark`.
    pub(super) async fn bookmark(
        &self,
        library: &Library,
        set: bool,
    ) -> Result<Option<Element>, Fault> {
        let id = self.params.required("id")?;
        tracks_of(library, &[id.to_owned()])?;
        let data = &self.state.data;
        if set {
            let position: u64 = self.params.number("position", u64::MAX)?;
            if position == u64::MAX {
                return Err(Fault::Missing("position"));
            }
            let comment = self.params.get("comment").unwrap_or_default();
            data.set_bookmark(self.user, id, position, comment).await?;
        } else {
            data.delete_bookmark(self.user, id).await?;
        }
        Ok(None)
    }

    /// `getUser`: the listener's own account (no one else's) and what it may do.
    pub(super) fn user(&self) -> Result<Element, Fault> {
        let name = self.params.required("username")?;
        if name != self.user {
            return Err(Fault::NotAuthorized);
        }
        let cap = self.state.access.as_ref().and_then(|a| a.users.cap(name));
        let mut user = Element::new("user").attr("username", name);
        for (role, allowed) in [
            ("scrobblingEnabled", true),
            ("adminRole", false),
            ("settingsRole", true),
            ("downloadRole", true),
            ("uploadRole", false),
            ("playlistRole", true),
            ("coverArtRole", true),
            ("commentRole", false),
            ("podcastRole", false),
            ("streamRole", true),
            ("jukeboxRole", false),
            ("shareRole", false),
            ("videoConversionRole", false),
        ] {
            user = user.attr(role, allowed);
        }
        Ok(user
            .maybe("maxBitRate", cap)
            .values("folder", vec![super::envelope::Scalar::Int(1)]))
    }

    /// `getScanStatus` and `startScan` (a scan in the background, unless one ran in the last
    /// two seconds).
    pub(super) fn scan(&self, library: &Library, start: bool) -> Element {
        let shared = &self.state.library;
        if start {
            let shared = std::sync::Arc::clone(shared);
            tokio::task::spawn_blocking(move || {
                shared.rescan_if_older_than(Duration::from_secs(2));
            });
        }
        Element::new("scanStatus")
            .attr("scanning", start || shared.status().scan.is_some())
            .attr("count", library.tracks().len())
    }
}
