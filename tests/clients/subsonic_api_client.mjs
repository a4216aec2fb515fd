// The npm package subsonic-api against a running server: token authentication (an app password)
// by GET, then an API key by POST. Usage: node subsonic_api_client.mjs URL USER APP_PASSWORD KEY FILE
import { readFileSync } from "node:fs";
import { SubsonicAPI } from "subsonic-api";

const [url, username, password, apiKey, file] = process.argv.slice(2);
const check = (ok, what) => {
  if (!ok) {
    console.error("failed:", what);
    process.exit(1);
  }
};

for (const [auth, post] of [[{ username, password }, false], [{ apiKey }, true]]) {
  const api = new SubsonicAPI({ url, auth, post });
  const ping = await api.ping();
  check(ping.status === "ok", `ping ${JSON.stringify(ping)}`);
  const { artists } = await api.getArtists();
  const quartet = artists.index.flatMap((i) => i.artist).find((a) => a.name === "Quartet");
  const { artist } = await api.getArtist({ id: quartet.id });
  const { album } = await api.getAlbum({ id: artist.album[0].id });
  check(album.song.map((s) => s.title).join() === "First,Second", "album songs");
  const { searchResult3 } = await api.search3({ query: "", songCount: 500 });
  check(searchResult3.song.length === 3, "search3 sync");
  const res = await api.stream({ id: album.song[0].id });
  const body = Buffer.from(await res.arrayBuffer());
  check(body.equals(readFileSync(file)), "stream bytes");
  await api.createPlaylist({ name: "From subsonic-api", songId: album.song[0].id });
  const { playlists } = await api.getPlaylists();
  const mine = playlists.playlist.filter((p) => p.name === "From subsonic-api");
  check(mine.length >= 1, "playlist made");
  await api.savePlayQueue({ id: album.song[1].id, current: album.song[1].id, position: 99 });
  const { playQueue } = await api.getPlayQueue();
  check(playQueue.current === album.song[1].id && playQueue.position === 99, "queue");
  console.log(post ? "apiKey" : "token", "ok:", body.length, "bytes streamed");
}
console.log("ok");
