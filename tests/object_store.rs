//! The library in object storage, against a real one-node Ceph S3 gateway (`scripts/ceph.sh`,
//! started once for this file): listing and live updates, cold and warm plays byte for byte, one
//! fill per object however many listeners, the cache under its bound, hostile keys, the store going
//! down and coming back, and replicas behind a real nginx with one killed mid-stream.
//!
//! Needs `apt-get install radosgw ceph-mon ceph-osd ceph-common nginx`; without them the tests say
//! so and skip (under `CI=true` they fail).

use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use audio_streamer::Config;
use audio_streamer::config::{Database, StoreLibrary};
use audio_streamer::library::StoreConfig;
use futures_util::StreamExt as _;
use object_store::ObjectStoreExt as _;
use reqwest::StatusCode;
use reqwest::header;
use testkit::{Ceph, Nginx, Replica, TestServer, noise_wav};

static CEPH: LazyLock<Option<Ceph>> = LazyLock::new(Ceph::start);
/// One test at a time: one of them stops the gateway.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ceph() -> Option<&'static Ceph> {
    CEPH.as_ref()
}

/// A cache folder in a temp folder of its own, which also holds the listeners' data beside it.
struct CacheDir {
    _root: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl CacheDir {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("cache");
        std::fs::create_dir(&path).unwrap();
        Self { _root: root, path }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// A server on `bucket` (listed every second), caching up to `cache_max` bytes in `cache`.
fn config(ceph: &Ceph, bucket: &str, cache: &Path, cache_max: u64) -> Config {
    credentials_in_env();
    let mut config = Config::for_dir(cache);
    // Beside the cache folder (whose every entry the tests count), in the test's temp folder.
    config.database = Database::Sqlite(cache.with_extension("data"));
    config.store = Some(StoreLibrary {
        store: StoreConfig {
            url: format!("s3://{bucket}/music"),
            endpoint: Some(ceph.endpoint.clone()),
            region: None,
        },
        cache_dir: cache.to_owned(),
        cache_max_bytes: cache_max,
        refresh: Duration::from_secs(1),
    });
    config
}

/// The test user's keys where operators put them: in the environment.
#[allow(
    unsafe_code,
    reason = "setting the environment is unsafe where other threads read it"
)]
fn credentials_in_env() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        // SAFETY: set once, before any server of this process reads the environment, and never
        // changed after.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", testkit::ACCESS_KEY);
            std::env::set_var("AWS_SECRET_ACCESS_KEY", testkit::SECRET_KEY);
        }
    });
}

