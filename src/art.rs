//! `GET`/`HEAD /art/<name>`: a track's cover, the picture embedded in its tags or its folder's
//! `cover.jpg` (see [`crate::library`]), read when asked for and never kept in memory.
//!
//! Track URLs carry the cover's version (`?v=`): a request naming the current version may be cached
//! for good (`immutable`); any other is revalidated with the `ETag`. The `Content-Type` is taken
//! from the image's bytes, so a tag cannot make the server send a page.

use std::io::Read as _;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::AppState;
use crate::assets::not_modified;
use crate::audio::decode_name;
use crate::error::Error;
use crate::library::Artwork;
use crate::tags::{Image, embedded_cover};

/// The route pattern; `name` is a track's name, which may contain `/`.
pub const ROUTE: &str = "/art/{name:.*}";

/// Largest folder image served; a bigger `cover.jpg` is not a cover.
const MAX_IMAGE_BYTES: u64 = 16 * 1024 * 1024;

/// `GET /art/{name}`.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let name =
        decode_name(req.match_info().get("name").unwrap_or_default()).ok_or(Error::NotFound)?;
    let artwork = state
        .library
        .snapshot()
        .get(&name)
        .and_then(|track| track.artwork.clone())
        .ok_or(Error::NotFound)?;
    let etag = header::EntityTag::new_strong(artwork.version.clone());
    let current = web::Query::<Version>::from_query(req.query_string())
        .is_ok_and(|q| q.v.as_deref() == Some(artwork.version.as_str()));
    let mut res = HttpResponse::Ok();
    res.insert_header(header::ETag(etag.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            if current {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            },
        ));
    if not_modified(&req, &etag) {
        return Ok(res
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish());
    }
    let image = web::block(move || load(&artwork))
        .await
        .map_err(|err| Error::Io(std::io::Error::other(err)))?
        .ok_or(Error::NotFound)?;
    Ok(res
        .insert_header((header::CONTENT_TYPE, image.mime))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(image.data))
}

/// The `?v=` of an art URL.
#[derive(serde::Deserialize)]
struct Version {
    v: Option<String>,
}

/// Reads the image now; `None` if it has gone, grown too big, or is not an image.
fn load(artwork: &Artwork) -> Option<Image> {
    if artwork.embedded {
        return embedded_cover(&artwork.path);
    }
    let mut data = Vec::new();
    std::fs::File::open(&artwork.path)
        .ok()?
        .take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut data)
        .ok()?;
    if data.len() as u64 > MAX_IMAGE_BYTES {
        log::warn!("not serving {}: larger than 16 MiB", artwork.path.display());
        return None;
    }
    Image::new(data)
}
