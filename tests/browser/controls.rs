//! Controls: keyboard, search, the now-playing bar, shuffle and repeat, resume, covers, a phone screen.

use crate::harness::*;

#[actix_web::test]
async fn tab_reaches_every_player_and_every_control_has_an_accessible_name() {
    scenario("keyboard", async |s| {
        s.open_index().await;
        let players: u64 = s.js("document.querySelectorAll('audio').length").await;
        let mut reached = std::collections::BTreeSet::new();
        for _ in 0..80 {
            s.key("Tab", "Tab", 9, false).await;
            let focused: String = s
                .js("(e => e && e.tagName === 'AUDIO' ? e.closest('[data-name]').dataset.name : '')(document.activeElement)")
                .await;
            if !focused.is_empty() {
                reached.insert(focused);
            }
        }
        assert_eq!(reached.len() as u64, players, "Tab reached only {reached:?}");

        use chromiumoxide::cdp::browser_protocol::accessibility::GetFullAxTreeParams;
        let tree = s.page.execute(GetFullAxTreeParams::default()).await.unwrap();
        let mut unnamed = Vec::new();
        let mut controls = 0;
        for node in &tree.result.nodes {
            let role = node.role.as_ref().and_then(|r| r.value.as_ref()).and_then(|v| v.as_str()).unwrap_or("");
            if !["button", "slider", "link", "textbox", "checkbox", "combobox"].contains(&role) || node.ignored {
                continue;
            }
            controls += 1;
            let name = node.name.as_ref().and_then(|n| n.value.as_ref()).and_then(|v| v.as_str()).unwrap_or("");
            if name.trim().is_empty() {
                unnamed.push(format!("{role} {:?}", node.node_id));
            }
        }
        assert!(controls as u64 >= players * 2, "only {controls} controls in the accessibility tree");
        assert!(unnamed.is_empty(), "controls without an accessible name: {unnamed:?}");
    })
    .await;
}

#[actix_web::test]
async fn typing_in_search_filters_the_list_and_slash_focuses_it() {
    scenario("search", async |s| {
        s.open_index().await;
        let visible = "[...document.querySelectorAll('[data-testid=track]')].filter(t => !t.hidden).map(t => t.dataset.name)";
        s.key("/", "Slash", 191, false).await;
        s.wait_js("/ to focus the search box", "document.activeElement.dataset.testid === 'search'").await;
        s.type_text("ton").await;
        assert_eq!(s.js::<Vec<String>>(visible).await, ["tone"]);
        s.type_text("zzz").await;
        assert!(s.js::<Vec<String>>(visible).await.is_empty());
        s.key("Escape", "Escape", 27, false).await;
        assert_eq!(s.js::<Vec<String>>(visible).await.len(), 4);
    })
    .await;
}

