//! `HEAD` must not read the file. Measured with the kernel's own count of bytes this process read
//! (`rchar` in `/proc/self/io`), so this file holds one test and runs alone in its own process.

use testkit::{Fixture, TestServer};

fn bytes_read_by_this_process() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn head_answers_with_the_length_without_reading_the_file() {
    const SIZE: u64 = 64 * 1024 * 1024;
    let fixture = Fixture::new();
    let file = std::fs::File::create(fixture.audio_dir().join("big.flac")).unwrap();
    file.set_len(SIZE).unwrap(); // sparse: no disk needed
    let server = TestServer::start(&fixture.config()).await;
    let client = reqwest::Client::new();

    let before = bytes_read_by_this_process();
    for _ in 0..4 {
        let res = client.head(server.url("/audio/big")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-length"], SIZE.to_string().as_str());
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let head_reads = bytes_read_by_this_process() - before;
    assert!(head_reads < 1024 * 1024, "4 HEADs read {head_reads} bytes");

    // Control: the same measurement sees a GET read the range it serves from the file. (The
    // client's socket reads use recv(), which rchar does not count.)
    let before = bytes_read_by_this_process();
    let res = client
        .get(server.url("/audio/big"))
        .header("Range", "bytes=0-16777215")
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().len(), 16 * 1024 * 1024);
    let get_reads = bytes_read_by_this_process() - before;
    assert!(
        get_reads >= 16 * 1024 * 1024,
        "GET of 16 MiB read only {get_reads} bytes"
    );
}
