//! Who a `/rest/` request is, from the credentials a Subsonic app sends with every request.
//!
//! Without `--users` the API is as open as the page: every request is the one local listener. With
//! it, `u` and `p` (plain, or `enc:` and hex) are checked against the users file's argon2id hash;
//! a verified pair is remembered (`auth::Verified`, keyed, never in the clear) so that an app's
//! hundreds of requests cost one check. Failed checks are throttled like the sign-in page's.
//! Token authentication (`t` and `s`) needs a secret the server could read, which it does not
//! keep: error 41. API keys are not offered yet: error 42.

use actix_web::{HttpRequest, web};

use super::{Fault, Params};
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
    if key.is_some() {
        return Err(Fault::MechanismNotSupported);
    }
    if token.is_some() {
        return Err(Fault::TokenNotSupported);
    }
    let name = params.get("u").ok_or(Fault::Missing("u"))?;
    let password = decode(password.ok_or(Fault::Missing("p"))?)?;
    let stored = access.users.stored(name);
    if let Some(stored) = &stored
        && access.verified.knows(name, stored, &password)
    {
        return Ok(name.to_owned());
    }
    let client = req.peer_addr().map(|a| a.ip());
    if let Some(ip) = client
        && let Err(wait) = super::super::auth::attempt(state, access, ip).await
    {
        return Err(Fault::Throttled(wait.as_secs().max(1)));
    }
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
