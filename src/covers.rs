//! Covers made smaller for apps that ask for a size (the Subsonic API's `getCoverArt`): decoded
//! within bounds (at most 64 MiB and 10,000 pixels a side), scaled to fit a square of the size
//! asked (never up), written as JPEG; the results kept in a cache of at most [`CACHE_BYTES`], the
//! least recently used dropped first. At most one resize per core runs at a time.

use std::io::Cursor;
use std::sync::Mutex;

use hashlink::LruCache;
use image::imageops::FilterType;
use image::{ImageReader, Limits};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::library::Image;

/// How many bytes of resized covers are kept.
pub const CACHE_BYTES: usize = 4 << 20;

/// The largest size asked for that is made; larger asks get the original.
pub const MAX_SIZE: u32 = 2048;

/// Resized covers by (cover version, size).
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

    /// The cover of `version` at `size` if it was made before.
    pub fn cached(&self, version: &str, size: u32) -> Option<Image> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entries.get(&(version.to_owned(), size)).cloned()
    }

    /// `original` (the cover of `version`) fitted into `size`×`size` pixels as JPEG, and kept; the
    /// original itself when it is no larger, or cannot be decoded within bounds. Blocks (decodes
    /// and encodes): call it on a blocking thread.
    pub fn resize(&self, version: &str, original: Image, size: u32) -> Image {
        let Some(made) = fit(&original, size) else {
            return original;
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if made.data.len() <= cache.most {
            cache.bytes += made.data.len();
            if let Some(old) = cache
                .entries
                .insert((version.to_owned(), size), made.clone())
            {
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

/// `image` scaled down into `size`×`size` as JPEG; `None` when it already fits or will not decode.
fn fit(image: &Image, size: u32) -> Option<Image> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(64 << 20);
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    let mut reader = ImageReader::new(Cursor::new(&image.data))
        .with_guessed_format()
        .ok()?;
    reader.limits(limits);
    let decoded = reader.decode().ok()?;
    if decoded.width() <= size && decoded.height() <= size {
        return None;
    }
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
    fn covers_shrink_to_fit_keep_their_shape_and_stay_within_the_cache() {
        let covers = Covers::holding(20_000);
        let made = covers.resize("v1", png(400, 200), 100);
        assert_eq!(made.mime, "image/jpeg");
        let decoded = image::load_from_memory(&made.data).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (100, 50));
        assert_eq!(covers.cached("v1", 100), Some(made));
        assert_eq!(covers.cached("v1", 50), None);

        let small = png(40, 40);
        assert_eq!(covers.resize("v2", small.clone(), 100), small, "never up");
        let junk = Image {
            mime: "image/png",
            data: b"\x89PNG\r\n\x1a\nnot really".to_vec(),
        };
        assert_eq!(covers.resize("v3", junk.clone(), 100), junk);

        for n in 0..20 {
            covers.resize(&format!("w{n}"), png(200, 200), 199);
        }
        assert!(covers.cached_bytes() <= 20_000);
        assert!(covers.cached("w19", 199).is_some());
        assert!(covers.cached("w0", 199).is_none(), "the oldest dropped");
    }
}
