//! The page at library scale, in a real headless Chromium (Debian's `chromium`, as the browser
//! tests), at 300, 3,000 and 10,000 tracks.
//!
//! `cargo bench --bench browser` generates each library (half-second WAVs in folders of 100),
//! starts the release server on it, opens the page and measures: the first contentful paint, the
//! time until the whole list is ready (`list-ready` mark, from navigation start; an older page's
//! load event), DOM nodes (CDP `Memory.getDOMCounters`), the
//! renderer's resident and private memory, the longest main-thread task (Long Tasks API) on load, one search
//! keystroke and clearing the search (input event to layout done), the 95th percentile frame
//! time while scrolling, and the time from a file written into the folder to its row on screen.
//!
//! `BROWSER_BENCH_SIZES=300,3000` picks the sizes; `BROWSER_BENCH_SERVER=<binary>` measures another
//! build of the server (an older page, for a before/after row).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chromiumoxide::cdp::browser_protocol::memory::GetDomCountersParams;
use chromiumoxide::cdp::js_protocol::heap_profiler::CollectGarbageParams;
use chromiumoxide::page::Page;
use serde::de::DeserializeOwned;

/// Records every long task (> 50 ms) from the first moment of the document.
const LONG_TASKS: &str = "window.__longTasks = []; new PerformanceObserver(list => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });";

/// The list is on screen: the windowed list is built (or, for an older page without one, the page
/// has loaded with its rows).
const READY: &str = "document.readyState === 'complete' && document.querySelectorAll('[data-testid=track]').length > 0 && (!!document.querySelector('.tracks.windowed') || !document.querySelector('[data-testid=tracks]'))";

