//! Filling the replica's cache: one object fetched whole into a partial file in the background,
//! then moved into place (see `cache`), so a track is cached after its first listener.

use std::io::{self, Write as _};
use std::time::SystemTime;

use futures_util::StreamExt as _;
use object_store::aws::AmazonS3;

use super::cache::Fill;
use super::ranges::{STALL_TIMEOUT, Version, store_error, stream_whole, unavailable};

/// Fetches the `size` bytes of `version` into `fill`'s partial file, dated `modified`, then moves
/// it into place; anything short of every byte leaves nothing behind.
pub(super) async fn fetch(
    store: &AmazonS3,
    version: &Version,
    size: u64,
    modified: SystemTime,
    fill: Fill,
) -> io::Result<()> {
    let mut file = fill.partial()?;
    let mut body = stream_whole(store, version).await?;
    let mut written = 0;
    while let Some(piece) = tokio::time::timeout(STALL_TIMEOUT, body.next())
        .await
        .map_err(|_| unavailable("the store stopped sending"))?
    {
        let piece = piece.map_err(store_error)?;
        // The cache is a local disk: writes land in the page cache.
        file.write_all(&piece)?;
        written += piece.len() as u64;
    }
    if written != size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("got {written} of {size} bytes"),
        ));
    }
    file.as_file().set_modified(modified)?;
    fill.commit(file)
}
