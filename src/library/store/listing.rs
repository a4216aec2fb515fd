//! Listing the objects under the library's prefix: a signed `ListObjectsV2` of our own (signed by
//! object_store's `AwsAuthorizer`), page by page.
//!
//! object_store's own listing fails as a whole at the first key it cannot represent (`a/../b`,
//! `a//b`: S3 stores any key), so one hostile object would freeze the library; here the keys come
//! back as the store has them (`encoding-type=url`, so any byte survives the XML) and the caller
//! checks each one.

use std::io;
use std::sync::Arc;

use object_store::aws::{AmazonS3, AwsAuthorizer};
use object_store::client::{HttpClient, HttpRequestBody};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::client::Client;
use super::ranges::{ANSWER_TIMEOUT, CHECK_TIMEOUT, store_error, unavailable};

/// RFC 3986 unreserved characters: what SigV4 leaves unencoded in a query.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How long a whole listing may take.
const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// One page of a `ListObjectsV2` answer.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPage {
    #[serde(default)]
    contents: Vec<ListedObject>,
    #[serde(default)]
    is_truncated: bool,
    next_continuation_token: Option<String>,
}

/// One object as a listing names it.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListedObject {
    /// Percent-encoded, as `encoding-type=url` asks.
    pub(super) key: String,
    pub(super) size: u64,
    pub(super) last_modified: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "ETag")]
    pub(super) etag: Option<String>,
}

/// One page of `ListObjectsV2` at `url`.
async fn list_page(
    store: &AmazonS3,
    http: &HttpClient,
    region: &str,
    url: String,
) -> io::Result<ListPage> {
    let credential = store
        .credentials()
        .get_credential()
        .await
        .map_err(store_error)?;
    let mut request = http::Request::get(url)
        .body(HttpRequestBody::empty())
        .map_err(io::Error::other)?;
    AwsAuthorizer::new(&credential, "s3", region)
        .try_authorize(&mut request, None)
        .map_err(store_error)?;
    let response = http.execute(request).await.map_err(unavailable)?;
    let status = response.status();
    let body = response.into_body().bytes().await.map_err(unavailable)?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(unavailable(format!("listing answered {status}: {text}")));
    }
    quick_xml::de::from_reader(&body[..]).map_err(io::Error::other)
}

/// Every object under the client's prefix.
pub(super) fn list_objects(client: &Client) -> io::Result<Vec<ListedObject>> {
    let (store, http) = (Arc::clone(&client.store), client.http.clone());
    let (region, base, prefix) = (
        client.region.clone(),
        client.bucket_url.clone(),
        client.prefix.clone(),
    );
    client.block_on(LISTING_TIMEOUT, async move {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = format!(
                "encoding-type=url&list-type=2&prefix={}",
                utf8_percent_encode(&prefix, QUERY)
            );
            if let Some(token) = &token {
                // Parameters in order, as SigV4 signs them.
                let token = utf8_percent_encode(token, QUERY);
                query = format!("continuation-token={token}&{query}");
            }
            let url = format!("{base}?{query}");
            let page = tokio::time::timeout(ANSWER_TIMEOUT, list_page(&store, &http, &region, url))
                .await
                .map_err(|_| unavailable("the store did not answer"))??;
            objects.extend(page.contents);
            match page.next_continuation_token {
                Some(next) if page.is_truncated => token = Some(next),
                _ => return Ok(objects),
            }
        }
    })
}

/// Whether the store answers a one-key listing now.
pub(super) fn check(client: &Client) -> io::Result<()> {
    let (store, http, region) = (
        Arc::clone(&client.store),
        client.http.clone(),
        client.region.clone(),
    );
    let url = format!("{}?list-type=2&max-keys=1", client.bucket_url);
    client.block_on(CHECK_TIMEOUT, async move {
        list_page(&store, &http, &region, url).await.map(drop)
    })
}

#[cfg(test)]
mod tests {
    use percent_encoding::percent_decode_str;

    use super::super::cache::relative_path;
    use super::*;

    #[test]
    fn unreadable_keys_do_not_stop_a_listing_page() {
        let xml = r#"<ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>a%2F..%2F..%2Fx.mp3</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>3</Size></Contents>
            <Contents><Key>ok.mp3</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>"f"</ETag><Size>4</Size></Contents>
            </ListBucketResult>"#;
        let page: ListPage = quick_xml::de::from_str(xml).unwrap();
        assert_eq!(page.contents.len(), 2);
        let keys: Vec<_> = page
            .contents
            .iter()
            .map(|c| percent_decode_str(&c.key).decode_utf8_lossy().into_owned())
            .filter(|k| relative_path(k).is_some())
            .collect();
        assert_eq!(keys, ["ok.mp3"]);
    }
}
