//! The Subsonic / OpenSubsonic API under `/rest/`: `/rest/<method>` and `/rest/<method>.view`, by
//! `GET` or by a posted form (the `formPost` extension), answered in XML, JSON or JSONP
//! (`envelope`), with the app's credentials checked on every call (`credentials`).
//!
//! Every answer under `/rest/` is an envelope: a failed call is HTTP 200 with `status="failed"`
//! and the specification's error code, never a page or a bare status (`stream` and `download` answer
//! with the track itself, as `/audio/` does). So far the system calls and the media's are
//! answered; the catalog's and the listener's follow.

mod browsing;
mod credentials;
mod envelope;
mod items;
mod lists;
mod lyrics;
mod media;
mod user;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest as _, HttpRequest, HttpResponse, web};

use self::envelope::{Element, Scalar, Wire};
use crate::data::DataError;
use crate::library::Library;
use crate::state::AppState;

/// The route prefix.
pub(super) const PREFIX: &str = "/rest";

/// Methods of the specification this server does not offer (podcasts, radio, video, chat, the
/// jukebox, user management, shares): "not supported", not "unknown".
const NOT_SUPPORTED: &[&str] = &[
    "getPodcasts",
    "getNewestPodcasts",
    "getPodcastEpisode",
    "refreshPodcasts",
    "createPodcastChannel",
    "deletePodcastChannel",
    "deletePodcastEpisode",
    "downloadPodcastEpisode",
    "getInternetRadioStations",
    "createInternetRadioStation",
    "updateInternetRadioStation",
    "deleteInternetRadioStation",
    "getVideos",
    "getVideoInfo",
    "getCaptions",
    "hls",
    "getChatMessages",
    "addChatMessage",
    "jukeboxControl",
    "getUsers",
    "createUser",
    "updateUser",
    "deleteUser",
    "changePassword",
    "getShares",
    "createShare",
    "updateShare",
    "deleteShare",
    "getAvatar",
];

/// The OpenSubsonic extensions offered, with their versions.
const EXTENSIONS: &[(&str, i64)] = &[
    ("apiKeyAuthentication", 1),
    ("formPost", 1),
    ("songLyrics", 1),
    ("transcodeOffset", 1),
];

/// A request's parameters: the query's, then a posted form's, in order (a name may repeat).
#[derive(Debug, Default)]
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    fn add(&mut self, encoded: &[u8]) {
        self.0
            .extend(url::form_urlencoded::parse(encoded).into_owned());
    }

    /// The first value of `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of `name`, in order (`id=1&id=2`).
    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, which the call needs.
    pub(super) fn required(&self, name: &'static str) -> Result<&str, Fault> {
        self.get(name).ok_or(Fault::Missing(name))
    }

    /// `name` as a number, `default` when it is missing.
    pub(super) fn number<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, Fault> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| {
                Fault::Invalid(format!(
                    "{name} must be a whole number in range, not {text:?}"
                ))
            }),
        }
    }

    /// `name` as a yes or no, `None` when missing: `true`/`false` in any case (Python clients send
    /// `True`), `1`/`0`, `t`/`f`, as Go's `ParseBool` reads them.
    pub(super) fn flag(&self, name: &'static str) -> Result<Option<bool>, Fault> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        match text.trim() {
            "1" | "t" | "T" => Ok(Some(true)),
            "0" | "f" | "F" => Ok(Some(false)),
            word if word.eq_ignore_ascii_case("true") => Ok(Some(true)),
            word if word.eq_ignore_ascii_case("false") => Ok(Some(false)),
            _ => Err(Fault::Invalid(format!(
                "{name} must be true or false, not {text:?}"
            ))),
        }
    }

    /// A count or an offset: a whole number from 0, `default` when missing, at most `max` (a
    /// larger one is taken as `max`, as a client asking for "everything" means).
    pub(super) fn count(
        &self,
        name: &'static str,
        default: usize,
        max: usize,
    ) -> Result<usize, Fault> {
        Ok(self.number::<u64>(name, default as u64)?.min(max as u64) as usize)
    }
}

/// One call being answered: for whom, with what.
pub(super) struct Call<'a> {
    state: &'a AppState,
    user: &'a str,
    params: &'a Params,
}

