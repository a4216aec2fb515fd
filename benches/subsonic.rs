//! The Subsonic API on a large library, side by side with supysonic, in one sitting.
//!
//! `cargo bench --bench subsonic` writes `SUBSONIC_TRACKS` (default 10,000) tagged one-second MP3s
//! with 1 KiB covers (`testkit::tagged_library`, ten to an album), scans them with supysonic
//! (Debian's `supysonic`, served by gunicorn with one worker process per core) and starts the
//! release server on the same folder, both with a user who signs in with `u` and `p` as many
//! apps do. Then, on each server in turn:
//!
//! - a full sync as Symfonium makes it: `search3` with an empty query, 500 songs a page, one page
//!   after another, each page timed, the server's RSS sampled every 5 ms (its growth over idle);
//!   every song must come back once;
//! - wrk (`-t2 -c32`, `SUBSONIC_SECS` seconds, default 10) on `getAlbumList2` (50 albums at a
//!   random offset), `search3` (a random page of the sync), `getAlbum` and `getCoverArt` (size
//!   300) of random albums: requests per second and wrk's p50 and p99;
//! - the first byte of `stream` (`format=raw`) of 200 random songs, one after another.
//!
//! Every answer is checked once before it is timed (Subsonic says errors with HTTP 200). Prints
//! Markdown tables with the ratio to supysonic. Without supysonic installed
//! (`apt-get install supysonic python3-gunicorn wrk`) only this server is measured. All traffic
//! stays on loopback; everything is in a temp folder removed at the end. `SUBSONIC_PEER=none`
//! measures this server alone.

#[allow(dead_code)] // The footprint benchmark's servers; nginx's half is not used here.
#[path = "footprint/servers.rs"]
mod servers;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use servers::{Server, raise_fd_limit};
use testkit::measure::{Peak, Wrk};

const USER: &str = "bench";
const PASSWORD: &str = "bench password 7";
const PAGE: usize = 500;
const STREAMS: usize = 200;

