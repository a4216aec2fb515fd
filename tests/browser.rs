//! The page as people use it, in a real headless Chromium (Debian's `chromium`) driven over the
//! DevTools protocol: list, play, seek, two players, the live memory readout, new files, keyboard.
//!
//! Without Chromium (or sox, which makes the fixtures) these tests print one line saying how to
//! install it and pass as skipped; with `CI=true` a missing browser is a failure. On failure, a
//! screenshot and the browser's console log are saved under `target/browser-failures/<test>/`.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{EventLoadingFailed, EventResponseReceived};
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use chromiumoxide::page::{Page, ScreenshotParams};
use futures_util::{FutureExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
use testkit::{Fixture, TestServer};
use tokio::time::{Instant, sleep};

/// One browser at a time: two cores do not run several Chromiums and audio decoders smoothly.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(20);

/// What the page did that a person would notice: errors, failed loads, and every audio response.
#[derive(Debug, Default)]
struct Journal {
    /// Console errors, uncaught exceptions, failed network loads and HTTP errors.
    problems: Vec<String>,
    /// Every console line, for the failure log.
    console: Vec<String>,
    /// `(url, status, content-range)` for every response from `/audio/`.
    audio_responses: Vec<(String, i64, Option<String>)>,
}

/// A running browser, page, server and fixture folder for one scenario.
struct Session {
    page: Page,
    server: TestServer,
    fixture: Fixture,
    journal: Arc<Mutex<Journal>>,
    browser: Browser,
    _profile: tempfile::TempDir,
}

/// Whether the browser tests can run here; prints the skip line (or fails under CI) when not.
fn available() -> bool {
    let missing: Vec<&str> = [(CHROMIUM, "chromium"), ("/usr/bin/sox", "sox")]
        .into_iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| package)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let hint = format!(
        "browser tests skipped: {} not installed (apt-get install -y chromium chromium-driver sox libsox-fmt-mp3)",
        missing.join(" and ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: {hint}"
    );
    eprintln!("{hint}");
    false
}

/// Makes a real audio file with sox: `seconds` of a rising tone, or of noise (which does not
/// compress) for a big file.
fn sox(dir: &Path, name: &str, seconds: u32, noise: bool) {
    let out = dir.join(name);
    let mut cmd = Command::new("sox");
    cmd.args(["-q", "-n", "-r", "48000", "-b", "16", "-c", "2"]);
    cmd.arg(&out);
    let synth = if noise { "whitenoise" } else { "sine" };
    cmd.args(["synth", &seconds.to_string(), synth]);
    if !noise {
        cmd.arg("300-600");
    }
    cmd.args(["gain", "-12"]);
    let status = cmd.status().expect("sox runs");
    assert!(status.success(), "sox failed to make {name}");
}

impl Session {
    /// Generated tracks: `tone.mp3` (with a cover), `voice.ogg`, `chime.flac` (20 s each) and `noise.wav` (5 min,
    /// 58 MB: more than Chromium buffers ahead, so a seek near the end needs a new range request).
    async fn start() -> Self {
        let fixture = Fixture::new();
        let dir = fixture.audio_dir();
        sox(&dir, "tone.mp3", 20, false);
        testkit::tag_file(
            &dir.join("tone.mp3"),
            "tone",
            "",
            "",
            Some(&testkit::png(64, 64, 3)),
        );
        sox(&dir, "voice.ogg", 20, false);
        sox(&dir, "chime.flac", 20, false);
        sox(&dir, "noise.wav", 300, true);
        let mut config = fixture.config();
        config.stats_interval = Duration::from_millis(250);
        let server = TestServer::start(&config).await;

        let profile = tempfile::tempdir().unwrap();
        let browser_config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1200, 900)
            // chromiumoxide adds the leading `--` itself.
            .args([
                "disable-gpu",
                "disable-quic",
                "no-first-run",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "mute-audio",
            ])
            .arg(("autoplay-policy", "no-user-gesture-required"))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(browser_config)
            .await
            .expect("Chromium starts");
        tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page("about:blank").await.expect("new page");
        let journal = Arc::new(Mutex::new(Journal::default()));
        watch_page(&page, &journal).await;
        Self {
            page,
            server,
            fixture,
            journal,
            browser,
            _profile: profile,
        }
    }

    async fn open_index(&self) {
        self.page
            .goto(self.server.url("/"))
            .await
            .expect("page loads");
        self.wait_js(
            "the live stats",
            "document.querySelector('[data-testid=stats-status]').textContent === 'live'",
        )
        .await;
    }

    async fn js<T: DeserializeOwned>(&self, expression: &str) -> T {
        self.page
            .evaluate(expression)
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// Polls a JS condition until it is true, bounded by [`WAIT`].
    async fn wait_js(&self, what: &str, condition: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.js::<bool>(&format!("!!({condition})")).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {condition}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// `document.querySelector` for the player of the track whose name is `name`.
    fn player(name: &str) -> String {
        format!("document.querySelector('[data-name=\"{name}\"] audio')")
    }

    async fn key(&self, key: &str, code: &str, key_code: i64, shift: bool) {
        for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
            let mut params = DispatchKeyEventParams::builder()
                .r#type(kind)
                .key(key)
                .code(code)
                .windows_virtual_key_code(key_code)
                .native_virtual_key_code(key_code);
            if shift {
                params = params.modifiers(8);
            }
            self.page.execute(params.build().unwrap()).await.unwrap();
        }
    }

    /// Types text into the focused element as a keyboard would (one `input` event per character).
    async fn type_text(&self, text: &str) {
        use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
        for ch in text.chars() {
            self.page
                .execute(InsertTextParams::new(ch.to_string()))
                .await
                .unwrap();
        }
    }

    fn problems(&self) -> Vec<String> {
        self.journal.lock().unwrap().problems.clone()
    }

    fn audio_responses(&self) -> Vec<(String, i64, Option<String>)> {
        self.journal.lock().unwrap().audio_responses.clone()
    }

    /// Saves a screenshot and the console log under `target/browser-failures/<test>/`.
    async fn save_failure_artifacts(&self, test: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/browser-failures")
            .join(test);
        std::fs::create_dir_all(&dir).unwrap();
        if let Ok(png) = self
            .page
            .screenshot(ScreenshotParams::builder().full_page(true).build())
            .await
        {
            std::fs::write(dir.join("screenshot.png"), png).ok();
        }
        let journal = self.journal.lock().unwrap();
        let log = format!(
            "problems:\n{}\n\nconsole:\n{}\n\naudio responses:\n{:#?}\n",
            journal.problems.join("\n"),
            journal.console.join("\n"),
            journal.audio_responses
        );
        std::fs::write(dir.join("console.log"), log).ok();
        dir
    }
}

/// Subscribes to the page's console, exceptions, log entries and network responses.
async fn watch_page(page: &Page, journal: &Arc<Mutex<Journal>>) {
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .unwrap();
    let j = Arc::clone(journal);
    tokio::spawn(async move {
        while let Some(event) = console.next().await {
            let text: Vec<String> = event
                .args
                .iter()
                .map(|a| {
                    a.value
                        .as_ref()
                        .map_or_else(|| format!("{:?}", a.description), |v| v.to_string())
                })
                .collect();
            let line = format!("{:?}: {}", event.r#type, text.join(" "));
            let mut j = j.lock().unwrap();
            if format!("{:?}", event.r#type) == "Error" {
                j.problems.push(format!("console {line}"));
            }
            j.console.push(line);
        }
    });
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
    let j = Arc::clone(journal);
    tokio::spawn(async move {
        while let Some(event) = exceptions.next().await {
            j.lock()
                .unwrap()
                .problems
                .push(format!("exception: {:?}", event.exception_details.text));
        }
    });
    let mut entries = page.event_listener::<EventEntryAdded>().await.unwrap();
    let j = Arc::clone(journal);
    tokio::spawn(async move {
        while let Some(event) = entries.next().await {
            let line = format!(
                "log {:?} {:?}: {}",
                event.entry.level, event.entry.url, event.entry.text
            );
            let mut j = j.lock().unwrap();
            if format!("{:?}", event.entry.level) == "Error" {
                j.problems.push(line.clone());
            }
            j.console.push(line);
        }
    });
    let mut failures = page.event_listener::<EventLoadingFailed>().await.unwrap();
    let j = Arc::clone(journal);
    tokio::spawn(async move {
        while let Some(event) = failures.next().await {
            // A media element that cancels its own request (seek, pause, new src) is not a failure.
            if event.canceled == Some(true) {
                continue;
            }
            j.lock().unwrap().problems.push(format!(
                "network failure ({:?}): {}",
                event.r#type, event.error_text
            ));
        }
    });
    let mut responses = page
        .event_listener::<EventResponseReceived>()
        .await
        .unwrap();
    let j = Arc::clone(journal);
    tokio::spawn(async move {
        while let Some(event) = responses.next().await {
            let res = &event.response;
            let mut j = j.lock().unwrap();
            if res.status >= 400 {
                j.problems
                    .push(format!("HTTP {} for {}", res.status, res.url));
            }
            if res.url.contains("/audio/") {
                let range = res.headers.inner().as_object().and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-range"))
                        .and_then(|(_, v)| v.as_str().map(str::to_owned))
                });
                j.audio_responses.push((res.url.clone(), res.status, range));
            }
        }
    });
}

/// Runs one scenario with a fresh session; on failure saves the artifacts and says where.
async fn scenario<F>(test: &str, body: F)
where
    F: AsyncFnOnce(&Session),
{
    if !available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut session = Session::start().await;
    let outcome = AssertUnwindSafe(body(&session)).catch_unwind().await;
    if let Err(panic) = outcome {
        let dir = session.save_failure_artifacts(test).await;
        eprintln!(
            "browser test {test} failed: screenshot and console log in {}",
            dir.display()
        );
        session.browser.close().await.ok();
        std::panic::resume_unwind(panic);
    }
    session.browser.close().await.ok();
    session.browser.wait().await.ok();
}

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
