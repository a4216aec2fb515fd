//! Who a `/rest/` request is, from the credentials a Subsonic app sends with every request.
//!
//! Without `--users` the API is as open as the page: every request is the one local listener. With
//! it, one of:
//! - `apiKey` (OpenSubsonic's `apiKeyAuthentication`): a key the listener made, found by its
//!   SHA-256; without `u` (43 with it), 44 for a key that is no one's;
//! - `u`, `t` and `s`: token authentication against the user's app passwords (kept sealed, see
//!   [`crate::auth::apps`]), since the login password is only kept as a hash: 41 for a user who
//!   has made none;
//! - `u` and `p` (plain, or `enc:` and hex): an app password, or the login password checked against
//!   the users file's argon2id hash; a verified login password is remembered (`auth::Verified`,
//!   keyed, never in the clear) so that an app's hundreds of requests cost one check.
//!
//! Failed checks are throttled like the sign-in page's.

use actix_web::{HttpRequest, web};
use subtle::ConstantTimeEq as _;

use super::{Fault, Params};
use crate::auth::{Access, apps};
use crate::state::AppState;

/// The listener a request is, or why not.
pub(super) async fn check(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    params: &Params,
) -> Result<String, Fault> {
    let password = params.get("p");
    let token = params.get("t").or(params.get("s"));
    let key = params.get("apiKey");
    if [password.is_some(), token.is_some(), key.is_some()]
        .iter()
        .filter(|&&given| given)
        .count()
        > 1
    {
        return Err(Fault::Conflicting);
    }
    let Some(access) = &state.access else {
        return Ok(super::super::listener::LOCAL_LISTENER.to_owned());
    };
    let client = req.peer_addr().map(|a| a.ip());
    let throttled = async || match client {
        Some(ip) => super::super::auth::attempt(state, access, ip)
            .await
            .map_err(|wait| Fault::Throttled(wait.as_secs().max(1))),
        None => Ok(()),
    };
    if let Some(key) = key {
        // An API key names its user: `u` beside it is a second, conflicting, credential.
        if params.get("u").is_some() {
            return Err(Fault::Conflicting);
        }
        let owner = state.data.api_key_owner(&apps::key_hash(key)).await?;
        return match owner {
            Some((_, user)) if access.users.stored(&user).is_some() => Ok(user),
            _ => {
                throttled().await?;
                log::info!("failed Subsonic sign-in with an API key from {client:?}");
                Err(Fault::InvalidApiKey)
            }
        };
    }
    let name = params.get("u").ok_or(Fault::Missing("u"))?;
    if token.is_some() {
        let (Some(token), Some(salt)) = (params.get("t"), params.get("s")) else {
            return Err(Fault::Missing("t and s"));
        };
        let sealed = state.data.app_passwords(name).await?;
        if sealed.is_empty() || access.users.stored(name).is_none() {
            return Err(Fault::TokenNotSupported);
        }
        let matched = sealed.iter().find(|(_, sealed)| {
            access
                .sealer
                .open_secret(name, sealed)
                .is_some_and(|secret| apps::token_matches(&secret, salt, token))
        });
        return match matched {
            Some((id, _)) => {
                state.data.note_use(id).await?;
                Ok(name.to_owned())
            }
            None => {
                throttled().await?;
                log::info!("failed Subsonic token sign-in for {name:?} from {client:?}");
                Err(Fault::WrongCredentials)
            }
        };
    }
    let password = decode(password.ok_or(Fault::Missing("p"))?)?;
    let stored = access.users.stored(name);
    if let Some(stored) = &stored
        && access.verified.knows(name, stored, &password)
    {
        return Ok(name.to_owned());
    }
    // An app password sent as `p` (for apps that send the password itself).
    if stored.is_some() && app_password(state, access, name, &password).await? {
        return Ok(name.to_owned());
    }
    throttled().await?;
    let permit = access.checks.acquire().await.map_err(|_| Fault::Busy)?;
    let checking = web::Data::clone(state);
    let (user, given) = (name.to_owned(), password.clone());
    let ok = web::block(move || {
        let access = checking.access.as_ref().expect("checked above");
        access.users.verify(&user, &given)
    })
    .await
    .map_err(|_| Fault::Busy)?;
    drop(permit);
    match stored {
        Some(stored) if ok => {
            access.verified.remember(name, &stored, &password);
            Ok(name.to_owned())
        }
        _ => {
            log::info!("failed Subsonic sign-in for {name:?} from {client:?}");
            Err(Fault::WrongCredentials)
        }
    }
}

/// Whether `password` is one of `name`'s app passwords (noting its use).
async fn app_password(
    state: &AppState,
    access: &Access,
    name: &str,
    password: &str,
) -> Result<bool, Fault> {
    for (id, sealed) in state.data.app_passwords(name).await? {
        let secret = access.sealer.open_secret(name, &sealed);
        if secret.is_some_and(|secret| bool::from(secret.as_bytes().ct_eq(password.as_bytes()))) {
            state.data.note_use(&id).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// A password as sent: plain, or `enc:` followed by its UTF-8 bytes in hex.
fn decode(password: &str) -> Result<String, Fault> {
    let Some(hex) = password.strip_prefix("enc:") else {
        return Ok(password.to_owned());
    };
    let bytes = hex::decode(hex).map_err(|_| Fault::WrongCredentials)?;
    String::from_utf8(bytes).map_err(|_| Fault::WrongCredentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enc_password_is_hex_of_its_bytes() {
        assert_eq!(decode("plain").unwrap(), "plain");
        assert_eq!(decode("enc:736563726574").unwrap(), "secret");
        assert_eq!(decode("enc:c3a9").unwrap(), "é");
        assert!(decode("enc:zz").is_err());
        assert!(decode("enc:ff").is_err(), "not UTF-8");
    }
}
