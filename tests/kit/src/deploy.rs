//! A deployment as an operator runs one: replicas of the real binary serving one object-store
//! library, each with its own cache, behind a real nginx (Debian's) on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use crate::{ACCESS_KEY, Ceph, SECRET_KEY, free_port};

/// One replica: the server binary as a child process; killed when dropped.
pub struct Replica {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its cache folder.
    pub cache: PathBuf,
    child: Child,
}

impl Replica {
    /// Starts `binary` serving `s3://bucket` from `ceph`, caching up to `cache_max` bytes in
    /// `cache`, listing every second; returns once `/readyz` answers 200.
    pub fn start(binary: &Path, ceph: &Ceph, bucket: &str, cache: &Path, cache_max: &str) -> Self {
        let port = free_port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string()])
            .args(["--library", &format!("s3://{bucket}")])
            .args(["--s3-endpoint", &ceph.endpoint])
            .arg("--cache-dir")
            .arg(cache)
            // Inside the cache folder, which skips dot-entries.
            .arg("--data-dir")
            .arg(cache.join(".data"))
            .args(["--cache-max-bytes", cache_max, "--refresh-secs", "1"])
            .arg("--no-access-log")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("RUST_LOG", "warn,lofty=error")
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let replica = Self {
            addr: ([127, 0, 0, 1], port).into(),
            cache: cache.to_owned(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while status(replica.addr, "/readyz") != Some(200) {
            assert!(
                Instant::now() < deadline,
                "replica {} not ready",
                replica.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        replica
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it at once (SIGKILL: no goodbye to its clients), and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// nginx balancing over replicas: audio and `/events` unbuffered, a request whose replica is
/// gone tried on the next one, the same URLs as a replica's.
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// The nginx binary, if installed (else the caller's test says how and skips).
    pub fn installed() -> bool {
        crate::installed("nginx test", &["/usr/sbin/nginx"], "nginx")
    }

    /// Starts nginx in front of `replicas`.
    pub fn start(replicas: &[SocketAddr]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let upstreams: String = replicas
            .iter()
            .map(|addr| format!("    server {addr} max_fails=1 fail_timeout=10s;\n"))
            .collect();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), port, &upstreams)).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Self {
            addr: ([127, 0, 0, 1], port).into(),
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(nginx.addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers before it exits (SIGKILL would leave them
        // running, orphaned, each holding the listening socket).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The configuration `scripts/nginx-replicas.conf` shows operators, with this run's paths.
fn config(dir: &Path, port: u16, upstreams: &str) -> String {
    let template = include_str!("../../../scripts/nginx-replicas.conf");
    let dir = dir.display().to_string();
    template
        .replace("/var/lib/audio-streamer-nginx", &dir)
        .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"))
        .replace(
            "    server 127.0.0.1:8081 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:8082 max_fails=1 fail_timeout=10s;\n",
            upstreams,
        )
        + "\n"
}

/// The status of `GET path` at `addr`, if it answers.
pub fn status(addr: SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    conn.write_all(&crate::get(path)).ok()?;
    let mut head = [0; 12];
    conn.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// What a listener saw whose replica died mid-stream.
pub struct Failover {
    /// The replica that served the stream (and was killed).
    pub first: String,
    /// The replica that answered the resume.
    pub second: String,
    /// Time from the kill to the first byte of the resumed stream.
    pub gap: Duration,
}

/// A listener through `nginx`: streams `path`, and once it has `kill_after` bytes, the replica
/// serving it is killed (SIGKILL); the stream breaks off, and the listener resumes as a player
/// does, with `Range` from what it has and `If-Range` with the ETag it was given, which must be
/// answered 206. Checks that the bytes, across both replicas, are exactly `expected`.
pub async fn listen_through_a_failover(
    nginx: &Nginx,
    replicas: &mut [Replica],
    path: &str,
    expected: &[u8],
    kill_after: usize,
) -> Failover {
    let client = reqwest::Client::new();
    let res = client.get(nginx.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let first = res.headers()["x-upstream"].to_str().unwrap().to_owned();
    let mut body = res.bytes_stream();
    let mut received = Vec::new();
    while received.len() < kill_after {
        received.extend_from_slice(&body.next().await.unwrap().unwrap());
    }
    let victim = replicas
        .iter_mut()
        .find(|r| r.addr.to_string() == first)
        .expect("nginx names the replica");
    let killed = Instant::now();
    victim.kill();
    // What was already on its way arrives; then the stream breaks off short of the end.
    while let Some(Ok(piece)) = body.next().await {
        received.extend_from_slice(&piece);
    }
    assert!(received.len() < expected.len(), "the stream broke off");
    assert!(received[..] == expected[..received.len()]);

    let res = client
        .get(nginx.url(path))
        .header("range", format!("bytes={}-", received.len()))
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        206,
        "the resume gets the rest, not the whole file"
    );
    let second = res.headers()["x-upstream"].to_str().unwrap().to_owned();
    let mut rest = res.bytes_stream();
    received.extend_from_slice(&rest.next().await.unwrap().unwrap());
    let gap = killed.elapsed();
    while let Some(piece) = rest.next().await {
        received.extend_from_slice(&piece.unwrap());
    }
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "every byte, across two replicas");
    Failover { first, second, gap }
}