fn main() {
    raise_fd_limit();
    let tracks = env_or("SUBSONIC_TRACKS", 10_000);
    let secs = env_or("SUBSONIC_SECS", 10) as u64;
    let dir = tempfile::tempdir().expect("temp dir");
    let music = dir.path().join("music");
    let started = Instant::now();
    testkit::tagged_library(&music, tracks, 1);
    println!(
        "generated {tracks} tagged MP3s in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // supysonic first: its scanner would otherwise walk into this server's data folder.
    let peer = match std::env::var("SUBSONIC_PEER").as_deref() {
        Ok("none") => None,
        _ => supysonic(dir.path(), &music),
    };
    let ours = {
        let users = dir.path().join("users");
        add_user(&users);
        let users = users.to_str().unwrap().to_owned();
        let started = Instant::now();
        let server = Server::ours_with(&music, None, &["--users", &users]);
        let target = Target::new(server);
        rt.block_on(target.wait_scanned(tracks));
        println!(
            "audio-streamer: started and scanned in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        target
    };

    let mut results = vec![rt.block_on(measure(&ours, tracks, secs))];
    if let Some(peer) = &peer {
        results.push(rt.block_on(measure(peer, tracks, secs)));
    }
    report(tracks, &results);
}

/// A server and how to sign in to it.
struct Target {
    server: Server,
    /// What every request carries after the method: credentials, version, client, JSON.
    auth: String,
    /// Requests whose connection the server closed before answering (then asked again).
    dropped: std::cell::Cell<u32>,
}

impl Target {
    fn new(server: Server) -> Self {
        Self {
            server,
            auth: format!(
                "u={USER}&p=enc:{}&v=1.16.1&c=bench&f=json",
                hex::encode(PASSWORD)
            ),
            dropped: std::cell::Cell::new(0),
        }
    }

    fn path(&self, method: &str, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/rest/{method}?{}{sep}{query}", self.auth)
    }

    fn url(&self, method: &str, query: &str) -> String {
        format!("http://{}{}", self.server.addr, self.path(method, query))
    }

    /// The `subsonic-response` of `method`, which must be `ok`.
    async fn call(&self, client: &reqwest::Client, method: &str, query: &str) -> Value {
        self.timed(client, method, query).await.0
    }

    /// [`Target::call`], with the time from asking to the last byte of the answer (not the
    /// client's parsing of it).
    async fn timed(
        &self,
        client: &reqwest::Client,
        method: &str,
        query: &str,
    ) -> (Value, Duration) {
        let send = async || {
            client
                .get(self.url(method, query))
                .send()
                .await?
                .text()
                .await
        };
        // A connection the server closed under a request is said, counted and asked once more.
        let asked = Instant::now();
        let body = match send().await {
            Ok(body) => body,
            Err(err) => {
                let alive = running(&self.server);
                eprintln!(
                    "{} ({}): {method}?{query}: {err:?}; asked again",
                    self.server.name,
                    if alive { "still running" } else { "exited" }
                );
                assert!(alive, "{} exited", self.server.name);
                self.dropped.set(self.dropped.get() + 1);
                send().await.unwrap()
            }
        };
        let took = asked.elapsed();
        let mut answer: Value = serde_json::from_str(&body).unwrap_or_else(|_| {
            panic!("{}: {method} answered {body:.200}", self.server.name);
        });
        let answer = answer["subsonic-response"].take();
        assert_eq!(
            answer["status"], "ok",
            "{}: {method}?{query}: {answer}",
            self.server.name
        );
        (answer, took)
    }

    /// Every item of a paged list: `method` asked with `query(offset)` page after page until one
    /// comes back empty, the items under `answer[list][item]`; each page's time (to its last byte)
    /// added to `times`.
    async fn every(
        &self,
        client: &reqwest::Client,
        method: &str,
        list: &str,
        item: &str,
        query: impl Fn(usize) -> String,
        times: &mut Vec<Duration>,
    ) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let (answer, took) = self.timed(client, method, &query(all.len())).await;
            times.push(took);
            let page = answer[list][item].as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                return all;
            }
            all.extend(page);
        }
    }

    /// Waits until the server's scan has listed `tracks` songs.
    async fn wait_scanned(&self, tracks: usize) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(3600);
        loop {
            let status = self.call(&client, "getScanStatus", "").await["scanStatus"].clone();
            if status["scanning"] == false && status["count"].as_u64() == Some(tracks as u64) {
                return;
            }
            assert!(Instant::now() < deadline, "the scan did not end");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// supysonic with its own configuration, database and cache in `tmp`, the library scanned, served
/// by gunicorn on 127.0.0.1; `None` (saying so) when it is not installed.
fn supysonic(tmp: &Path, music: &Path) -> Option<Target> {
    let installed = ["supysonic-cli", "supysonic-server"]
        .iter()
        .all(|bin| Path::new("/usr/bin").join(bin).exists())
        && Command::new("/usr/bin/python3")
            .args(["-c", "import gunicorn"])
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        println!("supysonic not measured: apt-get install supysonic python3-gunicorn");
        return None;
    }
    let home = tmp.join("supysonic");
    std::fs::create_dir_all(home.join("cache")).unwrap();
    // Read from the working directory, after /etc/supysonic and ~/.supysonic (which it overrides).
    std::fs::write(
        home.join("supysonic.conf"),
        format!(
            "[base]\ndatabase_uri = sqlite:///{db}\n\
             [webapp]\ncache_dir = {cache}\nlog_level = WARNING\nmount_webui = no\n\
             [daemon]\nsocket = {sock}\nrun_watcher = no\n",
            db = home.join("supysonic.db").display(),
            cache = home.join("cache").display(),
            sock = home.join("daemon.sock").display(),
        ),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        let out = Command::new("supysonic-cli")
            .args(args)
            .current_dir(&home)
            .output()
            .expect("supysonic-cli runs");
        assert!(
            out.status.success(),
            "supysonic-cli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["user", "add", USER, "-p", PASSWORD]);
    cli(&["folder", "add", "library", music.to_str().unwrap()]);
    let started = Instant::now();
    cli(&["folder", "scan", "library"]);
    println!(
        "supysonic: scanned in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let port = testkit::free_port();
    let child = Command::new("supysonic-server")
        .args(["-S", "gunicorn", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["--processes", &cores().to_string()])
        .current_dir(&home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("supysonic-server starts");
    let server = Server {
        name: "supysonic",
        addr: ([127, 0, 0, 1], port).into(),
        child,
        is_ours: false,
    };
    server.wait_ready();
    Some(Target::new(server))
}

/// Adds the benchmark's user to a new users file, with the server's own `user add`.
fn add_user(users: &Path) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .arg("--users")
        .arg(users)
        .args(["user", "add", USER])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary runs");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "user add");
}

/// What one server did.
struct Measured {
    name: &'static str,
    sync: Sync,
    rows: Vec<(&'static str, Wrk)>,
    first_byte: Latencies,
    /// See [`Target::dropped`].
    dropped: u32,
}

struct Sync {
    pages: Latencies,
    secs: f64,
    idle_kib: u64,
    peak_kib: u64,
}

async fn measure(target: &Target, tracks: usize, secs: u64) -> Measured {
    // Connections idle for 2 s are not reused: this runtime is blocked while wrk runs, so the
    // pool would not see the server close them (its keep-alive is 5 s) and would send on them.
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // Settle: the first sign-in (a password hash) and whatever the server does at its first
    // request are not the sync's.
    target.call(&client, "ping", "").await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The sync, one page after another, while RSS is sampled.
    let idle_kib = target.server.rss_kib();
    let pids = target.server.pids();
    let peak = Peak::start(
        move || testkit::status_kib(&pids, "VmRSS"),
        Duration::from_millis(5),
    );
    let mut pages = Vec::new();
    let started = Instant::now();
    let songs = target
        .every(
            &client,
            "search3",
            "searchResult3",
            "song",
            |offset| {
                format!("query=&songCount={PAGE}&songOffset={offset}&artistCount=0&albumCount=0")
            },
            &mut pages,
        )
        .await;
    let sync_secs = started.elapsed().as_secs_f64();
    let peak_kib = peak.stop();
    let songs: Vec<String> = songs
        .iter()
        .map(|song| song["id"].as_str().unwrap().to_owned())
        .collect();
    let mut unique = songs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        (songs.len(), unique.len()),
        (tracks, tracks),
        "{}: every song once",
        target.server.name
    );
    let sync = Sync {
        pages: Latencies::of(pages),
        secs: sync_secs,
        idle_kib,
        peak_kib,
    };

    // Every album, with its cover.
    let albums = target
        .every(
            &client,
            "getAlbumList2",
            "albumList2",
            "album",
            |offset| format!("type=alphabeticalByName&size={PAGE}&offset={offset}"),
            &mut Vec::new(),
        )
        .await;
    assert_eq!(albums.len(), tracks.div_ceil(10), "{}", target.server.name);
    let id = |album: &Value, field: &str| album[field].as_str().unwrap().to_owned();
    let covers: Vec<String> = albums.iter().map(|a| id(a, "coverArt")).collect();
    let albums: Vec<String> = albums.iter().map(|a| id(a, "id")).collect();

    // Each wrk row's requests, each checked once first.
    let list_offsets: Vec<String> = (0..albums.len().saturating_sub(50).max(1))
        .step_by(7)
        .map(|offset| format!("type=alphabeticalByName&size=50&offset={offset}"))
        .collect();
    let search_pages: Vec<String> = (0..tracks)
        .step_by(PAGE)
        .map(|offset| {
            format!("query=&songCount={PAGE}&songOffset={offset}&artistCount=0&albumCount=0")
        })
        .collect();
    let album_queries: Vec<String> = albums.iter().map(|id| format!("id={id}")).collect();
    let cover_queries: Vec<String> = covers
        .iter()
        .map(|id| format!("id={id}&size=300"))
        .collect();
    let mut rows = Vec::new();
    for (method, queries) in [
        ("getAlbumList2", &list_offsets),
        ("search3", &search_pages),
        ("getAlbum", &album_queries),
    ] {
        target
            .call(&client, method, &queries[queries.len() / 2])
            .await;
        rows.push((method, wrk(target, method, queries, secs)));
    }
    let cover = client
        .get(target.url("getCoverArt", &cover_queries[0]))
        .send()
        .await
        .unwrap_or_else(|err| panic!("{}: getCoverArt: {err:?}", target.server.name));
    let kind = cover.headers()[reqwest::header::CONTENT_TYPE].clone();
    assert!(
        kind.to_str().unwrap().starts_with("image/"),
        "{}: getCoverArt answered {kind:?}",
        target.server.name
    );
    rows.push((
        "getCoverArt",
        wrk(target, "getCoverArt", &cover_queries, secs),
    ));

    // The first byte of a stream.
    let mut first = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let song = &songs[(i * 7919) % songs.len()];
        let asked = Instant::now();
        let mut res = client
            .get(target.url("stream", &format!("id={song}&format=raw")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}: stream", target.server.name);
        let chunk = res.chunk().await.unwrap().expect("a first chunk");
        first.push(asked.elapsed());
        assert!(
            chunk.starts_with(b"ID3"),
            "{}: stream is the file",
            target.server.name
        );
        while res.chunk().await.unwrap().is_some() {}
    }
    Measured {
        name: target.server.name,
        sync,
        rows,
        first_byte: Latencies::of(first),
        dropped: target.dropped.get(),
    }
}

/// p50, p99 and the slowest of some timings.
struct Latencies {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Latencies {
    fn of(mut all: Vec<Duration>) -> Self {
        all.sort_unstable();
        let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
        Self {
            p50: at(0.5),
            p99: at(0.99),
            max: *all.last().unwrap(),
        }
    }
}

/// wrk (`-t2 -c32`) for `secs`, each request `method` with one of `queries` at random.
fn wrk(target: &Target, method: &str, queries: &[String], secs: u64) -> Wrk {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("requests.lua");
    let mut lua = String::from("local paths = {\n");
    for query in queries {
        lua.push_str(&format!("  {:?},\n", target.path(method, query)));
    }
    lua.push_str(
        "}\nmath.randomseed(7)\n\
         request = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n",
    );
    std::fs::write(&script, lua).unwrap();
    let url = format!("http://{}/", target.server.addr);
    testkit::measure::wrk(2, 32, Duration::from_secs(secs), Some(&script), &url)
}

fn report(tracks: usize, results: &[Measured]) {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    println!();
    println!(
        "| {tracks} tracks: full sync (search3, {PAGE} a page) | pages | p50 | p99 | slowest | whole sync | RSS idle | RSS growth |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for m in results {
        let s = &m.sync;
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {} | +{} |",
            m.name,
            tracks.div_ceil(PAGE) + 1,
            ms(s.pages.p50),
            ms(s.pages.p99),
            ms(s.pages.max),
            s.secs,
            mib(s.idle_kib),
            mib(s.peak_kib.saturating_sub(s.idle_kib)),
        );
    }
    println!();
    let names: Vec<&str> = results.iter().map(|m| m.name).collect();
    print!("| {tracks} tracks: wrk -t2 -c32 |");
    for name in &names {
        print!(" {name} requests/s | p50 | p99 |");
    }
    if results.len() > 1 {
        print!(" ratio |");
    }
    println!();
    println!(
        "|---|{}{}",
        "---:|---:|---:|".repeat(results.len()),
        if results.len() > 1 { "---:|" } else { "" }
    );
    for (i, (method, _)) in results[0].rows.iter().enumerate() {
        print!("| {method} |");
        for m in results {
            let w = &m.rows[i].1;
            let errors = if w.errors > 0 {
                format!(" ({} errors)", w.errors)
            } else {
                String::new()
            };
            print!(" {:.0}{errors} | {} | {} |", w.rate, ms(w.p50), ms(w.p99));
        }
        if let [ours, peer] = results {
            print!(" {:.0}× |", ours.rows[i].1.rate / peer.rows[i].1.rate);
        }
        println!();
    }
    print!("| stream, first byte (one at a time) |");
    for m in results {
        print!(" — | {} | {} |", ms(m.first_byte.p50), ms(m.first_byte.p99));
    }
    if let [ours, peer] = results {
        print!(
            " {:.0}× |",
            peer.first_byte.p50.as_secs_f64() / ours.first_byte.p50.as_secs_f64()
        );
    }
    println!();
    for m in results.iter().filter(|m| m.dropped > 0) {
        println!(
            "{}: {} connection(s) closed before an answer, asked again",
            m.name, m.dropped
        );
    }
}

/// Whether `server`'s process still runs (not gone, not a zombie).
fn running(server: &Server) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", server.child.id()))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").starts_with(" Z"))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
