//! Binding and running the server: the listening socket with its send-buffer cap, TLS when
//! configured, and the actix settings the byte pump and the live stats depend on.

use std::any::Any;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd as _;
use std::sync::Arc;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::{Extensions, Server};
use actix_web::{App, HttpServer};

use tokio::net::TcpStream;

use super::routes;
use super::tls::Tls;
use crate::config::Config;
use crate::state::AppState;
use crate::stream::{ConnSocket, listen};

/// Starts the server on `config.addr`, over TLS with `tls`, and returns it (to be awaited) with
/// the address it got.
pub fn start(
    config: &Config,
    state: Arc<AppState>,
    tls: Option<Tls>,
) -> io::Result<(Server, SocketAddr)> {
    let mut server = HttpServer::new(move || App::new().configure(routes(Arc::clone(&state))))
        // Bodies go out in chunks smaller than the response: without NODELAY, Nagle holds the tail
        // of each range response back ~40 ms.
        .tcp_nodelay(true)
        // Notice a closed SSE client within a fraction of a second instead of on the next write.
        .h1_allow_half_closed(false)
        .shutdown_timeout(5)
        .client_request_timeout(config.request_timeout)
        // The pump sizes chunks by the socket's free room; let it see the socket once per chunk.
        .on_connect(record_socket)
        // Poll a body only once everything written before it has reached the socket. The pump's
        // sendfile path depends on it (file bytes must land after the head); it also keeps the
        // connection's buffer from growing with batched chunks.
        .h1_write_buffer_size(1);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let cannot_listen = |err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("cannot listen on {}: {err}", config.addr),
        )
    };
    let listener = listen(config.addr, config.send_buffer).map_err(cannot_listen)?;
    let server = match tls {
        Some(Tls(tls)) => server.listen_rustls_0_23(listener, tls),
        None => server.listen(listener),
    }
    .map_err(cannot_listen)?;
    let addr = server.addrs()[0];
    Ok((server.run(), addr))
}

/// `HttpServer::on_connect` hook: stores the connection's [`ConnSocket`] in its data.
fn record_socket(conn: &dyn Any, data: &mut Extensions) {
    if let Some(tcp) = conn.downcast_ref::<TcpStream>() {
        data.insert(ConnSocket::plain(tcp.as_raw_fd()));
    } else if let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() {
        data.insert(ConnSocket::encrypted(tls.get_ref().0.as_raw_fd()));
    }
}