fn main() {
    if !testkit::browser::chromium_available("browser benchmark") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("BROWSER_BENCH_SIZES")
        .unwrap_or_else(|_| "300,3000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BROWSER_BENCH_SIZES: numbers"))
        .collect();
    let binary = std::env::var_os("BROWSER_BENCH_SERVER").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_audio-streamer")),
        PathBuf::from,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // One launch first, so that the first size measured does not also pay for a cold start of the
    // browser's own files.
    rt.block_on(async {
        let profile = tempfile::tempdir().unwrap();
        let (mut browser, _page) = testkit::browser::launch(profile.path(), 1200, 900).await;
        browser.close().await.ok();
        browser.wait().await.ok();
    });
    let mut columns = Vec::new();
    for &n in &sizes {
        eprintln!("{n} tracks…");
        columns.push(rt.block_on(measure(&binary, n)));
    }
    println!(
        "\n| figure | {} |",
        sizes
            .iter()
            .map(|n| format!("{n} tracks"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(sizes.len()));
    for (row, (label, _)) in columns[0].iter().enumerate() {
        let cells: Vec<String> = columns.iter().map(|c| c[row].1.clone()).collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
}

/// One library of `n` tracks, measured; `(figure, value)` rows.
async fn measure(binary: &Path, n: usize) -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio");
    for i in 0..n {
        testkit::write_wav(
            &audio.join(format!("folder {:03}/track {i:05}.wav", i / 100)),
            0.5,
        );
    }
    let server = Server::start(binary, &audio, n);
    let profile = tempfile::tempdir().unwrap();
    let (mut browser, page) = testkit::browser::launch(profile.path(), 1200, 900).await;
    page.evaluate_on_new_document(LONG_TASKS).await.unwrap();
    let browser_pid = browser.get_mut_child().and_then(|c| c.as_mut_inner().id());
    // A blank page of the same site first (so, very likely, the same renderer process).
    page.goto(format!("http://{}/api/stats", server.addr))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let blank = browser_pid.map_or((0, 0), renderer_kib);

    page.goto(format!("http://{}/", server.addr)).await.unwrap();
    wait(&page, READY).await;
    // The whole list has arrived when the page says how many tracks it holds.
    let ready: f64 = js(&page, "(performance.getEntriesByName('list-ready')[0] || performance.getEntriesByType('navigation')[0]).startTime || performance.getEntriesByType('navigation')[0].loadEventEnd").await;
    let first_paint: f64 = js(&page, "(performance.getEntriesByName('first-contentful-paint')[0] || { startTime: -1 }).startTime").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let load_task: f64 = js(&page, "Math.max(0, ...window.__longTasks.map(t => t[1]))").await;
    // Live nodes: rows dropped from the window are garbage once collected.
    page.execute(CollectGarbageParams::default()).await.unwrap();
    let nodes = page
        .execute(GetDomCountersParams::default())
        .await
        .unwrap()
        .result
        .nodes;
    let renderer = browser_pid.map_or((0, 0), renderer_kib);

    // One keystroke (of a query matching one track), then clearing the search.
    let search = "(async (q) => { const i = document.querySelector('[data-testid=search]'); i.focus(); const t0 = performance.now(); i.value = q; i.dispatchEvent(new Event('input', { bubbles: true })); document.body.offsetHeight; return performance.now() - t0; })";
    js::<bool>(&page, "(window.__longTasks.length = 0, true)").await;
    let mut keystroke: f64 = 0.0;
    let query = format!("track {:05}", n / 2);
    for end in 1..=query.len() {
        keystroke = keystroke.max(js(&page, &format!("{search}({:?})", &query[..end])).await);
    }
    let clear: f64 = js(&page, &format!("{search}('')")).await;
    let search_task: f64 = js(&page, "Math.max(0, ...window.__longTasks.map(t => t[1]))").await;

    // 120 frames, or as many as 20 s allow.
    let frames: f64 = js(&page, "new Promise(done => { const times = []; let last = 0; const end = performance.now() + 20000; const finish = () => { times.sort((a, b) => a - b); done(times.length ? times[Math.floor(times.length * 0.95)] : -1); }; const step = (t) => { if (last) times.push(t - last); last = t; if (times.length < 120 && performance.now() < end) { window.scrollBy(0, 200); requestAnimationFrame(step); } else finish(); }; requestAnimationFrame(step); setTimeout(() => { if (!times.length) finish(); }, 20000); })").await;

    js::<bool>(
        &page,
        "(window.scrollTo(0, 0), window.__longTasks.length = 0, true)",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    js::<bool>(&page, "(window.__seen = 0, new MutationObserver(() => { if (!window.__seen && document.querySelector('[data-name=\"folder 000/aaa new\"]')) window.__seen = performance.timeOrigin + performance.now(); }).observe(document.body, { subtree: true, childList: true }), true)").await;
    let written = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    testkit::write_wav(&audio.join("folder 000/aaa new.wav"), 0.5);
    wait(&page, "window.__seen > 0").await;
    let seen: f64 = js(&page, "window.__seen").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let update_task: f64 = js(&page, "Math.max(0, ...window.__longTasks.map(t => t[1]))").await;

    browser.close().await.ok();
    browser.wait().await.ok();
    drop(server);
    let ms = |v: f64| format!("{v:.0}");
    let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
    let task = |v: f64| {
        if v > 0.0 {
            format!("{v:.0}")
        } else {
            "none > 50".into()
        }
    };
    vec![
        (
            "first rows on screen: first contentful paint (ms)",
            ms(first_paint),
        ),
        ("whole list ready (ms)", ms(ready)),
        ("DOM nodes", nodes.to_string()),
        ("renderer RSS (MiB)", mib(renderer.0)),
        ("renderer RSS on a blank page first (MiB)", mib(blank.0)),
        ("renderer private memory, RssAnon (MiB)", mib(renderer.1)),
        (
            "renderer private memory of a blank page (MiB)",
            mib(blank.1),
        ),
        ("longest task on load (ms)", task(load_task)),
        ("search keystroke, slowest (ms)", format!("{keystroke:.1}")),
        ("clearing the search (ms)", format!("{clear:.1}")),
        ("longest task on search and clear (ms)", task(search_task)),
        ("scroll: p95 frame (ms)", format!("{frames:.1}")),
        ("file dropped in → row on screen (ms)", ms(seen - written)),
        ("longest task on that update (ms)", task(update_task)),
    ]
}

async fn js<T: DeserializeOwned>(page: &Page, expression: &str) -> T {
    page.evaluate(expression)
        .await
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

async fn wait(page: &Page, condition: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !js::<bool>(page, &format!("!!({condition})")).await {
        assert!(Instant::now() < deadline, "timed out: {condition}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The resident memory (`VmRSS`) and the private part of it (`RssAnon`: what Chromium's task
/// manager calls the footprint, without the shared pages of the browser's own code) of the largest
/// renderer among the browser's descendants, KiB.
fn renderer_kib(browser: u32) -> (u64, u64) {
    let mut family = vec![browser];
    let mut renderers = Vec::new();
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
            Some((pid, ppid, cmdline))
        })
        .collect();
    while let Some(parent) = family.pop() {
        for (pid, ppid, cmdline) in &procs {
            if *ppid == parent {
                family.push(*pid);
                if cmdline.contains("--type=renderer") {
                    renderers.push(*pid);
                }
            }
        }
    }
    renderers
        .iter()
        .map(|pid| {
            (
                testkit::status_kib(&[*pid], "VmRSS"),
                testkit::status_kib(&[*pid], "RssAnon"),
            )
        })
        .max()
        .unwrap_or((0, 0))
}

/// The server binary on a free port, stopped when dropped.
struct Server {
    addr: std::net::SocketAddr,
    child: Child,
}

impl Server {
    /// Starts `binary` on `audio` and waits until its scan lists `n` tracks.
    fn start(binary: &Path, audio: &Path, n: usize) -> Self {
        let port = testkit::free_port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--audio-dir"])
            .arg(audio)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let server = Self {
            addr: ([127, 0, 0, 1], port).into(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            // Every track listed, and every one's tags read (a track still pending has no length).
            let body = get_body(server.addr, "/api/tracks");
            if body.matches("\"name\"").count() == n && !body.contains("\"duration_secs\":null") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the scan of {n} tracks did not finish"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

/// The body of a `GET`, empty on any failure.
fn get_body(addr: std::net::SocketAddr, target: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut answer = Vec::new();
    if let Ok(mut socket) = std::net::TcpStream::connect(addr) {
        socket.write_all(&testkit::get(target)).ok();
        socket.read_to_end(&mut answer).ok();
    }
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, body)| body.to_owned())
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
