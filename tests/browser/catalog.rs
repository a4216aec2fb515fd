//! The browse views: the tab bar and the hash, the albums grid and an album's page (disc and track
//! order, Play, next), artists and genres, at a phone's width too.

use crate::harness::*;

/// Two albums by two artists, both Jazz: `Time Out` on two discs, its files named so that their
/// folder order is not the album's (`a.wav` is disc 2), and `Kind of Blue` with one track.
pub(crate) fn two_albums(fixture: &testkit::Fixture) {
    let dir = fixture.audio_dir();
    for (file, title, disc, track) in [
        ("time out/a.wav", "Blue Rondo", 2, 1),
        ("time out/b.wav", "Take Five", 1, 2),
        ("time out/c.wav", "Strange Meadow Lark", 1, 1),
    ] {
        testkit::write_wav(&dir.join(file), 3.0);
        testkit::Tagger::default()
            .title(title)
            .artist("Dave Brubeck")
            .album("Time Out")
            .disc(disc, Some(2))
            .track(track)
            .genres(&["Jazz"])
            .date("1959")
            .save(&dir.join(file));
    }
    testkit::write_wav(&dir.join("kind of blue/so what.wav"), 3.0);
    testkit::Tagger::default()
        .title("So What")
        .artist("Miles Davis")
        .album("Kind of Blue")
        .track(1)
        .genres(&["Jazz"])
        .save(&dir.join("kind of blue/so what.wav"));
}

/// The titles of the tracks the view shows, in order.
const VIEW_TITLES: &str = "[...document.querySelectorAll('[data-testid=view] [data-testid=track] [data-slot=title]')].map(e => e.textContent)";

/// Clicks the first element matching `selector` whose text includes `text`.
pub(crate) async fn click_text(s: &Session, selector: &str, text: &str) {
    let clicked: bool = s
        .js(&format!(
            "(el => {{ if (!el) return false; el.click(); return true; }})([...document.querySelectorAll({selector:?})].find(e => e.textContent.includes({text:?})))"
        ))
        .await;
    assert!(clicked, "nothing matching {selector} says {text}");
}

/// Waits for the view's heading to say `title`.
pub(crate) async fn view_titled(s: &Session, title: &str) {
    s.wait_js(
        &format!("the view titled {title}"),
        &format!("(h => h && h.textContent === {title:?} && !document.querySelector('[data-testid=view]').hidden)(document.querySelector('[data-testid=view-title]'))"),
    )
    .await;
}

/// What the bar says is playing (the title part).
const NOW: &str = "document.querySelector('[data-testid=now-title]').textContent";

