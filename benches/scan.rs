//! Library scan rate and memory, on a generated library of tagged MP3s with embedded covers, and
//! the time the catalog takes to build from it.
//!
//! `cargo bench --bench scan` writes `SCAN_FILES` (default 5000) one-second MP3s in albums of ten,
//! each with an ID3v2 tag and a `SCAN_COVER_KIB` (default 64) PNG front cover, then times the
//! library's first scan (every tag read), a rescan with nothing changed (walk and stat only) and,
//! when the page cache can be dropped (root on Linux), a first scan from a cold cache. RSS is
//! sampled every 2 ms during each scan: the covers are read and dropped file by file, so the peak
//! should not grow with the number of covers. The last column is what the library itself holds
//! per track (RSS after, less RSS before, over the files).
//!
//! The tags are those of `testkit::tagged_library` (what a tagged collection has). After the first
//! scan of a tenth of the library and of all of it, the catalog is built (albums, artists,
//! genres) and timed. Everything stays in a temp folder that is removed at the end.

use std::path::Path;
use std::time::{Duration, Instant};

use audio_streamer::library::SharedLibrary;

fn main() {
    let files: usize = env_or("SCAN_FILES", 5000);
    let cover_kib: usize = env_or("SCAN_COVER_KIB", 64);
    let dir = tempfile::tempdir().expect("temp dir");
    let (small, full) = (dir.path().join("small"), dir.path().join("full"));
    let started = Instant::now();
    testkit::tagged_library(&small, files / 10, cover_kib);
    testkit::tagged_library(&full, files, cover_kib);
    println!(
        "generated {} tagged MP3s with {cover_kib} KiB covers in {:.1} s",
        files + files / 10,
        started.elapsed().as_secs_f64()
    );

    println!(
        "| scan | files | time | files/s | RSS before | RSS peak during | RSS after (trimmed) | per track |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    // A tenth of the library first, then all of it: the peak above the baseline should stay
    // about the same while the library's own size grows tenfold.
    let tenth = row("first, warm cache", &small, files / 10, false);
    let library = row("first, warm cache", &full, files, false);
    println!();
    println!("| catalog of | albums | artists | genres | build time | RSS added |");
    println!("|---|---:|---:|---:|---:|---:|");
    catalog_row(&tenth);
    drop(tenth);
    catalog_row(&library);
    println!();
    let rescan = measure(|| {
        library.rescan();
    });
    print_row("rescan, nothing changed", files, rescan);
    if drop_caches() {
        row("first, cold cache", &full, files, true);
    } else {
        println!("(cold cache not measured: /proc/sys/vm/drop_caches is not writable)");
    }
}

/// One first scan of `root` in a fresh library; prints its row.
fn row(label: &str, root: &Path, files: usize, cold: bool) -> SharedLibrary {
    if cold {
        drop_caches();
    }
    audio_streamer::trim_heap();
    let library = SharedLibrary::open(root).expect("library opens");
    let sample = measure(|| {
        library.rescan();
    });
    assert_eq!(
        library.snapshot().tracks().len(),
        files,
        "every file listed"
    );
    assert!(
        library
            .snapshot()
            .tracks()
            .iter()
            .all(|t| t.tags.artist.is_some() && t.art.is_some()),
        "every file's tags and cover read"
    );
    print_row(label, files, sample);
    library
}

/// Builds the catalog of `library`'s snapshot; prints its row.
fn catalog_row(library: &SharedLibrary) {
    let snapshot = library.snapshot();
    let before = rss();
    let started = Instant::now();
    let catalog = snapshot.catalog();
    let secs = started.elapsed().as_secs_f64();
    audio_streamer::trim_heap();
    println!(
        "| {} tracks | {} | {} | {} | {:.0} ms | {:.1} MiB |",
        snapshot.tracks().len(),
        catalog.albums().len(),
        catalog.artists().len(),
        catalog.genres().len(),
        secs * 1000.0,
        rss().saturating_sub(before) as f64 / 1048576.0
    );
}

struct Sample {
    secs: f64,
    before: u64,
    peak: u64,
    after: u64,
}

/// Runs `scan` while a thread samples RSS every 2 ms.
fn measure(scan: impl FnOnce()) -> Sample {
    let before = rss();
    let peak = testkit::measure::Peak::start(rss, Duration::from_millis(2));
    let started = Instant::now();
    scan();
    let secs = started.elapsed().as_secs_f64();
    let peak = peak.stop();
    // What stays: the library itself, once the scan's garbage is returned (as the server's
    // sampler does every 10 s).
    audio_streamer::trim_heap();
    let after = rss();
    Sample {
        secs,
        before,
        peak,
        after,
    }
}

fn print_row(label: &str, files: usize, s: Sample) {
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
    println!(
        "| {label} | {files} | {:.2} s | {:.0} | {} | {} (+{}) | {} | {:.0} B |",
        s.secs,
        files as f64 / s.secs,
        mib(s.before),
        mib(s.peak),
        mib(s.peak - s.before),
        mib(s.after),
        s.after.saturating_sub(s.before) as f64 / files as f64
    );
}

fn rss() -> u64 {
    audio_streamer::stats::memory().0
}

/// Drops the page cache (needs root on Linux); whether it worked.
fn drop_caches() -> bool {
    std::process::Command::new("sync").status().ok();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
