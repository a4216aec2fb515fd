//! Binding and running the server: the listening socket with its send-buffer cap, TLS when
//! configured, and the actix settings the byte pump and the live stats depend on.
//!
//! Built on actix-server and actix-http directly rather than actix-web's `HttpServer`, for one
//! reason: `HttpServer` serves plain TCP with a service able to speak HTTP/2 as well, and with
//! the `http2` feature on (for HTTPS) every connection's state then has room for an HTTP/2
//! dispatcher: 1.8 KiB more per listener, measured with the footprint benchmark. Plain TCP gets
//! the HTTP/1 service alone; TLS gets both, chosen by ALPN.

use std::any::Any;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd as _;
use std::sync::Arc;

use actix_http::{HttpServiceBuilder, Request, Response};
use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _, map_config};
use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::App;
use actix_web::body::BoxBody;
use actix_web::dev::{AppConfig, Extensions, Server};
use tokio::net::TcpStream;

use super::routes;
use super::tls::Tls;
use crate::config::Config;
use crate::state::AppState;
use crate::stream::{ConnSocket, listen};

/// Seconds the server gives open requests to finish once asked to stop.
const SHUTDOWN_TIMEOUT: u64 = 5;

/// Starts the server on `config.addr`, over TLS with `tls`, and returns it (to be awaited) with
/// the address it got.
pub fn start(
    config: &Config,
    state: Arc<AppState>,
    tls: Option<Tls>,
) -> io::Result<(Server, SocketAddr)> {
    let cannot_listen = |err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("cannot listen on {}: {err}", config.addr),
        )
    };
    let listener = listen(config.addr, config.send_buffer).map_err(cannot_listen)?;
    let addr = listener.local_addr()?;
    let mut server = Server::build().shutdown_timeout(SHUTDOWN_TIMEOUT);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let timeout = config.request_timeout;
    // Each worker builds its own app from the shared state.
    let app = move || {
        App::new()
            .configure(routes(Arc::clone(&state)))
            .into_factory()
            .map_err(|err: actix_web::Error| err.error_response())
    };
    let server = match tls {
        None => server.listen("audio-streamer", listener, move || {
            settings(timeout)
                .h1(map_config(app(), |()| AppConfig::default()))
                .tcp()
        }),
        Some(Tls(tls)) => server.listen("audio-streamer-tls", listener, move || {
            settings(timeout)
                .finish(map_config(app(), |()| AppConfig::default()))
                .rustls_0_23(tls.clone())
        }),
    }
    .map_err(cannot_listen)?;
    Ok((server.run(), addr))
}

/// The connection settings both listeners share.
fn settings<T: 'static, S>(request_timeout: std::time::Duration) -> HttpServiceBuilder<T, S>
where
    S: actix_service::ServiceFactory<Request, Config = ()>,
    S::Error: Into<Response<BoxBody>> + 'static,
    S::InitError: std::fmt::Debug,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
{
    HttpServiceBuilder::default()
        // Notice a closed SSE client within a fraction of a second instead of on the next write.
        .h1_allow_half_closed(false)
        .client_request_timeout(request_timeout)
        .on_connect_ext(|io: &_, data: &mut Extensions| on_connect(io as &dyn Any, data))
        // Poll a body only once everything written before it has reached the socket. The pump's
        // sendfile path depends on it (file bytes must land after the head); it also keeps the
        // connection's buffer from growing with batched chunks. A body of known size under 32 KiB
        // is the exception (vendor/actix-http/PATCH.md): it is taken whole and leaves with its head
        // in one write. The sendfile path's bodies report a stream, never a size.
        .h1_write_buffer_size(1)
}

/// The socket of `req`'s connection, when the request has it to itself (HTTP/1.x: one response at
/// a time). Under HTTP/2 the socket carries other streams, so its facts say nothing of one of them,
/// and shutting it down or resizing it would touch them all.
pub(super) fn own_socket(req: &actix_web::HttpRequest) -> Option<ConnSocket> {
    let h1 = matches!(
        req.version(),
        actix_web::http::Version::HTTP_10 | actix_web::http::Version::HTTP_11
    );
    req.conn_data::<ConnSocket>().copied().filter(|_| h1)
}

/// Sets up a new connection's socket and stores its [`ConnSocket`] in the connection's data (the
/// pump sizes chunks by the socket's free room, and sends files into it).
///
/// `TCP_NODELAY` is set here: an answer whose body is a stream (a file sent with sendfile, a
/// compressed page) leaves as a head and then its body, and with Nagle's algorithm a small body
/// waits for the head's ACK, which the client delays ~40 ms. actix-http's own `tcp_nodelay`
/// setting applies to its protocol-detecting service only, not to the HTTP/1 one and the TLS one
/// used here.
fn on_connect(conn: &dyn Any, data: &mut Extensions) {
    if let Some(tcp) = conn.downcast_ref::<TcpStream>() {
        let _ = tcp.set_nodelay(true);
        data.insert(ConnSocket::plain(tcp.as_raw_fd()));
    } else if let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() {
        let tcp = tls.get_ref().0;
        let _ = tcp.set_nodelay(true);
        data.insert(ConnSocket::encrypted(tcp.as_raw_fd()));
    }
}