async fn get(url: &str, headers: &[(header::HeaderName, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    req.send().await.unwrap()
}

/// Total bytes of the files under `dir` (the partial ones included).
fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let metadata = entry.metadata().unwrap();
        total += if metadata.is_dir() {
            disk_usage(&entry.path())
        } else {
            metadata.len()
        };
    }
    total
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn names(server: &TestServer) -> Vec<String> {
    let list: serde_json::Value = get(&server.url("/api/library"), &[])
        .await
        .json()
        .await
        .unwrap();
    list["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bucket_is_a_library_played_cold_and_warm_byte_for_byte_within_the_cache_bound() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("library");
    let tracks: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("track {i}"), noise_wav(6.0 + i as f32, i)))
        .collect();
    for (name, bytes) in &tracks {
        ceph.put("library", &format!("music/{name}.wav"), bytes.clone())
            .await;
    }
    ceph.put("library", "elsewhere/not-listed.wav", noise_wav(1.0, 9))
        .await;
    let cache = CacheDir::new();
    // Room for about two tracks.
    let bound = 250_000;
    let server = TestServer::start(&config(ceph, "library", cache.path(), bound)).await;
    let cached = server.state.cache.clone().unwrap();
    assert_eq!(
        names(&server).await,
        tracks.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
    );

    // Cold: read from the store while one fill fetches it, for all eight listeners at once.
    let (name, bytes) = &tracks[0];
    let url = server.url(&format!("/audio/{}", name.replace(' ', "%20")));
    let cold = futures_util::future::join_all((0..8).map(|_| get(&url, &[]))).await;
    let etag = cold[0].headers()[header::ETAG].clone();
    let modified = cold[0].headers()[header::LAST_MODIFIED].clone();
    for res in cold {
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::ETAG], etag);
        assert!(res.bytes().await.unwrap() == bytes[..]);
    }
    wait_until("the fill", async || cached.idle() && cached.fills() == 1).await;
    assert_eq!(cached.fills(), 1, "eight cold listeners, one fill");
    // Warm: the cached file, the same validators (the object's), the same bytes.
    let res = get(&url, &[(header::RANGE, "bytes=1000-")]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::ETAG], etag);
    assert_eq!(res.headers()[header::LAST_MODIFIED], modified);
    assert!(res.bytes().await.unwrap() == bytes[1000..]);
    let md5 = etag.to_str().unwrap();
    assert!(md5.len() == 34, "the object's ETag (its MD5): {md5}");

    // Churn: every track, cold or warm, whole or a range; the cache never over its bound.
    for round in 0..24_usize {
        let (name, bytes) = &tracks[(round * 7 + round / 3) % tracks.len()];
        let url = server.url(&format!("/audio/{}", name.replace(' ', "%20")));
        let start = (round * 9973) % (bytes.len() / 2);
        let res = get(&url, &[(header::RANGE, &format!("bytes={start}-"))]).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "round {round}");
        assert!(
            res.bytes().await.unwrap() == bytes[start..],
            "round {round}"
        );
        let used = disk_usage(cache.path());
        assert!(used <= bound, "round {round}: {used} bytes cached");
    }
    wait_until("fills to settle", async || cached.idle()).await;
    assert!(cached.fills() > 3, "tracks were cached and evicted");
    let metrics = get(&server.url("/metrics"), &[])
        .await
        .text()
        .await
        .unwrap();
    for line in [
        format!("audio_streamer_cache_fills_total {}", cached.fills()),
        format!("audio_streamer_cache_bytes {}", cached.used_bytes()),
        format!("audio_streamer_cache_max_bytes {bound}"),
    ] {
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    assert!(disk_usage(cache.path()) <= bound);
    assert_eq!(
        std::fs::read_dir(cache.path().join(".partial"))
            .unwrap()
            .count(),
        0,
        "no partial file left"
    );

    // Open pages see objects come and go.
    ceph.put("library", "music/new/late.wav", noise_wav(1.0, 7))
        .await;
    wait_until("the new object", async || {
        names(&server).await.contains(&"new/late".to_owned())
    })
    .await;
    ceph.delete("library", "music/track 5.wav").await;
    wait_until("the removed object", async || {
        !names(&server).await.contains(&"track 5".to_owned())
    })
    .await;
    let res = get(&server.url("/audio/track%205"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_object_keys_are_skipped_and_nothing_is_written_outside_the_cache() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("hostile");
    let good = noise_wav(1.0, 1);
    ceph.put("hostile", "music/good.wav", good.clone()).await;
    let long_name = "n".repeat(300);
    let hostile = [
        "music/../up.wav",
        "music/a/../../x.wav",
        "music//abs.wav",
        "music/a//b.wav",
        "music/./dot.wav",
        "music/.partial/planted.wav",
        "music/.hidden.wav",
        "music/back\\slash.wav",
        &format!("music/{long_name}.wav"),
    ];
    for key in hostile {
        assert!(
            ceph.put_raw("hostile", key, &good),
            "the store took {key:?}"
        );
    }
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let server = TestServer::start(&config(ceph, "hostile", &cache, 10_000_000)).await;
    assert_eq!(names(&server).await, ["good"]);
    let res = get(&server.url("/audio/good"), &[]).await;
    assert!(res.bytes().await.unwrap() == good[..]);
    for attempt in [
        "/audio/..%2Fup",
        "/audio/a/..%2F..%2Fx",
        "/audio/%2Fabs",
        "/audio/a%2F%2Fb",
        "/audio/.hidden",
        "/audio/.partial%2Fplanted",
    ] {
        let res = get(&server.url(attempt), &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{attempt}");
    }
    let cached = server.state.cache.clone().unwrap();
    wait_until("the fill", async || cached.idle()).await;
    let mut outside: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    outside.sort();
    // `cache.data`: the listeners' data, where this test's settings put it.
    assert_eq!(
        outside,
        ["cache", "cache.data"],
        "nothing else beside the cache folder"
    );
    let mut inside: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    inside.sort();
    assert_eq!(inside, [".partial", "good.wav"]);
}

#[tokio::test]
async fn with_the_store_down_cached_tracks_play_others_get_503_and_all_recovers_without_a_restart()
{
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("outage");
    let (one, two) = (noise_wav(3.0, 1), noise_wav(3.0, 2));
    ceph.put("outage", "music/one.wav", one.clone()).await;
    ceph.put("outage", "music/two.wav", two.clone()).await;
    let cache = CacheDir::new();
    let server = TestServer::start(&config(ceph, "outage", cache.path(), 10_000_000)).await;
    let cached = server.state.cache.clone().unwrap();
    assert!(
        get(&server.url("/audio/one"), &[])
            .await
            .bytes()
            .await
            .unwrap()
            == one[..]
    );
    wait_until("the fill", async || cached.fills() == 1).await;
    assert_eq!(
        get(&server.url("/readyz"), &[]).await.status(),
        StatusCode::OK
    );

    ceph.stop_gateway();
    let res = get(&server.url("/audio/one"), &[(header::RANGE, "bytes=100-")]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "cached: plays");
    assert!(res.bytes().await.unwrap() == one[100..]);
    let res = get(&server.url("/audio/two"), &[]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "not cached");
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    let res = get(&server.url("/readyz"), &[]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let why = res.text().await.unwrap();
    assert!(why.contains("s3://outage/music"), "{why}");
    // The track list stays as it was (the listing fails meanwhile).
    assert_eq!(names(&server).await, ["one", "two"]);

    ceph.resume();
    wait_until("ready again", async || {
        get(&server.url("/readyz"), &[]).await.status() == StatusCode::OK
    })
    .await;
    let res = get(&server.url("/audio/two"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap() == two[..]);
}

/// A listener through nginx whose replica is killed mid-stream resumes as a player does, with
/// `Range` and `If-Range`, and another replica answers 206 with the rest: every byte checked.
#[tokio::test]
async fn through_nginx_a_listener_whose_replica_dies_resumes_on_another_with_if_range() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    if !Nginx::installed() {
        return;
    }
    ceph.bucket("failover");
    let track = noise_wav(200.0, 3); // 3.2 MB
    ceph.put("failover", "long.wav", track.clone()).await;
    let tmp = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_audio-streamer"));
    let mut replicas: Vec<Replica> = (0..2)
        .map(|i| {
            let cache = tmp.path().join(format!("cache-{i}"));
            Replica::start(binary, ceph, "failover", &cache, "100MB")
        })
        .collect();
    let nginx = Nginx::start(&replicas.iter().map(|r| r.addr).collect::<Vec<_>>());

    // The page and its data through nginx.
    let res = get(&nginx.url("/"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("long"));

    let failover =
        testkit::listen_through_a_failover(&nginx, &mut replicas, "/audio/long", &track, 300_000)
            .await;
    assert_ne!(
        failover.first, failover.second,
        "resumed on the other replica"
    );
    eprintln!(
        "failover: next byte {:?} after the replica was killed",
        failover.gap
    );

    // Everything else keeps working through nginx with one replica gone.
    for path in ["/", "/api/library", "/readyz", "/static/app.css"] {
        let res = get(&nginx.url(path), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

/// The page through nginx, in a real Chromium: its replica for the live readout is killed while
/// it is open, and the readout comes back (from the other replica); a track then plays.
#[tokio::test]
async fn through_nginx_the_open_page_keeps_its_live_readout_when_a_replica_dies() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    if !Nginx::installed() || !testkit::browser::chromium_available("browser test") {
        return;
    }
    ceph.bucket("page");
    let tmp = tempfile::tempdir().unwrap();
    testkit::sox(tmp.path(), "tone.mp3", 20, false);
    let tone = std::fs::read(tmp.path().join("tone.mp3")).unwrap();
    ceph.put("page", "tone.mp3", tone).await;
    let binary = Path::new(env!("CARGO_BIN_EXE_audio-streamer"));
    let mut replicas: Vec<Replica> = (0..2)
        .map(|i| {
            let cache = tmp.path().join(format!("cache-{i}"));
            Replica::start(binary, ceph, "page", &cache, "100MB")
        })
        .collect();
    let nginx = Nginx::start(&replicas.iter().map(|r| r.addr).collect::<Vec<_>>());

    let profile = tempfile::tempdir().unwrap();
    let (_browser, page) = testkit::browser::launch(profile.path(), 1000, 800).await;
    page.goto(nginx.url("/")).await.unwrap();
    let js = async |expression: &str| -> serde_json::Value {
        page.evaluate(expression)
            .await
            .ok()
            .and_then(|v| v.into_value().ok())
            .unwrap_or_default()
    };
    let wait = async |what: &str, condition: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while js(&format!("!!({condition})")).await != serde_json::Value::Bool(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let live = "document.querySelector('[data-testid=stats-status]').textContent === 'live'";
    let uptime = "document.querySelector('[data-testid=stat-uptime]').textContent";
    wait("the live readout", live).await;

    // The replica that holds the page's event stream (its stats are sampled once a second).
    let deadline = Instant::now() + Duration::from_secs(10);
    let holder = loop {
        let mut viewers = Vec::new();
        for replica in &replicas {
            let stats: serde_json::Value = get(&format!("http://{}/api/stats", replica.addr), &[])
                .await
                .json()
                .await
                .unwrap();
            viewers.push(stats["sse_clients"].as_u64());
        }
        if let Some(i) = viewers.iter().position(|v| *v == Some(1)) {
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no replica serves the events: {viewers:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    replicas[holder].kill();
    wait("the readout to notice", &format!("!({live})")).await;
    wait("the readout to come back", live).await;
    let shown = js(uptime).await;
    wait("a further update", &format!("{uptime} !== {shown}")).await;

    let player = "document.querySelector('[data-name=\"tone\"] audio')";
    js(&format!("{player}.play().then(() => true)")).await;
    wait(
        "playback through nginx",
        &format!("{player}.currentTime > 0.5"),
    )
    .await;
}

/// S3 lists at most 1,000 keys a page: a bigger bucket is listed across pages, whole.
#[tokio::test]
async fn a_bucket_of_more_than_one_listing_page_is_listed_whole() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("pages");
    let track = noise_wav(0.05, 5);
    let client = ceph.client("pages");
    futures_util::stream::iter(0..1_005)
        .for_each_concurrent(32, |i| {
            let (client, track) = (&client, track.clone());
            async move {
                let key = object_store::path::Path::from(format!("music/{i:04}.wav"));
                client.put(&key, track.into()).await.unwrap();
            }
        })
        .await;
    let cache = CacheDir::new();
    let server = TestServer::start(&config(ceph, "pages", cache.path(), 10_000_000)).await;
    let listed = names(&server).await;
    assert_eq!(listed.len(), 1_005);
    assert_eq!(listed.first().map(String::as_str), Some("0000"));
    assert_eq!(listed.last().map(String::as_str), Some("1004"));
}

/// Tags and covers of objects not cached yet are read through ranged reads of the store: a WAV
/// whose ID3 chunk sits at its end, past the first block the reader fetches.
#[tokio::test]
async fn tags_and_covers_of_uncached_objects_are_read_from_the_store() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("tagged");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wav");
    std::fs::write(&path, noise_wav(90.0, 4)).unwrap();
    let cover = testkit::png(3, 3, 77);
    testkit::Tagger::default()
        .title("Read From The Tail")
        .artist("Remote Artist")
        .picture(lofty::picture::PictureType::CoverFront, &cover)
        .save(&path);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 1_400_000, "the tag lies past the first block");
    ceph.put("tagged", "music/t.wav", bytes).await;
    let cache = CacheDir::new();
    let server = TestServer::start(&config(ceph, "tagged", cache.path(), 10_000_000)).await;
    server.state.library.scanned().await;
    let tracks: serde_json::Value = get(&server.url("/api/tracks"), &[])
        .await
        .json()
        .await
        .unwrap();
    let track = &tracks[0];
    assert_eq!(track["title"], "Read From The Tail", "{track}");
    assert_eq!(track["artist"], "Remote Artist");
    let duration = track["duration_secs"].as_f64().unwrap();
    assert!((duration - 90.0).abs() < 0.5, "{duration}");
    let art = track["art"].as_str().unwrap();
    let res = get(&server.url(art), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), cover.as_slice());
    assert_eq!(
        server.state.cache.as_ref().unwrap().fills(),
        0,
        "read from the store, not from a cached copy"
    );
}

#[tokio::test]
async fn a_transcode_of_an_uncached_object_is_made_from_the_store_alike_on_every_replica() {
    let _serial = SERIAL.lock().await;
    let Some(ceph) = ceph() else { return };
    ceph.bucket("transcoded");
    ceph.put("transcoded", "music/t.wav", noise_wav(12.0, 5))
        .await;
    // One replica whose cache cannot hold the track (it reads the store), one that caches it.
    let (small, large) = (CacheDir::new(), CacheDir::new());
    let cold = TestServer::start(&config(ceph, "transcoded", small.path(), 1_000)).await;
    let warm = TestServer::start(&config(ceph, "transcoded", large.path(), 100_000_000)).await;
    cold.state.library.scanned().await;
    warm.state.library.scanned().await;
    let url = "/audio/t?format=opus&bitrate=96";
    // The warm replica's first play fills its cache; the transcode is then made from the copy.
    let _ = get(&warm.url("/audio/t"), &[]).await.bytes().await.unwrap();
    let warm_cache = warm.state.cache.clone().unwrap();
    wait_until("the warm replica's copy", async || warm_cache.fills() == 1).await;
    let from_copy = get(&warm.url(url), &[]).await;
    assert_eq!(from_copy.status(), StatusCode::OK);
    let etag = from_copy.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let from_copy = from_copy.bytes().await.unwrap();
    let from_store = get(&cold.url(url), &[]).await;
    assert_eq!(from_store.status(), StatusCode::OK);
    assert_eq!(from_store.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(
        from_store.bytes().await.unwrap() == from_copy,
        "the transcode read from the store differs from the one made from the cached copy"
    );
    assert_eq!(cold.state.cache.as_ref().unwrap().fills(), 0);
    // A listener moving from one replica to the other resumes where it was.
    let resumed = get(
        &cold.url(url),
        &[(header::RANGE, "bytes=50000-"), (header::IF_RANGE, &etag)],
    )
    .await;
    assert_eq!(resumed.status(), StatusCode::PARTIAL_CONTENT);
    assert!(resumed.bytes().await.unwrap() == from_copy[50_000..]);
}
