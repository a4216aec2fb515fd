//! A real one-node Ceph cluster with its S3 gateway on 127.0.0.1 (`scripts/ceph.sh`), for the
//! object-store tests and benchmarks, and an S3 client to fill it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt as _, PutPayload};

/// The access key the test user has.
pub const ACCESS_KEY: &str = "AUDIOSTREAMERTEST";
/// Its secret key.
pub const SECRET_KEY: &str = "audio-streamer-test-secret-key-0123456789";

/// The cluster; stops (and removes its data) when dropped, or when the test process ends.
pub struct Ceph {
    child: Child,
    /// The S3 endpoint (`http://127.0.0.1:port`).
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl Ceph {
    /// Starts a cluster, or `None` when Ceph is not installed (the test then says how to install
    /// it and is skipped; under `CI=true` it fails).
    pub fn start() -> Option<Self> {
        if !crate::installed(
            "object-store test",
            &["/usr/bin/radosgw", "/usr/bin/ceph-mon", "/usr/bin/ceph-osd"],
            "radosgw ceph-mon ceph-osd ceph-common",
        ) {
            return None;
        }
        // In memory when the machine has a tmpfs: the monitor refuses to start when its disk has
        // less than 1% free (`mon data avail crit` cannot go below 0%), which a big disk with a
        // few GiB left already is. The OSD keeps its objects in memory anyway.
        let dir = if Path::new("/dev/shm").is_dir() {
            tempfile::tempdir_in("/dev/shm")
        } else {
            tempfile::tempdir()
        }
        .unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ceph.sh");
        let (s3_port, mon_port) = (crate::free_port(), crate::free_port());
        let mut child = Command::new("bash")
            .arg(script)
            .arg(dir.path().join("cluster"))
            .args([
                &s3_port.to_string(),
                &mon_port.to_string(),
                ACCESS_KEY,
                SECRET_KEY,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bash");
        let started = Instant::now();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let endpoint = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(endpoint) = line.strip_prefix("ready ") {
                        break endpoint.to_owned();
                    }
                }
                _ => panic!(
                    "Ceph did not start (after {:?}); see scripts/ceph.sh",
                    started.elapsed()
                ),
            }
        };
        eprintln!("Ceph ready at {endpoint} in {:?}", started.elapsed());
        Some(Self {
            child,
            endpoint,
            _dir: dir,
        })
    }

    /// An S3 client for `bucket` (which [`Ceph::bucket`] makes).
    pub fn client(&self, bucket: &str) -> Arc<AmazonS3> {
        // object_store's HTTP client takes the process's TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_bucket_name(bucket)
                .with_access_key_id(ACCESS_KEY)
                .with_secret_access_key(SECRET_KEY)
                .build()
                .unwrap(),
        )
    }

    /// Makes `bucket` (object_store cannot: it is a plain signed `PUT /bucket`).
    pub fn bucket(&self, bucket: &str) {
        let status = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT"])
            .args(["--aws-sigv4", "aws:amz:us-east-1:s3"])
            .args(["--user", &format!("{ACCESS_KEY}:{SECRET_KEY}")])
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
            .arg(format!("{}/{bucket}", self.endpoint))
            .output()
            .expect("curl");
        let code = String::from_utf8_lossy(&status.stdout).into_owned();
        assert!(
            code == "200" || code == "409",
            "making bucket {bucket}: {code}"
        );
    }

    /// Stores `data` at `key` in `bucket`.
    pub async fn put(&self, bucket: &str, key: &str, data: Vec<u8>) {
        self.client(bucket)
            .put(&Key::parse(key).unwrap(), PutPayload::from(data))
            .await
            .unwrap();
    }

    /// Removes the object at `key` from `bucket`.
    pub async fn delete(&self, bucket: &str, key: &str) {
        self.client(bucket)
            .delete(&Key::parse(key).unwrap())
            .await
            .unwrap();
    }

    /// Stores `data` at `key` verbatim, whatever the key holds (`..`, `//`: what object_store's
    /// own paths refuse), with a signed `PUT` by curl.
    pub fn put_raw(&self, bucket: &str, key: &str, data: &[u8]) -> bool {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), data).unwrap();
        let encoded: String = key
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--path-as-is",
            ])
            .args(["--aws-sigv4", "aws:amz:us-east-1:s3"])
            .args(["--user", &format!("{ACCESS_KEY}:{SECRET_KEY}")])
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
            .arg("--upload-file")
            .arg(file.path())
            .arg(format!("{}/{bucket}/{encoded}", self.endpoint))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout) == "200"
    }

    /// Stops the S3 gateway (the store is down) until [`Ceph::resume`].
    pub fn stop_gateway(&self) {
        self.signal("USR1");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.answers() {
            assert!(Instant::now() < deadline, "the gateway did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the S3 gateway again and waits until it answers.
    pub fn resume(&self) {
        self.signal("USR2");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.answers() {
            assert!(Instant::now() < deadline, "the gateway did not come back");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    fn answers(&self) -> bool {
        std::net::TcpStream::connect(self.endpoint.trim_start_matches("http://")).is_ok()
    }
}

impl Drop for Ceph {
    fn drop(&mut self) {
        // Closing its input ends the script, which stops the daemons and removes their data.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}
