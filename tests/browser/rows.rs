//! The rows of the track list: the first screen comes in the HTML, the rest are built by the
//! page's script from the blank row the list carries; both must be the same markup.

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
