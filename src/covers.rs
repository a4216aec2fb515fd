//! Covers for apps (the Subsonic API's `getCoverArt`): as stored, or made smaller for a size asked:
//! decoded within bounds (at most 64 MiB and 10,000 pixels a side), scaled to fit a square of that
//! size (never up), written as JPEG. Every answer, made or as stored, is kept in a cache of at most
//! [`CACHE_BYTES`] (none larger than a quarter of it), the least recently used dropped first, so an
//! app asking again is answered from memory. At most one read or resize per core runs at a time on
//! the blocking pool ([`Covers::turn`]); a cover read on the worker without waiting takes no turn.

use std::io::Cursor;
use std::sync::Mutex;

use bytes::Bytes;
use hashlink::LruCache;
use image::imageops::FilterType;
use image::{ImageReader, Limits};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::library::Image;

/// How many bytes of resized covers are kept.
pub const CACHE_BYTES: usize = 4 << 20;

/// The largest size asked for that is made; larger asks get the original.
pub const MAX_SIZE: u32 = 2048;

/// The cache's size for a cover asked for as stored.
const AS_STORED: u32 = 0;

/// Covers as answered, by (cover version, size asked or [`AS_STORED`]).
#[derive(Debug)]
pub struct Covers {
    cache: Mutex<Cache>,
    /// One turn per core: resizes waiting beyond that queue here, not on the blocking pool.
    turns: Semaphore,
}

#[derive(Debug)]
struct Cache {
    entries: LruCache<(String, u32), Image>,
    bytes: usize,
    most: usize,
}

impl Default for Covers {
    fn default() -> Self {
        Self::holding(CACHE_BYTES)
    }
}

impl Covers {
    /// Covers whose cache keeps at most `most` bytes.
    fn holding(most: usize) -> Self {
        Self {
            cache: Mutex::new(Cache {
                entries: LruCache::new_unbounded(),
                bytes: 0,
                most,
            }),
            turns: Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)),
        }
    }

    /// Waits for a turn to read and resize a cover (held until dropped).
    pub async fn turn(&self) -> SemaphorePermit<'_> {
        self.turns
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// The cover of `version` fitted into `size` (as stored with `None`) if it was answered before.
    pub fn cached(&self, version: &str, size: Option<u32>) -> Option<Image> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entries.get(&key(version, size)).cloned()
    }

    /// `original` (the cover of `version`) fitted into `size`×`size` pixels as JPEG (the original
    /// itself with `None`, when it is no larger, or when it cannot be decoded within bounds), and
    /// kept. Blocks (decodes and encodes): call it on a blocking thread.
    pub fn answer(&self, version: &str, original: Image, size: Option<u32>) -> Image {
        let made = size
            .filter(|&size| larger(&original, size))
            .and_then(|size| shrink(&original, size))
            .unwrap_or(original);
        self.keep(version, size, made)
    }

    /// [`Covers::answer`] where it needs no resizing (`original` is sent as stored), on any thread:
    /// only the image's header is read. `Err(original)` when it is to be made smaller: then
    /// [`Covers::answer`], on a blocking thread.
    pub fn answer_as_stored(
        &self,
        version: &str,
        original: Image,
        size: Option<u32>,
    ) -> Result<Image, Image> {
        if size.is_some_and(|size| larger(&original, size)) {
            return Err(original);
        }
        Ok(self.keep(version, size, original))
    }

    /// Keeps `made`, the answer for the cover of `version` at `size`, unless it is larger than a
    /// quarter of the cache; drops the least recently asked beyond the cache's bytes.
    fn keep(&self, version: &str, size: Option<u32>, made: Image) -> Image {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if made.data.len() <= cache.most / 4 {
            cache.bytes += made.data.len();
            if let Some(old) = cache.entries.insert(key(version, size), made.clone()) {
                cache.bytes -= old.data.len();
            }
            while cache.bytes > cache.most {
                let Some((_, dropped)) = cache.entries.remove_lru() else {
                    break;
                };
                cache.bytes -= dropped.data.len();
            }
        }
        made
    }

    /// The bytes the cache holds.
    pub fn cached_bytes(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

/// The cache's key for the cover of `version` asked for at `size` (as stored with `None`).
fn key(version: &str, size: Option<u32>) -> (String, u32) {
    (version.to_owned(), size.unwrap_or(AS_STORED))
}

/// The bounds an image is decoded within.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(64 << 20);
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits
}

