//! `GET /static/<file>`: the page's CSS, JS and icons, embedded in the binary with rust-embed so the
//! server is one file that works offline. Served with a content-hash `ETag` and revalidated on each use.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::conditional::not_modified;
use super::error::Error;

/// The files under `static/`.
#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

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
    let etag = header::EntityTag::new_strong(
        asset.metadata.sha256_hash()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    );
    let mut res = HttpResponse::Ok();
    res.insert_header(header::ETag(etag.clone()))
        // Always revalidate: a new binary may ship new assets under the same name.
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if not_modified(&req, &etag) {
        return Ok(res
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish());
    }
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    Ok(res
        .insert_header((header::CONTENT_TYPE, mime.to_string()))
        .body(asset.data.into_owned()))
}
