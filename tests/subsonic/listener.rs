//! What a listener keeps through the API, signed in as `alice`: stars, ratings, plays and what
//! plays now, playlists, the play queue, bookmarks; the account and the scan. Every answer in XML
//! valid against the schema; what was saved is there for a second server on the same database.

use serde_json::Value;
use testkit::{Fixture, TestServer};

use super::browsing::{both, library, names};
use super::{check_json, code, get, json, server, validate, xmllint};

/// `call` with alice's credentials.
fn signed(call: &str) -> String {
    let sep = if call.contains('?') { '&' } else { '?' };
    format!("{call}{sep}u=alice&p=correct%20horse%20battery&c=phone")
}

/// `call`'s answer (XML checked, JSON returned), signed.
async fn ok(fixture: &Fixture, server: &TestServer, call: &str) -> Value {
    both(fixture, server, &signed(call)).await
}

/// Makes the change `call` asks for, once, signed: its XML answer checked.
async fn change(fixture: &Fixture, server: &TestServer, call: &str) {
    let (_, _, xml) = get(server, &signed(call)).await;
    assert!(xml.contains("status=\"ok\""), "{call}: {xml}");
    if xmllint() {
        validate(&xml, fixture.root());
    }
}

/// The error code of `call`, signed.
async fn fails(server: &TestServer, call: &str) -> i64 {
    code(server, &signed(call)).await
}

