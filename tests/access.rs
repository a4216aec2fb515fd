//! Access control and signed links on the real server: every way in and every way refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use audio_streamer::auth::{LinkSigner, Users};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use testkit::{Fixture, TestServer};

const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "a link secret of at least thirty-two characters";

/// Settings for a server whose users file holds `alice`, and which signs links with [`SECRET`].
fn config(
    fixture: &Fixture,
    session_key_file: Option<std::path::PathBuf>,
) -> audio_streamer::Config {
    let users = fixture.root().join("users");
    let mut list = Users::default();
    list.add("alice", PASSWORD).unwrap();
    list.write(&users).unwrap();
    let mut config = fixture.config();
    config.access = Some(audio_streamer::config::Access {
        users,
        session_key_file,
    });
    config.link_secret = Some(SECRET.into());
    config
}

/// A server with [`config`].
async fn guarded(fixture: &Fixture) -> TestServer {
    TestServer::start(&config(fixture, None)).await
}

fn fixture() -> (Fixture, Vec<u8>) {
    let fixture = Fixture::new();
    let one = fixture.wav("one.wav", 0.2);
    (fixture, one)
}

/// A client that keeps cookies and does not follow redirects (the tests read them).
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(
    client: &Client,
    server: &TestServer,
    name: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(server.url("/login"))
        .form(&[
            ("name", name),
            ("password", password),
            ("next", "/?from=login"),
        ])
        .send()
        .await
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn without_a_session_only_the_login_page_and_assets_answer() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    let res = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=%2F");
    for path in [
        "/api/tracks",
        "/api/library",
        "/api/stats",
        "/events",
        "/audio/one",
        "/audio/missing",
        "/art/one",
        "/metrics",
        "/api/link?track=one&lifetime=3600",
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let res = client
                .request(method.clone(), server.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            assert!(res.headers().contains_key("www-authenticate"), "{path}");
            assert!(
                res.headers().contains_key("content-security-policy"),
                "{path}"
            );
        }
    }
    for path in [
        "/login",
        "/login?next=/x",
        "/static/app.css",
        "/static/favicon.svg",
    ] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    // Nothing was streamed.
    assert_eq!(server.state.counters.streams_started(), 0);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    let wrong = sign_in(&client, &server, "alice", "wrong").await;
    let wrong_status = wrong.status();
    let wrong_body = wrong.text().await.unwrap().replace("alice", "NAME");
    let unknown = sign_in(&client, &server, "mallory", PASSWORD).await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong_status);
    assert_eq!(
        unknown.text().await.unwrap().replace("mallory", "NAME"),
        wrong_body
    );
    assert!(wrong_body.contains("Wrong user name or password."));
    assert!(
        wrong_body.contains("value=\"NAME\""),
        "the name is kept in the form"
    );
    let empty = sign_in(&client, &server, "", "").await;
    assert_eq!(empty.status(), StatusCode::UNAUTHORIZED);
    // Still signed out.
    let res = client.get(server.url("/api/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_in_opens_every_route_with_a_strict_cookie_and_signing_out_closes_them() {
    let (fixture, one) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    let res = sign_in(&client, &server, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/?from=login");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(
        !cookie.contains("alice"),
        "the cookie's content is encrypted: {cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"user\">alice<"),
        "the page names who is signed in"
    );
    for path in ["/api/tracks", "/api/library", "/api/stats", "/metrics"] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let audio = client.get(server.url("/audio/one")).send().await.unwrap();
    assert_eq!(audio.bytes().await.unwrap(), one);
    let events = client.get(server.url("/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    drop(events);
    // Already signed in, the login page sends you on.
    let res = client
        .get(server.url("/login?next=/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/x");

    let res = client.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    let res = client.get(server.url("/api/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A copy of the cookie kept from before does not bring the session back.
    let replay = Client::new()
        .get(server.url("/api/stats"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // A made-up or tampered cookie is no session either.
    let mut tampered = session.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for cookie in [tampered.as_str(), "session=alice", "session="] {
        let res = Client::new()
            .get(server.url("/api/stats"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{cookie}");
    }
}

#[tokio::test]
async fn a_user_removed_from_the_file_is_signed_out() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    sign_in(&client, &server, "alice", PASSWORD).await;
    let res = client.get(server.url("/api/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let path = fixture.root().join("users");
    let mut users = Users::read(&path).unwrap();
    users.remove("alice").unwrap();
    users.add("bob", "another password").unwrap();
    users.write(&path).unwrap();
    // The file is looked at again at most once a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let res = client.get(server.url("/api/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // And a user added meanwhile can sign in, without a restart.
    let res = sign_in(&browser(), &server, "bob", "another password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_attempts_from_one_address_are_throttled() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    for _ in 0..5 {
        let res = sign_in(&client, &server, "alice", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The right password too: the address has no attempts left.
    let res = sign_in(&client, &server, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "Retry-After: {wait}");
    assert_eq!(
        client
            .get(server.url("/api/stats"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_login_form_sent_from_another_site_is_refused() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    let res = client
        .post(server.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let same = format!("http://{}", server.addr);
    let res = client
        .post(server.url("/login"))
        .header("origin", same)
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_signed_link_opens_its_track_alone_until_it_expires() {
    let (fixture, one) = fixture();
    fixture.wav("two.wav", 0.1);
    let server = guarded(&fixture).await;
    let client = browser();
    sign_in(&client, &server, "alice", PASSWORD).await;
    let made: serde_json::Value = client
        .get(server.url("/api/link?track=one&lifetime=3600"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = made["url"].as_str().unwrap().to_owned();
    let expires = made["expires"].as_u64().unwrap();
    assert!((now() + 3590..=now() + 3600).contains(&expires), "{made}");
    assert!(url.starts_with("/audio/one?expires="), "{url}");

    // No session needed: a fresh client, whole file and a range.
    let stranger = browser();
    let res = stranger.get(server.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap(), one);
    let res = stranger
        .get(server.url(&url))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap(), one[10..20]);

    // Reused for another track, tampered with, expired or signed with another secret: 403.
    let sig = url.split("signature=").nth(1).unwrap();
    let signer = LinkSigner::new(SECRET.as_bytes());
    let expired = signer.sign("one", now() - 1);
    let foreign = LinkSigner::new(b"another secret, also long enough!!").sign("one", expires);
    let mut flipped = sig.to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        url.replace("/audio/one?", "/audio/two?"),
        url.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 3600),
        ),
        format!("/audio/one?expires={expires}&signature={flipped}"),
        format!("/audio/one?expires={expires}&signature="),
        format!("/audio/one?expires=soon&signature={sig}"),
        format!(
            "/audio/one?expires={}&signature={}",
            expired.expires, expired.signature
        ),
        format!(
            "/audio/one?expires={}&signature={}",
            foreign.expires, foreign.signature
        ),
    ] {
        let res = stranger.get(server.url(&bad)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{bad}");
        let said = res.text().await.unwrap();
        assert!(said.contains("link"), "{bad}: {said}");
    }
    let res = stranger
        .get(server.url(&format!(
            "/audio/one?expires={}&signature={}",
            expired.expires, expired.signature
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "this link has expired\n");
    // A link opens nothing but its track.
    let other = url.replace("/audio/one", "/api/tracks");
    assert_eq!(
        stranger
            .get(server.url(&other))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Lifetimes out of range and unknown tracks.
    for (query, status) in [
        ("track=one&lifetime=59", StatusCode::BAD_REQUEST),
        ("track=one&lifetime=2592001", StatusCode::BAD_REQUEST),
        ("track=one&lifetime=-1", StatusCode::BAD_REQUEST),
        ("track=nope&lifetime=3600", StatusCode::NOT_FOUND),
    ] {
        let res = client
            .get(server.url(&format!("/api/link?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{query}");
    }
}

#[tokio::test]
async fn errors_under_api_are_json_with_their_status_and_others_stay_plain_text() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    async fn error_of(res: reqwest::Response) -> (StatusCode, String) {
        let status = res.status();
        assert_eq!(
            res.headers()["content-type"],
            "application/json",
            "{status}"
        );
        let json: serde_json::Value = res.json().await.unwrap();
        let error = json["error"].as_str().unwrap_or_else(|| panic!("{json}"));
        (status, error.to_owned())
    }

    // Signed out: the guard's 401, with its challenge, in JSON.
    let res = client.get(server.url("/api/stats")).send().await.unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(
        error_of(res).await,
        (StatusCode::UNAUTHORIZED, "sign in at /login first".into())
    );

    sign_in(&client, &server, "alice", PASSWORD).await;
    for (path, want) in [
        (
            "/api/link?track=one&lifetime=59",
            (
                StatusCode::BAD_REQUEST,
                "a link's lifetime is 60 seconds to 30 days",
            ),
        ),
        (
            "/api/link?track=nope&lifetime=3600",
            (StatusCode::NOT_FOUND, "not found"),
        ),
        ("/api/nothing", (StatusCode::NOT_FOUND, "not found")),
        ("/api/", (StatusCode::NOT_FOUND, "not found")),
    ] {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(error_of(res).await, (want.0, want.1.to_owned()), "{path}");
    }
    // A query that does not parse, and a method the route does not answer.
    let res = client
        .get(server.url("/api/link?track=one&lifetime=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(res).await,
        (
            StatusCode::BAD_REQUEST,
            "Query deserialize error: invalid digit found in string".into()
        )
    );
    let res = client.post(server.url("/api/stats")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_eq!(
        error_of(res).await,
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into())
    );

    // Elsewhere, errors are plain text as they always were.
    let res = client.get(server.url("/nothing")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "not found\n");
}

#[tokio::test]
async fn replicas_sharing_the_secret_and_the_session_key_serve_each_others_links_and_sessions() {
    let (fixture, one) = fixture();
    let key = fixture.root().join("session.key");
    std::fs::write(&key, [7u8; 64]).unwrap();
    let config = config(&fixture, Some(key));
    let a = TestServer::start(&config).await;
    let b = TestServer::start(&config).await;

    let client = browser();
    let res = sign_in(&client, &a, "alice", PASSWORD).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    let on_b = Client::new()
        .get(b.url("/api/stats"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), StatusCode::OK, "a session from A works on B");

    let made: serde_json::Value = client
        .get(a.url("/api/link?track=one&lifetime=600"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = Client::new()
        .get(b.url(made["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap(), one, "a link from A works on B");
}

#[tokio::test]
async fn without_users_everything_is_open_and_signed_links_are_still_checked() {
    let (fixture, one) = fixture();
    let mut config = fixture.config();
    config.link_secret = Some(SECRET.into());
    let server = TestServer::start(&config).await;
    let client = browser();
    assert_eq!(
        client.get(server.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let res = client.get(server.url("/audio/one")).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap(), one);
    let res = client.get(server.url("/login")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "no login page without users"
    );
    let forged = client
        .get(server.url("/audio/one?expires=99999999999&signature=AAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn under_tls_the_session_cookie_is_secure() {
    let (fixture, _) = fixture();
    let (files, cert) = fixture.tls();
    let mut config = config(&fixture, None);
    config.tls = Some(files);
    let server = TestServer::start(&config).await;
    let client = Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    let res = client
        .post(format!("{base}/login"))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    let res = client
        .get(format!("{base}/api/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_login_forms_get_a_4xx_and_sign_no_one_in() {
    let (fixture, _) = fixture();
    let server = guarded(&fixture).await;
    let client = browser();
    let post = |body: Vec<u8>, content_type: &'static str| {
        client
            .post(server.url("/login"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type) in [
        (b"name=alice".to_vec(), "application/x-www-form-urlencoded"),
        (b"{\"name\":\"alice\"}".to_vec(), "application/json"),
        (
            b"%%%=\xff\xfe".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (vec![b'a'; 100_000], "application/x-www-form-urlencoded"),
    ] {
        let res = post(body, content_type).await.unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    // A name that is markup is shown as text, never as markup.
    let res = sign_in(&client, &server, "<script>x</script>", "pw").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>x"), "{page}");
    assert_eq!(
        client
            .get(server.url("/api/stats"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