/// Why a call failed: each is one error code of the specification.
#[derive(Debug, thiserror::Error)]
pub(super) enum Fault {
    /// No such method.
    #[error("unknown method {0:?}")]
    UnknownMethod(String),
    /// A method of the specification this server does not offer.
    #[error("{0} is not supported by this server")]
    NotSupported(&'static str),
    /// A posted form that cannot be read (too large, or cut off).
    #[error("the form cannot be read: {0}")]
    Form(String),
    /// A required parameter is missing.
    #[error("required parameter is missing: {0}")]
    Missing(&'static str),
    /// The user name or password is wrong.
    #[error("wrong username or password")]
    WrongCredentials,
    /// Token authentication (`t` and `s`) for a user without app passwords: the login password is
    /// only kept as a hash, which a token cannot be checked against.
    #[error(
        "token authentication needs an app password: make one (audio-streamer user app-password NAME) and sign the app in with it, or send the password (p)"
    )]
    TokenNotSupported,
    /// An API key that is no one's (revoked, or never made).
    #[error("invalid API key")]
    InvalidApiKey,
    /// More than one of `p`, `t`/`s` and `apiKey`.
    #[error("conflicting authentication parameters: send one of p, t and s, or apiKey")]
    Conflicting,
    /// Too many failed sign-ins from this address.
    #[error("too many failed sign-ins: try again in {0} s")]
    Throttled(u64),
    /// No password check can run now.
    #[error("the server is busy; try again in a few seconds")]
    Busy,
    /// No track (or other item) by the id given.
    #[error("the requested data was not found")]
    NotFound,
    /// Something only another user may see or do.
    #[error("the user is not authorized for the given operation")]
    NotAuthorized,
    /// A parameter's value cannot be used (not a number, an unknown list type, …).
    #[error("{0}")]
    Invalid(String),
    /// The listeners' data refused or could not answer.
    #[error("{0}")]
    Data(#[from] crate::data::DataError),
}

impl Fault {
    /// Its code in the specification's table.
    fn code(&self) -> i64 {
        match self {
            Self::UnknownMethod(_)
            | Self::NotSupported(_)
            | Self::Form(_)
            | Self::Throttled(_)
            | Self::Busy
            | Self::Invalid(_) => 0,
            Self::Data(err) => match err {
                DataError::NotFound(_) => 70,
                DataError::Forbidden => 50,
                DataError::Unavailable(_)
                | DataError::Conflict { .. }
                | DataError::Invalid(_)
                | DataError::Start { .. }
                | DataError::Failed(_) => 0,
            },
            Self::Missing(_) => 10,
            Self::WrongCredentials => 40,
            Self::TokenNotSupported => 41,
            Self::InvalidApiKey => 44,
            Self::Conflicting => 43,
            Self::NotAuthorized => 50,
            Self::NotFound => 70,
        }
    }

    /// The failed envelope, with a `helpUrl` to the page where app passwords and API keys are
    /// made (at the address `req` reached) for the faults one of them mends.
    fn answer(&self, req: &HttpRequest) -> Element {
        let mut error = Element::new("error")
            .attr("code", self.code())
            .attr("message", self.to_string());
        if matches!(self, Self::TokenNotSupported | Self::InvalidApiKey) {
            let info = req.connection_info();
            let url = format!("{}://{}/#/apps", info.scheme(), info.host());
            error = error.attr("helpUrl", url);
        }
        envelope::root(false).child(error)
    }
}

/// Answers one call.
pub(super) async fn serve(req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
    let (http, mut payload) = req.into_parts();
    let Some(state) = http.app_data::<web::Data<AppState>>().cloned() else {
        unreachable!("the route table always registers AppState");
    };
    let mut params = Params::default();
    params.add(http.query_string().as_bytes());
    let posted = match *http.method() {
        Method::GET | Method::HEAD => Ok(()),
        Method::POST => read_form(&http, &mut payload, &mut params).await,
        _ => {
            let fault = Fault::UnknownMethod(http.method().to_string());
            let res = write(StatusCode::METHOD_NOT_ALLOWED, Err(fault), &http, &params);
            return Ok(ServiceResponse::new(http, res));
        }
    };
    let path = http.path().to_owned();
    let method = path
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or_default();
    let method = method.strip_suffix(".view").unwrap_or(method);
    let result = match posted {
        Err(fault) => Err(fault),
        // The one call that needs no credentials (the specification says so).
        Ok(()) if method == "getOpenSubsonicExtensions" => Ok(extensions(envelope::root(true))),
        Ok(()) => match credentials::check(&http, &state, &params).await {
            Ok(_) if method == "getCoverArt" => {
                let res = match media::cover(&http, &state, &params).await {
                    Ok(res) => res,
                    Err(fault) => write(StatusCode::OK, Err(fault), &http, &params),
                };
                return Ok(ServiceResponse::new(http, res));
            }
            Ok(user) if matches!(method, "stream" | "download") => {
                // Answered like a track (ranges, preconditions), not in an envelope.
                let mut req = ServiceRequest::from_parts(http, payload);
                let res =
                    match media::answer(&mut req, &state, &params, &user, method == "download")
                        .await
                    {
                        Ok(Ok(res)) => res,
                        Ok(Err(err)) => err.answer(super::error::Format::Subsonic),
                        Err(fault) => write(StatusCode::OK, Err(fault), req.request(), &params),
                    };
                return Ok(req.into_response(res));
            }
            Ok(user) => {
                let call = Call {
                    state: &state,
                    user: &user,
                    params: &params,
                };
                call.answer(method, envelope::root(true)).await
            }
            Err(fault) => Err(fault),
        },
    };
    let res = write(StatusCode::OK, result, &http, &params);
    Ok(ServiceResponse::new(http, res))
}

/// How the client asked for its answer.
fn wire(params: &Params) -> Wire {
    Wire::of(params.get("f"), params.get("callback"))
}

/// Adds a posted form's parameters (`application/x-www-form-urlencoded`, up to 256 KiB).
async fn read_form(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    params: &mut Params,
) -> Result<(), Fault> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = web::Bytes::from_request(req, payload)
        .await
        .map_err(|err| Fault::Form(err.to_string()))?;
    if form {
        params.add(&body);
    }
    Ok(())
}

