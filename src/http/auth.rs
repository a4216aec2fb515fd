//! Access control over HTTP: the guard that lets a request through as its route's [`Access`]
//! (declared with it in the route table) says, and, when the server runs with `--users`, the login page (`GET`/`POST /login`),
//! `POST /logout` and the session cookie (encrypted, `HttpOnly`, `SameSite=Strict`, `Secure`
//! under TLS), checked by the guard in front of every route.
//!
//! Signed stream links (`/audio/<name>?expires=…&signature=…`, with `--link-secret`) are checked
//! by the guard whether or not access control is on, and open that track without a session;
//! `GET /api/link` makes one for the page's "Share".

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt as _, SessionMiddleware};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, middleware, web};
use askama::Template;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Deserialize;

use super::error::{Error, Format};
use super::table::Access;
use crate::auth::{LinkError, SignedLink};
use crate::state::AppState;

/// How long a sign-in lasts.
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Shortest and longest lifetime of a share link.
const LINK_LIFETIMES: std::ops::RangeInclusive<u64> = 60..=30 * 24 * 3600;
const USER: &str = "user";
const SINCE: &str = "since";
const ID: &str = "id";

/// The session middleware: state kept in the cookie itself (encrypted and authenticated with the
/// key), so replicas sharing `--session-key-file` share sessions.
pub(super) fn sessions(state: &AppState) -> SessionMiddleware<CookieSessionStore> {
    // Every worker builds its own middleware: from the same key material.
    let key = match &state.access {
        Some(access) => Key::derive_from(&access.session_key),
        None => Key::generate(),
    };
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("session".to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_secure(state.tls)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(
            actix_web::cookie::time::Duration::seconds(SESSION_TTL.as_secs() as i64),
        ))
        .build()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The signed user of a session, if it is still a user and the sign-in has not expired.
fn signed_in(state: &AppState, session: &Session) -> Option<String> {
    let access = state.access.as_ref()?;
    let user: String = session.get(USER).ok()??;
    let since: u64 = session.get(SINCE).ok()??;
    let id: String = session.get(ID).ok()??;
    let fresh = now().saturating_sub(since) < SESSION_TTL.as_secs();
    (fresh && !access.is_signed_out(&id) && access.users.contains(&user)).then_some(user)
}

/// The user shown on the page, when access control is on.
pub(super) fn user_of(req: &HttpRequest, state: &AppState) -> Option<String> {
    signed_in(state, &req.get_session())
}

#[derive(Debug, Deserialize)]
struct LinkQuery {
    expires: Option<String>,
    signature: Option<String>,
}

/// Lets a request through when its route's [`Access`] allows it: a valid signed link, an open
/// route, or a signed-in user. Otherwise a page load is sent to the login page and anything else
/// gets 401, in the route's error format.
pub(super) async fn guard(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        unreachable!("the route table always registers AppState");
    };
    let (_, route) = super::table::find(req.path());
    if let (Access::Link, Some(raw), Some(signer)) =
        (route.access, route.rest(req.path()), &state.links)
        && let Ok(web::Query(LinkQuery {
            expires: Some(expires),
            signature: Some(signature),
        })) = web::Query::<LinkQuery>::from_query(req.query_string())
    {
        let name = percent_decode_str(raw).decode_utf8().ok();
        let link = expires
            .parse()
            .ok()
            .map(|expires| SignedLink { expires, signature });
        let checked = match (name, link) {
            (Some(name), Some(link)) => signer.verify(&name, &link, now()),
            _ => Err(LinkError::Forged),
        };
        return match checked {
            Ok(()) => Ok(next.call(req).await?.map_into_boxed_body()),
            Err(err) => Ok(req.into_response(route.refuse(&Error::Link(err)))),
        };
    }
    let open = state.access.is_none()
        || match route.access {
            Access::Open | Access::Own => true,
            Access::Bearer => state.metrics_token.is_some(),
            Access::Session | Access::Link => false,
        };
    if open || signed_in(&state, &req.get_session()).is_some() {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // A person opening the page goes to the login page and comes back after.
    if route.errors == Format::Page && req.method() == Method::GET {
        let next = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let to = format!(
            "/login?next={}",
            utf8_percent_encode(&next, NON_ALPHANUMERIC)
        );
        let res = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish();
        return Ok(req.into_response(res));
    }
    Ok(req.into_response(route.refuse(&Error::LoginRequired)))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    name: &'a str,
    next: &'a str,
    problem: Option<String>,
}

fn login_page(status: StatusCode, page: LoginPage<'_>) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// Where to go after signing in: a path on this server, never another site.
fn local(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the form (or, already signed in or with access control off, where to go next).
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, Error> {
    let next = local(query.next.as_deref());
    if state.access.is_none() || user_of(&req, &state).is_some() {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .finish());
    }
    login_page(
        StatusCode::OK,
        LoginPage {
            name: "",
            next,
            problem: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`: checks the name and password (the same answer for an unknown name and a wrong
/// password), a few attempts per client address at a time.
pub(super) async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Error> {
    let Some(access) = &state.access else {
        return Err(Error::NotFound);
    };
    same_origin(&req)?;
    let form = form.into_inner();
    let next = local(form.next.as_deref()).to_owned();
    let client = req.peer_addr().map(|a| a.ip());
    if let Some(ip) = client
        && let Err(wait) = attempt(&state, access, ip).await
    {
        let secs = wait.as_secs().max(1);
        log::warn!("login attempts from {client:?} throttled for {secs} s");
        return Err(Error::Throttled(secs));
    }
    let permit = access.checks.acquire().await.map_err(|_| Error::Busy)?;
    let checking = web::Data::clone(&state);
    let (name, password) = (form.name.clone(), form.password);
    let ok = web::block(move || {
        let access = checking.access.as_ref().expect("checked above");
        access.users.verify(&name, &password)
    })
    .await
    .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    drop(permit);
    if !ok {
        log::info!("failed login for {:?} from {client:?}", form.name);
        return login_page(
            StatusCode::UNAUTHORIZED,
            LoginPage {
                name: &form.name,
                next: &next,
                problem: Some("Wrong user name or password.".to_owned()),
            },
        );
    }
    // A new session for the new sign-in (no fixation of one handed out before).
    session.renew();
    session
        .insert(USER, &form.name)
        .and_then(|()| session.insert(SINCE, now()))
        .and_then(|()| session.insert(ID, crate::auth::Access::new_session_id()))
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    log::info!("{} signed in from {client:?}", form.name);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .finish())
}

/// Takes one login attempt for `client`: counted in the database, so that attempts spread over
/// replicas are counted together; by this server alone while the database does not answer.
pub(super) async fn attempt(
    state: &AppState,
    access: &crate::auth::Access,
    client: std::net::IpAddr,
) -> Result<(), Duration> {
    match state
        .data
        .login_attempt(&client.to_string(), SystemTime::now())
        .await
    {
        Ok(verdict) => verdict,
        Err(err) => {
            log::warn!("login attempts counted by this server alone: {err}");
            access.throttle.attempt(client)
        }
    }
}

/// `POST /logout`: ends the session, here and for any copy of its cookie.
pub(super) async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, Error> {
    same_origin(&req)?;
    if let (Some(access), Ok(Some(id)), Ok(Some(since))) = (
        &state.access,
        session.get::<String>(ID),
        session.get::<u64>(SINCE),
    ) {
        let expires = since + SESSION_TTL.as_secs();
        access.sign_out(&id, expires, now());
        // For the other replicas, which read it from the database within seconds.
        if let Err(err) = state.data.sign_out(&id, expires).await {
            log::warn!("session signed out on this server only: {err}");
        }
    }
    session.purge();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .finish())
}

/// Refuses a form posted from another site (its `Origin` names another host).
pub(super) fn same_origin(req: &HttpRequest) -> Result<(), Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let host = req.connection_info().host().to_owned();
    match origin {
        None => Ok(()),
        Some(origin) if origin.split_once("://").map(|(_, h)| h) == Some(host.as_str()) => Ok(()),
        Some(_) => Err(Error::CrossSite),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LinkRequest {
    track: String,
    lifetime: u64,
}

/// `GET /api/link?track=<name>&lifetime=<seconds>`: a signed link to a track (JSON `url`, relative
/// to this server, and `expires`).
pub(super) async fn make_link(
    state: web::Data<AppState>,
    query: web::Query<LinkRequest>,
) -> Result<HttpResponse, Error> {
    let signer = state.links.as_ref().ok_or(Error::NotFound)?;
    if !LINK_LIFETIMES.contains(&query.lifetime) {
        return Err(Error::BadLifetime);
    }
    let library = state.library.snapshot();
    let track = library.get(&query.track).ok_or(Error::NotFound)?;
    let link = signer.sign(&track.name, now() + query.lifetime);
    let url = format!(
        "{}?expires={}&signature={}",
        track.url, link.expires, link.signature
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "url": url, "expires": link.expires })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        for (next, want) in [
            (Some("/"), "/"),
            (Some("/?q=x"), "/?q=x"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some(""), "/"),
            (None, "/"),
        ] {
            assert_eq!(local(next), want, "{next:?}");
        }
    }
}
