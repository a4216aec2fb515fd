//! The app in-process and the real server on an ephemeral port, with a raw HTTP/1.1 client for
//! requests no well-behaved client would send, and a strict `multipart/byteranges` reader.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::Request;
use actix_web::body::BoxBody;
use actix_web::dev::{ServerHandle, Service, ServiceResponse};
use audio_streamer::{AppState, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The app in-process (no socket), once the first scan of `config`'s folder is done, with its state.
pub async fn app(
    config: &Config,
) -> (
    impl Service<Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error> + use<>,
    Arc<AppState>,
) {
    let state = AppState::new(config).expect("audio folder opens");
    state.library.scanned().await;
    let app = actix_web::App::new().configure(audio_streamer::routes(Arc::clone(&state)));
    (actix_web::test::init_service(app).await, state)
}

/// The real server on `127.0.0.1:<ephemeral>`; stopped when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state (counters, library).
    pub state: Arc<AppState>,
    handle: ServerHandle,
}

impl TestServer {
    /// Starts the server on `config` once the first scan is done.
    pub async fn start(config: &Config) -> Self {
        let state = AppState::new(config).expect("audio folder opens");
        state.library.scanned().await;
        let tls = config
            .tls
            .as_ref()
            .map(|files| audio_streamer::Tls::load(files).expect("TLS files load"));
        let (server, addr) =
            audio_streamer::start(config, Arc::clone(&state), tls).expect("server binds");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            addr,
            state,
            handle,
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends raw bytes as a request on a fresh connection and reads the whole response.
    pub async fn raw(&self, request: &[u8]) -> RawResponse {
        raw_request(self.addr, request).await
    }

    /// Waits (bounded) until `check` holds for the live counters.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&AppState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(&self.state) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Fire and forget: the runtime ends with the test anyway.
        // The stop command is sent on call; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The status line and headers, without the blank line.
    pub head: String,
    /// Everything after the head.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A response from its head's bytes (without the blank line) and its body.
    fn new(head: &[u8], body: Vec<u8>) -> Self {
        let head = String::from_utf8_lossy(head).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        Self { status, head, body }
    }

    /// The first header named `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` verbatim and reads until the server closes (requests should say
/// `Connection: close`), bounded to 10 s.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("server answered within 10 s")
        .ok();
    let split = head_end(&buf)
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&buf)))
        - 4;
    RawResponse::new(&buf[..split], buf[split + 4..].to_vec())
}

/// Where the body starts: just past the blank line that ends the response head, if it has come.
pub fn head_end(received: &[u8]) -> Option<usize> {
    received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// A port that was free a moment ago, for a server started as a separate process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `GET` request line plus `Connection: close`.
pub fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

/// One part of a `multipart/byteranges` body: the range its `Content-Range` states, the file
/// length it states, its `Content-Type`, and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    /// First and last byte, as stated.
    pub range: std::ops::RangeInclusive<u64>,
    /// The complete length, as stated.
    pub total: u64,
    /// The part's `Content-Type`.
    pub content_type: String,
    /// The part's bytes (exactly as many as the range states).
    pub bytes: Vec<u8>,
}

/// Splits a `multipart/byteranges` body by the boundary in `content_type` (RFC 9110 §14.6,
/// RFC 2046 §5.1.1), strictly: anything out of place is a panic naming it.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart/byteranges: {content_type}"));
    let delimiter = format!("\r\n--{boundary}");
    let mut rest = body
        .strip_prefix(delimiter.as_bytes())
        .unwrap_or_else(|| panic!("body does not open with {delimiter:?}"));
    let mut parts = Vec::new();
    loop {
        if let Some(tail) = rest.strip_prefix(b"--") {
            assert_eq!(tail, b"\r\n", "bytes after the closing boundary");
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a boundary");
        let end = head_end(rest).expect("a part's headers end");
        let head = std::str::from_utf8(&rest[..end - 4]).expect("ASCII part headers");
        let field = |name: &str| {
            head.lines()
                .find_map(|line| {
                    let (k, v) = line.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_else(|| panic!("part without {name}: {head}"))
        };
        let content_range = field("content-range");
        let (span, total) = content_range
            .strip_prefix("bytes ")
            .and_then(|s| s.split_once('/'))
            .unwrap_or_else(|| panic!("bad Content-Range {content_range}"));
        let (a, b) = span.split_once('-').expect("first-last");
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a <= b, "{content_range}");
        let len = (b - a + 1) as usize;
        let data = &rest[end..];
        assert!(data.len() >= len, "part cut short: {content_range}");
        parts.push(Part {
            range: a..=b,
            total: total.parse().unwrap(),
            content_type: field("content-type"),
            bytes: data[..len].to_vec(),
        });
        rest = data[len..]
            .strip_prefix(delimiter.as_bytes())
            .unwrap_or_else(|| panic!("no boundary after part {content_range}"));
    }
}

/// One kept-alive HTTP/1.1 connection that reads responses one by one, by their `Content-Length`.
pub struct Conn {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> Self {
        Self::from(TcpStream::connect(addr).await.unwrap())
    }

    /// Sends raw request bytes (several requests at once to pipeline them).
    pub async fn send(&mut self, request: &[u8]) {
        self.stream.write_all(request).await.unwrap();
    }

    /// Reads the next response: its head, then exactly `Content-Length` body bytes (none for a
    /// `HEAD` request, which `head_only` says), bounded to 20 s.
    pub async fn response(&mut self, head_only: bool) -> RawResponse {
        tokio::time::timeout(Duration::from_secs(20), self.next(head_only))
            .await
            .expect("a response within 20 s")
    }

    async fn next(&mut self, head_only: bool) -> RawResponse {
        let end = loop {
            if let Some(end) = head_end(&self.received) {
                break end;
            }
            self.fill().await;
        };
        let mut response = RawResponse::new(&self.received[..end - 4], Vec::new());
        assert!(
            response.header("transfer-encoding").is_none(),
            "chunked: {}",
            response.head
        );
        let len: usize = match (head_only, response.header("content-length")) {
            (true, _) | (false, None) => 0,
            (false, Some(len)) => len.parse().unwrap(),
        };
        while self.received.len() < end + len {
            self.fill().await;
        }
        response.body = self.received[end..end + len].to_vec();
        self.received.drain(..end + len);
        response
    }

    async fn fill(&mut self) {
        self.received.reserve(64 * 1024);
        let n = self.stream.read_buf(&mut self.received).await.unwrap();
        assert!(n > 0, "connection closed mid-response");
    }

    /// Segments with data this connection has received so far (`TCP_INFO`'s `tcpi_data_segs_in`):
    /// how many pieces the server's answers left in.
    pub fn data_segments_in(&self) -> u32 {
        use std::os::fd::AsRawFd as _;
        // SAFETY: `tcp_info` is plain integers (all zeroes is a valid value), and `getsockopt`
        // writes at most `len` bytes into it.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                self.stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&raw mut info).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
        info.tcpi_data_segs_in
    }

    /// Whether the server has closed the connection (reads nothing more within a second).
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(1), self.stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

impl From<TcpStream> for Conn {
    fn from(stream: TcpStream) -> Self {
        Self {
            stream,
            received: Vec::new(),
        }
    }
}
