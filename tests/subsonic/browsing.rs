//! Browsing by folder and by tags, the lists and the searches, over a small tagged library: every
//! answer in XML valid against the schema, the JSON read for what apps show.

use serde_json::Value;
use testkit::{Fixture, Tagger, TestServer};

use super::{check_json, code, get, json, keep_json, server, validate, xmllint};

/// A file, its title, artists, album artist, album, number, date and genre.
type Tagged<'a> = (
    &'a str,
    &'a str,
    &'a [&'a str],
    &'a str,
    &'a str,
    u32,
    &'a str,
    &'a str,
);

/// Three albums' tracks in folders, and one loose file:
/// `jazz/blue/{a,b}.wav` (Quartet, "Blue", 1999, Jazz; `a` with a cover), `rock/red/x.wav` (Trio
/// with Guest, "Red", 2005, Rock), `beatles/y.wav` (The Beatles, "Abbey", 1969, Rock), `loose.wav`.
pub(super) fn library() -> Fixture {
    let fixture = Fixture::new();
    let tracks: [Tagged; 4] = [
        (
            "jazz/blue/b.wav",
            "Second",
            &["Quartet"],
            "Quartet",
            "Blue",
            2,
            "1999",
            "Jazz",
        ),
        (
            "jazz/blue/a.wav",
            "First",
            &["Quartet"],
            "Quartet",
            "Blue",
            1,
            "1999",
            "Jazz",
        ),
        (
            "rock/red/x.wav",
            "Only",
            &["Trio", "Guest"],
            "Trio",
            "Red",
            1,
            "2005",
            "Rock",
        ),
        (
            "beatles/y.wav",
            "Come",
            &["The Beatles"],
            "The Beatles",
            "Abbey",
            1,
            "1969",
            "Rock",
        ),
    ];
    for (file, title, artists, album_artist, album, number, date, genre) in tracks {
        fixture.wav(file, 0.2);
        let mut tagger = Tagger::default()
            .title(title)
            .artists(artists)
            .album_artist(album_artist)
            .album(album)
            .track(number)
            .date(date)
            .genres(&[genre]);
        if file.ends_with("a.wav") {
            tagger = tagger.picture(
                lofty::picture::PictureType::CoverFront,
                &testkit::png(8, 8, 1),
            );
        }
        tagger.save(&fixture.audio_dir().join(file));
    }
    fixture.wav("loose.wav", 0.2);
    fixture
}

/// The names (or titles) of `list`'s entries.
pub(super) fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|entry| entry[field].as_str().unwrap().to_owned())
        .collect()
}

/// `call`'s XML answer, checked against the schema, and its JSON answer.
pub(super) async fn both(fixture: &Fixture, server: &TestServer, call: &str) -> Value {
    let (_, _, xml) = get(server, call).await;
    assert!(xml.contains("status=\"ok\""), "{call}: {xml}");
    if xmllint() {
        validate(&xml, fixture.root());
    }
    let answer = json(server, call).await;
    assert_eq!(answer["status"], "ok", "{call}: {answer}");
    keep_json(fixture, call, &answer);
    answer
}

