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
//! The tags are those a tagged collection has: title, artist, album artist, album, track and disc
//! numbers with totals, year, one or two genres, ReplayGain levels; every other album carries
//! MusicBrainz ids (recording, release track, release, release group, artist, album artist) as
//! Picard writes them, and one album in twenty is a compilation of several artists. After the
//! first scan of a tenth of the library and of all of it, the catalog is built (albums, artists,
//! genres) and timed. Everything stays in a temp folder that is removed at the end.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use audio_streamer::library::SharedLibrary;
use lofty::tag::ItemKey;

fn main() {
    let files: usize = env_or("SCAN_FILES", 5000);
    let cover_kib: usize = env_or("SCAN_COVER_KIB", 64);
    let dir = tempfile::tempdir().expect("temp dir");
    let (small, full) = (dir.path().join("small"), dir.path().join("full"));
    let started = Instant::now();
    generate(&small, files / 10, cover_kib);
    generate(&full, files, cover_kib);
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
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let started = Instant::now();
    scan();
    let secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    // What stays: the library itself, once the scan's garbage is returned (as the server's
    // sampler does every 10 s).
    audio_streamer::trim_heap();
    let after = rss();
    Sample {
        secs,
        before,
        peak: peak.load(Ordering::Relaxed),
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

/// Writes the library: `albums/album NNNN/NN title.mp3` (see the module's doc for the tags).
fn generate(root: &Path, files: usize, cover_kib: usize) {
    let audio = testkit::silent_mp3(1.0);
    // A UUID of the form MusicBrainz uses, made of a kind and a number.
    let mbid = |kind: u32, n: usize| format!("{kind:08x}-0000-4000-8000-{n:012x}");
    for i in 0..files {
        let (album, number) = (i / 10, i % 10 + 1);
        let folder = root.join(format!("albums/album {album:04}"));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("{number:02} track {i}.mp3"));
        std::fs::write(&path, &audio).unwrap();
        let compilation = album % 20 == 7;
        let album_artist = if compilation {
            "Various Artists".to_owned()
        } else {
            format!("Artist {}", album % 2003)
        };
        let artist = if compilation {
            format!("Artist {}", i % 3001)
        } else {
            album_artist.clone()
        };
        let genre = if album % 3 == 0 {
            format!("Genre {}; Genre {}", album % 40, (album + 1) % 40)
        } else {
            format!("Genre {}", album % 40)
        };
        let two_discs = album % 5 == 0;
        let (disc, track) = if two_discs {
            ((number as u32 - 1) / 5 + 1, (number as u32 - 1) % 5 + 1)
        } else {
            (1, number as u32)
        };
        let mut tagger = testkit::Tagger::default()
            .title(&format!("Track {i}"))
            .artist(&artist)
            .album_artist(&album_artist)
            .album(&format!("Album {album}"))
            .track(track)
            .track_total(if two_discs { 5 } else { 10 })
            .disc(disc, Some(if two_discs { 2 } else { 1 }))
            .date(&format!("{}-05-01", 1960 + album % 60))
            .genres(&[&genre])
            .replay_gain(("-6.50 dB", "0.988547"), ("-7.10 dB", "1.000000"));
        if compilation {
            tagger = tagger.compilation();
        }
        if album % 2 == 1 {
            tagger = tagger
                .musicbrainz(ItemKey::MusicBrainzRecordingId, &mbid(1, i))
                .musicbrainz(ItemKey::MusicBrainzTrackId, &mbid(2, i))
                .musicbrainz(ItemKey::MusicBrainzReleaseId, &mbid(3, album))
                .musicbrainz(ItemKey::MusicBrainzReleaseGroupId, &mbid(4, album))
                .musicbrainz(ItemKey::MusicBrainzArtistId, &mbid(5, i % 3001))
                .musicbrainz(ItemKey::MusicBrainzReleaseArtistId, &mbid(6, album % 2003));
        }
        tagger
            .picture(
                lofty::picture::PictureType::CoverFront,
                &testkit::noise_png(cover_kib, i as u32),
            )
            .save(&path);
    }
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
