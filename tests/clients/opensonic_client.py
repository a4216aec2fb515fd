"""py-opensonic (OpenSubsonic, API key, JSON over posted forms) against a running server.

Usage: opensonic_client.py BASE_URL PORT API_KEY FILE
FILE is the audio file of the album "Blue"'s first song, whose bytes `download` must give.
Prints one line per step; exits non-zero on the first failure.
"""

import asyncio
import sys

from libopensonic import AsyncConnection


async def main(base_url: str, port: int, key: str, path: str) -> None:
    conn = AsyncConnection(base_url, port=port, api_key=key,
                           app_name="py-opensonic-test")
    try:
        assert await conn.ping(), "ping"
        names = [e.name for e in await conn.get_open_subsonic_extensions()]
        assert "apiKeyAuthentication" in names, names
        artists = await conn.get_artists()
        found = [a for index in artists.index or [] for a in index.artist or []]
        quartet = next(a for a in found if a.name == "Quartet")
        artist = await conn.get_artist(quartet.id)
        album = await conn.get_album(artist.album[0].id)
        songs = album.song or []
        assert [s.title for s in songs] == ["First", "Second"], [s.title for s in songs]
        print("browsed", len(found), "artists")

        seen = []
        offset = 0
        while True:
            page = await conn.search3("", artist_count=0, album_count=0, song_count=2,
                                      song_offset=offset)
            if not page.song:
                break
            seen += [s.id for s in page.song]
            offset += len(page.song)
        assert len(seen) == len(set(seen)) == 3, seen
        print("synced", len(seen), "songs")

        res = await conn.download(songs[0].id)
        body = await res.read()
        with open(path, "rb") as f:
            assert body == f.read(), "download differs from the file"
        print("downloaded", len(body), "bytes")

        await conn.star(sids=[songs[0].id], album_ids=[album.id])
        starred = await conn.get_starred2()
        assert [s.id for s in starred.song or []] == [songs[0].id]
        assert [a.id for a in starred.album or []] == [album.id]
        print("starred")

        assert await conn.create_playlist(name="From py-opensonic",
                                          song_ids=[s.id for s in songs])
        lists = await conn.get_playlists()
        mine = next(p for p in lists if p.name == "From py-opensonic")
        got = await conn.get_playlist(mine.id)
        assert [e.id for e in got.entry or []] == [s.id for s in songs]
        print("playlist", mine.id)

        await conn.save_play_queue([s.id for s in songs], current=songs[1].id, position=4321)
        queue = await conn.get_play_queue()
        assert queue.current == songs[1].id and queue.position == 4321, queue
        print("queue saved by", queue.changed_by)
    finally:
        await conn.cleanup()


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
print("ok")
