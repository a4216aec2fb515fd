//! The Subsonic / OpenSubsonic API under `/rest/`: `/rest/<method>` and `/rest/<method>.view`, by
//! `GET` or by a posted form (the `formPost` extension), answered in XML, JSON or JSONP
//! (`envelope`), with the app's credentials checked on every call (`credentials`).
//!
//! Every answer under `/rest/` is an envelope: a failed call is HTTP 200 with `status="failed"`
//! and the specification's error code, never a page or a bare status (`stream` and `download` answer
//! with the track itself, as `/audio/` does). So far the system calls and the media's are
//! answered; the catalog's and the listener's follow.

mod credentials;
mod envelope;
mod media;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest as _, HttpRequest, HttpResponse, web};

use self::envelope::{Element, Scalar, Wire};
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
const EXTENSIONS: &[(&str, i64)] = &[("formPost", 1)];

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
    /// Token authentication (`t` and `s`): the server keeps no password it could read.
    #[error(
        "token authentication is not supported: send the password (p), which is checked against its hash"
    )]
    TokenNotSupported,
    /// An authentication mechanism not offered (API keys, so far).
    #[error("this authentication mechanism is not supported")]
    MechanismNotSupported,
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
}

impl Fault {
    /// Its code in the specification's table.
    fn code(&self) -> i64 {
        match self {
            Self::UnknownMethod(_)
            | Self::NotSupported(_)
            | Self::Form(_)
            | Self::Throttled(_)
            | Self::Busy => 0,
            Self::Missing(_) => 10,
            Self::WrongCredentials => 40,
            Self::TokenNotSupported => 41,
            Self::MechanismNotSupported => 42,
            Self::Conflicting => 43,
            Self::NotFound => 70,
        }
    }

    fn answer(&self) -> Element {
        let error = Element::new("error")
            .attr("code", self.code())
            .attr("message", self.to_string());
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
            let res = write(StatusCode::METHOD_NOT_ALLOWED, Err(fault), &wire(&params));
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
            Ok(user) if matches!(method, "stream" | "download") => {
                // Answered like a track (ranges, preconditions), not in an envelope.
                let mut req = ServiceRequest::from_parts(http, payload);
                let res =
                    match media::answer(&mut req, &state, &params, &user, method == "download")
                        .await
                    {
                        Ok(Ok(res)) => res,
                        Ok(Err(err)) => err.answer(super::error::Format::Subsonic),
                        Err(fault) => write(StatusCode::OK, Err(fault), &wire(&params)),
                    };
                return Ok(req.into_response(res));
            }
            Ok(user) => call(method, &state, &user, envelope::root(true)),
            Err(fault) => Err(fault),
        },
    };
    let res = write(StatusCode::OK, result, &wire(&params));
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

/// The answer to `method` for `user`: `root` (the envelope) with its elements added.
fn call(method: &str, state: &AppState, _user: &str, root: Element) -> Result<Element, Fault> {
    match method {
        "ping" => Ok(root),
        "getLicense" => Ok(root.child(Element::new("license").attr("valid", true))),
        "getOpenSubsonicExtensions" => Ok(extensions(root)),
        "getMusicFolders" => {
            let location = state.library.location();
            let name = location
                .rsplit('/')
                .find(|part| !part.is_empty())
                .unwrap_or("Music");
            let folder = Element::new("musicFolder")
                .attr("id", 1i64)
                .attr("name", name);
            Ok(root.child(Element::new("musicFolders").list("musicFolder", vec![folder])))
        }
        _ => match NOT_SUPPORTED.iter().find(|&&name| name == method) {
            Some(&name) => Err(Fault::NotSupported(name)),
            None => Err(Fault::UnknownMethod(method.to_owned())),
        },
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

fn write(status: StatusCode, result: Result<Element, Fault>, wire: &Wire) -> HttpResponse {
    let answer = result.unwrap_or_else(|fault| fault.answer());
    let (kind, body) = envelope::write(&answer, wire);
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
