//! Playing: the list, click-to-play, seeking, two players at once, the gapless hand-over.

use crate::harness::*;

#[actix_web::test]
async fn the_page_lists_every_track_with_a_player_and_no_errors() {
    scenario("lists_tracks", async |s| {
        s.open_index().await;
        let names: Vec<String> = s
            .js("[...document.querySelectorAll('[data-testid=track]')].map(t => t.dataset.name)")
            .await;
        assert_eq!(names, ["chime", "noise", "tone", "voice"]);
        for name in &names {
            let player = Session::player(name);
            s.wait_js(
                &format!("{name} metadata"),
                &format!("{player}.readyState >= 1 && {player}.duration > 0"),
            )
            .await;
        }
        // Each player learned its duration from the server's bytes: every format decodes.
        let durations: Vec<f64> = s
            .js("[...document.querySelectorAll('audio')].map(a => a.duration)")
            .await;
        let want = [20.0, 300.0, 20.0, 20.0];
        for (got, want) in durations.iter().zip(want) {
            assert!(
                (got - want).abs() < 0.5,
                "durations {durations:?}, want {want:?}"
            );
        }
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn clicking_play_advances_the_track_through_range_requests() {
    scenario("click_play", async |s| {
        s.open_index().await;
        let player = Session::player("tone");
        s.wait_js("metadata", &format!("{player}.readyState >= 1"))
            .await;
        // Scroll the player into view, as a person would, and click its play button: the
        // leftmost control of the native player.
        let bounds: (f64, f64, f64) = s
            .js(&format!(
                "({player}.scrollIntoView({{ block: 'center' }}), \
                 (r => [r.left, r.top, r.height])({player}.getBoundingClientRect()))"
            ))
            .await;
        s.page
            .click(chromiumoxide::layout::Point::new(
                bounds.0 + 20.0,
                bounds.1 + bounds.2 / 2.0,
            ))
            .await
            .unwrap();
        s.wait_js("playback to start", &format!("!{player}.paused"))
            .await;
        s.wait_js(
            "currentTime to advance",
            &format!("{player}.currentTime > 1.0"),
        )
        .await;
        let responses = s.audio_responses();
        assert!(
            responses
                .iter()
                .any(|(url, status, range)| url.ends_with("/audio/tone")
                    && *status == 206
                    && range.is_some()),
            "no 206 range response for the track: {responses:?}"
        );
        assert!(s.server.state.counters.streams_started() >= 1);
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn seeking_to_three_quarters_fetches_only_the_needed_range() {
    scenario("seek", async |s| {
        s.open_index().await;
        let player = Session::player("noise");
        let len = std::fs::metadata(s.fixture.audio_dir().join("noise.wav"))
            .unwrap()
            .len();
        s.wait_js("metadata", &format!("{player}.readyState >= 1"))
            .await;
        s.js::<bool>(&format!("{player}.play().then(() => true)"))
            .await;
        s.wait_js("playback", &format!("{player}.currentTime > 0.3"))
            .await;
        let buffered: f64 = s
            .js(&format!(
                "{player}.buffered.end({player}.buffered.length - 1) / {player}.duration"
            ))
            .await;
        assert!(
            buffered < 0.75,
            "the browser had already buffered {:.0}% of the file",
            buffered * 100.0
        );
        s.js::<f64>(&format!("{player}.currentTime = {player}.duration * 0.75"))
            .await;
        s.wait_js(
            "playback past the seek point",
            &format!("{player}.currentTime > {player}.duration * 0.75 + 1 && !{player}.paused"),
        )
        .await;
        let responses = s.audio_responses();
        let seek = responses.iter().find_map(|(url, status, range)| {
            let start: u64 = range
                .as_deref()?
                .strip_prefix("bytes ")?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            (url.ends_with("/audio/noise") && *status == 206 && start > len / 2).then_some(start)
        });
        assert!(
            seek.is_some(),
            "no 206 starting past the middle of {len} bytes: {responses:?}"
        );
        let served = s.server.state.counters.bytes_served();
        assert!(
            served < len,
            "the server sent {served} of {len} bytes: the whole file"
        );
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn two_tracks_play_at_once_and_pausing_one_keeps_the_other_going() {
    scenario("two_players", async |s| {
        s.open_index().await;
        let (a, b) = (Session::player("tone"), Session::player("voice"));
        s.js::<bool>(&format!(
            "Promise.all([{a}.play(), {b}.play()]).then(() => true)"
        ))
        .await;
        s.wait_js(
            "both advancing",
            &format!("{a}.currentTime > 0.5 && {b}.currentTime > 0.5"),
        )
        .await;
        s.js::<bool>(&format!("({a}.pause(), true)")).await;
        let paused_at: f64 = s.js(&format!("{a}.currentTime")).await;
        let b_then: f64 = s.js(&format!("{b}.currentTime")).await;
        s.wait_js(
            "the other track to keep playing",
            &format!("{b}.currentTime > {b_then} + 1.0"),
        )
        .await;
        let a_now: f64 = s.js(&format!("{a}.currentTime")).await;
        assert_eq!(a_now, paused_at, "the paused track moved");
        assert!(s.js::<bool>(&format!("{a}.paused && !{b}.paused")).await);
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn the_next_track_is_buffered_ahead_and_starts_as_the_current_one_ends() {
    scenario("gapless", async |s| {
        s.open_index().await;
        let chime = Session::player("chime");
        let noise = Session::player("noise");
        s.wait_js("metadata", &format!("{chime}.readyState >= 1 && {noise}.readyState >= 1"))
            .await;
        // Timestamps of the hand-over, taken by the page itself.
        s.js::<bool>(&format!(
            "(window.handover = {{}}, \
              {chime}.addEventListener('ended', () => handover.ended = performance.now(), {{ once: true }}), \
              {noise}.addEventListener('play', () => {{ handover.play = performance.now(); handover.ready = {noise}.readyState; handover.preload = {noise}.preload; }}, {{ once: true }}), \
              {noise}.addEventListener('playing', () => handover.playing = performance.now(), {{ once: true }}), \
              true)"
        ))
        .await;
        s.js::<bool>(&format!("{chime}.play().then(() => true)")).await;
        s.js::<bool>(&format!("({chime}.currentTime = {chime}.duration - 3, true)")).await;
        s.wait_js(
            "the next track to take over",
            "handover.ended !== undefined && handover.playing !== undefined",
        )
        .await;
        let (ended, play, playing, ready, preload): (f64, f64, f64, u64, String) = s
            .js("[handover.ended, handover.play, handover.playing, handover.ready, handover.preload]")
            .await;
        eprintln!(
            "gapless hand-over: next track play() {:+.1} ms and playing {:+.1} ms from the end of the previous one",
            play - ended,
            playing - ended
        );
        assert_eq!(preload, "auto", "the next track was told to buffer ahead");
        assert!(ready >= 3, "the next track had data to play when started (readyState {ready})");
        // Started by the timer aimed at the end, not by the late `ended` event.
        assert!(play <= ended, "the next track started {:.1} ms after the end", play - ended);
        assert_eq!(
            s.js::<String>("document.querySelector('[data-testid=now-title]').textContent").await,
            "noise"
        );
        s.wait_js("the next track to play on", &format!("!{noise}.paused && {noise}.currentTime > 0.5"))
            .await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}
