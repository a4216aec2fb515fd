//! An accessibility audit with axe-core (fetched by `scripts/fetch-axe-core.sh`), injected into the
//! page in light and dark colour schemes, with a folder heading, the now-playing bar and a search
//! result showing.

use chromiumoxide::cdp::browser_protocol::emulation::{MediaFeature, SetEmulatedMediaParams};

use crate::harness::*;

/// axe-core's script, or `None` (with the skip line, or a failure under CI) when not fetched.
pub(crate) fn axe_core() -> Option<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/axe-core/axe.min.js");
    match std::fs::read_to_string(path) {
        Ok(script) => Some(script),
        Err(_) => {
            let hint =
                "accessibility audit skipped: axe-core not fetched (run scripts/fetch-axe-core.sh)";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: {hint}"
            );
            eprintln!("{hint}");
            None
        }
    }
}

#[actix_web::test]
async fn axe_finds_no_accessibility_violations_in_light_or_dark() {
    let Some(axe) = axe_core() else { return };
    fn with_a_subfolder(fixture: &testkit::Fixture) {
        four_tracks(fixture);
        testkit::write_wav(&fixture.audio_dir().join("live/encore.wav"), 2.0);
    }
    scenario_in("axe", with_a_subfolder, async |s| {
        for scheme in ["light", "dark"] {
            let media = SetEmulatedMediaParams::builder()
                .features(vec![MediaFeature::new("prefers-color-scheme", scheme)])
                .build();
            s.page.execute(media).await.unwrap();
            s.open_index().await;
            let tone = Session::player("tone");
            s.js::<bool>(&format!("{tone}.play().then(() => {tone}.pause()).then(() => true)")).await;
            s.wait_js("the now-playing bar", "!document.querySelector('[data-testid=now-playing]').hidden").await;
            s.wait_js("the folder's heading", "document.querySelector('[data-testid=folder] h2')").await;
            s.js::<bool>("(i => { i.value = 'e'; i.dispatchEvent(new Event('input')); return true; })(document.querySelector('[data-testid=search]'))")
                .await;
            s.wait_js("a search result", "document.querySelector('[data-testid=search-result]').textContent.includes('match')").await;
            let violations = violations(s, &axe).await;
            assert!(violations.is_empty(), "{scheme}: {violations:#?}");
        }
    })
    .await;
}

/// What axe-core finds wrong with the page as it is now.
pub(crate) async fn violations(s: &Session, axe: &str) -> Vec<String> {
    s.page.evaluate(axe).await.unwrap();
    s.js("axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))")
        .await
}

#[actix_web::test]
async fn axe_finds_no_accessibility_violations_in_the_browse_views() {
    let Some(axe) = axe_core() else { return };
    scenario_in("axe_views", crate::catalog::two_albums, async |s| {
        s.open_index().await;
        for scheme in ["light", "dark"] {
            let media = SetEmulatedMediaParams::builder()
                .features(vec![MediaFeature::new("prefers-color-scheme", scheme)])
                .build();
            s.page.execute(media).await.unwrap();
            for (tab, item, title) in [
                ("albums", "album", "Time Out"),
                ("artists", "artist", "Dave Brubeck"),
                ("genres", "genre", "Jazz"),
            ] {
                s.js::<bool>(&format!("(location.hash = '#/{tab}', true)"))
                    .await;
                s.wait_js(
                    tab,
                    &format!("document.querySelector('[data-testid=view] [data-testid={item}]')"),
                )
                .await;
                let found = violations(s, &axe).await;
                assert!(found.is_empty(), "{scheme}, {tab}: {found:#?}");
                crate::catalog::click_text(s, &format!("[data-testid={item}]"), title).await;
                crate::catalog::view_titled(s, title).await;
                let found = violations(s, &axe).await;
                assert!(found.is_empty(), "{scheme}, {title}: {found:#?}");
            }
        }
    })
    .await;
}