/// A reader of `image` in the format its bytes say, within [`limits`].
fn reader(image: &Image) -> Option<ImageReader<Cursor<&Bytes>>> {
    let mut reader = ImageReader::new(Cursor::new(&image.data))
        .with_guessed_format()
        .ok()?;
    reader.limits(limits());
    Some(reader)
}

/// Whether `image` is larger than `size`×`size`, as its header says (no decoding); `false` when the
/// header cannot be read (the image is then sent as stored).
fn larger(image: &Image, size: u32) -> bool {
    reader(image)
        .and_then(|reader| reader.into_dimensions().ok())
        .is_some_and(|(width, height)| width > size || height > size)
}

/// `image` scaled down into `size`×`size` as JPEG; `None` when it will not decode.
fn shrink(image: &Image, size: u32) -> Option<Image> {
    let decoded = reader(image)?.decode().ok()?;
    let small = decoded.resize(size, size, FilterType::Triangle).to_rgb8();
    let mut data = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut data, 85)
        .encode_image(&small)
        .ok()?;
    Image::new(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Image {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut data = Vec::new();
        pixels
            .write_to(&mut Cursor::new(&mut data), image::ImageFormat::Png)
            .unwrap();
        Image::new(data).unwrap()
    }

    #[test]
    fn only_covers_that_need_no_resizing_are_answered_as_stored() {
        let covers = Covers::holding(40_000);
        let wide = png(400, 200);
        let to_resize = covers.answer_as_stored("v1", wide.clone(), Some(100));
        assert_eq!(to_resize, Err(wide.clone()));
        assert_eq!(covers.cached("v1", Some(100)), None, "nothing kept for it");
        for size in [Some(400), None] {
            let sent = covers.answer_as_stored("v1", wide.clone(), size);
            assert_eq!(sent, Ok(wide.clone()), "{size:?}");
            assert_eq!(covers.cached("v1", size), Some(wide.clone()), "{size:?}");
        }
        let junk = Image {
            mime: "image/png",
            data: Bytes::from_static(b"\x89PNG\r\n\x1a\nnot really"),
        };
        let sent = covers.answer_as_stored("v2", junk.clone(), Some(100));
        assert_eq!(sent, Ok(junk), "an unreadable header: as stored");
    }

    #[test]
    fn covers_shrink_to_fit_keep_their_shape_and_stay_within_the_cache() {
        let covers = Covers::holding(40_000);
        let made = covers.answer("v1", png(400, 200), Some(100));
        assert_eq!(made.mime, "image/jpeg");
        let decoded = image::load_from_memory(&made.data).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (100, 50));
        assert_eq!(covers.cached("v1", Some(100)), Some(made));
        assert_eq!(covers.cached("v1", Some(50)), None);
        assert_eq!(covers.cached("v1", None), None);

        let small = png(40, 40);
        assert_eq!(
            covers.answer("v2", small.clone(), Some(100)),
            small,
            "never up"
        );
        assert_eq!(
            covers.cached("v2", Some(100)),
            Some(small.clone()),
            "kept too"
        );
        assert_eq!(covers.answer("v3", small.clone(), None), small);
        assert_eq!(covers.cached("v3", None), Some(small), "as stored, kept");
        let junk = Image {
            mime: "image/png",
            data: Bytes::from_static(b"\x89PNG\r\n\x1a\nnot really"),
        };
        assert_eq!(covers.answer("v4", junk.clone(), Some(100)), junk);

        let large = png(1000, 1000);
        assert!(large.data.len() > 10_000);
        assert_eq!(covers.answer("v5", large.clone(), None), large);
        assert_eq!(
            covers.cached("v5", None),
            None,
            "larger than a quarter: not kept"
        );

        for n in 0..20 {
            let made = covers.answer(&format!("w{n}"), png(200, 200), Some(199));
            assert!(made.data.len() <= 10_000, "{}", made.data.len());
        }
        assert!(covers.cached_bytes() <= 40_000);
        assert!(covers.cached("w19", Some(199)).is_some());
        assert!(
            covers.cached("w0", Some(199)).is_none(),
            "the oldest dropped"
        );
    }
}
