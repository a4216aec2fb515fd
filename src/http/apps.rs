//! `/api/apps`: what the page's "Apps" view shows a listener to connect a Subsonic app (their user
//! name, whether credentials are needed) and their API keys and app passwords: listed with their
//! last use, made (the secret answered once), revoked. The same credentials the `user` subcommand
//! manages ([`crate::auth::apps`], [`crate::data`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::{same_origin, user_of};
use super::error::Error;
use super::listener::json;
use super::wire::listener::{AppsJson, CredentialJson, MadeJson, NewCredentialBody};
use crate::auth::apps;
use crate::data::{CredentialKind, DataError};
use crate::state::AppState;

/// The signed-in user, when there are users.
fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Option<String>, Error> {
    match &state.access {
        None => Ok(None),
        Some(_) => user_of(req, state).map(Some).ok_or(Error::LoginRequired),
    }
}

/// `GET /api/apps`.
pub(super) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = signed_in(&req, &state)?;
    let credentials = match &user {
        Some(user) => state.data.credentials(user).await?,
        None => Vec::new(),
    };
    let apps = AppsJson {
        credentials_needed: user.is_some(),
        user,
        credentials: credentials.iter().map(CredentialJson::from).collect(),
    };
    json(StatusCode::OK, &apps)
}

/// `POST /api/apps` with `{"kind", "label"}`: a new API key or app password (201, with it).
pub(super) async fn make(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewCredentialBody>,
) -> Result<HttpResponse, Error> {
    same_origin(&req)?;
    let (Some(access), Some(user)) = (&state.access, signed_in(&req, &state)?) else {
        return Err(DataError::Invalid(
            "without --users apps need no credentials: any user name and password sign in".into(),
        )
        .into());
    };
    let kind = CredentialKind::parse(&body.kind)
        .ok_or_else(|| DataError::Invalid("kind is api-key or app-password".into()))?;
    let (secret, stored) = match kind {
        CredentialKind::ApiKey => apps::make_api_key(),
        CredentialKind::AppPassword => access.sealer.make_app_password(&user),
    };
    let label = body.label.trim();
    let made = state
        .data
        .add_credential(&user, kind, label, &stored)
        .await?;
    let answer = MadeJson {
        credential: CredentialJson::from(&made),
        secret,
    };
    json(StatusCode::CREATED, &answer)
}

/// `DELETE /api/apps/{id}`: revokes one (404 for one the listener does not have).
pub(super) async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    same_origin(&req)?;
    let Some(user) = signed_in(&req, &state)? else {
        return Err(Error::NotFound);
    };
    state.data.revoke_credential(&user, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
