//! Debian's headless Chromium, launched the same way for the browser tests and the browser
//! benchmark: flags that work on this kind of machine, a fresh profile, sound muted.

use std::path::Path;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::Page;
use futures_util::StreamExt as _;

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether Chromium (and sox, for the fixtures that need it) are installed; prints one line saying
/// how to install them when not, and panics instead under `CI=true`.
pub fn chromium_available(what: &str) -> bool {
    crate::installed(
        what,
        &[CHROMIUM, "/usr/bin/sox"],
        "chromium chromium-driver sox libsox-fmt-mp3",
    )
}

/// Starts Chromium with its profile in `profile` and a window of `width`×`height`, and opens a
/// blank page. The browser's event loop runs on the current runtime.
pub async fn launch(profile: &Path, width: u32, height: u32) -> (Browser, Page) {
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(width, height)
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
    let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page("about:blank").await.expect("new page");
    (browser, page)
}