/// The name of the one music folder: the library's folder's (or bucket's) last part.
fn folder_name(state: &AppState) -> &str {
    let location = state.library.location();
    location
        .rsplit('/')
        .find(|part| !part.is_empty())
        .unwrap_or("Music")
}

impl Call<'_> {
    /// The answer to `method`: `root` (the envelope) with its elements added.
    async fn answer(&self, method: &str, root: Element) -> Result<Element, Fault> {
        let element = match method {
            "ping" => return Ok(root),
            "getLicense" => Element::new("license").attr("valid", true),
            "getOpenSubsonicExtensions" => return Ok(extensions(root)),
            "getMusicFolders" => {
                let folder = Element::new("musicFolder")
                    .attr("id", 1i64)
                    .attr("name", folder_name(self.state));
                Element::new("musicFolders").list("musicFolder", vec![folder])
            }
            _ => {
                let Some(browse) = Browse::of(method) else {
                    return match NOT_SUPPORTED.iter().find(|&&name| name == method) {
                        Some(&name) => Err(Fault::NotSupported(name)),
                        None => Err(Fault::UnknownMethod(method.to_owned())),
                    };
                };
                let library = super::browse::catalogued(self.state)
                    .await
                    .map_err(|_| Fault::Busy)?;
                match self.browse(browse, &library).await? {
                    Some(element) => element,
                    None => return Ok(root),
                }
            }
        };
        Ok(root.child(element))
    }

    /// The calls answered over the library's current snapshot: its element, if it has one.
    async fn browse(&self, call: Browse, library: &Library) -> Result<Option<Element>, Fault> {
        let element = match call {
            Browse::Indexes => self.indexes(library).await,
            Browse::Directory => self.directory(library).await,
            Browse::Artists => self.artists(library).await,
            Browse::Artist => self.artist(library).await,
            Browse::Album => self.album(library).await,
            Browse::Song => self.song(library).await,
            Browse::Genres => Ok(self.genres(library)),
            Browse::ArtistInfo(two) => self.artist_info(library, two).await,
            Browse::AlbumInfo => self.album_info(library),
            Browse::TopSongs => self.top_songs(library).await,
            Browse::SimilarSongs(two) => self.similar_songs(library, two).await,
            Browse::AlbumList(two) => self.album_list(library, two).await,
            Browse::RandomSongs => self.random_songs(library).await,
            Browse::SongsByGenre => self.songs_by_genre(library).await,
            Browse::Search(three) => self.search(library, three).await,
            Browse::Starred(two) => self.starred(library, two).await,
            Browse::NowPlaying => self.now_playing(library).await,
            Browse::Playlists => self.playlists().await,
            Browse::Playlist => self.playlist(library, self.params.required("id")?).await,
            Browse::CreatePlaylist => self.create_playlist(library).await,
            Browse::User => self.user(),
            Browse::TokenInfo => Ok(Element::new("tokenInfo").attr("username", self.user)),
            Browse::Scan(start) => Ok(self.scan(library, start)),
            Browse::Bookmarks => self.bookmarks(library).await,
            Browse::Lyrics => self.lyrics(library).await,
            Browse::LyricsBySongId => self.lyrics_by_id(library).await,
            // The calls that answer with the envelope alone.
            Browse::Star(on) => return self.star(library, on).await,
            Browse::Rate => return self.rate(library).await,
            Browse::Scrobble => return self.scrobble(library).await,
            Browse::UpdatePlaylist => return self.update_playlist(library).await,
            Browse::DeletePlaylist => return self.delete_playlist().await,
            Browse::PlayQueue => self.play_queue(library).await,
            Browse::SavePlayQueue => return self.save_play_queue(library).await,
            Browse::Bookmark(set) => return self.bookmark(library, set).await,
        };
        element.map(Some)
    }
}

