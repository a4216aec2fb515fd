//! `GET /static/<file>`: the page's CSS, JS and icons, embedded in the binary with rust-embed so the
//! server is one file that works offline. Served with a content-hash `ETag` and revalidated on each
//! use; brotli-compressed at build time (`build.rs`) for browsers that accept it, otherwise
//! compressed as sent by the route's middleware.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::conditional::not_modified;
use super::error::Error;

/// The files under `static/`.
#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// The brotli-compressed copy of the asset `name`, made at build time, if it is smaller.
fn brotli(name: &str) -> Option<&'static [u8]> {
    include!(concat!(env!("OUT_DIR"), "/static-br/index.rs"))
}

/// Whether the request's `Accept-Encoding` lists brotli (not refused with `q=0`).
fn accepts_brotli(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("br") && parts.all(|p| p.replace(' ', "") != "q=0")
        })
}

/// `GET /static/{file}`. The name is only ever looked up among the embedded files.
pub(super) async fn serve(
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let name = file.into_inner();
    if !Assets::iter().any(|known| known == name) {
        return Err(Error::NotFound);
    }
    let asset = Assets::get(&name).ok_or(Error::NotFound)?;
    // Weak: the same validator stands for the plain and the compressed bytes.
    let etag = header::EntityTag::new_weak(
        asset.metadata.sha256_hash()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    );
    let mut res = HttpResponse::Ok();
    res.insert_header(header::ETag(etag.clone()))
        .insert_header((header::VARY, "accept-encoding"))
        // Always revalidate: a new binary may ship new assets under the same name.
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if not_modified(&req, &etag) {
        return Ok(res
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish());
    }
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    res.insert_header((header::CONTENT_TYPE, mime.to_string()));
    match brotli(&name).filter(|_| accepts_brotli(&req)) {
        // The route's compression leaves an answer that already names its encoding alone.
        Some(compressed) => Ok(res
            .insert_header((header::CONTENT_ENCODING, "br"))
            .body(compressed)),
        None => Ok(res.body(asset.data.into_owned())),
    }
}
