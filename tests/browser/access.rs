//! Signing in, sharing a link to the track playing, and signing out, as a person does in the page.

use crate::harness::*;

const PASSWORD: &str = "open sesame, please";

fn with_users_and_links(fixture: &testkit::Fixture, config: &mut audio_streamer::Config) {
    let users = fixture.root().join("users");
    let mut list = audio_streamer::auth::Users::default();
    list.add("alice", PASSWORD).unwrap();
    list.write(&users).unwrap();
    config.access = Some(audio_streamer::config::Access {
        users,
        session_key_file: None,
    });
    config.link_secret = Some("a link secret of at least thirty-two characters".into());
}

/// Fills the login form and sends it, once the login page has loaded.
async fn sign_in(s: &Session, name: &str, password: &str) {
    s.wait_js(
        "the login form",
        "location.pathname === '/login' && document.querySelector('[data-testid=login-submit]')",
    )
    .await;
    s.js::<bool>(&format!(
        "document.querySelector('[data-testid=login-name]').value = {name:?};
         document.querySelector('[data-testid=login-password]').value = {password:?};
         document.querySelector('[data-testid=login-submit]').click(); true"
    ))
    .await;
}

#[actix_web::test]
async fn a_listener_signs_in_shares_the_track_playing_and_signs_out() {
    scenario_configured(
        "sign_in_share",
        four_tracks,
        with_users_and_links,
        async |s| {
            s.page.goto(s.server.url("/")).await.unwrap();
            s.wait_js("the login page", "location.pathname === '/login'")
                .await;
            assert!(
                s.js::<bool>("document.activeElement.dataset.testid === 'login-name'")
                    .await,
                "the name field has the focus"
            );

            sign_in(s, "alice", "not the password").await;
            s.wait_js(
                "the wrong-password message",
                "document.querySelector('[data-testid=login-problem]')?.textContent === 'Wrong user name or password.'",
            )
            .await;
            if let Some(axe) = crate::audit::axe_core() {
                let found = crate::audit::violations(s, &axe).await;
                assert!(found.is_empty(), "the login page: {found:#?}");
            }

            sign_in(s, "alice", PASSWORD).await;
            s.wait_js("the player page", "location.pathname === '/'").await;
            s.wait_js(
                "the live stats, over the signed-in session",
                "document.querySelector('[data-testid=stats-status]').textContent === 'live'",
            )
            .await;
            assert_eq!(
                s.js::<String>("document.querySelector('[data-testid=user]').textContent")
                    .await,
                "alice"
            );

            let player = Session::player("tone");
            s.js::<bool>(&format!("{player}.play(); true")).await;
            s.wait_js("tone to play", &format!("{player}.currentTime > 0.3"))
                .await;
            s.js::<bool>(
                "document.querySelector('[data-testid=share]').open = true;
                 document.querySelector('[data-testid=share-lifetime]').value = '3600';
                 document.querySelector('[data-testid=share-make]').click(); true",
            )
            .await;
            s.wait_js(
                "the share link",
                "!document.querySelector('[data-testid=share-link]').hidden",
            )
            .await;
            if let Some(axe) = crate::audit::axe_core() {
                let found = crate::audit::violations(s, &axe).await;
                assert!(found.is_empty(), "the share control: {found:#?}");
            }
            let link: String = s
                .js("document.querySelector('[data-testid=share-link]').value")
                .await;
            let expected = format!("{}?expires=", s.server.url("/audio/tone"));
            assert!(link.starts_with(&expected), "{link}");
            // The link plays without the session: fetched with no cookies at all.
            let status: i64 = s
                .js(&format!(
                    "fetch({link:?}, {{ credentials: 'omit', headers: {{ Range: 'bytes=0-99' }} }}).then(r => r.status)"
                ))
                .await;
            assert_eq!(status, 206);

            // Signed out behind the page's back (another tab): the next change to the library
            // finds the session gone, and the page goes to the login page.
            let status: i64 = s
                .js("fetch('/logout', { method: 'POST', redirect: 'manual' }).then(r => r.status)")
                .await;
            assert!(status == 0 || status == 303, "{status}");
            testkit::write_wav(&s.fixture.audio_dir().join("new.wav"), 0.5);
            s.wait_js(
                "the login page, to come back to /",
                "location.pathname === '/login' && new URLSearchParams(location.search).get('next') === '/'",
            )
            .await;
            sign_in(s, "alice", PASSWORD).await;
            s.wait_js(
                "the player page",
                "location.pathname === '/' && document.querySelector('[data-testid=sign-out]')",
            )
            .await;
            s.js::<bool>("document.querySelector('[data-testid=sign-out]').click(); true")
                .await;
            s.wait_js(
                "the login page again",
                "location.pathname === '/login' && document.querySelector('[data-testid=login-submit]')",
            )
            .await;
            let status: i64 = s.js("fetch('/api/stats').then(r => r.status)").await;
            assert_eq!(status, 401, "signed out");

            // Only the expected refusals: the wrong password and the last fetch.
            let problems: Vec<String> = s
                .problems()
                .into_iter()
                .filter(|p| !p.contains("HTTP 401") && !p.contains("status of 401"))
                .collect();
            assert_eq!(problems, Vec::<String>::new());
        },
    )
    .await;
}

