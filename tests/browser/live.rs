//! Live updates: the memory readout and sparkline, files and tags changing while the page is open.

use crate::harness::*;

#[actix_web::test]
async fn the_memory_readout_updates_live_and_counts_streams() {
    scenario("memory_readout", async |s| {
        s.open_index().await;
        let uptime = "document.querySelector('[data-testid=stat-uptime]').textContent";
        let first: String = s.js(uptime).await;
        s.wait_js("a first update", &format!("{uptime} !== {first:?}"))
            .await;
        let second: String = s.js(uptime).await;
        s.wait_js("a second update", &format!("{uptime} !== {second:?}"))
            .await;

        let rss: String = s
            .js("document.querySelector('[data-testid=stat-rss]').textContent")
            .await;
        let (value, unit) = rss.split_once(' ').unwrap();
        assert!(
            value.parse::<f64>().unwrap() > 0.0 && ["KiB", "MiB", "GiB"].contains(&unit),
            "{rss}"
        );

        // The big track keeps a response open while it plays: the page shows it, then shows it end.
        let streams = "document.querySelector('[data-testid=stat-streams]').textContent";
        let player = Session::player("noise");
        s.js::<bool>(&format!("{player}.play().then(() => true)"))
            .await;
        s.wait_js(
            "the page to count the stream",
            &format!("Number({streams}) >= 1"),
        )
        .await;
        let shown: u64 = s.js::<String>(streams).await.parse().unwrap();
        assert!(shown >= 1 && s.server.state.counters.active_streams() >= 1);
        s.js::<bool>(&format!(
            "({player}.pause(), {player}.removeAttribute('src'), {player}.load(), true)"
        ))
        .await;
        s.wait_js(
            "the page to show no stream",
            &format!("Number({streams}) === 0"),
        )
        .await;
        assert_eq!(s.server.state.counters.active_streams(), 0);
    })
    .await;
}

#[actix_web::test]
async fn a_file_added_while_the_page_is_open_appears_live_without_stopping_playback() {
    scenario("new_file", async |s| {
        s.open_index().await;
        assert_eq!(
            s.js::<u64>("document.querySelectorAll('audio').length")
                .await,
            4
        );
        let tone = Session::player("tone");
        s.js::<bool>(&format!("{tone}.play().then(() => true)"))
            .await;
        s.wait_js("playback", &format!("{tone}.currentTime > 0.3"))
            .await;

        sox(&s.fixture.audio_dir(), "New Arrival.mp3", 3, false);
        let player = Session::player("New Arrival");
        s.wait_js("the new track to appear without a reload", &player)
            .await;
        s.wait_js("its metadata", &format!("{player}.duration > 2"))
            .await;
        let at: f64 = s.js(&format!("{tone}.currentTime")).await;
        s.wait_js(
            "the playing track to keep playing through the update",
            &format!("!{tone}.paused && {tone}.currentTime > {at} + 0.5"),
        )
        .await;

        s.page.reload().await.unwrap();
        s.wait_js("the new track after a reload", &player).await;
        assert_eq!(
            s.js::<u64>("document.querySelectorAll('audio').length")
                .await,
            5
        );
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}

#[actix_web::test]
async fn the_memory_sparkline_draws_the_recent_samples() {
    scenario("sparkline", async |s| {
        s.open_index().await;
        let points = "document.querySelector('[data-testid=rss-sparkline] polyline').getAttribute('points').trim().split(' ').filter(Boolean).length";
        s.wait_js("three samples on the line", &format!("{points} >= 3")).await;
        let caption: String = s.js("document.querySelector('[data-testid=rss-range]').textContent").await;
        assert!(caption.contains("iB"), "{caption}");
    })
    .await;
}

#[actix_web::test]
async fn tags_written_while_the_page_is_open_show_without_a_reload_or_a_pause() {
    scenario("retag", async |s| {
        s.open_index().await;
        let tone = Session::player("tone");
        s.js::<bool>(&format!("{tone}.play().then(() => true)"))
            .await;
        s.wait_js("playback", &format!("{tone}.currentTime > 0.3"))
            .await;
        let title = "document.querySelector('[data-name=\"tone\"] .title').textContent";
        assert_eq!(s.js::<String>(title).await, "tone");

        let path = s.fixture.audio_dir().join("tone.mp3");
        testkit::tag_file(&path, "Tone Poem", "The Sines", "Sweeps", None);
        s.wait_js(
            "the new title without a reload",
            &format!("{title} === 'Tone Poem'"),
        )
        .await;
        let byline =
            "document.querySelector('[data-name=\"tone\"] [data-testid=byline]').textContent";
        assert_eq!(s.js::<String>(byline).await, "The Sines — Sweeps");
        let at: f64 = s.js(&format!("{tone}.currentTime")).await;
        s.wait_js(
            "the same player to keep playing",
            &format!("!{tone}.paused && {tone}.currentTime > {at} + 0.3"),
        )
        .await;
        assert_eq!(s.problems(), Vec::<String>::new());
    })
    .await;
}