/// The ids of the songs of the album named `name`, in order.
async fn album_songs(server: &TestServer, name: &str) -> (String, Vec<String>) {
    let albums = json(server, &signed("getAlbumList2?type=alphabeticalByName")).await;
    let album = albums["albumList2"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|album| album["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = json(server, &signed(&format!("getAlbum?id={album}"))).await;
    (album, names(&answer["album"]["song"], "id"))
}

#[tokio::test]
async fn stars_ratings_plays_and_now_playing() {
    let fixture = library();
    let server = server(&fixture, true).await;
    let (blue, songs) = album_songs(&server, "Blue").await;
    let (first, second) = (&songs[0], &songs[1]);
    let artist = json(&server, &signed(&format!("getAlbum?id={blue}"))).await["album"]["artistId"]
        .as_str()
        .unwrap()
        .to_owned();

    change(
        &fixture,
        &server,
        &format!("star?id={first}&albumId={blue}&artistId={artist}"),
    )
    .await;
    let starred = ok(&fixture, &server, "getStarred2").await;
    let starred = &starred["starred2"];
    assert_eq!(names(&starred["song"], "id"), [first.as_str()]);
    assert_eq!(names(&starred["album"], "id"), [blue.as_str()]);
    assert_eq!(names(&starred["artist"], "id"), [artist.as_str()]);
    assert!(
        starred["song"][0]["starred"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    ok(&fixture, &server, "getStarred").await;
    let album = ok(&fixture, &server, &format!("getAlbum?id={blue}")).await;
    assert!(album["album"]["starred"].is_string());
    assert!(album["album"]["song"][0]["starred"].is_string());
    assert!(album["album"]["song"][1].get("starred").is_none());
    let list = json(&server, &signed("getAlbumList2?type=starred")).await;
    assert_eq!(names(&list["albumList2"]["album"], "name"), ["Blue"]);
    change(
        &fixture,
        &server,
        &format!("unstar?id={first}&albumId={blue}"),
    )
    .await;
    let starred = json(&server, &signed("getStarred2")).await;
    assert_eq!(starred["starred2"]["song"], serde_json::json!([]));
    assert_eq!(starred["starred2"]["artist"].as_array().unwrap().len(), 1);

    change(
        &fixture,
        &server,
        &format!("setRating?id={second}&rating=4"),
    )
    .await;
    change(&fixture, &server, &format!("setRating?id={blue}&rating=5")).await;
    let song = json(&server, &signed(&format!("getSong?id={second}"))).await;
    assert_eq!(song["song"]["userRating"], 4);
    let list = json(&server, &signed("getAlbumList2?type=highest")).await;
    assert_eq!(names(&list["albumList2"]["album"], "name"), ["Blue"]);
    change(
        &fixture,
        &server,
        &format!("setRating?id={second}&rating=0"),
    )
    .await;
    let song = json(&server, &signed(&format!("getSong?id={second}"))).await;
    assert!(song["song"].get("userRating").is_none(), "{song}");

    // Now playing: said, not counted.
    change(
        &fixture,
        &server,
        &format!("scrobble?id={first}&submission=false"),
    )
    .await;
    let now = ok(&fixture, &server, "getNowPlaying").await;
    let entry = &now["nowPlaying"]["entry"][0];
    assert_eq!(entry["id"], first.as_str());
    assert_eq!(entry["username"], "alice");
    assert_eq!(entry["playerName"], "phone");
    assert_eq!(entry["minutesAgo"], 0);
    let song = json(&server, &signed(&format!("getSong?id={first}"))).await;
    assert_eq!(song["song"]["playCount"], 0);

    // Two plays of one song and one of the other, one with its time.
    change(
        &fixture,
        &server,
        &format!("scrobble?id={first}&id={second}&time=1700000000000&time=1700000300000"),
    )
    .await;
    change(&fixture, &server, &format!("scrobble?id={first}")).await;
    let song = json(&server, &signed(&format!("getSong?id={second}"))).await;
    assert_eq!(song["song"]["playCount"], 1);
    assert_eq!(song["song"]["played"], "2023-11-14T22:18:20.000Z");
    let song = json(&server, &signed(&format!("getSong?id={first}"))).await;
    assert_eq!(song["song"]["playCount"], 2);
    for kind in ["frequent", "recent"] {
        let list = json(&server, &signed(&format!("getAlbumList2?type={kind}"))).await;
        assert_eq!(
            names(&list["albumList2"]["album"], "name"),
            ["Blue"],
            "{kind}"
        );
    }
    let top = json(&server, &signed("getTopSongs?artist=Quartet")).await;
    assert_eq!(names(&top["topSongs"]["song"], "id")[0], first.as_str());

    // Faults.
    for (call, expected) in [
        ("star?id=tr-0000000000000000".to_owned(), 70),
        ("star?id=fo-0000000000000000".to_owned(), 70),
        (format!("setRating?id={first}&rating=6"), 0),
        (format!("setRating?id={first}&rating=x"), 0),
        (format!("setRating?id={first}"), 10),
        ("setRating?rating=1".to_owned(), 10),
        ("scrobble".to_owned(), 10),
        (format!("scrobble?id={first}&time=yesterday"), 0),
        (format!("scrobble?id={first}&submission=maybe"), 0),
        ("scrobble?id=tr-0000000000000000".to_owned(), 70),
    ] {
        assert_eq!(fails(&server, &call).await, expected, "{call}");
    }

    // 1,001 ids (posted: too long for a request line) are more than one call may name.
    let form = format!(
        "{}&u=alice&p=correct%20horse%20battery&f=json",
        vec![format!("id={first}"); 1001].join("&")
    );
    let res = reqwest::Client::new()
        .post(server.url("/rest/star"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["subsonic-response"]["error"]["code"], 0, "{answer}");

    // What was saved is in the database, for another server on it.
    let again = super::server(&fixture, true).await;
    let starred = json(&again, &signed("getStarred2")).await;
    assert_eq!(starred["starred2"]["artist"].as_array().unwrap().len(), 1);
    let song = json(&again, &signed(&format!("getSong?id={first}"))).await;
    assert_eq!(song["song"]["playCount"], 2);
    // So is what plays now: a replica shows what its apps told another.
    let now = json(&again, &signed("getNowPlaying")).await;
    assert_eq!(now["nowPlaying"]["entry"][0]["id"], first.as_str(), "{now}");
    assert_eq!(now["nowPlaying"]["entry"][0]["playerName"], "phone");
    check_json(&fixture);
}

#[tokio::test]
async fn playlists_the_play_queue_and_bookmarks() {
    let fixture = library();
    let server = server(&fixture, true).await;
    let (_, blue) = album_songs(&server, "Blue").await;
    let (_, red) = album_songs(&server, "Red").await;
    let (a, b, x) = (&blue[0], &blue[1], &red[0]);

    let made = json(
        &server,
        &signed(&format!("createPlaylist?name=Mix&songId={a}&songId={b}")),
    )
    .await;
    let playlist = &made["playlist"];
    assert_eq!(playlist["name"], "Mix");
    assert_eq!(playlist["owner"], "alice");
    assert_eq!(playlist["songCount"], 2);
    assert_eq!(names(&playlist["entry"], "id"), [a.as_str(), b.as_str()]);
    let id = playlist["id"].as_str().unwrap().to_owned();
    let lists = ok(&fixture, &server, "getPlaylists").await;
    assert_eq!(names(&lists["playlists"]["playlist"], "id"), [id.as_str()]);

    change(&fixture, &server, &format!(
            "updatePlaylist?playlistId={id}&name=Mix%202&public=true&songIdToAdd={x}&songIndexToRemove=0"
        ),
    ).await;
    let got = ok(&fixture, &server, &format!("getPlaylist?id={id}")).await;
    assert_eq!(got["playlist"]["name"], "Mix 2");
    assert_eq!(got["playlist"]["public"], true);
    assert_eq!(
        names(&got["playlist"]["entry"], "id"),
        [b.as_str(), x.as_str()]
    );
    let replaced = json(
        &server,
        &signed(&format!("createPlaylist?playlistId={id}&songId={x}")),
    )
    .await;
    assert_eq!(names(&replaced["playlist"]["entry"], "id"), [x.as_str()]);
    for (call, expected) in [
        ("getPlaylist?id=pl-0000000000000000".to_owned(), 70),
        ("getPlaylist".to_owned(), 10),
        ("createPlaylist?songId=x".to_owned(), 70),
        (format!("createPlaylist?songId={a}"), 10),
        (
            format!("updatePlaylist?playlistId={id}&songIndexToRemove=-1"),
            0,
        ),
        (format!("updatePlaylist?playlistId={id}&public=yes"), 0),
        (
            "updatePlaylist?playlistId=pl-0000000000000000&name=x".to_owned(),
            70,
        ),
        ("deletePlaylist".to_owned(), 10),
    ] {
        assert_eq!(fails(&server, &call).await, expected, "{call}");
    }
    change(&fixture, &server, &format!("deletePlaylist?id={id}")).await;
    let lists = json(&server, &signed("getPlaylists")).await;
    assert_eq!(lists["playlists"]["playlist"], serde_json::json!([]));

    // The play queue: none yet, then one saved by the phone.
    let none = ok(&fixture, &server, "getPlayQueue").await;
    assert_eq!(none["playQueue"]["entry"], serde_json::json!([]), "{none}");
    assert!(none["playQueue"].get("current").is_none());
    change(
        &fixture,
        &server,
        &format!("savePlayQueue?id={a}&id={x}&current={x}&position=1234"),
    )
    .await;
    let queue = ok(&fixture, &server, "getPlayQueue").await;
    let queue = &queue["playQueue"];
    assert_eq!(names(&queue["entry"], "id"), [a.as_str(), x.as_str()]);
    assert_eq!(queue["current"], x.as_str());
    assert_eq!(queue["position"], 1234);
    assert_eq!(queue["changedBy"], "phone");
    assert_eq!(queue["username"], "alice");
    assert_eq!(
        fails(&server, &format!("savePlayQueue?id={a}&current={x}")).await,
        0,
        "the current song must be in the queue"
    );
    assert_eq!(fails(&server, "savePlayQueue?id=nope").await, 70);

    // Bookmarks.
    change(
        &fixture,
        &server,
        &format!("createBookmark?id={b}&position=5000&comment=here"),
    )
    .await;
    let marks = ok(&fixture, &server, "getBookmarks").await;
    let mark = &marks["bookmarks"]["bookmark"][0];
    assert_eq!(mark["position"], 5000);
    assert_eq!(mark["comment"], "here");
    assert_eq!(mark["entry"]["id"], b.as_str());
    assert_eq!(fails(&server, &format!("createBookmark?id={b}")).await, 10);
    change(&fixture, &server, &format!("deleteBookmark?id={b}")).await;
    let marks = json(&server, &signed("getBookmarks")).await;
    assert_eq!(marks["bookmarks"]["bookmark"], serde_json::json!([]));

    // The queue is kept for another server on the same database.
    let again = super::server(&fixture, true).await;
    let queue = json(&again, &signed("getPlayQueue")).await;
    assert_eq!(queue["playQueue"]["current"], x.as_str());
    check_json(&fixture);
}

#[tokio::test]
async fn the_account_and_the_scan() {
    let fixture = library();
    let server = server(&fixture, true).await;
    let user = ok(&fixture, &server, "getUser?username=alice").await;
    assert_eq!(user["user"]["username"], "alice");
    assert_eq!(user["user"]["streamRole"], true);
    assert_eq!(user["user"]["adminRole"], false);
    assert_eq!(user["user"]["folder"], serde_json::json!([1]));
    assert_eq!(fails(&server, "getUser?username=bob").await, 50);
    assert_eq!(fails(&server, "getUser").await, 10);
    let token = json(&server, &signed("tokenInfo")).await;
    assert_eq!(token["tokenInfo"]["username"], "alice");

    let status = ok(&fixture, &server, "getScanStatus").await;
    assert_eq!(status["scanStatus"]["scanning"], false);
    assert_eq!(status["scanStatus"]["count"], 5);
    fixture.wav("new.wav", 0.2);
    let started = ok(&fixture, &server, "startScan").await;
    assert_eq!(started["scanStatus"]["scanning"], true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = json(&server, &signed("getScanStatus")).await;
        if status["scanStatus"]["count"] == 6 && status["scanStatus"]["scanning"] == false {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    check_json(&fixture);
}
