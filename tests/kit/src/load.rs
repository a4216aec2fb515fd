//! Mixed traffic for soak runs, used by `tests/soak.rs` (seconds) and the footprint benchmark
//! (minutes): full downloads, random ranges, seeks abandoned mid-body, HEADs, conditional requests
//! and live-stats viewers, every byte checked against the file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

/// What a soak run did.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Requests answered (or failed).
    pub requests: AtomicU64,
    /// Body bytes compared with the file and found equal.
    pub bytes_verified: AtomicU64,
    /// Requests whose answer was wrong.
    pub errors: AtomicU64,
    /// What the first wrong answer was.
    pub first_error: std::sync::Mutex<Option<String>>,
}

impl SoakReport {
    fn fail(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().unwrap().get_or_insert(what);
    }
}

/// Runs `connections` clients against `addr` for `duration`; `tracks` are `(url path, bytes)`.
pub async fn soak(
    addr: SocketAddr,
    tracks: Arc<Vec<(String, Vec<u8>)>>,
    connections: usize,
    duration: Duration,
) -> Arc<SoakReport> {
    let report = Arc::new(SoakReport::default());
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client_id in 0..connections {
        let (tracks, report) = (Arc::clone(&tracks), Arc::clone(&report));
        tasks.spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap();
            let mut x = (client_id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            while Instant::now() < end {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (path, bytes) = &tracks[(x % tracks.len() as u64) as usize];
                let url = format!("http://{addr}{path}");
                let result = one_request(&client, &url, bytes, x).await;
                report.requests.fetch_add(1, Ordering::Relaxed);
                match result {
                    Ok(verified) => {
                        report.bytes_verified.fetch_add(verified, Ordering::Relaxed);
                    }
                    Err(what) => report.fail(format!("{url}: {what}")),
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    report
}

async fn one_request(
    client: &reqwest::Client,
    url: &str,
    file: &[u8],
    x: u64,
) -> Result<u64, String> {
    let len = file.len() as u64;
    let err = |e: reqwest::Error| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    };
    match x % 6 {
        // Full download.
        0 => {
            let res = client.get(url).send().await.map_err(err)?;
            expect(res.status().as_u16(), 200)?;
            let body = res.bytes().await.map_err(err)?;
            same(&body, file)?;
            Ok(len)
        }
        // A random closed range.
        1 => {
            let start = (x >> 8) % len;
            let last = (start + (x >> 20) % 200_000).min(len - 1);
            let res = client
                .get(url)
                .header("Range", format!("bytes={start}-{last}"))
                .send()
                .await
                .map_err(err)?;
            expect(res.status().as_u16(), 206)?;
            let body = res.bytes().await.map_err(err)?;
            same(&body, &file[start as usize..=last as usize])?;
            Ok(body.len() as u64)
        }
        // A seek: open-ended range, read a little, then drop the response (a player seeking away).
        2 => {
            let start = (x >> 8) % len;
            let res = client
                .get(url)
                .header("Range", format!("bytes={start}-"))
                .send()
                .await
                .map_err(err)?;
            expect(res.status().as_u16(), 206)?;
            let mut stream = res.bytes_stream();
            let mut offset = start as usize;
            if let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(err)?;
                same(&chunk, &file[offset..offset + chunk.len()])?;
                offset += chunk.len();
            }
            Ok((offset - start as usize) as u64)
        }
        // HEAD.
        3 => {
            let res = client.head(url).send().await.map_err(err)?;
            expect(res.status().as_u16(), 200)?;
            let declared = res
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok());
            if declared != Some(len.to_string().as_str()) {
                return Err(format!("HEAD content-length {declared:?}, want {len}"));
            }
            Ok(0)
        }
        // Conditional: fetch the validator, then revalidate.
        4 => {
            let res = client.head(url).send().await.map_err(err)?;
            let status = res.status();
            let etag = res
                .headers()
                .get("etag")
                .cloned()
                .ok_or_else(|| format!("HEAD answered {status} without an ETag"))?;
            let res = client
                .get(url)
                .header("If-None-Match", etag)
                .send()
                .await
                .map_err(err)?;
            expect(res.status().as_u16(), 304)?;
            Ok(0)
        }
        // A live-stats viewer for two events.
        _ => {
            let base = url.split("/audio/").next().unwrap_or_default();
            let res = client
                .get(format!("{base}/events"))
                .send()
                .await
                .map_err(err)?;
            expect(res.status().as_u16(), 200)?;
            let mut stream = res.bytes_stream();
            let mut text = String::new();
            while text.matches("event: stats").count() < 2 {
                let chunk = stream.next().await.ok_or("SSE ended")?.map_err(err)?;
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            Ok(0)
        }
    }
}

fn expect(got: u16, want: u16) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("status {got}, want {want}"))
    }
}

fn same(got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{} bytes differ from the file's {}",
            got.len(),
            want.len()
        ))
    }
}
