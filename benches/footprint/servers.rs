//! The servers under test: audio-streamer (the release build) and nginx from a generated config,
//! started on 127.0.0.1, and what the benchmark reads off them (processes, memory, CPU).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use testkit::{free_port, status_kib};

/// The kernel's TCP buffer memory, system-wide, KiB (from `/proc/net/sockstat`).
pub(crate) fn kernel_tcp_kib() -> u64 {
    let stat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    stat.lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| l.split_whitespace().skip_while(|w| *w != "mem").nth(1))
        .and_then(|pages| pages.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

pub(crate) struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub child: Child,
    pub is_ours: bool,
}

/// The server as `cargo build --release` makes it (or `FOOTPRINT_SERVER`, to measure another
/// build). Not the binary `cargo bench` builds beside the benchmark: there, dev-dependencies
/// switch on features of crates the server shares with them (tokio, bytes, serde…), which makes
/// other code with other symbol names, so the release build's code layout (build.rs) would not
/// apply to it either.
fn shipped_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(binary) = std::env::var_os("FOOTPRINT_SERVER") {
            return binary.into();
        }
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        // What cargo set for this benchmark's run is not the shell's: some build scripts (ring's)
        // rebuild when it differs, and the next `cargo build --release` would rebuild again.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_run = [
                "CARGO_PKG_",
                "CARGO_BIN_",
                "CARGO_CRATE_",
                "CARGO_MANIFEST_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix));
            if set_for_run || name == "OUT_DIR" || name == "CARGO_PRIMARY_PACKAGE" {
                cargo.env_remove(&*name);
            }
        }
        let out = cargo
            .args(["build", "--release", "--bin", "audio-streamer"])
            .arg("--message-format=json-render-diagnostics")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "cargo build --release failed");
        let binary = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the built binary");
        report_layout(&binary);
        binary
    })
}

/// Says how much of `scripts/hot-functions.txt` the binary has: names carry hashes that change
/// with the dependencies, and a stale list costs megabytes of idle RSS.
fn report_layout(binary: &Path) {
    let listed = include_str!("../../scripts/hot-functions.txt");
    let Ok(nm) = Command::new("nm")
        .arg("--defined-only")
        .arg(binary)
        .output()
    else {
        return;
    };
    let defined: std::collections::HashSet<&str> = std::str::from_utf8(&nm.stdout)
        .unwrap_or("")
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    let total = listed.lines().count();
    let found = listed.lines().filter(|name| defined.contains(name)).count();
    eprintln!("code layout: {found} of the {total} hot functions listed are in the binary");
    if found * 10 < total * 9 {
        eprintln!("  the list is stale: run scripts/hot-functions.sh, then build again");
    }
}

/// A certificate and key for the servers to speak TLS with.
pub(crate) type Tls<'a> = Option<&'a audio_streamer::config::TlsFiles>;

impl Server {
    pub(crate) fn ours(audio: &Path, tls: Tls) -> Self {
        Self::ours_with(audio, tls, &[])
    }

    /// The server with `args` besides the usual ones.
    pub(crate) fn ours_with(audio: &Path, tls: Tls, args: &[&str]) -> Self {
        let port = free_port();
        let mut cmd = Command::new(shipped_binary());
        cmd.args(args);
        if let Some(files) = tls {
            cmd.arg("--tls-cert")
                .arg(&files.cert)
                .arg("--tls-key")
                .arg(&files.key);
        }
        let child = cmd
            .args(["--port", &port.to_string(), "--audio-dir"])
            .arg(audio)
            // Inside the audio folder, which skips dot-entries.
            .arg("--data-dir")
            .arg(audio.join(".data"))
            // nginx runs with `access_log off` too.
            .arg("--no-access-log")
            // Warnings, but not lofty's for each odd tag (the server's default says the same).
            .env("RUST_LOG", "warn,lofty=error,symphonia_bundle_mp3=error")
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let server = Self {
            name: "audio-streamer",
            addr: ([127, 0, 0, 1], port).into(),
            child,
            is_ours: true,
        };
        server.wait_ready();
        server
    }

    pub(crate) fn nginx(tmp: &Path, audio: &Path, tls: Tls) -> Option<Self> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())?;
        let port = free_port();
        let conf = tmp.join("nginx.conf");
        let listen = match tls {
            Some(files) => format!(
                "{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {}",
                files.cert.display(),
                files.key.display()
            ),
            None => port.to_string(),
        };
        std::fs::write(
            &conf,
            format!(
                "worker_processes 2;\nworker_rlimit_nofile 16384;\ndaemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log warn;\n\
                 events {{ worker_connections 8192; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush off;\n  tcp_nodelay on;\n  keepalive_requests 10000000;\n\
                 client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n\
                 types {{ audio/wav wav; }}\n  server {{\n    listen 127.0.0.1:{listen};\n    location = /healthz {{ default_type text/plain; return 200 \"ok\\n\"; }}\n    location /audio/ {{\n      root {audio};\n      rewrite ^/audio/(.+)$ /$1.wav break;\n    }}\n  }}\n}}\n",
                tmp = tmp.display(),
                audio = audio.display(),
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .args(["-p", &tmp.display().to_string(), "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self {
            name: "nginx",
            addr: ([127, 0, 0, 1], port).into(),
            child,
            is_ours: false,
        };
        server.wait_ready();
        Some(server)
    }

    pub(crate) fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "{} did not start", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's process and its children (nginx's workers).
    pub(crate) fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.pid()];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let ppid: u32 = after.split_whitespace().nth(1).unwrap().parse().unwrap();
            if ppid == self.pid() {
                pids.push(pid);
            }
        }
        pids
    }

    /// A `/proc/<pid>/status` figure summed over the server's processes, KiB.
    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        status_kib(&self.pids(), field)
    }

    /// Resident memory of the server (all its processes), KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS")
    }

    /// CPU seconds (user + system) used by the server's processes so far.
    pub(crate) fn cpu_secs(&self) -> f64 {
        let ticks: u64 = self
            .pids()
            .iter()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .map(|stat| {
                let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
                    .split_whitespace()
                    .collect();
                fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
            })
            .sum();
        ticks as f64 / 100.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// nginx (Debian package `nginx`), if installed.
pub(crate) fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub(crate) fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}
