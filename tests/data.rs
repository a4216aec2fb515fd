//! The listeners' data on real databases: one behaviour suite run on SQLite and on PostgreSQL (a
//! server of its own per test), bad input refused with a reason, concurrent edits of one playlist
//! that lose nothing, two replicas sharing one database, an outage of PostgreSQL and the recovery
//! from it, and a data folder that cannot be written.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use audio_streamer::config::Database;
use audio_streamer::data::{Data, DataError, Kind, MAX_ENTRIES, PlaylistEdit};
use testkit::Postgres;

fn sqlite_at(dir: &Path) -> Data {
    Data::open(&Database::Sqlite(dir.to_owned())).expect("SQLite opens")
}

fn postgres_at(url: &str) -> Data {
    Data::open(&Database::Postgres(url.to_owned())).expect("PostgreSQL opens")
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn invalid(result: Result<impl std::fmt::Debug, DataError>, says: &str) {
    match result {
        Err(DataError::Invalid(reason)) => assert!(reason.contains(says), "{reason:?}"),
        other => panic!("expected Invalid ({says}), got {other:?}"),
    }
}

fn not_found(result: Result<impl std::fmt::Debug, DataError>) {
    assert!(
        matches!(result, Err(DataError::NotFound(_))),
        "expected NotFound, got {result:?}"
    );
}

/// Everything a listener keeps, as the HTTP layer will use it: the same on both backends.
async fn behaviour(data: &Data) {
    data.health().await.unwrap();

    // Stars: per user and kind, the time kept when starred again, unstarring twice is fine.
    let before = SystemTime::now() - Duration::from_millis(1);
    data.star("alice", Kind::Track, "tr-1").await.unwrap();
    data.star("alice", Kind::Album, "al-1").await.unwrap();
    data.star("alice", Kind::Artist, "ar-1").await.unwrap();
    data.star("bob", Kind::Track, "tr-2").await.unwrap();
    let starred = data.starred("alice", Kind::Track).await.unwrap();
    assert_eq!(starred.len(), 1);
    assert_eq!(starred[0].id, "tr-1");
    assert!(starred[0].at >= before && starred[0].at <= SystemTime::now());
    tokio::time::sleep(Duration::from_millis(5)).await;
    data.star("alice", Kind::Track, "tr-1").await.unwrap();
    assert_eq!(data.starred("alice", Kind::Track).await.unwrap(), starred);
    assert_eq!(
        data.starred("alice", Kind::Album).await.unwrap()[0].id,
        "al-1"
    );
    assert_eq!(
        data.starred("bob", Kind::Track).await.unwrap()[0].id,
        "tr-2"
    );
    data.unstar("alice", Kind::Artist, "ar-1").await.unwrap();
    data.unstar("alice", Kind::Artist, "ar-1").await.unwrap();
    assert!(
        data.starred("alice", Kind::Artist)
            .await
            .unwrap()
            .is_empty()
    );

    // Ratings: set, changed, cleared.
    data.rate("alice", Kind::Album, "al-1", Some(4))
        .await
        .unwrap();
    data.rate("alice", Kind::Album, "al-1", Some(5))
        .await
        .unwrap();
    data.rate("alice", Kind::Track, "tr-3", Some(2))
        .await
        .unwrap();
    let albums = data
        .annotations("alice", Kind::Album, &strings(&["al-1"]))
        .await
        .unwrap();
    assert_eq!(albums["al-1"].rating, Some(5));
    assert!(albums["al-1"].starred.is_some());
    data.rate("alice", Kind::Track, "tr-3", None).await.unwrap();

    // Plays: counted, and a play reported late does not move the last-played time back.
    let t0 = UNIX_EPOCH + Duration::from_millis(1_767_225_600_000);
    for at in [
        t0,
        t0 + Duration::from_secs(200),
        t0 - Duration::from_secs(60),
    ] {
        data.record_play("alice", "tr-3", at).await.unwrap();
    }
    let tracks = data
        .annotations(
            "alice",
            Kind::Track,
            &strings(&["tr-1", "tr-3", "tr-unknown"]),
        )
        .await
        .unwrap();
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    assert_eq!(tracks["tr-3"].play_count, 3);
    assert_eq!(
        tracks["tr-3"].last_played,
        Some(t0 + Duration::from_secs(200))
    );
    assert_eq!(tracks["tr-3"].rating, None);
    assert_eq!(tracks["tr-1"].play_count, 0);
    assert!(
        data.annotations("bob", Kind::Track, &strings(&["tr-3"]))
            .await
            .unwrap()
            .is_empty()
    );
    // A long list of ids is looked up in several statements.
    let many = ids("tr-", 1_200);
    let found = data.annotations("alice", Kind::Track, &many).await.unwrap();
    assert_eq!(found.len(), 2, "tr-1 and tr-3 among {}", many.len());
    // Several kinds at once (a statement mixes them where the lists meet): each map holds what was
    // said of its own kind.
    let some: Vec<&str> = many[..1_150].iter().map(String::as_str).collect();
    let [tracks, albums] = data
        .annotations_of(
            "alice",
            [
                (Kind::Track, &some),
                (Kind::Album, &["tr-3", "al-1", "al-2"]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    assert_eq!(tracks["tr-3"].play_count, 3);
    assert_eq!(albums.len(), 1, "{albums:?}");
    assert_eq!(albums["al-1"].rating, Some(5));

    playlists(data).await;

    // The play queue: saved from one device, resumed on another, replaced whole.
    assert_eq!(data.play_queue("alice").await.unwrap(), None);
    let queue = strings(&["tr-1", "tr-2", "tr-1", "tr-3"]);
    data.save_play_queue("alice", queue.clone(), Some("tr-2".into()), 61_000, "phone")
        .await
        .unwrap();
    let saved = data.play_queue("alice").await.unwrap().unwrap();
    assert_eq!(saved.tracks, queue);
    assert_eq!(saved.current.as_deref(), Some("tr-2"));
    assert_eq!(saved.position_ms, 61_000);
    assert_eq!(saved.changed_by, "phone");
    data.save_play_queue("alice", strings(&["tr-9"]), None, 0, "desktop")
        .await
        .unwrap();
    let saved = data.play_queue("alice").await.unwrap().unwrap();
    assert_eq!(
        (saved.tracks, saved.current, saved.changed_by),
        (strings(&["tr-9"]), None, "desktop".to_owned())
    );
    data.save_play_queue("alice", Vec::new(), None, 0, "desktop")
        .await
        .unwrap();
    assert!(
        data.play_queue("alice")
            .await
            .unwrap()
            .unwrap()
            .tracks
            .is_empty()
    );
    assert_eq!(data.play_queue("bob").await.unwrap(), None);

    // Bookmarks: one per track, set again in place, deleted.
    data.set_bookmark("alice", "tr-1", 1_000, "chapter 2")
        .await
        .unwrap();
    data.set_bookmark("alice", "tr-2", 5, "").await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    data.set_bookmark("alice", "tr-1", 2_000, "chapter 3")
        .await
        .unwrap();
    let marks = data.bookmarks("alice").await.unwrap();
    assert_eq!(marks.len(), 2);
    assert_eq!(
        (
            marks[0].track.as_str(),
            marks[0].position_ms,
            marks[0].comment.as_str()
        ),
        ("tr-1", 2_000, "chapter 3")
    );
    assert!(marks[0].created < marks[0].changed);
    data.delete_bookmark("alice", "tr-1").await.unwrap();
    not_found(data.delete_bookmark("alice", "tr-1").await);
    assert_eq!(data.bookmarks("alice").await.unwrap().len(), 1);
    assert!(data.bookmarks("bob").await.unwrap().is_empty());

    // Sign-outs: kept until the session would have expired.
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(!data.is_signed_out("5e55").await.unwrap());
    data.sign_out("5e55", unix + 3_600).await.unwrap();
    data.sign_out("01d", unix - 10).await.unwrap();
    assert!(data.is_signed_out("5e55").await.unwrap());
    assert!(!data.is_signed_out("01d").await.unwrap());

    // The login throttle: five at once, then one per 12 s, per key.
    let now = SystemTime::now();
    for _ in 0..5 {
        assert_eq!(data.login_attempt("192.0.2.1", now).await.unwrap(), Ok(()));
    }
    let wait = data
        .login_attempt("192.0.2.1", now)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(wait, Duration::from_secs(12));
    let later = now + Duration::from_secs(3);
    assert_eq!(
        data.login_attempt("192.0.2.1", later).await.unwrap(),
        Err(Duration::from_secs(9))
    );
    assert_eq!(data.login_attempt("192.0.2.2", now).await.unwrap(), Ok(()));
    let next = now + Duration::from_secs(12);
    assert_eq!(data.login_attempt("192.0.2.1", next).await.unwrap(), Ok(()));
    assert!(
        data.login_attempt("192.0.2.1", next)
            .await
            .unwrap()
            .is_err()
    );
    // A minute on, the whole burst is back.
    let rested = now + Duration::from_secs(120);
    for _ in 0..5 {
        assert_eq!(
            data.login_attempt("192.0.2.1", rested).await.unwrap(),
            Ok(())
        );
    }
}

async fn playlists(data: &Data) {
    let made = data
        .create_playlist("alice", "Road trip", strings(&["tr-1", "tr-2", "tr-1"]))
        .await
        .unwrap();
    assert!(
        made.id.starts_with("pl-") && made.id.len() == 19,
        "{}",
        made.id
    );
    assert_eq!((made.entries, made.version, made.public), (3, 0, false));
    let got = data.playlist("alice", &made.id).await.unwrap();
    assert_eq!(got.info, made);
    assert_eq!(got.tracks, strings(&["tr-1", "tr-2", "tr-1"]));
    let empty = data
        .create_playlist("alice", "Empty", Vec::new())
        .await
        .unwrap();
    assert!(
        data.playlist("alice", &empty.id)
            .await
            .unwrap()
            .tracks
            .is_empty()
    );

    // Private: bob neither sees nor finds it, and cannot tell it exists.
    assert!(data.playlists("bob").await.unwrap().is_empty());
    not_found(data.playlist("bob", &made.id).await);
    not_found(
        data.edit_playlist("bob", &made.id, PlaylistEdit::default())
            .await,
    );
    not_found(data.delete_playlist("bob", &made.id).await);

    // Metadata, then public: bob sees it, but may not change or delete it.
    let edited = data
        .edit_playlist(
            "alice",
            &made.id,
            PlaylistEdit {
                name: Some("Road trip, 2026".into()),
                comment: Some("for the drive north".into()),
                public: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.name, "Road trip, 2026");
    assert_eq!(edited.comment, "for the drive north");
    assert!(edited.public);
    assert_eq!(edited.version, 1);
    assert!(edited.changed >= made.changed && edited.created == made.created);
    let seen: Vec<String> = data
        .playlists("bob")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(seen, vec![made.id.clone()]);
    assert_eq!(
        data.playlist("bob", &made.id).await.unwrap().info.owner,
        "alice"
    );
    let append = PlaylistEdit {
        append: strings(&["tr-bob"]),
        ..Default::default()
    };
    assert!(matches!(
        data.edit_playlist("bob", &made.id, append.clone()).await,
        Err(DataError::Forbidden)
    ));
    assert!(matches!(
        data.delete_playlist("bob", &made.id).await,
        Err(DataError::Forbidden)
    ));
    assert_eq!(data.playlists("alice").await.unwrap().len(), 2);

    // Entries: append, remove by position, move one, each seen in order.
    let edit = |e: PlaylistEdit| data.edit_playlist("alice", &made.id, e);
    let tracks = || async { data.playlist("alice", &made.id).await.unwrap().tracks };
    edit(PlaylistEdit {
        append: strings(&["tr-3", "tr-4"]),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        tracks().await,
        strings(&["tr-1", "tr-2", "tr-1", "tr-3", "tr-4"])
    );
    let after = edit(PlaylistEdit {
        remove: vec![2, 0, 2],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(after.entries, 3);
    assert_eq!(tracks().await, strings(&["tr-2", "tr-3", "tr-4"]));
    edit(PlaylistEdit {
        moved: Some((0, 2)),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(tracks().await, strings(&["tr-3", "tr-4", "tr-2"]));
    edit(PlaylistEdit {
        moved: Some((2, 0)),
        append: strings(&["tr-5"]),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(tracks().await, strings(&["tr-2", "tr-3", "tr-4", "tr-5"]));

    // A position past the end changes nothing, not even the version.
    let version = data.playlist("alice", &made.id).await.unwrap().info.version;
    invalid(
        edit(PlaylistEdit {
            name: Some("never".into()),
            remove: vec![1, 4],
            ..Default::default()
        })
        .await,
        "no entry at position 4",
    );
    invalid(
        edit(PlaylistEdit {
            moved: Some((0, 9)),
            ..Default::default()
        })
        .await,
        "position 9",
    );
    let unchanged = data.playlist("alice", &made.id).await.unwrap();
    assert_eq!(unchanged.info.version, version);
    assert_eq!(unchanged.info.name, "Road trip, 2026");
    assert_eq!(unchanged.tracks.len(), 4);

    // The version a client edits: stale is a conflict, current goes through.
    match edit(PlaylistEdit {
        append: strings(&["tr-6"]),
        expected_version: Some(version - 1),
        ..Default::default()
    })
    .await
    {
        Err(DataError::Conflict { expected, current }) => {
            assert_eq!((expected, current), (version - 1, version))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let now = edit(PlaylistEdit {
        append: strings(&["tr-6"]),
        expected_version: Some(version),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((now.version, now.entries), (version + 1, 5));

    // Replace every entry, then delete.
    let replaced = data
        .replace_playlist_tracks("alice", &made.id, strings(&["tr-9", "tr-9"]), None)
        .await
        .unwrap();
    assert_eq!(replaced.entries, 2);
    assert_eq!(tracks().await, strings(&["tr-9", "tr-9"]));
    data.delete_playlist("alice", &made.id).await.unwrap();
    not_found(data.playlist("alice", &made.id).await);
    not_found(data.delete_playlist("alice", &made.id).await);
    let left: Vec<String> = data
        .playlists("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(left, vec![empty.id]);
}

/// Unknown ids, oversized names and lists, SQL metacharacters, NUL: each a clear error or stored
/// exactly as typed, and never a panic or a database error.
async fn bad_input(data: &Data) {
    // Unknown ids: not found, or (stars) taken as they are, since ids are the catalog's.
    let nobody = "pl-0000000000000000";
    not_found(data.playlist("alice", nobody).await);
    not_found(
        data.edit_playlist("alice", nobody, PlaylistEdit::default())
            .await,
    );
    not_found(
        data.replace_playlist_tracks("alice", nobody, Vec::new(), None)
            .await,
    );
    not_found(data.delete_playlist("alice", nobody).await);
    not_found(data.playlist("alice", "no such id at all").await);
    not_found(data.delete_bookmark("alice", "tr-none").await);
    data.star("alice", Kind::Track, "tr-not-in-the-library")
        .await
        .unwrap();

    // Sizes: 100 KB names, long comments and ids, 20,000 entries.
    let huge = "x".repeat(100_000);
    invalid(
        data.create_playlist("alice", &huge, Vec::new()).await,
        "1 to 200 characters",
    );
    invalid(
        data.create_playlist(&huge, "mine", Vec::new()).await,
        "a user name",
    );
    invalid(
        data.create_playlist("alice", "", Vec::new()).await,
        "1 to 200",
    );
    invalid(data.star(&huge, Kind::Track, "tr-1").await, "a user name");
    invalid(data.star("alice", Kind::Track, &huge).await, "64 bytes");
    invalid(data.star("alice", Kind::Album, "").await, "an album id");
    invalid(
        data.set_bookmark("alice", "tr-1", 0, &huge).await,
        "2000 characters",
    );
    invalid(
        data.login_attempt(&huge, SystemTime::now()).await,
        "throttle key",
    );
    invalid(data.sign_out(&huge, 0).await, "session id");
    invalid(
        data.create_playlist("alice", "big", ids("tr-", 2 * MAX_ENTRIES))
            .await,
        "at most 10000 entries (this one would have 20000)",
    );
    invalid(
        data.save_play_queue("alice", ids("tr-", 10_001), None, 0, "phone")
            .await,
        "at most 10000",
    );
    invalid(
        data.save_play_queue("alice", strings(&["tr-1"]), Some("tr-2".into()), 0, "phone")
            .await,
        "not in the queue",
    );
    invalid(
        data.set_bookmark("alice", "tr-1", u64::MAX, "").await,
        "past any track",
    );
    invalid(
        data.rate("alice", Kind::Track, "tr-1", Some(0)).await,
        "1 to 5",
    );
    invalid(
        data.rate("alice", Kind::Track, "tr-1", Some(6)).await,
        "1 to 5",
    );
    // The limit exactly holds; one past it, through an append, does not.
    let full = data
        .create_playlist("alice", "full", ids("tr-", MAX_ENTRIES))
        .await
        .unwrap();
    assert_eq!(full.entries, MAX_ENTRIES);
    invalid(
        data.edit_playlist(
            "alice",
            &full.id,
            PlaylistEdit {
                append: strings(&["tr-one-more"]),
                ..Default::default()
            },
        )
        .await,
        "would have 10001",
    );
    let full = data.playlist("alice", &full.id).await.unwrap();
    assert_eq!(full.tracks, ids("tr-", MAX_ENTRIES));
    invalid(
        data.edit_playlist(
            "alice",
            &full.info.id,
            PlaylistEdit {
                remove: vec![0],
                moved: Some((1, 2)),
                ..Default::default()
            },
        )
        .await,
        "separate edits",
    );

    // NUL cannot be stored in PostgreSQL's TEXT: refused alike on both.
    invalid(
        data.create_playlist("alice", "a\0b", Vec::new()).await,
        "NUL",
    );
    invalid(
        data.create_playlist("alice", "ok", strings(&["tr-\0"]))
            .await,
        "NUL",
    );
    invalid(data.star("al\0ice", Kind::Track, "tr-1").await, "NUL");

    // SQL metacharacters are data: stored and read back as typed, every table still there.
    let hostile = [
        "'; DROP TABLE playlists; --",
        "Robert'); DROP TABLE annotations;--",
        "\"double\" and 'single' quotes, `back`ticks",
        "back\\slash \\' %wild_cards% $1 ?1 :name @name",
        "émoji 🎵 and ümlauts, 中文",
        "multi\nline\r\ntext\ttab",
    ];
    for (i, name) in hostile.iter().enumerate() {
        let made = data
            .create_playlist(name, name, strings(&[&format!("tr-'{i}\"")]))
            .await
            .unwrap();
        data.edit_playlist(
            name,
            &made.id,
            PlaylistEdit {
                comment: Some((*name).to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got = data.playlist(name, &made.id).await.unwrap();
        assert_eq!(
            (
                got.info.owner.as_str(),
                got.info.name.as_str(),
                got.info.comment.as_str()
            ),
            (*name, *name, *name)
        );
        assert_eq!(got.tracks, vec![format!("tr-'{i}\"")]);
        let mine = data.playlists(name).await.unwrap();
        assert_eq!(mine.len(), 1, "{name:?} sees {mine:?}");
        data.star(name, Kind::Artist, "ar-'; --").await.unwrap();
        assert_eq!(
            data.starred(name, Kind::Artist).await.unwrap()[0].id,
            "ar-'; --"
        );
        data.set_bookmark(name, "tr-1", 7, name).await.unwrap();
        assert_eq!(data.bookmarks(name).await.unwrap()[0].comment, *name);
        assert_eq!(
            data.login_attempt(name, SystemTime::now()).await.unwrap(),
            Ok(())
        );
    }
    // Only "full" was made of alice's: every refusal above made nothing.
    assert_eq!(data.playlists("alice").await.unwrap().len(), 1);
    data.health().await.unwrap();
}

/// Two clients (`a` and `b`, separate pools as two replicas have) editing one playlist at once:
/// appends from both all land, in each client's order, and a rename racing an append keeps both.
async fn concurrent_edits(a: &Data, b: &Data) {
    let list = a
        .create_playlist("alice", "together", Vec::new())
        .await
        .unwrap();
    let appends = |data: Data, prefix: &'static str| {
        let id = list.id.clone();
        async move {
            for track in ids(prefix, 200) {
                let edit = PlaylistEdit {
                    append: vec![track],
                    ..Default::default()
                };
                data.edit_playlist("alice", &id, edit).await.unwrap();
            }
        }
    };
    let started = Instant::now();
    tokio::join!(appends(a.clone(), "tr-a"), appends(b.clone(), "tr-b"));
    let took = started.elapsed();
    let got = a.playlist("alice", &list.id).await.unwrap();
    assert_eq!(got.tracks.len(), 400, "lost {}", 400 - got.tracks.len());
    assert_eq!(got.info.entries, 400);
    assert_eq!(got.info.version, 400);
    for prefix in ["tr-a", "tr-b"] {
        let own: Vec<String> = got
            .tracks
            .iter()
            .filter(|t| t.starts_with(prefix))
            .cloned()
            .collect();
        assert_eq!(own, ids(prefix, 200), "{prefix} out of order");
    }
    let interleaved = got
        .tracks
        .windows(2)
        .filter(|w| w[0][..4] != w[1][..4])
        .count();
    eprintln!("400 appends from two clients in {took:?}, {interleaved} changes of client");

    for round in 0..20 {
        let name = format!("together {round}");
        let track = format!("tr-race-{round}");
        let rename = PlaylistEdit {
            name: Some(name.clone()),
            ..Default::default()
        };
        let append = PlaylistEdit {
            append: vec![track.clone()],
            ..Default::default()
        };
        let (renamed, appended) = tokio::join!(
            a.edit_playlist("alice", &list.id, rename),
            b.edit_playlist("alice", &list.id, append)
        );
        renamed.unwrap();
        appended.unwrap();
        let got = b.playlist("alice", &list.id).await.unwrap();
        assert_eq!(got.info.name, name);
        assert_eq!(got.tracks.last(), Some(&track));
        assert_eq!(got.tracks.len(), 401 + round);
        assert_eq!(got.info.entries, got.tracks.len());
    }
}

/// Two replicas on one database see each other's writes, and count the login throttle and the
/// sign-outs together, even when they count at the same moment.
async fn shared(a: &Data, b: &Data) {
    a.star("carol", Kind::Track, "tr-shared").await.unwrap();
    assert_eq!(
        b.starred("carol", Kind::Track).await.unwrap()[0].id,
        "tr-shared"
    );
    let list = b
        .create_playlist("carol", "from b", strings(&["tr-1"]))
        .await
        .unwrap();
    a.edit_playlist(
        "carol",
        &list.id,
        PlaylistEdit {
            append: strings(&["tr-2"]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        b.playlist("carol", &list.id).await.unwrap().tracks,
        strings(&["tr-1", "tr-2"])
    );
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    a.sign_out("c0ffee", unix + 3_600).await.unwrap();
    assert!(b.is_signed_out("c0ffee").await.unwrap());

    // Ten attempts at once, five through each replica: five let in, whichever they were.
    let now = SystemTime::now();
    let attempt =
        |data: Data| async move { data.login_attempt("198.51.100.7", now).await.unwrap() };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        tasks.spawn(attempt(if i % 2 == 0 { a.clone() } else { b.clone() }));
    }
    let outcomes = tasks.join_all().await;
    let allowed = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(allowed, 5, "{outcomes:?}");
    let waits: Vec<Duration> = outcomes.iter().filter_map(|o| o.err()).collect();
    assert!(
        waits.iter().all(|w| *w == Duration::from_secs(12)),
        "{waits:?}"
    );
}

#[tokio::test]
async fn sqlite_keeps_what_each_listener_saves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let data = sqlite_at(&dir);
    assert_eq!(
        data.describe(),
        format!("SQLite at {}", dir.join("audio-streamer.db").display())
    );
    behaviour(&data).await;
    drop(data);
    // Opened again (the migrations find nothing to do), everything is still there.
    let data = sqlite_at(&dir);
    assert_eq!(
        data.starred("alice", Kind::Track).await.unwrap()[0].id,
        "tr-1"
    );
    assert_eq!(data.bookmarks("alice").await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_what_each_listener_saves() {
    let Some(pg) = Postgres::start() else { return };
    let data = postgres_at(&pg.url());
    assert!(
        data.describe().starts_with("PostgreSQL at 127.0.0.1:"),
        "{data:?}"
    );
    assert!(data.describe().ends_with("/audio_streamer"), "{data:?}");
    behaviour(&data).await;
    drop(data);
    let data = postgres_at(&pg.url());
    assert_eq!(data.bookmarks("alice").await.unwrap().len(), 1);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    bad_input(&sqlite_at(tmp.path())).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason_on_postgres() {
    let Some(pg) = Postgres::start() else { return };
    bad_input(&postgres_at(&pg.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_one_playlist_lose_nothing_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    // Two pools on one file, as two processes would have: SQLite's own lock orders them.
    let (a, b) = (sqlite_at(tmp.path()), sqlite_at(tmp.path()));
    concurrent_edits(&a, &b).await;
    // And one pool, whose writers take turns before SQLite's lock.
    concurrent_edits(&a, &a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_one_playlist_lose_nothing_on_postgres() {
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (postgres_at(&pg.url()), postgres_at(&pg.url()));
    concurrent_edits(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_share_writes_sign_outs_and_the_throttle() {
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (postgres_at(&pg.url()), postgres_at(&pg.url()));
    shared(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_sqlite_file_share_writes_sign_outs_and_the_throttle() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (sqlite_at(tmp.path()), sqlite_at(tmp.path()));
    shared(&a, &b).await;
}

#[tokio::test]
async fn a_postgres_outage_answers_unavailable_fast_and_recovers_by_itself() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let data = postgres_at(&pg.url());
    data.star("dave", Kind::Track, "tr-before").await.unwrap();
    // Several connections open in the pool when the server goes away, all dead once it is back.
    let busy = (0..6).map(|_| data.health());
    for done in futures_util::future::join_all(busy).await {
        done.unwrap();
    }
    pg.stop();
    let started = Instant::now();
    let down = data.star("dave", Kind::Track, "tr-during").await;
    let took = started.elapsed();
    assert!(matches!(down, Err(DataError::Unavailable(_))), "{down:?}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    let started = Instant::now();
    let down = data.health().await;
    assert!(matches!(down, Err(DataError::Unavailable(_))), "{down:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    eprintln!("unavailable after {took:?}: {}", down.unwrap_err());

    pg.start_again();
    // The same `Data`, at the first try: its pool finds the connections it kept dead (a ping
    // before each is handed out) and makes new ones.
    let started = Instant::now();
    data.health().await.unwrap();
    data.star("dave", Kind::Track, "tr-after").await.unwrap();
    let starred: Vec<String> = data
        .starred("dave", Kind::Track)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(starred.len(), 2, "{starred:?}");
    assert!(starred.contains(&"tr-before".to_owned()) && starred.contains(&"tr-after".to_owned()));
    eprintln!("back in {:?}", started.elapsed());
}

#[test]
fn a_data_folder_that_cannot_be_made_stops_the_start_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file"), b"not a folder").unwrap();
    // Under a regular file: no one can make it, root included.
    let dir = tmp.path().join("file").join("data");
    let err = Data::open(&Database::Sqlite(dir.clone())).unwrap_err();
    assert!(matches!(err, DataError::Start { .. }), "{err:?}");
    let said = err.to_string();
    assert!(said.contains(&dir.display().to_string()), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");

    // Through the server's start, as `main` reports it.
    let fixture = testkit::Fixture::new();
    let mut config = fixture.config();
    config.database = Database::Sqlite(dir.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime.block_on(async { audio_streamer::AppState::new(&config).unwrap_err() });
    let said = err.to_string();
    assert!(
        said.starts_with("cannot open the listeners' data at"),
        "{said}"
    );
    assert!(said.contains(&dir.display().to_string()), "{said}");
}

#[test]
fn a_read_only_data_folder_or_file_stops_the_start_naming_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let restore = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        // Root: permissions do not bite (the test above covers a folder no one can make).
        restore(&dir, 0o755);
        eprintln!("read-only folder check skipped: running as root");
        return;
    }
    let err = Data::open(&Database::Sqlite(dir.clone())).unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains(&dir.join("audio-streamer.db").display().to_string()),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");

    // A database file that is read-only in a writable folder.
    restore(&dir, 0o755);
    drop(sqlite_at(&dir));
    let file: PathBuf = dir.join("audio-streamer.db");
    restore(&file, 0o444);
    let err = Data::open(&Database::Sqlite(dir.clone())).unwrap_err();
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    restore(&file, 0o644);
}

#[test]
fn sqlite_keeps_a_write_ahead_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sqlite_at(tmp.path());
    // Byte 18 and 19 of the header: the file format versions, 2 for WAL (sqlite.org/fileformat).
    let header = std::fs::read(tmp.path().join("audio-streamer.db")).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!((header[18], header[19]), (2, 2));
    drop(data);
}

/// The writing connection leaves checkpoints to a task of their own: the log's pages still reach
/// the database file while the server runs.
#[tokio::test]
async fn sqlite_copies_its_write_ahead_log_into_the_file_while_open() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sqlite_at(tmp.path());
    let file = tmp.path().join("audio-streamer.db");
    let before = std::fs::metadata(&file).unwrap().len();
    for i in 0..2_000 {
        let track = format!("tr-{i:05}-{}", "x".repeat(40));
        data.star("frank", Kind::Track, &track).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(&file).unwrap().len();
        if now > before + 100_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the file stayed at {now} bytes (from {before}): no checkpoint"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        data.starred("frank", Kind::Track).await.unwrap().len(),
        2_000
    );
}

#[test]
fn data_is_usable_from_any_runtime_and_dropped_inside_one_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sqlite_at(tmp.path());
    // From two threads, each with its own single-threaded runtime, as actix's workers have.
    std::thread::scope(|s| {
        for worker in 0..2 {
            let data = data.clone();
            s.spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    for i in 0..20 {
                        let track = format!("tr-{worker}-{i}");
                        data.star("erin", Kind::Track, &track).await.unwrap();
                    }
                });
            });
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        assert_eq!(data.starred("erin", Kind::Track).await.unwrap().len(), 40);
        // The last clone dropped on a runtime: its own runtime stops without waiting.
        drop(data);
    });
}