#[actix_web::test]
async fn keys_and_the_now_playing_bar_move_through_the_list_and_a_finished_track_plays_the_next() {
    scenario("next_previous", async |s| {
        s.open_index().await;
        let playing = "[...document.querySelectorAll('audio')].filter(a => !a.paused).map(a => a.closest('[data-name]').dataset.name)";
        let title = "document.querySelector('[data-testid=now-title]').textContent";
        let tone = Session::player("tone");
        s.js::<bool>(&format!("{tone}.play().then(() => true)")).await;
        s.wait_js("the bar to show the track", &format!("{title} === 'tone'")).await;

        s.key("n", "KeyN", 78, false).await;
        s.wait_js("n to play the next track", &format!("{title} === 'voice'")).await;
        s.wait_js("only the next track playing", &format!("JSON.stringify({playing}) === '[\"voice\"]'")).await;
        s.key("p", "KeyP", 80, false).await;
        s.wait_js("p to go back", &format!("{title} === 'tone'")).await;
        s.key("k", "KeyK", 75, false).await;
        s.wait_js("k to go back again", &format!("{title} === 'noise'")).await;

        // The bar's buttons have names and work like the keys.
        s.js::<bool>("(document.querySelector('[aria-label=\"Next track\"]').click(), true)").await;
        s.wait_js("the Next button", &format!("{title} === 'tone'")).await;

        // Space pauses and resumes the current track.
        s.key(" ", "Space", 32, false).await;
        s.wait_js("space to pause", &format!("{tone}.paused")).await;
        s.key(" ", "Space", 32, false).await;
        s.wait_js("space to resume", &format!("!{tone}.paused")).await;

        // A track that ends hands over to the next one in the list.
        s.js::<bool>(&format!("({tone}.currentTime = {tone}.duration - 0.3, true)")).await;
        s.wait_js("the next track after the end", &format!("{title} === 'voice' && JSON.stringify({playing}) === '[\"voice\"]'"))
            .await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn positions_the_current_track_and_shuffle_and_repeat_are_restored_after_a_reload() {
    scenario("resume", async |s| {
        s.open_index().await;
        let voice = Session::player("voice");
        s.wait_js("metadata", &format!("{voice}.readyState >= 1"))
            .await;
        s.js::<bool>(&format!("{voice}.play().then(() => true)"))
            .await;
        s.js::<bool>(&format!("({voice}.currentTime = 7.5, true)"))
            .await;
        s.wait_js(
            "playback past the seek",
            &format!("{voice}.currentTime > 7.6"),
        )
        .await;
        s.js::<bool>(&format!("({voice}.pause(), true)")).await;
        let at: f64 = s.js(&format!("{voice}.currentTime")).await;

        s.page.reload().await.unwrap();
        s.wait_js(
            "the position to come back",
            &format!("{voice} && Math.abs({voice}.currentTime - {at}) < 0.3"),
        )
        .await;
        s.wait_js(
            "the current track to come back",
            "document.querySelector('[data-testid=now-title]').textContent === 'voice'",
        )
        .await;
        // Shuffle and repeat come back too.
        s.js::<bool>("(document.querySelector('[data-action=shuffle]').click(), document.querySelector('[data-action=repeat]').click(), true)").await;
        s.page.reload().await.unwrap();
        s.wait_js(
            "shuffle and repeat to come back",
            "document.querySelector('[data-action=shuffle]').getAttribute('aria-pressed') === 'true' && \
             document.querySelector('[data-action=repeat]').getAttribute('aria-label') === 'Repeat: all'",
        )
        .await;
        // Untouched tracks start at the beginning.
        assert_eq!(
            s.js::<f64>(&format!("{}.currentTime", Session::player("tone")))
                .await,
            0.0
        );
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn shuffle_and_repeat_change_what_plays_next() {
    scenario("shuffle_repeat", async |s| {
        s.open_index().await;
        let title = "document.querySelector('[data-testid=now-title]').textContent";
        let click = |label: &str| {
            format!("(document.querySelector('[aria-label^=\"{label}\"]').click(), true)")
        };
        let voice = Session::player("voice");
        // Repeat off: the last track ending stops playback.
        s.js::<bool>(&format!("{voice}.play().then(() => true)"))
            .await;
        s.wait_js("voice current", &format!("{title} === 'voice'"))
            .await;
        s.js::<bool>(&format!(
            "({voice}.currentTime = {voice}.duration - 0.3, true)"
        ))
        .await;
        s.wait_js("the last track to end", &format!("{voice}.ended"))
            .await;
        assert_eq!(
            s.js::<u64>("[...document.querySelectorAll('audio')].filter(a => !a.paused).length")
                .await,
            0
        );

        // Repeat one (off -> all -> one): the track starts over.
        s.js::<bool>(&click("Repeat")).await;
        s.js::<bool>(&click("Repeat")).await;
        assert_eq!(
            s.js::<String>(
                "document.querySelector('[data-action=repeat]').getAttribute('aria-label')"
            )
            .await,
            "Repeat: this track"
        );
        s.js::<bool>(&format!("{voice}.play().then(() => true)"))
            .await;
        s.js::<bool>(&format!(
            "({voice}.currentTime = {voice}.duration - 0.3, true)"
        ))
        .await;
        s.wait_js(
            "the same track to start over",
            &format!("!{voice}.paused && {voice}.currentTime < 2 && {title} === 'voice'"),
        )
        .await;

        // Shuffle: next picks another track.
        s.js::<bool>(&click("Shuffle")).await;
        assert_eq!(
            s.js::<String>(
                "document.querySelector('[data-action=shuffle]').getAttribute('aria-pressed')"
            )
            .await,
            "true"
        );
        for _ in 0..3 {
            let before: String = s.js(title).await;
            s.key("n", "KeyN", 78, false).await;
            s.wait_js("another track", &format!("{title} !== {before:?}"))
                .await;
        }
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn the_page_fits_a_phone_screen() {
    scenario("phone", async |s| {
        use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
        s.page.execute(SetDeviceMetricsOverrideParams::new(375, 740, 2.0, true)).await.unwrap();
        s.open_index().await;
        assert_eq!(s.js::<u64>("screen.width").await, 375, "phone emulation is on");
        // With a mobile viewport, a page wider than the screen would widen the layout viewport
        // (and be shown zoomed out), so compare with the phone's width itself.
        let width: f64 = s.js("document.documentElement.scrollWidth").await;
        assert!(width <= 375.0, "the page is {width} px wide on a 375 px phone");
        let players_fit: bool = s
            .js("[...document.querySelectorAll('audio')].every(a => a.getBoundingClientRect().right <= 375)")
            .await;
        assert!(players_fit, "a player sticks out of a phone-sized screen");
    })
    .await;
}

#[actix_web::test]
async fn covers_show_in_the_list_the_now_playing_bar_and_the_lock_screen_metadata() {
    scenario("covers", async |s| {
        s.open_index().await;
        let cover = "document.querySelector('[data-name=\"tone\"] img[data-testid=cover]')";
        s.wait_js(
            "the cover to load",
            &format!("{cover}.complete && {cover}.naturalWidth === 64"),
        )
        .await;
        assert_eq!(
            s.js::<u64>("document.querySelectorAll('[data-testid=track] .cover.none').length")
                .await,
            3,
            "the tracks without a cover show a placeholder"
        );
        let tone = Session::player("tone");
        s.js::<bool>(&format!("{tone}.play().then(() => true)"))
            .await;
        let bar = "document.querySelector('[data-testid=now-cover]')";
        s.wait_js(
            "the bar's cover",
            &format!("!{bar}.hidden && {bar}.complete && {bar}.naturalWidth === 64"),
        )
        .await;
        let artwork: String = s.js("navigator.mediaSession.metadata.artwork[0].src").await;
        assert!(artwork.contains("/art/tone?v="), "{artwork}");
        // Another track without a cover: the bar drops the image.
        s.key("n", "KeyN", 78, false).await;
        s.wait_js("the next track's bar", &format!("{bar}.hidden"))
            .await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn the_now_playing_bar_shows_the_time_seeks_and_sets_the_volume_for_every_player() {
    scenario("bar", async |s| {
        s.open_index().await;
        let tone = Session::player("tone");
        let bar = |id: &str| format!("document.querySelector('[data-testid=now-playing] [data-testid={id}]')");
        s.js::<bool>(&format!("{tone}.play().then(() => true)")).await;
        s.wait_js("the elapsed time to move", &format!("{}.textContent === '0:01'", bar("elapsed"))).await;
        // The list and the bar state a length as the player does: whole seconds, rounded down.
        let (total, shown): (String, String) = s
            .js(&format!("[{}.textContent, document.querySelector('[data-name=tone] .details').textContent]", bar("total")))
            .await;
        let player_secs: f64 = s.js(&format!("{tone}.duration")).await;
        let floor = format!("0:{:02}", player_secs as u64);
        assert_eq!(total, floor);
        assert!(shown.ends_with(&floor), "the list says {shown}, the player {floor}");
        // Icons are drawn, not taken from a font: each icon button (all but "Add to playlist…",
        // which is words) shows an SVG of real size.
        let icons: Vec<f64> = s
            .js("[...document.querySelectorAll('[data-testid=now-playing] button:not(.add)')].map(b => [...b.querySelectorAll('svg')].map(i => i.getBoundingClientRect().width).reduce((a, b) => Math.max(a, b), 0))")
            .await;
        assert_eq!(icons.len(), 6);
        assert!(icons.iter().all(|w| *w >= 12.0), "{icons:?}");
        let toggle = bar("toggle");
        assert_eq!(s.js::<String>(&format!("{toggle}.getAttribute('aria-label')")).await, "Pause");

        // Seek with the bar.
        s.js::<bool>(&format!("(s => {{ s.value = 15; s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); return true; }})({})", bar("seek")))
            .await;
        s.wait_js("the seek bar to move the player", &format!("{tone}.currentTime >= 14.9")).await;
        // The volume applies to every player, and to the next one built.
        s.js::<bool>(&format!("(v => {{ v.value = 0.3; v.dispatchEvent(new Event('input')); return true; }})({})", bar("volume")))
            .await;
        assert!(s.js::<bool>("[...document.querySelectorAll('audio')].every(a => Math.abs(a.volume - 0.3) < 1e-9)").await);
        s.js::<bool>(&format!("({toggle}.click(), true)")).await;
        s.wait_js("the toggle to pause", &format!("{tone}.paused && {toggle}.getAttribute('aria-label') === 'Play'")).await;
        s.page.reload().await.unwrap();
        s.wait_js("the volume kept after a reload", "(a => a && Math.abs(a.volume - 0.3) < 1e-9)(document.querySelector('audio'))").await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn a_file_that_cannot_be_read_says_so_and_is_not_offered_for_playing() {
    fn with_a_broken_file(fixture: &testkit::Fixture) {
        four_tracks(fixture);
        fixture.file("broken.mp3", &[0u8; 4096]);
    }
    scenario_in("unreadable", with_a_broken_file, async |s| {
        s.open_index().await;
        let row = "document.querySelector('[data-name=broken]')";
        s.wait_js("the broken file's row", row).await;
        assert!(
            !s.js::<bool>(&format!("!!{row}.querySelector('audio')"))
                .await,
            "offered for playing"
        );
        let said: String = s
            .js(&format!(
                "{row}.querySelector('[data-testid=problem]').textContent"
            ))
            .await;
        assert_eq!(
            said,
            "This file could not be read, so it is not offered for playing."
        );
        // Next and previous skip it: the list is broken, chime, noise, tone, voice.
        let chime = Session::player("chime");
        s.js::<bool>(&format!("{chime}.play().then(() => true)"))
            .await;
        s.key("p", "KeyP", 80, false).await;
        s.wait_js(
            "previous wraps past the broken file",
            &format!("!{}.paused", Session::player("voice")),
        )
        .await;
    })
    .await;
}

#[actix_web::test]
async fn a_track_whose_file_is_gone_says_so_in_its_row_and_in_the_bar() {
    // Over 100 tracks, players load nothing until played: the browser holds none of the file.
    scenario_in("gone", |fixture| library_of(fixture, 150), async |s| {
        s.open_index().await;
        let name = "folder 00/track 0003";
        std::fs::remove_file(s.fixture.audio_dir().join(format!("{name}.wav"))).unwrap();
        let player = Session::player(name);
        // Played at once, before the folder's watcher has taken the track off the list.
        s.js::<bool>(&format!("({player}.play().catch(() => {{}}), true)")).await;
        let gone = "This file is no longer in the library folder.";
        s.wait_js(
            "the bar to say the file is gone",
            &format!("(p => !p.hidden && p.textContent === '{gone}')(document.querySelector('[data-testid=now-problem]'))"),
        )
        .await;
        let said: String = s
            .js(&format!("document.querySelector('[data-name=\"{name}\"] [data-testid=problem]').textContent"))
            .await;
        assert_eq!(said, gone);
        // The list drops it once the watcher has seen the folder change.
        s.wait_js("the list without it", "document.querySelector('[data-testid=track-count]').textContent === '149 tracks'").await;
    })
    .await;
}
