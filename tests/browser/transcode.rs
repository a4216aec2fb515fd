//! Transcoding on the page: the quality choice, a transcode playing with its duration known at
//! once and seeking like a file, and the choice kept for the listener.

use crate::harness::*;

/// Chooses `quality` in the bar's select, as a person would (a `change` event).
async fn choose(s: &Session, quality: &str) {
    let _: bool = s
        .js(&format!(
            "(q => (q.value = '{quality}', q.dispatchEvent(new Event('change')), true))\
             (document.querySelector('[data-testid=quality]'))"
        ))
        .await;
}

#[actix_web::test]
async fn a_transcode_plays_shows_its_duration_at_once_and_seeks_to_three_quarters() {
    scenario("transcode_plays", async |s| {
        s.open_index().await;
        choose(s, "low").await;
        let player = Session::player("chime");
        s.wait_js(
            "the player to ask for Opus at the low rate",
            &format!("{player}.getAttribute('src').endsWith('?format=opus&bitrate=64')"),
        )
        .await;
        // The duration is known from the first answer (an exact length and ranges), not after
        // the whole transcode: Chromium would show Infinity for a stream without them.
        s.wait_js("metadata", &format!("{player}.readyState >= 1"))
            .await;
        let duration: f64 = s.js(&format!("{player}.duration")).await;
        assert!((duration - 20.0).abs() < 0.05, "duration {duration}");
        let _: bool = s
            .js(&format!("({player}.muted = true, {player}.play(), true)"))
            .await;
        s.wait_js("playback", &format!("{player}.currentTime > 0.5"))
            .await;
        let _: bool = s
            .js(&format!(
                "({player}.currentTime = {}, true)",
                duration * 0.75
            ))
            .await;
        s.wait_js(
            "playing on after the seek",
            &format!("!{player}.paused && {player}.currentTime > 15.5"),
        )
        .await;
        let transcodes: Vec<_> = s
            .audio_responses()
            .into_iter()
            .filter(|(url, _, _)| url.contains("/audio/chime?format=opus&bitrate=64"))
            .collect();
        assert!(
            transcodes.iter().any(|(_, status, _)| *status == 206),
            "no ranged answer for the transcode: {transcodes:?}"
        );
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn the_quality_is_kept_for_the_listener_on_the_server() {
    scenario("transcode_kept", async |s| {
        s.open_index().await;
        choose(s, "high").await;
        s.wait_js(
            "the choice saved",
            "fetch('/api/settings').then(r => r.json()).then(j => window.kept = j.quality), \
             window.kept === 'high'",
        )
        .await;
        // Another device: nothing in this browser's storage; the server's choice is taken.
        let _: bool = s.js("(localStorage.clear(), true)").await;
        s.open_index().await;
        s.wait_js(
            "the choice restored from the server",
            "document.querySelector('[data-testid=quality]').value === 'high'",
        )
        .await;
        let player = Session::player("tone");
        s.wait_js(
            "the players at the high rate",
            &format!("{player}.getAttribute('src').endsWith('?format=opus&bitrate=128')"),
        )
        .await;
        choose(s, "original").await;
        s.wait_js(
            "the original again",
            &format!("{player}.getAttribute('src').endsWith('/audio/tone')"),
        )
        .await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}