#[actix_web::test]
async fn an_album_lists_its_tracks_by_disc_and_plays_them_in_that_order() {
    scenario_in("album", two_albums, async |s| {
        s.open_index().await;
        s.js::<bool>("(document.querySelector('[data-testid=tab-albums]').click(), true)").await;
        s.wait_js("the albums grid", "document.querySelectorAll('[data-testid=album]').length === 2").await;
        assert_eq!(s.js::<String>("location.hash").await, "#/albums");
        assert!(s.js::<bool>("document.querySelector('[data-testid=tracks-view]').hidden").await);
        click_text(s, "[data-testid=album]", "Time Out").await;
        view_titled(s, "Time Out").await;
        let titles: Vec<String> = s.js(VIEW_TITLES).await;
        assert_eq!(titles, ["Strange Meadow Lark", "Take Five", "Blue Rondo"]);
        let discs: Vec<String> = s.js("[...document.querySelectorAll('[data-testid=disc]')].map(e => e.textContent)").await;
        assert_eq!(discs, ["Disc 1", "Disc 2"]);
        let facts: String = s.js("document.querySelector('[data-testid=album-facts]').textContent").await;
        assert!(facts.contains("3 tracks") && facts.contains("0:09"), "{facts}");

        s.js::<bool>("(document.querySelector('[data-testid=play-view]').click(), true)").await;
        s.wait_js("the album's first track playing", &format!("{NOW}.startsWith('Strange Meadow Lark') && !document.querySelector('[data-testid=view] audio').paused")).await;
        s.js::<bool>("(document.querySelector('[data-testid=now-playing] [data-action=next]').click(), true)").await;
        s.wait_js("the album's second track playing", &format!("{NOW}.startsWith('Take Five') && !document.querySelectorAll('[data-testid=view] audio')[1].paused")).await;

        // The music goes on in another view, and next still follows the album.
        s.js::<bool>("(document.querySelector('[data-testid=tab-tracks]').click(), true)").await;
        s.wait_js("the folder list back", "!document.querySelector('[data-testid=tracks-view]').hidden").await;
        assert!(!s.js::<bool>("[...document.querySelectorAll('audio')].every(a => a.paused)").await);
        s.js::<bool>("(document.querySelector('[data-testid=now-playing] [data-action=next]').click(), true)").await;
        s.wait_js("the album's third track", &format!("{NOW}.startsWith('Blue Rondo')")).await;

        // Back, and a reload, show the view the hash names.
        s.js::<bool>("(history.back(), true)").await;
        view_titled(s, "Time Out").await;
        s.page.reload().await.unwrap();
        view_titled(s, "Time Out").await;
        s.js::<bool>("(history.back(), true)").await;
        view_titled(s, "Albums").await;
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

#[actix_web::test]
async fn artists_and_genres_lead_to_their_albums_and_tracks_at_320_px_too() {
    scenario_in("artists", two_albums, async |s| {
        s.screen(320, 640, true).await;
        s.open_index().await;
        s.js::<bool>("(document.querySelector('[data-testid=tab-artists]').click(), true)").await;
        s.wait_js("the artists", "document.querySelectorAll('[data-testid=artist]').length === 2").await;
        click_text(s, "[data-testid=artist]", "Dave Brubeck").await;
        view_titled(s, "Dave Brubeck").await;
        let albums: Vec<String> = s.js("[...document.querySelectorAll('[data-testid=album] .name')].map(e => e.textContent)").await;
        assert_eq!(albums, ["Time Out"]);
        assert!(s.js::<String>("location.hash").await.starts_with("#/artist/ar-"));
        assert_eq!(s.js::<String>("document.querySelector('[data-testid=tab-artists]').getAttribute('aria-current')").await, "page");

        s.js::<bool>("(document.querySelector('[data-testid=tab-genres]').click(), true)").await;
        s.wait_js("the genres", "document.querySelectorAll('[data-testid=genre]').length === 1").await;
        click_text(s, "[data-testid=genre]", "Jazz").await;
        view_titled(s, "Jazz").await;
        s.wait_js("its albums", "document.querySelectorAll('[data-testid=album]').length === 2").await;
        assert_eq!(s.js::<Vec<String>>(VIEW_TITLES).await.len(), 4);
        click_text(s, "[data-testid=album]", "Time Out").await;
        view_titled(s, "Time Out").await;
        let wide: i64 = s.js("document.documentElement.scrollWidth").await;
        assert!(wide <= 320, "the album page is {wide} px wide at 320");
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

/// The star toggle of the row of the track titled `title` (in the view that shows).
fn row_star(title: &str) -> String {
    format!(
        "[...document.querySelectorAll('[data-testid=track]')].find(li => !li.closest('[hidden]') && li.querySelector('[data-slot=title]').textContent === {title:?}).querySelector('[data-testid=star]')"
    )
}

#[actix_web::test]
async fn stars_on_a_track_and_an_album_stay_after_a_reload_and_a_refusal_is_rolled_back() {
    scenario_in("stars", two_albums, async |s| {
        s.open_index().await;
        let so_what = row_star("So What");
        s.wait_js("the row's star", &format!("{so_what}.getAttribute('aria-label') === 'Star So What'")).await;
        s.js::<bool>(&format!("({so_what}.click(), true)")).await;
        assert_eq!(s.js::<String>(&format!("{so_what}.getAttribute('aria-pressed')")).await, "true");
        s.js::<bool>("(location.hash = '#/albums', true)").await;
        s.wait_js("the albums grid", "document.querySelector('[data-testid=album]')").await;
        click_text(s, "[data-testid=album]", "Time Out").await;
        view_titled(s, "Time Out").await;
        let album_star = "document.querySelector('[data-testid=view-star]')";
        assert_eq!(s.js::<String>(&format!("{album_star}.getAttribute('aria-label')")).await, "Star Time Out");
        s.js::<bool>(&format!("({album_star}.click(), true)")).await;
        s.wait_js("both stars kept by the server", "fetch('/api/stars').then(r => r.json()).then(j => Object.keys(j.tracks).length === 1 && Object.keys(j.albums).length === 1)").await;

        s.page.reload().await.unwrap();
        view_titled(s, "Time Out").await;
        s.wait_js("the album's star after a reload", &format!("{album_star}.getAttribute('aria-pressed') === 'true'")).await;
        s.js::<bool>("(location.hash = '#/', true)").await;
        s.wait_js("the track's star after a reload", &format!("{so_what}.getAttribute('aria-pressed') === 'true'")).await;
        // Playing it shows the star in the bar too.
        s.js::<bool>(&format!("({so_what}.closest('li').querySelector('audio').play(), true)")).await;
        s.wait_js("the bar's star", "document.querySelector('[data-testid=now-star]').getAttribute('aria-pressed') === 'true' && document.querySelector('[data-testid=now-star]').getAttribute('aria-label') === 'Star So What'").await;

        // The database down: the press is undone and both notes say so.
        s.js::<bool>("(document.querySelectorAll('audio').forEach(a => a.pause()), true)").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        s.js::<bool>("(window.fetch = (f => (url, init) => String(url).startsWith('/api/stars/') ? Promise.resolve(new Response('{\"error\":\"down\"}', { status: 503 })) : f(url, init))(window.fetch), true)").await;
        s.js::<bool>(&format!("({so_what}.click(), true)")).await;
        s.wait_js("the refusal said", "!document.querySelector('[data-testid=star-note]').hidden && !document.querySelector('[data-testid=data-note]').hidden").await;
        assert_eq!(s.js::<String>(&format!("{so_what}.getAttribute('aria-pressed')")).await, "true");
        let kept: usize = s.js("fetch('/api/stars').then(r => r.json()).then(j => Object.keys(j.tracks).length)").await;
        assert_eq!(kept, 1);
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

/// The id of the track titled `title`, as the page's list has it.
async fn id_of(s: &Session, title: &str) -> String {
    s.js(&format!("fetch('/api/library').then(r => r.json()).then(j => j.tracks.find(t => t.title === {title:?}).id)")).await
}

/// How many plays of `id` the server counted for the local listener.
async fn plays_of(s: &Session, id: &str) -> u64 {
    let found = s
        .server
        .state
        .data
        .annotations(
            "~local",
            audio_streamer::data::Kind::Track,
            &[id.to_owned()],
        )
        .await
        .unwrap();
    found.get(id).map_or(0, |a| a.play_count)
}

#[actix_web::test]
async fn a_play_counts_once_past_half_the_track_and_not_by_seeking_past_it() {
    scenario_in("plays", two_albums, async |s| {
        s.open_index().await;
        let id = id_of(s, "So What").await;
        let player = "document.querySelector('[data-name=\"kind of blue/so what\"] audio')";
        // A moment from the start, then a seek to 2.2 s of 3: about a second heard, under the half
        // (the jump itself is not listening).
        s.js::<bool>(&format!("({player}.play(), true)")).await;
        s.wait_js("it to start", &format!("{player}.currentTime > 0.1"))
            .await;
        s.js::<bool>(&format!("({player}.currentTime = 2.2, true)"))
            .await;
        s.wait_js("the seeked play to end", &format!("{player}.ended"))
            .await;
        s.js::<bool>(&format!("({player}.pause(), true)")).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(plays_of(s, &id).await, 0, "a seek past the half counted");
        // From the start: heard past the half, counted once however long it plays on.
        s.js::<bool>(&format!(
            "(a => {{ a.currentTime = 0; a.play(); return true; }})({player})"
        ))
        .await;
        s.wait_js(
            "the whole play to end",
            &format!("{player}.ended || {player}.currentTime > 2.8"),
        )
        .await;
        s.js::<bool>(&format!("({player}.pause(), true)")).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        while plays_of(s, &id).await == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the play was never counted"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(plays_of(s, &id).await, 1);
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

#[actix_web::test]
async fn another_device_resumes_the_same_track_at_the_same_place() {
    scenario_in("queue", two_albums, async |s| {
        s.open_index().await;
        let id = id_of(s, "Take Five").await;
        let player = "document.querySelector('[data-name=\"time out/b\"] audio')";
        s.js::<bool>(&format!("({player}.play(), true)")).await;
        s.wait_js("it to play", &format!("{player}.currentTime > 0.3")).await;
        s.js::<bool>(&format!("(a => {{ a.pause(); a.currentTime = 2; return true; }})({player})")).await;
        s.wait_js(
            "the queue saved with the place",
            &format!("fetch('/api/queue').then(r => r.ok && r.json()).then(q => q && q.current === {id:?} && q.position_ms === 2000 && q.tracks.length === 4)"),
        )
        .await;

        // Another browser, its own profile: another device.
        let profile = tempfile::tempdir().unwrap();
        let (mut browser, page) = testkit::browser::launch(profile.path(), 1200, 900).await;
        page.goto(s.server.url("/")).await.unwrap();
        let resumed = async {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let ok = page
                    .evaluate(format!("!!(a => a && Math.abs(a.currentTime - 2) < 0.05 && document.querySelector('[data-testid=now-title]').textContent.startsWith('Take Five'))({player})"))
                    .await
                    .ok()
                    .and_then(|v| v.into_value::<bool>().ok())
                    == Some(true);
                if ok || tokio::time::Instant::now() > deadline {
                    break ok;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        .await;
        browser.close().await.ok();
        browser.wait().await.ok();
        assert!(resumed, "the second device did not resume Take Five at 0:02");
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

/// Plays the track titled `title` from the folder list and adds it, from the bar, to `playlist`.
async fn add_from_the_bar(s: &Session, title: &str, playlist: &str) {
    s.js::<bool>("(location.hash = '#/', true)").await;
    s.wait_js(
        "the folder list",
        "!document.querySelector('[data-testid=tracks-view]').hidden",
    )
    .await;
    s.js::<bool>(&format!(
        "({}.closest('li').querySelector('audio').play(), true)",
        row_star(title)
    ))
    .await;
    s.wait_js("the bar", &format!("{NOW}.startsWith({title:?})"))
        .await;
    s.js::<bool>("(document.querySelector('[data-testid=now-add]').click(), true)")
        .await;
    s.wait_js("the dialog", "document.querySelector('[data-testid=add-dialog]').open && document.querySelector('[data-testid=add-to]')").await;
    click_text(s, "[data-testid=add-to]", playlist).await;
    s.wait_js("the addition said", &format!("document.querySelector('[data-testid=star-note]').textContent === 'Added {title} to {playlist}.'")).await;
}

#[actix_web::test]
async fn a_playlist_is_made_filled_reordered_trimmed_and_played_and_stays_as_left() {
    scenario_in("playlist", two_albums, async |s| {
        s.open_index().await;
        s.js::<bool>("(document.querySelector('[data-testid=tab-playlists]').click(), true)").await;
        view_titled(s, "Playlists").await;
        s.js::<bool>("(document.querySelector('[data-testid=new-playlist-name]').value = 'Late', document.querySelector('[data-testid=new-playlist-make]').click(), true)").await;
        view_titled(s, "Late").await;
        let hash: String = s.js("location.hash").await;
        for title in ["So What", "Take Five", "Blue Rondo"] {
            add_from_the_bar(s, title, "Late").await;
        }
        s.js::<bool>(&format!("(location.hash = {hash:?}, true)")).await;
        view_titled(s, "Late").await;
        s.wait_js("three entries", "document.querySelectorAll('[data-testid=view] [data-testid=track]').length === 3").await;
        assert_eq!(s.js::<Vec<String>>(VIEW_TITLES).await, ["So What", "Take Five", "Blue Rondo"]);
        // The second up, then the last out.
        s.js::<bool>("(document.querySelectorAll('[data-testid=entry-up]')[1].click(), true)").await;
        s.wait_js("Take Five first", &format!("{VIEW_TITLES}.join() === 'Take Five,So What,Blue Rondo'")).await;
        assert_eq!(
            s.js::<String>("document.querySelectorAll('[data-testid=entry-up]')[1].getAttribute('aria-label')").await,
            "Move up So What"
        );
        s.js::<bool>("(document.querySelectorAll('[data-testid=entry-remove]')[2].click(), true)").await;
        s.wait_js("Blue Rondo gone", &format!("{VIEW_TITLES}.join() === 'Take Five,So What'")).await;
        s.page.reload().await.unwrap();
        view_titled(s, "Late").await;
        s.wait_js("as left after a reload", &format!("{VIEW_TITLES}.join() === 'Take Five,So What'")).await;
        s.js::<bool>("(document.querySelector('[data-testid=play-view]').click(), true)").await;
        s.wait_js("the playlist playing", &format!("{NOW}.startsWith('Take Five')")).await;
        s.js::<bool>("(document.querySelector('[data-testid=now-playing] [data-action=next]').click(), true)").await;
        s.wait_js("its second entry next", &format!("{NOW}.startsWith('So What')")).await;

        // An edit against an old version: the playlist is loaded again and the listener told.
        let id = hash.trim_start_matches("#/playlist/");
        s.js::<bool>(&format!("fetch('/api/playlists/{id}', {{ method: 'PATCH', headers: {{ 'Content-Type': 'application/json' }}, body: JSON.stringify({{ append: [] , name: 'Later' }}) }}).then(r => r.ok)")).await;
        s.js::<bool>("(document.querySelectorAll('[data-testid=entry-down]')[0].click(), true)").await;
        s.wait_js("the conflict said", "document.querySelector('[data-testid=star-note]').textContent.startsWith('The playlist changed elsewhere')").await;
        view_titled(s, "Later").await;
        assert_eq!(s.js::<Vec<String>>(VIEW_TITLES).await, ["Take Five", "So What"]);
        let problems: Vec<String> = s.problems().into_iter().filter(|p| !p.contains("409")).collect();
        assert!(problems.is_empty(), "{problems:?}");
    })
    .await;
}
