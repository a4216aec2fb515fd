//! A library of 2,000 tracks: only the rows near the viewport are built, yet any track plays, the
//! keys and the bar walk the whole list, search finds rows never built, and a file dropped in is
//! patched into the list in place.

use std::time::{Duration, Instant};

use crate::harness::*;

const TRACKS: usize = 2000;
const LAST: &str = "folder 19/track 1999";

/// 2,000 short tracks; the last one lasts 30 s, long enough to check that it keeps playing.
fn big_library(fixture: &testkit::Fixture) {
    library_of(fixture, TRACKS);
    testkit::write_wav(&fixture.audio_dir().join(format!("{LAST}.wav")), 30.0);
}

const BUILT: &str = "document.querySelectorAll('[data-testid=track]').length";

async fn open_windowed(s: &Session) {
    s.open_index().await;
    s.wait_js(
        "the whole list as JSON",
        &format!("document.querySelector('[data-testid=track-count]').textContent === '{TRACKS} tracks' && document.querySelector('.tracks.windowed')"),
    )
    .await;
}

async fn scroll_to(s: &Session, y: &str) {
    s.js::<bool>(&format!("(window.scrollTo(0, {y}), true)"))
        .await;
}

#[actix_web::test]
async fn only_rows_near_the_viewport_are_built_and_a_track_far_down_plays_while_the_list_scrolls() {
    scenario_in("windowed_list", big_library, async |s| {
        open_windowed(s).await;
        let built: usize = s.js(BUILT).await;
        assert!(
            (5..60).contains(&built),
            "{built} rows built for {TRACKS} tracks"
        );
        let nodes: usize = s.js("document.getElementsByTagName('*').length").await;
        assert!(nodes < 1500, "{nodes} elements");

        scroll_to(s, "document.documentElement.scrollHeight").await;
        let last = Session::player(LAST);
        s.wait_js("the last row, built as it scrolls into view", &last)
            .await;
        s.js::<bool>(&format!("({last}.play(), true)")).await;
        s.wait_js(
            "the last track playing",
            &format!("{last}.currentTime > 0.2"),
        )
        .await;

        scroll_to(s, "0").await;
        s.wait_js(
            "the first rows again",
            &Session::player("folder 00/track 0000"),
        )
        .await;
        assert!(
            s.js::<bool>(&format!("!!{last} && !{last}.paused")).await,
            "the playing row was dropped"
        );
        let built: usize = s.js(BUILT).await;
        assert!(built < 60, "{built} rows after scrolling back");
        let title: String = s
            .js("document.querySelector('[data-testid=now-title]').textContent")
            .await;
        assert!(title.starts_with("track 1999"), "{title}");
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

#[actix_web::test]
async fn next_and_previous_cross_the_edge_of_the_built_rows() {
    scenario_in("window_edge", big_library, async |s| {
        open_windowed(s).await;
        // Repeat-one: a short track loops instead of moving on by itself.
        for _ in 0..2 {
            s.js::<bool>("(document.querySelector('[data-action=repeat]').click(), true)")
                .await;
        }
        let edge: String = s
            .js("[...document.querySelectorAll('[data-testid=track]')].at(-1).dataset.name")
            .await;
        let number: usize = edge.rsplit(' ').next().unwrap().parse().unwrap();
        let beyond = format!("folder {:02}/track {:04}", (number + 1) / 100, number + 1);
        assert!(
            !s.js::<bool>(&format!("!!{}", Session::player(&beyond)))
                .await,
            "{beyond} already built"
        );

        s.js::<bool>(&format!("({}.play(), true)", Session::player(&edge)))
            .await;
        s.wait_js(
            "the edge row playing",
            &format!("!{}.paused", Session::player(&edge)),
        )
        .await;
        s.key("n", "KeyN", 78, false).await;
        s.wait_js(
            "n to play the track past the edge",
            &format!("{0} && !{0}.paused", Session::player(&beyond)),
        )
        .await;
        assert!(
            s.js::<bool>(&format!("{}.paused", Session::player(&edge)))
                .await
        );
        s.key("p", "KeyP", 80, false).await;
        s.wait_js(
            "p to play the edge row again",
            &format!("!{}.paused", Session::player(&edge)),
        )
        .await;
        // Two keys in one go (one task): the second moves on from the track the first chose.
        s.js::<bool>("(['n', 'p'].forEach(key => document.dispatchEvent(new KeyboardEvent('keydown', { key }))), true)")
            .await;
        s.wait_js("n then p to come back to the edge row", &format!("!{}.paused", Session::player(&edge))).await;
        // The track past the edge stopped (and, out of view, its row may be gone).
        assert!(s.js::<bool>(&format!("(a => !a || a.paused)({})", Session::player(&beyond))).await);
    })
    .await;
}

#[actix_web::test]
async fn search_finds_tracks_whose_rows_were_never_built_and_says_when_nothing_matches() {
    scenario_in("search_at_scale", big_library, async |s| {
        open_windowed(s).await;
        let far = "folder 17/track 1777";
        assert!(!s.js::<bool>(&format!("!!{}", Session::player(far))).await);
        s.key("/", "Slash", 191, false).await;
        s.type_text("1777").await;
        s.wait_js("the far track found", &Session::player(far))
            .await;
        assert_eq!(s.js::<usize>(BUILT).await, 1);
        let said: String = s
            .js("document.querySelector('[data-testid=search-result]').textContent")
            .await;
        assert_eq!(said, "1 track matches");
        s.type_text("x").await;
        s.wait_js(
            "no tracks match",
            "!document.querySelector('[data-testid=no-match]').hidden",
        )
        .await;
        let said: String = s
            .js("document.querySelector('[data-testid=no-match]').textContent")
            .await;
        assert_eq!(said, "No tracks match “1777x”.");
        assert_eq!(s.js::<usize>(BUILT).await, 0);
        s.key("Escape", "Escape", 27, false).await;
        s.wait_js("the list back", &format!("{BUILT} > 5")).await;
        assert!(
            s.js::<bool>("document.querySelector('[data-testid=no-match]').hidden")
                .await
        );
    })
    .await;
}

#[actix_web::test]
async fn a_file_dropped_in_is_patched_into_the_list_without_rebuilding_it() {
    scenario_in("live_diff", big_library, async |s| {
        open_windowed(s).await;
        let first = Session::player("folder 00/track 0000");
        s.js::<bool>(&format!("({first}.closest('li').dataset.marked = 'yes', true)")).await;
        let dropped = Instant::now();
        testkit::write_wav(&s.fixture.audio_dir().join("folder 00/aaa new.wav"), 0.5);
        s.wait_js("the new row on screen", &Session::player("folder 00/aaa new")).await;
        let took = dropped.elapsed();
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(
            s.js::<String>(&format!("{first}.closest('li').dataset.marked")).await,
            "yes",
            "the rows already built were rebuilt"
        );
        let count: String = s.js("document.querySelector('[data-testid=track-count]').textContent").await;
        assert_eq!(count, format!("{} tracks", TRACKS + 1));
        // Above the first track of its folder, and the list asked only for what changed.
        let order: Vec<String> = s
            .js("[...document.querySelectorAll('[data-testid=track]')].slice(0, 2).map(t => t.dataset.name)")
            .await;
        assert_eq!(order, ["folder 00/aaa new", "folder 00/track 0000"]);
        let fetches: Vec<String> = s
            .js("performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/library'))")
            .await;
        assert!(fetches.len() >= 2 && fetches[1..].iter().all(|f| f.contains("since=")), "{fetches:?}");
        assert!(!s.js::<bool>("[...document.querySelectorAll('audio')].some(a => !a.paused)").await);
    })
    .await;
}