/// A call answered over the library's current snapshot (`two`/`three`: the ID3 form of a call
/// that has a folder form; `on`, `set`, `start`: the call that makes rather than undoes or reads).
#[derive(Debug, Clone, Copy)]
enum Browse {
    Indexes,
    Directory,
    Artists,
    Artist,
    Album,
    Song,
    Genres,
    ArtistInfo(bool),
    AlbumInfo,
    TopSongs,
    SimilarSongs(bool),
    AlbumList(bool),
    RandomSongs,
    SongsByGenre,
    Search(bool),
    Starred(bool),
    NowPlaying,
    Playlists,
    Playlist,
    CreatePlaylist,
    User,
    TokenInfo,
    Scan(bool),
    Bookmarks,
    Lyrics,
    LyricsBySongId,
    Star(bool),
    Rate,
    Scrobble,
    UpdatePlaylist,
    DeletePlaylist,
    PlayQueue,
    SavePlayQueue,
    Bookmark(bool),
}

impl Browse {
    fn of(method: &str) -> Option<Self> {
        Some(match method {
            "getIndexes" => Self::Indexes,
            "getMusicDirectory" => Self::Directory,
            "getArtists" => Self::Artists,
            "getArtist" => Self::Artist,
            "getAlbum" => Self::Album,
            "getSong" => Self::Song,
            "getGenres" => Self::Genres,
            "getArtistInfo" => Self::ArtistInfo(false),
            "getArtistInfo2" => Self::ArtistInfo(true),
            "getAlbumInfo" | "getAlbumInfo2" => Self::AlbumInfo,
            "getTopSongs" => Self::TopSongs,
            "getSimilarSongs" => Self::SimilarSongs(false),
            "getSimilarSongs2" => Self::SimilarSongs(true),
            "getAlbumList" => Self::AlbumList(false),
            "getAlbumList2" => Self::AlbumList(true),
            "getRandomSongs" => Self::RandomSongs,
            "getSongsByGenre" => Self::SongsByGenre,
            "search2" => Self::Search(false),
            "search3" => Self::Search(true),
            "getStarred" => Self::Starred(false),
            "getStarred2" => Self::Starred(true),
            "getNowPlaying" => Self::NowPlaying,
            "getPlaylists" => Self::Playlists,
            "getPlaylist" => Self::Playlist,
            "createPlaylist" => Self::CreatePlaylist,
            "updatePlaylist" => Self::UpdatePlaylist,
            "deletePlaylist" => Self::DeletePlaylist,
            "getUser" => Self::User,
            "tokenInfo" => Self::TokenInfo,
            "getScanStatus" => Self::Scan(false),
            "startScan" => Self::Scan(true),
            "star" => Self::Star(true),
            "unstar" => Self::Star(false),
            "setRating" => Self::Rate,
            "scrobble" => Self::Scrobble,
            "getPlayQueue" => Self::PlayQueue,
            "savePlayQueue" => Self::SavePlayQueue,
            "getBookmarks" => Self::Bookmarks,
            "getLyrics" => Self::Lyrics,
            "getLyricsBySongId" => Self::LyricsBySongId,
            "createBookmark" => Self::Bookmark(true),
            "deleteBookmark" => Self::Bookmark(false),
            _ => return None,
        })
    }
}

fn extensions(root: Element) -> Element {
    root.list(
        "openSubsonicExtensions",
        EXTENSIONS
            .iter()
            .map(|&(name, version)| {
                Element::new("openSubsonicExtensions")
                    .attr("name", name)
                    .values("versions", vec![Scalar::Int(version)])
            })
            .collect(),
    )
}

/// The answer (or the fault's envelope) to `req`, in the wire format its `params` ask for.
fn write(
    status: StatusCode,
    result: Result<Element, Fault>,
    req: &HttpRequest,
    params: &Params,
) -> HttpResponse {
    let answer = result.unwrap_or_else(|fault| fault.answer(req));
    let (kind, body) = envelope::write(&answer, &wire(params));
    HttpResponse::build(status)
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// An error raised outside the API's own handling (a request head too large, say), written as a
/// failed envelope in XML: its content type and body.
pub(super) fn failure(message: String) -> (&'static str, String) {
    let error = Element::new("error")
        .attr("code", 0i64)
        .attr("message", message);
    envelope::write(&envelope::root(false).child(error), &Wire::Xml)
}
