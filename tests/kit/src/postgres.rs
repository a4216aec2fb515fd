//! A real PostgreSQL server of its own in a temp folder on 127.0.0.1 (Debian's PostgreSQL), for
//! the data tests and benchmark: started, stopped and started again on the same port and folder
//! (an outage), and killed with its folder removed when dropped.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts a version's programs: 15 is bookworm's; a later one is taken when installed.
fn bin() -> PathBuf {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .filter(|(_, dir)| dir.join("bin/postgres").exists())
        .max();
    newest.map_or_else(
        || PathBuf::from("/usr/lib/postgresql/15/bin"),
        |(_, dir)| dir.join("bin"),
    )
}

/// The database [`Postgres::start`] makes.
const DATABASE: &str = "audio_streamer";

/// The server; stops and removes its data when dropped.
pub struct Postgres {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// The system user it runs as (initdb and postgres refuse root): `None` for the test's own.
    user: Option<(u32, u32)>,
}

impl Postgres {
    /// Makes a cluster (initdb), starts it and makes a database, or `None` when PostgreSQL is not
    /// installed (the test then says how to install it and is skipped; under `CI=true` it fails).
    pub fn start() -> Option<Self> {
        let bin = bin();
        let tool = |name: &str| bin.join(name).display().to_string();
        if !crate::installed(
            "PostgreSQL test",
            &[&tool("initdb"), &tool("postgres"), &tool("createdb")],
            "postgresql",
        ) {
            return None;
        }
        let started = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let user = if rustix::process::geteuid().is_root() {
            let ids = system_user("postgres").expect(
                "running as root, PostgreSQL needs its own user: the postgresql package makes \
                 `postgres`",
            );
            rustix::fs::chown(
                dir.path(),
                Some(rustix::fs::Uid::from_raw(ids.0)),
                Some(rustix::fs::Gid::from_raw(ids.1)),
            )
            .unwrap();
            Some(ids)
        } else {
            None
        };
        let mut server = Self {
            child: None,
            port: crate::free_port(),
            dir,
            user,
        };
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(server.data())
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "--no-locale"])
            .args(["-E", "UTF8", "--no-instructions"])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.start_again();
        server.create_database(DATABASE);
        eprintln!(
            "PostgreSQL ready on port {} in {:?}",
            server.port,
            started.elapsed()
        );
        Some(server)
    }

    /// The URL of the database it made at start.
    pub fn url(&self) -> String {
        self.url_of(DATABASE)
    }

    /// The URL of database `name` on this server.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Makes another database, `name` (letters, digits, `_`), and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let out = self
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(name)
            .output()
            .expect("createdb runs");
        assert!(
            out.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url_of(name)
    }

    /// Stops the server (a fast shutdown: sessions are ended) and waits until it has exited.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server (again) on the same port and folder; returns once it accepts sessions.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self
                .command("pg_isready")
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("postgres exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pgdata")
    }

    /// One of PostgreSQL's programs, as the user it runs as.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(bin().join(program));
        command.env_remove("PGDATABASE").env_remove("PGUSER");
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        // Then the folder goes with `dir` (root may remove what it gave the server's user).
    }
}

/// The uid and gid of `name`, from /etc/passwd.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}