#[tokio::test]
async fn artists_albums_songs_and_genres_by_their_ids() {
    let fixture = library();
    let server = server(&fixture, false).await;

    let artists = both(&fixture, &server, "getArtists").await;
    let index = &artists["artists"]["index"];
    assert_eq!(artists["artists"]["ignoredArticles"], "The");
    assert_eq!(names(index, "name"), ["B", "Q", "T"], "The Beatles under B");
    assert_eq!(names(&index[1]["artist"], "name"), ["Quartet"]);
    assert_eq!(index[1]["artist"][0]["albumCount"], 1);
    let quartet = index[1]["artist"][0]["id"].as_str().unwrap().to_owned();
    assert!(quartet.starts_with("ar-"), "{quartet}");

    let artist = both(&fixture, &server, &format!("getArtist?id={quartet}")).await;
    assert_eq!(artist["artist"]["name"], "Quartet");
    assert_eq!(names(&artist["artist"]["album"], "name"), ["Blue"]);
    let album = &artist["artist"]["album"][0];
    assert_eq!(album["songCount"], 2);
    assert_eq!(album["year"], 1999);
    assert_eq!(album["genre"], "Jazz");
    assert_eq!(album["artistId"], quartet.as_str());
    let blue = album["id"].as_str().unwrap().to_owned();
    assert_eq!(album["coverArt"], blue.as_str(), "the album has a cover");

    let answer = both(&fixture, &server, &format!("getAlbum?id={blue}")).await;
    let songs = &answer["album"]["song"];
    assert_eq!(
        names(songs, "title"),
        ["First", "Second"],
        "by track number"
    );
    let first = &songs[0];
    assert_eq!(first["albumId"], blue.as_str());
    assert_eq!(first["artistId"], quartet.as_str());
    assert_eq!(first["isDir"], false);
    assert_eq!(first["suffix"], "wav");
    assert_eq!(first["path"], "jazz/blue/a.wav");
    assert_eq!(first["track"], 1);
    assert_eq!(first["year"], 1999);
    assert_eq!(first["genres"], serde_json::json!([{ "name": "Jazz" }]));
    assert_eq!(first["artists"][0]["id"], quartet.as_str());
    assert_eq!(first["albumArtists"][0]["name"], "Quartet");
    assert_eq!(first["samplingRate"], 8000);
    assert_eq!(first["channelCount"], 1);
    assert_eq!(first["playCount"], 0);
    assert!(first["coverArt"].is_string() && songs[1].get("coverArt").is_none());
    let size = std::fs::metadata(fixture.audio_dir().join("jazz/blue/a.wav"))
        .unwrap()
        .len();
    assert_eq!(first["size"], size);

    let id = first["id"].as_str().unwrap();
    let song = both(&fixture, &server, &format!("getSong?id={id}")).await;
    assert_eq!(&song["song"], first, "getSong says what getAlbum said");

    // A song with two artists credits both, each with their id.
    let search = json(&server, "search3?query=only").await;
    let only = &search["searchResult3"]["song"][0];
    assert_eq!(names(&only["artists"], "name"), ["Trio", "Guest"]);
    assert!(only["displayArtist"].as_str().unwrap().starts_with("Trio"));

    let genres = both(&fixture, &server, "getGenres").await;
    assert_eq!(
        genres["genres"]["genre"],
        serde_json::json!([
            { "value": "Jazz", "songCount": 2, "albumCount": 1 },
            { "value": "Rock", "songCount": 2, "albumCount": 2 },
        ])
    );
    let (_, _, xml) = get(&server, "getGenres").await;
    assert!(
        xml.contains(r#"<genre songCount="2" albumCount="1">Jazz</genre>"#),
        "{xml}"
    );

    for call in [
        format!("getArtistInfo2?id={quartet}"),
        format!("getArtistInfo?id={quartet}"),
        format!("getAlbumInfo2?id={blue}"),
        "getTopSongs?artist=quartet".to_owned(),
        format!("getSimilarSongs2?id={id}"),
        format!("getSimilarSongs?id={quartet}"),
    ] {
        both(&fixture, &server, &call).await;
    }
    let top = json(&server, "getTopSongs?artist=quartet&count=1").await;
    assert_eq!(top["topSongs"]["song"].as_array().unwrap().len(), 1);
    let similar = json(&server, &format!("getSimilarSongs2?id={id}")).await;
    assert_eq!(
        names(&similar["similarSongs2"]["song"], "title")[0],
        "Second",
        "the same artist first"
    );
    // Trio shares Rock with The Beatles, and with Guest, who plays on Red; not with Quartet.
    let trio = &index[2]["artist"][0]["id"];
    let info = json(
        &server,
        &format!("getArtistInfo2?id={}", trio.as_str().unwrap()),
    )
    .await;
    let mut similar = names(&info["artistInfo2"]["similarArtist"], "name");
    similar.sort();
    assert_eq!(similar, ["Guest", "The Beatles"]);

    // Ids it does not have, and calls without their id.
    for call in [
        "getAlbum?id=al-0000000000000000",
        "getArtist?id=nope",
        "getSong?id=tr-0000000000000000",
        "getMusicDirectory?id=fo-0000000000000000",
        "getArtistInfo2?id=%FF",
        "getSimilarSongs2?id=x",
    ] {
        assert_eq!(code(&server, call).await, 70, "{call}");
    }
    for call in [
        "getAlbum",
        "getArtist",
        "getSong",
        "getMusicDirectory",
        "getTopSongs",
    ] {
        assert_eq!(code(&server, call).await, 10, "{call}");
    }
    check_json(&fixture);
}

#[tokio::test]
async fn folders_are_browsed_as_they_are_on_disk() {
    let fixture = library();
    let server = server(&fixture, false).await;
    let indexes = both(&fixture, &server, "getIndexes").await;
    let indexes = &indexes["indexes"];
    assert_eq!(names(&indexes["index"], "name"), ["B", "J", "R"]);
    let top: Vec<String> = indexes["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|index| names(&index["artist"], "name"))
        .collect();
    assert_eq!(top, ["beatles", "jazz", "rock"]);
    assert_eq!(names(&indexes["child"], "title"), ["loose"]);
    let modified = indexes["lastModified"].as_i64().unwrap();
    assert!(modified > 0);
    let unchanged = json(&server, &format!("getIndexes?ifModifiedSince={modified}")).await;
    assert!(unchanged["indexes"].get("index").is_none(), "{unchanged}");

    let jazz = indexes["index"][1]["artist"][0]["id"].as_str().unwrap();
    let dir = both(&fixture, &server, &format!("getMusicDirectory?id={jazz}")).await;
    assert_eq!(dir["directory"]["name"], "jazz");
    let blue = &dir["directory"]["child"][0];
    assert_eq!(blue["title"], "blue");
    assert_eq!(blue["isDir"], true);
    assert_eq!(blue["parent"], jazz);
    let root = dir["directory"]["parent"].as_str().unwrap().to_owned();
    let blue = blue["id"].as_str().unwrap();
    let dir = both(&fixture, &server, &format!("getMusicDirectory?id={blue}")).await;
    let songs = &dir["directory"]["child"];
    assert_eq!(names(songs, "title"), ["First", "Second"]);
    assert_eq!(songs[0]["parent"], blue);
    assert_eq!(dir["directory"]["parent"], jazz);

    let dir = both(&fixture, &server, &format!("getMusicDirectory?id={root}")).await;
    assert_eq!(
        names(&dir["directory"]["child"], "title"),
        ["beatles", "jazz", "rock", "loose"],
        "the root: its folders, then its tracks"
    );
    assert!(dir["directory"].get("parent").is_none());

    // An album or an artist from the folder-style lists opens as a directory too.
    let list = both(&fixture, &server, "getAlbumList?type=alphabeticalByName").await;
    let albums = &list["albumList"]["album"];
    assert_eq!(names(albums, "title"), ["Abbey", "Blue", "Red"]);
    assert_eq!(albums[1]["isDir"], true);
    let album = albums[1]["id"].as_str().unwrap();
    let dir = both(&fixture, &server, &format!("getMusicDirectory?id={album}")).await;
    assert_eq!(
        names(&dir["directory"]["child"], "title"),
        ["First", "Second"]
    );
    let artist = albums[1]["parent"].as_str().unwrap();
    let dir = both(&fixture, &server, &format!("getMusicDirectory?id={artist}")).await;
    assert_eq!(names(&dir["directory"]["child"], "title"), ["Blue"]);
    check_json(&fixture);
}

#[tokio::test]
async fn album_lists_of_every_type_random_songs_and_genres_page_and_refuse_bad_values() {
    let fixture = library();
    let server = server(&fixture, false).await;
    let list = async |query: &str| {
        let answer = both(&fixture, &server, &format!("getAlbumList2?{query}")).await;
        names(&answer["albumList2"]["album"], "name")
    };
    assert_eq!(
        list("type=alphabeticalByName").await,
        ["Abbey", "Blue", "Red"]
    );
    assert_eq!(
        list("type=alphabeticalByArtist").await,
        ["Abbey", "Blue", "Red"],
        "Beatles, Quartet, Trio"
    );
    assert_eq!(
        list("type=alphabeticalByName&size=1&offset=1").await,
        ["Blue"]
    );
    assert_eq!(list("type=byYear&fromYear=2000&toYear=2010").await, ["Red"]);
    assert_eq!(
        list("type=byYear&fromYear=2010&toYear=1960").await,
        ["Red", "Blue", "Abbey"],
        "from later to earlier: newest first"
    );
    assert_eq!(list("type=byGenre&genre=rock").await, ["Abbey", "Red"]);
    assert_eq!(list("type=newest").await.len(), 3);
    assert_eq!(list("type=random&size=2").await.len(), 2);
    for kind in ["starred", "frequent", "recent", "highest"] {
        assert!(list(&format!("type={kind}")).await.is_empty(), "{kind}");
    }
    assert_eq!(list("type=alphabeticalByName&size=100000").await.len(), 3);
    assert!(
        list("type=alphabeticalByName&offset=18446744073709551615")
            .await
            .is_empty()
    );

    let songs = json(&server, "getRandomSongs?size=2").await;
    assert_eq!(songs["randomSongs"]["song"].as_array().unwrap().len(), 2);
    let songs = both(&fixture, &server, "getRandomSongs?genre=Jazz&size=10").await;
    let mut titles = names(&songs["randomSongs"]["song"], "title");
    titles.sort();
    assert_eq!(titles, ["First", "Second"]);
    let songs = json(&server, "getRandomSongs?fromYear=2000").await;
    assert_eq!(names(&songs["randomSongs"]["song"], "title"), ["Only"]);
    let songs = both(
        &fixture,
        &server,
        "getSongsByGenre?genre=jazz&count=1&offset=1",
    )
    .await;
    assert_eq!(names(&songs["songsByGenre"]["song"], "title"), ["Second"]);
    let starred = both(&fixture, &server, "getStarred2").await;
    assert_eq!(starred["starred2"]["song"], serde_json::json!([]));
    both(&fixture, &server, "getStarred").await;

    for (call, expected) in [
        ("getAlbumList2", 10),
        ("getAlbumList2?type=byYear", 10),
        ("getAlbumList2?type=byGenre", 10),
        ("getSongsByGenre", 10),
        ("getAlbumList2?type=bogus", 0),
        ("getAlbumList2?type=newest&size=abc", 0),
        ("getAlbumList2?type=newest&size=-1", 0),
        (
            "getAlbumList2?type=newest&offset=99999999999999999999999",
            0,
        ),
        ("getAlbumList2?type=byYear&fromYear=x&toYear=1", 0),
        ("getRandomSongs?size=1e3", 0),
        ("search3?query=a&songCount=-5", 0),
        ("search3", 10),
    ] {
        assert_eq!(code(&server, call).await, expected, "{call}");
    }
    check_json(&fixture);
}

#[tokio::test]
async fn an_empty_search_pages_through_everything_and_words_narrow_it() {
    let fixture = library();
    let server = server(&fixture, false).await;
    let mut seen = Vec::new();
    for offset in (0..10).step_by(2) {
        let call = format!(
            "search3?query=%22%22&songCount=2&songOffset={offset}&artistCount=0&albumCount=0"
        );
        let answer = both(&fixture, &server, &call).await;
        let page = &answer["searchResult3"];
        assert_eq!(page["artist"], serde_json::json!([]));
        seen.extend(names(&page["song"], "id"));
    }
    assert_eq!(seen.len(), 5, "every track once: {seen:?}");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let all = json(&server, "search3?query=").await;
    assert_eq!(all["searchResult3"]["album"].as_array().unwrap().len(), 3);
    assert_eq!(
        all["searchResult3"]["artist"].as_array().unwrap().len(),
        4,
        "with Guest"
    );

    let found = both(&fixture, &server, "search3?query=BLUE").await;
    let found = &found["searchResult3"];
    assert_eq!(names(&found["album"], "name"), ["Blue"]);
    assert_eq!(
        names(&found["song"], "title"),
        ["First", "Second"],
        "by their album"
    );
    assert_eq!(found["artist"], serde_json::json!([]));
    let found = json(&server, "search3?query=quart%20sec").await;
    assert_eq!(names(&found["searchResult3"]["song"], "title"), ["Second"]);
    let found = both(&fixture, &server, "search2?query=beatles").await;
    let found = &found["searchResult2"];
    assert_eq!(names(&found["artist"], "name"), ["The Beatles"]);
    assert_eq!(found["album"][0]["isDir"], true);
    let found = json(&server, "search3?query=%25'%20OR%201=1--").await;
    assert_eq!(found["searchResult3"]["song"], serde_json::json!([]));
    check_json(&fixture);
}

#[tokio::test]
async fn lyrics_by_song_synced_from_an_lrc_file_or_plain_from_the_tags() {
    let fixture = Fixture::new();
    for (file, title) in [
        ("sing.wav", "Sing"),
        ("plain.wav", "Plain"),
        ("none.wav", "None"),
    ] {
        fixture.wav(file, 0.2);
        let mut tagger = Tagger::default().title(title).artist("Voice");
        if file == "plain.wav" {
            tagger = tagger.lyrics("first words\nsecond words");
        }
        tagger.save(&fixture.audio_dir().join(file));
    }
    fixture.file("sing.lrc", b"[ar:Voice]\n[00:01.50]one\n[00:03.00]two\n");
    let server = server(&fixture, false).await;
    let all = json(&server, "search3?query=").await;
    let id = |title: &str| {
        all["searchResult3"]["song"]
            .as_array()
            .unwrap()
            .iter()
            .find(|song| song["title"] == title)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let synced = json(&server, &format!("getLyricsBySongId?id={}", id("Sing"))).await;
    assert_eq!(
        synced["lyricsList"]["structuredLyrics"],
        serde_json::json!([{
            "lang": "und",
            "synced": true,
            "displayArtist": "Voice",
            "displayTitle": "Sing",
            "line": [{ "start": 1500, "value": "one" }, { "start": 3000, "value": "two" }],
        }])
    );
    let plain = json(&server, &format!("getLyricsBySongId?id={}", id("Plain"))).await;
    let lyrics = &plain["lyricsList"]["structuredLyrics"][0];
    assert_eq!(lyrics["synced"], false);
    assert_eq!(
        names(&lyrics["line"], "value"),
        ["first words", "second words"]
    );
    assert!(lyrics["line"][0].get("start").is_none());
    let none = json(&server, &format!("getLyricsBySongId?id={}", id("None"))).await;
    assert_eq!(
        none["lyricsList"]["structuredLyrics"],
        serde_json::json!([])
    );
    assert_eq!(
        code(&server, "getLyricsBySongId?id=tr-0000000000000000").await,
        70
    );
    assert_eq!(code(&server, "getLyricsBySongId").await, 10);
    // The XML form (OpenSubsonic's, which the 1.16.1 schema does not have): well-formed.
    let (_, _, xml) = get(&server, &format!("getLyricsBySongId?id={}", id("Sing"))).await;
    assert!(xml.contains(r#"<line start="1500">one</line>"#), "{xml}");

    let by_name = both(&fixture, &server, "getLyrics?artist=voice&title=plain").await;
    assert_eq!(by_name["lyrics"]["value"], "first words\nsecond words");
    assert_eq!(by_name["lyrics"]["title"], "Plain");
    let missing = both(&fixture, &server, "getLyrics?artist=nobody&title=x").await;
    assert_eq!(
        missing["lyrics"]["value"], "",
        "empty, as the schema wants a value"
    );
    check_json(&fixture);
}

#[tokio::test]
async fn covers_by_song_album_or_artist_id_as_stored_or_resized() {
    covers_as_stored_or_resized("a/one.wav").await;
}

/// As for a WAV, for an MP3: its cover is read from its leading ID3v2 tag alone, on the worker
/// when the file is in the page cache (as it is, just written), and resized on the pool.
#[tokio::test]
async fn an_mp3s_cover_by_song_album_or_artist_id_as_stored_or_resized() {
    covers_as_stored_or_resized("a/one.mp3").await;
}

async fn covers_as_stored_or_resized(name: &str) {
    let fixture = Fixture::new();
    let png = testkit::png(600, 300, 7);
    let covered = |cover: &[u8]| {
        Tagger::default()
            .title("One")
            .artist("Painter")
            .album("Canvas")
            .picture(lofty::picture::PictureType::CoverFront, cover)
            .save(&fixture.audio_dir().join(name))
    };
    if name.ends_with(".mp3") {
        fixture.file(name, &testkit::silent_mp3(0.2));
    } else {
        fixture.wav(name, 0.2);
    }
    covered(&png);
    fixture.wav("bare.wav", 0.2);
    let server = server(&fixture, false).await;
    let all = json(&server, "search3?query=").await;
    let found = &all["searchResult3"];
    let song = found["song"]
        .as_array()
        .unwrap()
        .iter()
        .find(|song| song["title"] == "One")
        .unwrap();
    let bare = found["song"]
        .as_array()
        .unwrap()
        .iter()
        .find(|song| song["title"] == "bare")
        .unwrap();
    assert!(bare.get("coverArt").is_none());
    let cover = |entry: &Value| entry["coverArt"].as_str().unwrap().to_owned();
    let ids = [
        cover(song),
        cover(&found["album"][0]),
        cover(&found["artist"][0]),
    ];
    let fetch = async |call: &str, etag: Option<&str>| {
        let mut req = reqwest::Client::new().get(server.url(&format!("/rest/{call}")));
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        let res = req.send().await.unwrap();
        let kind = res
            .headers()
            .get("content-type")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        let tag = res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        (res.status(), kind, tag, res.bytes().await.unwrap().to_vec())
    };
    for id in &ids {
        let (status, kind, _, body) = fetch(&format!("getCoverArt?id={id}"), None).await;
        assert_eq!((status.as_u16(), kind.as_str()), (200, "image/png"), "{id}");
        assert_eq!(body, png, "{id}: the cover as stored");
    }
    let (_, kind, etag, small) = fetch(&format!("getCoverArt?id={}&size=100", ids[1]), None).await;
    assert_eq!(kind, "image/jpeg");
    let decoded = image::load_from_memory(&small).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (100, 50),
        "fitted, its shape kept"
    );
    let (_, _, _, again) = fetch(&format!("getCoverArt?id={}&size=100", ids[1]), None).await;
    assert_eq!(again, small);
    assert!(server.state.covers.cached_bytes() >= small.len());
    let (status, _, _, _) = fetch(
        &format!("getCoverArt?id={}&size=100", ids[1]),
        etag.as_deref(),
    )
    .await;
    assert_eq!(status.as_u16(), 304);
    let (_, kind, _, body) = fetch(&format!("getCoverArt?id={}&size=99999", ids[0]), None).await;
    assert_eq!(
        (kind.as_str(), body),
        ("image/png", png.clone()),
        "never up"
    );

    // A cover changed on disk is answered anew, not from what was kept of the old one.
    let tall = testkit::png(300, 600, 9);
    covered(&tall);
    let started = json(&server, "startScan").await;
    assert_eq!(started["status"], "ok", "{started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fetch(&format!("getCoverArt?id={}", ids[0]), None).await.3 != tall {
        assert!(
            std::time::Instant::now() < deadline,
            "the new cover never served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, _, _, small) = fetch(&format!("getCoverArt?id={}&size=100", ids[1]), None).await;
    let decoded = image::load_from_memory(&small).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (50, 100),
        "the new one fitted"
    );

    let bare_id = bare["id"].as_str().unwrap();
    for (call, expected) in [
        (format!("getCoverArt?id={bare_id}"), 70),
        ("getCoverArt?id=al-0000000000000000".to_owned(), 70),
        ("getCoverArt".to_owned(), 10),
        (format!("getCoverArt?id={}&size=0", ids[0]), 0),
        (format!("getCoverArt?id={}&size=big", ids[0]), 0),
    ] {
        assert_eq!(code(&server, &call).await, expected, "{call}");
    }
}
