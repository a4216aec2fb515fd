"""py-sonic (Subsonic, JSON) against a running server: once with token authentication (an app
password), once with the login password (legacyAuth: p=enc:...).

Usage: pysonic_client.py BASE_URL PORT USER APP_PASSWORD LOGIN_PASSWORD FILE
Prints one line per step; exits non-zero on the first failure.
"""

import sys

import libsonic

base_url, port, user, app_password, login, path = sys.argv[1:7]
for secret, legacy in [(app_password, False), (login, True)]:
    conn = libsonic.Connection(base_url, user, secret, port=int(port), appName="py-sonic-test",
                               legacyAuth=legacy)
    assert conn.ping(), "ping"
    albums = conn.getAlbumList2("alphabeticalByName")["albumList2"]["album"]
    blue = next(a for a in albums if a["name"] == "Blue")
    songs = conn.getAlbum(blue["id"])["album"]["song"]
    assert [s["title"] for s in songs] == ["First", "Second"]
    found = conn.search3("blue")["searchResult3"]
    assert [a["name"] for a in found["album"]] == ["Blue"], found
    body = conn.stream(songs[1]["id"]).read()
    with open(path.replace("a.wav", "b.wav"), "rb") as f:
        assert body == f.read(), "stream differs from the file"
    conn.star(songs[1]["id"])
    starred = conn.getStarred2()["starred2"]
    assert songs[1]["id"] in [s["id"] for s in starred.get("song", [])], starred
    conn.setRating(songs[1]["id"], 4)
    assert conn.getSong(songs[1]["id"])["song"]["userRating"] == 4
    conn.scrobble(songs[1]["id"], submission=False)
    now = conn.getNowPlaying()["nowPlaying"]["entry"]
    assert now[0]["username"] == user, now
    conn.createPlaylist(name="From py-sonic", songIds=[songs[0]["id"]])
    mine = [p for p in conn.getPlaylists()["playlists"]["playlist"] if p["name"] == "From py-sonic"]
    conn.deletePlaylist(mine[0]["id"])
    print("token" if not legacy else "password", "ok:", len(body), "bytes streamed")
print("ok")