#[actix_web::test]
async fn a_listener_makes_an_app_password_an_app_signs_in_with_it_and_it_is_revoked() {
    scenario_configured("apps", four_tracks, with_users_and_links, async |s| {
        s.page.goto(s.server.url("/#/apps")).await.unwrap();
        sign_in(s, "alice", PASSWORD).await;
        s.wait_js("the player page", "location.pathname === '/'")
            .await;
        s.js::<bool>("location.hash = '#/apps'; true").await;
        s.wait_js(
            "the Apps view",
            "document.querySelector('[data-testid=app-form]') && document.querySelector('[data-testid=apps-none]')",
        )
        .await;
        assert_eq!(
            s.js::<String>("document.querySelector('[data-testid=app-user]').textContent")
                .await,
            "alice"
        );
        assert_eq!(
            s.js::<String>("document.querySelector('[data-testid=app-server]').textContent")
                .await,
            s.server.url("")
        );
        s.js::<bool>(
            "document.querySelector('[data-testid=app-label]').value = 'car';
             document.querySelector('[data-testid=make-app-password]').click(); true",
        )
        .await;
        s.wait_js(
            "the app password, shown once",
            "document.querySelector('[data-testid=app-secret]')",
        )
        .await;
        let secret = s
            .js::<String>("document.querySelector('[data-testid=app-secret]').textContent")
            .await;
        assert_eq!(secret.len(), 24, "{secret}");
        let listed = s
            .js::<String>("document.querySelector('[data-testid=app-credential]').textContent")
            .await;
        assert!(listed.contains("car") && listed.contains("never used"), "{listed}");
        if let Some(axe) = crate::audit::axe_core() {
            let found = crate::audit::violations(s, &axe).await;
            assert!(found.is_empty(), "the Apps view: {found:#?}");
        }

        // An app signs in with it by token, as most apps do.
        let salt = "c0ffee";
        let token = hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{secret}{salt}")));
        let ping = s.server.url(&format!("/rest/ping?u=alice&t={token}&s={salt}&f=json"));
        let answer: serde_json::Value = reqwest::get(&ping).await.unwrap().json().await.unwrap();
        assert_eq!(answer["subsonic-response"]["status"], "ok", "{answer}");

        // Shown again after the use, then revoked; the app is refused.
        s.js::<bool>("location.hash = '#/'; true").await;
        s.js::<bool>("location.hash = '#/apps'; true").await;
        s.wait_js(
            "the last use listed",
            "document.querySelector('[data-testid=app-credential]')?.textContent.includes('used ') && !document.querySelector('[data-testid=app-credential]').textContent.includes('never')",
        )
        .await;
        assert!(
            !s.js::<bool>("!!document.querySelector('[data-testid=app-secret]')").await,
            "the secret is not shown again"
        );
        s.js::<bool>("document.querySelector('[data-testid=app-revoke]').click(); true")
            .await;
        s.wait_js(
            "no credentials left",
            "document.querySelector('[data-testid=apps-none]')",
        )
        .await;
        let answer: serde_json::Value = reqwest::get(&ping).await.unwrap().json().await.unwrap();
        assert_eq!(answer["subsonic-response"]["error"]["code"], 41, "{answer}");
    })
    .await;
}
