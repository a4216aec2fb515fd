//! The clients of each phase: idle, paused and slow listeners, random ranges, full downloads and
//! live-stats viewers, each bounded in time and count and checking every byte it is sent.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpStream;

use crate::servers::{Server, kernel_tcp_kib};

/// The size of each random range request.
pub(crate) const RANGE_BYTES: u64 = 64 * 1024;

pub(crate) fn sample_peak(
    server: &Server,
    running: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    let pids = server.pids();
    std::thread::spawn(move || {
        let mut peak = 0;
        while running.load(Ordering::Relaxed) {
            peak = peak.max(testkit::status_kib(&pids, "VmRSS"));
            std::thread::sleep(Duration::from_millis(100));
        }
        peak
    })
}

pub(crate) async fn use_page_and_sse(addr: SocketAddr) {
    for path in ["/", "/static/app.js", "/static/app.css", "/api/tracks"] {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(request(path, None, true).as_bytes())
            .await
            .unwrap();
        let mut sink = Vec::new();
        conn.read_to_end(&mut sink).await.unwrap();
    }
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request("/events", None, true).as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(2);
    while let Ok(Ok(n)) = tokio::time::timeout_at(end.into(), conn.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

pub(crate) fn request(path: &str, range: Option<(u64, u64)>, close: bool) -> String {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some((a, b)) = range {
        write!(req, "Range: bytes={a}-{b}\r\n").unwrap();
    }
    if close {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("\r\n");
    req
}

/// A connection to the server under test: plain TCP, or TLS over it.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// How clients reach the server.
#[derive(Clone)]
pub(crate) enum Transport {
    Plain,
    /// TLS (HTTP/1.1 by ALPN), trusting the benchmark's own certificate.
    Tls(tokio_rustls::TlsConnector),
}

impl Transport {
    /// TLS trusting `cert` (PEM).
    pub(crate) fn tls(cert: &str) -> Self {
        use tokio_rustls::rustls::{
            self, pki_types::CertificateDer, pki_types::pem::PemObject as _,
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(cert.as_bytes()).unwrap())
            .unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self::Tls(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }

    pub(crate) async fn connect(&self, addr: SocketAddr) -> std::io::Result<Box<dyn Conn>> {
        let tcp = TcpStream::connect(addr).await?;
        Ok(match self {
            Self::Plain => Box::new(tcp),
            Self::Tls(connector) => Box::new(
                connector
                    .connect("localhost".try_into().unwrap(), tcp)
                    .await?,
            ),
        })
    }
}

/// Reads a response head; returns (status, content-length).
pub(crate) async fn read_head(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<(u16, u64)> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok((status, length));
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
}

/// `clients` connections each fetch one byte of the track, then stay open and idle: the cost of a
/// connection itself, before any streaming.
pub(crate) async fn idle_connections(server: &Server, clients: usize, settle: Duration) -> u64 {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let Ok(conn) = TcpStream::connect(server.addr).await else {
            continue;
        };
        let mut reader = BufReader::with_capacity(1024, conn);
        let req = request("/audio/bench", Some((0, 0)), false);
        if reader.get_mut().write_all(req.as_bytes()).await.is_ok()
            && let Ok((206, 1)) = read_head(&mut reader).await
        {
            let mut byte = [0u8; 1];
            let _ = reader.read_exact(&mut byte).await;
        }
        conns.push(reader);
    }
    tokio::time::sleep(settle).await;
    let peak = server.rss_kib();
    drop(conns);
    tokio::time::sleep(settle).await;
    peak
}

/// `clients` listeners request the track, read its head and 64 KiB, then stop reading.
pub(crate) async fn paused(
    server: &Server,
    transport: &Transport,
    clients: usize,
    settle: Duration,
) -> (u64, u64) {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let Ok(conn) = transport.connect(server.addr).await else {
            continue;
        };
        let mut reader = BufReader::with_capacity(64 * 1024, conn);
        reader
            .get_mut()
            .write_all(request("/audio/bench", None, false).as_bytes())
            .await
            .unwrap();
        if read_head(&mut reader).await.is_ok() {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = reader.read_exact(&mut buf).await;
        }
        conns.push(reader);
    }
    tokio::time::sleep(settle).await;
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kernel = kernel_tcp_kib();
    running.store(false, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    drop(conns);
    (peak, kernel)
}

/// `clients` listeners read the track at 32 KB/s for `duration`. Returns (peak RSS, errors).
pub(crate) async fn steady(server: &Server, clients: usize, duration: Duration) -> (u64, u64) {
    let errors = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let addr = server.addr;
        let errors = Arc::clone(&errors);
        tasks.spawn(async move {
            let result: std::io::Result<()> = async {
                let conn = TcpStream::connect(addr).await?;
                let mut reader = BufReader::with_capacity(8 * 1024, conn);
                reader
                    .get_mut()
                    .write_all(request("/audio/bench", None, false).as_bytes())
                    .await?;
                let (status, _) = read_head(&mut reader).await?;
                if status != 200 {
                    return Err(std::io::ErrorKind::InvalidData.into());
                }
                let mut buf = vec![0u8; 80 * 1000];
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                while Instant::now() < end {
                    tick.tick().await;
                    reader.read_exact(&mut buf).await?; // 80 KB every 250 ms = 320 KB/s
                }
                Ok(())
            }
            .await;
            if result.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    running.store(false, Ordering::Relaxed);
    (sampler.join().unwrap(), errors.load(Ordering::Relaxed))
}

/// 100 keep-alive connections request random 64 KiB ranges; every byte is compared with the file.
pub(crate) async fn ranges(
    addr: SocketAddr,
    track: &Arc<Vec<u8>>,
    duration: Duration,
) -> (f64, u64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let mismatches = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..100u64 {
        let (track, done, mismatches, errors) = (
            Arc::clone(track),
            Arc::clone(&done),
            Arc::clone(&mismatches),
            Arc::clone(&errors),
        );
        tasks.spawn(async move {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut body = vec![0u8; RANGE_BYTES as usize];
            'conn: while Instant::now() < end {
                let Ok(conn) = TcpStream::connect(addr).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let mut reader = BufReader::with_capacity(128 * 1024, conn);
                while Instant::now() < end {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let start = x % (track.len() as u64 - RANGE_BYTES);
                    let req = request(
                        "/audio/bench",
                        Some((start, start + RANGE_BYTES - 1)),
                        false,
                    );
                    let ok = async {
                        reader.get_mut().write_all(req.as_bytes()).await?;
                        let (status, len) = read_head(&mut reader).await?;
                        if status != 206 || len != RANGE_BYTES {
                            return Err(std::io::Error::other(format!(
                                "status {status}, length {len}"
                            )));
                        }
                        reader.read_exact(&mut body).await?;
                        Ok::<_, std::io::Error>(())
                    }
                    .await;
                    if ok.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue 'conn;
                    }
                    if body[..] != track[start as usize..(start + RANGE_BYTES) as usize] {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    (
        done.load(Ordering::Relaxed) as f64 / secs,
        mismatches.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
    )
}

/// 8 connections download the whole file again and again. Returns (bytes, seconds, mismatches).
pub(crate) async fn full_files(
    addr: SocketAddr,
    transport: &Transport,
    track: &Arc<Vec<u8>>,
    duration: Duration,
) -> (u64, f64, u64) {
    let bytes = Arc::new(AtomicU64::new(0));
    let mismatches = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (track, bytes, mismatches, transport) = (
            Arc::clone(track),
            Arc::clone(&bytes),
            Arc::clone(&mismatches),
            transport.clone(),
        );
        tasks.spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            while Instant::now() < end {
                let Ok(conn) = transport.connect(addr).await else {
                    continue;
                };
                let mut reader = BufReader::with_capacity(256 * 1024, conn);
                if reader
                    .get_mut()
                    .write_all(request("/audio/bench", None, true).as_bytes())
                    .await
                    .is_err()
                {
                    continue;
                }
                let Ok((200, len)) = read_head(&mut reader).await else {
                    continue;
                };
                let mut offset = 0usize;
                // Every 16th download is compared byte for byte; the rest only counted, to keep the
                // client's CPU out of the server's way.
                let check =
                    (bytes.load(Ordering::Relaxed) / (track.len() as u64)).is_multiple_of(16);
                while (offset as u64) < len {
                    let Ok(n) = reader.read(&mut buf).await else {
                        break;
                    };
                    if n == 0 {
                        break;
                    }
                    if check && buf[..n] != track[offset..offset + n] {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    offset += n;
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (
        bytes.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        mismatches.load(Ordering::Relaxed),
    )
}

/// `clients` SSE subscribers read for `duration`. Returns (peak RSS, events delivered, events missed).
pub(crate) async fn sse(server: &Server, clients: usize, duration: Duration) -> (u64, u64, u64) {
    let delivered = Arc::new(AtomicU64::new(0));
    let missed = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (addr, delivered, missed) = (server.addr, Arc::clone(&delivered), Arc::clone(&missed));
        tasks.spawn(async move {
            let Ok(conn) = TcpStream::connect(addr).await else {
                missed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let mut reader = BufReader::new(conn);
            if reader
                .get_mut()
                .write_all(request("/events", None, false).as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let mut last: Option<u64> = None;
            let mut line = String::new();
            loop {
                line.clear();
                match tokio::time::timeout_at(end.into(), reader.read_line(&mut line)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => break,
                }
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                let Some(seq) = data
                    .split("\"seq\":")
                    .nth(1)
                    .and_then(|s| s.trim_end().trim_end_matches('}').parse::<u64>().ok())
                else {
                    continue;
                };
                delivered.fetch_add(1, Ordering::Relaxed);
                if let Some(prev) = last {
                    missed.fetch_add(seq.saturating_sub(prev + 1), Ordering::Relaxed);
                }
                last = Some(seq);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    running.store(false, Ordering::Relaxed);
    (
        sampler.join().unwrap(),
        delivered.load(Ordering::Relaxed),
        missed.load(Ordering::Relaxed),
    )
}
