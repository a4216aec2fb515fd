//! The rows of the track list: the first screen comes in the HTML, the rest are built by the
//! page's script from the blank row the list carries; both must be the same markup, and
//! every row must hold its player and its text at every width from a small phone's up.

use std::collections::BTreeMap;

use lofty::picture::PictureType;

use crate::harness::*;

/// Tracks listed in this library: the four at the top level (one cannot be read) and 80 in
/// `folder 00`.
const TRACKS: usize = 83;

/// Rows of every kind, then enough to scroll: `broken` (cannot be read), `so what` (title, a long
/// artist and album, a cover), `plain & <odd> ü` (no tags), then `folder 00/track 0000`–`0079`
/// (`track 0001` with an artist only).
fn rows_of_every_kind(fixture: &testkit::Fixture) {
    let dir = fixture.audio_dir();
    fixture.file("broken.mp3", &[0u8; 4096]);
    testkit::write_wav(&dir.join("so what.wav"), 1.0);
    testkit::Tagger::default()
        .title("So What")
        .artist("The Miles Davis Sextet with John Coltrane and Cannonball Adderley")
        .album("Kind of Blue (Legacy Edition, Remastered in 2009)")
        .picture(PictureType::CoverFront, &testkit::png(64, 64, 3))
        .save(&dir.join("so what.wav"));
    testkit::write_wav(&dir.join("plain & <odd> ü.wav"), 1.0);
    library_of(fixture, 80);
    testkit::Tagger::default()
        .artist("Sextet")
        .save(&dir.join("folder 00/track 0001.wav"));
}

/// Opens the page and waits until the script has the whole list and lays it out.
async fn open_list(s: &Session) {
    s.open_index().await;
    s.wait_js(
        "the whole list, windowed",
        &format!("document.querySelector('[data-testid=track-count]').textContent === '{TRACKS} tracks' && document.querySelector('.tracks.windowed')"),
    )
    .await;
}

/// For every track row shown, each part of it (cover, text, player, note) that is not wholly
/// inside the card's padding (the card hides what sticks out of its border), described.
const OUTSIDE_THEIR_CARDS: &str = "[...document.querySelectorAll('[data-testid=track]')].filter(li => !li.hidden).flatMap(li => { const r = li.getBoundingClientRect(), css = getComputedStyle(li), px = (p) => parseFloat(css[p]); const box = { top: r.top + li.clientTop + px('paddingTop'), left: r.left + li.clientLeft + px('paddingLeft'), bottom: r.top + li.clientTop + li.clientHeight - px('paddingBottom'), right: r.left + li.clientLeft + li.clientWidth - px('paddingRight') }; return [...li.children].filter(part => { const p = part.getBoundingClientRect(); return p.top < box.top - 0.5 || p.left < box.left - 0.5 || p.bottom > box.bottom + 0.5 || p.right > box.right + 0.5; }).map(part => `${li.dataset.name}: <${part.tagName.toLowerCase()} class=${part.className}> at ${JSON.stringify(part.getBoundingClientRect())}, the card's inside at ${JSON.stringify(box)}`); })";

/// How many players the rows shown hold.
const PLAYERS_SHOWN: &str = "[...document.querySelectorAll('[data-testid=track]')].filter(li => !li.hidden && li.querySelector('audio')).length";

/// Asserts that at `width` every row shown holds its parts, and that there are rows to check.
async fn rows_fit(s: &Session, width: i64) {
    let players: usize = s.js(PLAYERS_SHOWN).await;
    assert!(players >= 3, "{width} px: only {players} players shown");
    let outside: Vec<String> = s.js(OUTSIDE_THEIR_CARDS).await;
    assert!(
        outside.is_empty(),
        "{width} px: parts of rows outside their cards:\n{}",
        outside.join("\n")
    );
}

/// Waits until the page has drawn a frame after this one (the list redraws on the frame after a
/// scroll or a resize).
async fn next_frame(s: &Session) {
    s.js::<bool>(
        "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))",
    )
    .await;
}

#[actix_web::test]
async fn every_row_holds_its_player_and_its_text_from_320_px_wide_up() {
    scenario_in("rows_fit", rows_of_every_kind, async |s| {
        for (width, mobile) in [
            (320, true),
            (375, true),
            (640, true),
            (641, false),
            (1024, false),
            (1280, false),
        ] {
            s.screen(width, 800, mobile).await;
            open_list(s).await;
            let shown: i64 = s.js("document.documentElement.clientWidth").await;
            assert_eq!(shown, width, "the page is laid out {shown} px wide");
            rows_fit(s, width).await;
            // Further down, among rows the first screen did not have.
            s.js::<bool>("(window.scrollTo(0, 3000), true)").await;
            next_frame(s).await;
            rows_fit(s, width).await;
        }
        // From wide to narrow without a reload: the list is laid out again with the narrow rows'
        // height.
        s.screen(375, 800, true).await;
        s.wait_js(
            "the list laid out for 375 px",
            "document.documentElement.clientWidth === 375",
        )
        .await;
        next_frame(s).await;
        rows_fit(s, 375).await;
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}

/// Every row the server printed in the page, by key (the track's name; `folder:` and the name for
/// a folder's heading), as the browser parses it.
const PRINTED_ROWS: &str = "fetch('/').then(r => r.text()).then(html => Object.fromEntries([...new DOMParser().parseFromString(html, 'text/html').querySelectorAll('[data-testid=tracks] > li')].map(li => [li.dataset.name ?? `folder:${li.dataset.folder}`, li.outerHTML])))";

/// The rows on the page now, by the same keys, without the place the script gives each row
/// (its `style`).
const ROWS_NOW: &str = "Object.fromEntries([...document.querySelectorAll('[data-testid=tracks] > li')].map(li => { const copy = li.cloneNode(true); copy.removeAttribute('style'); return [li.dataset.name ?? `folder:${li.dataset.folder}`, copy.outerHTML]; }))";

#[actix_web::test]
async fn the_rows_the_script_builds_are_the_rows_the_server_prints() {
    scenario_in("one_row_markup", rows_of_every_kind, async |s| {
        s.screen(1280, 900, false).await;
        open_list(s).await;
        let printed: BTreeMap<String, String> = s.js(PRINTED_ROWS).await;
        assert_eq!(printed.len(), audio_streamer::FIRST_SCREEN_ROWS + 1, "{printed:#?}");
        s.js::<bool>("(window.firstRow = document.querySelector('[data-name=broken]'), true)")
            .await;
        // Away, until the first screen's rows are gone, and back: every row there now is built by
        // the script.
        s.js::<bool>("(window.scrollTo(0, document.documentElement.scrollHeight), true)")
            .await;
        s.wait_js(
            "the first rows dropped",
            "!document.querySelector('[data-name=broken]') && !document.querySelector('[data-folder=\"folder 00\"]')",
        )
        .await;
        s.js::<bool>("(window.scrollTo(0, 0), true)").await;
        s.wait_js(
            "the first rows built again",
            "(r => r && r !== window.firstRow)(document.querySelector('[data-name=broken]'))",
        )
        .await;
        let built: BTreeMap<String, String> = s.js(ROWS_NOW).await;
        let both: Vec<&String> = built.keys().filter(|k| printed.contains_key(*k)).collect();
        for key in ["broken", "so what", "plain & <odd> ü", "folder:folder 00", "folder 00/track 0001"] {
            assert!(both.iter().any(|k| *k == key), "{key} not compared: {both:?}");
        }
        for key in both {
            assert_eq!(built[key], printed[key], "the row of {key}");
        }
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    })
    .await;
}
