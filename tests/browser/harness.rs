//! The browser harness: one Chromium, server and fixture folder per scenario, a journal of what the
//! page did, helpers to drive and read it, and failure artifacts.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::Browser;
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{EventLoadingFailed, EventResponseReceived};
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use chromiumoxide::page::{Page, ScreenshotParams};
use futures_util::{FutureExt as _, StreamExt as _};
use serde::de::DeserializeOwned;
pub(crate) use testkit::sox;
use testkit::{Fixture, TestServer};
use tokio::time::{Instant, sleep};

/// One browser at a time: two cores do not run several Chromiums and audio decoders smoothly.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// What the page did that a person would notice: errors, failed loads, and every audio response.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Console errors, uncaught exceptions, failed network loads and HTTP errors.
    pub(crate) problems: Vec<String>,
    /// Every console line, for the failure log.
    pub(crate) console: Vec<String>,
    /// `(url, status, content-range)` for every response from `/audio/`.
    pub(crate) audio_responses: Vec<(String, i64, Option<String>)>,
}

/// A running browser, page, server and fixture folder for one scenario.
pub(crate) struct Session {
    pub(crate) page: Page,
    pub(crate) server: TestServer,
    pub(crate) fixture: Fixture,
    pub(crate) journal: Arc<Mutex<Journal>>,
    pub(crate) browser: Browser,
    pub(crate) _profile: tempfile::TempDir,
}

/// Whether the browser tests can run here; prints the skip line (or fails under CI) when not.
pub(crate) fn available() -> bool {
    testkit::browser::chromium_available("browser tests")
}

/// Generated tracks: `tone.mp3` (with a cover), `voice.ogg`, `chime.flac` (20 s each) and `noise.wav`
/// (5 min, 58 MB: more than Chromium buffers ahead, so a seek near the end needs a new range request).
pub(crate) fn four_tracks(fixture: &Fixture) {
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
}

/// Tracks of half a second in folders of 100 (`folder 00/track 0000.wav`, ...): a library of `n`.
pub(crate) fn library_of(fixture: &Fixture, n: usize) {
    for i in 0..n {
        testkit::write_wav(
            &fixture
                .audio_dir()
                .join(format!("folder {:02}/track {i:04}.wav", i / 100)),
            0.5,
        );
    }
}

impl Session {
    /// A session whose audio folder `make` fills, on a server `configure` sets up.
    pub(crate) async fn start(make: fn(&Fixture), configure: Configure) -> Self {
        let fixture = Fixture::new();
        make(&fixture);
        let mut config = fixture.config();
        config.stats_interval = Duration::from_millis(250);
        configure(&fixture, &mut config);
        let server = TestServer::start(&config).await;

        let profile = tempfile::tempdir().unwrap();
        let (browser, page) = testkit::browser::launch(profile.path(), 1200, 900).await;
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

    pub(crate) async fn open_index(&self) {
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

    /// Shows the page on a screen `width` by `height` CSS pixels (a phone's, with its `<meta
    /// name=viewport>` applied, when `mobile`); the page gets a `resize` event.
    pub(crate) async fn screen(&self, width: i64, height: i64, mobile: bool) {
        use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
        let scale = if mobile { 2.0 } else { 1.0 };
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width, height, scale, mobile,
            ))
            .await
            .unwrap();
    }

    pub(crate) async fn js<T: DeserializeOwned>(&self, expression: &str) -> T {
        self.page
            .evaluate(expression)
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    /// Polls a JS condition until it is true, bounded by [`WAIT`]. While the page navigates, the
    /// condition cannot be evaluated: that counts as not true yet (the last such error is shown
    /// if the wait times out).
    pub(crate) async fn wait_js(&self, what: &str, condition: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match self.page.evaluate(format!("!!({condition})")).await {
                Ok(value) => match value.into_value::<bool>() {
                    Ok(true) => return,
                    Ok(false) => "false".to_owned(),
                    Err(err) => err.to_string(),
                },
                Err(err) => err.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {condition} (last: {last})"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// `document.querySelector` for the player of the track whose name is `name`.
    pub(crate) fn player(name: &str) -> String {
        format!("document.querySelector('[data-name=\"{name}\"] audio')")
    }

    pub(crate) async fn key(&self, key: &str, code: &str, key_code: i64, shift: bool) {
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
    pub(crate) async fn type_text(&self, text: &str) {
        use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
        for ch in text.chars() {
            self.page
                .execute(InsertTextParams::new(ch.to_string()))
                .await
                .unwrap();
        }
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        self.journal.lock().unwrap().problems.clone()
    }

    pub(crate) fn audio_responses(&self) -> Vec<(String, i64, Option<String>)> {
        self.journal.lock().unwrap().audio_responses.clone()
    }

    /// Saves a screenshot and the console log under `target/browser-failures/<test>/`.
    pub(crate) async fn save_failure_artifacts(&self, test: &str) -> PathBuf {
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
pub(crate) async fn watch_page(page: &Page, journal: &Arc<Mutex<Journal>>) {
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
            if format!("{:?}", event.entry.level) == "Error"
                && !no_queue_yet(event.entry.url.as_deref(), &event.entry.text)
            {
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
            if res.status >= 400 && !(res.status == 404 && no_queue_yet(Some(&res.url), "404")) {
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

/// A 404 for `/api/queue`: the page asks for the play queue on load, and a listener who never
/// played anything has none. Not a fault, though Chromium logs every 404 as an error.
fn no_queue_yet(url: Option<&str>, text: &str) -> bool {
    url.is_some_and(|u| u.ends_with("/api/queue")) && text.contains("404")
}

/// Runs one scenario with a fresh session; on failure saves the artifacts and says where.
pub(crate) async fn scenario<F>(test: &str, body: F)
where
    F: AsyncFnOnce(&Session),
{
    scenario_in(test, four_tracks, body).await;
}

/// Changes a scenario's server settings (the fixture is there to write files beside it).
pub(crate) type Configure = fn(&Fixture, &mut audio_streamer::Config);

/// [`scenario`] with an audio folder that `make` fills.
pub(crate) async fn scenario_in<F>(test: &str, make: fn(&Fixture), body: F)
where
    F: AsyncFnOnce(&Session),
{
    scenario_configured(test, make, |_, _| {}, body).await;
}

/// [`scenario_in`] on a server that `configure` sets up.
pub(crate) async fn scenario_configured<F>(
    test: &str,
    make: fn(&Fixture),
    configure: Configure,
    body: F,
) where
    F: AsyncFnOnce(&Session),
{
    if !available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut session = Session::start(make, configure).await;
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
