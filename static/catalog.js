// The catalog's views: the albums as a grid of covers, an album's tracks by disc, the artists and
// one artist's albums, the genres and one genre's albums and tracks. Each is fetched when opened
// and drawn into the view's section; its tracks are playable rows (viewrows.js).

import { getJSON } from "./api.js";
import { clock } from "./format.js";
import { firstPlayer, trackRows, tracksOf } from "./viewrows.js";

/** `<tag>` with `attrs` (`text` sets its text) and `children`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** A grid of album covers, each a link to the album's page. */
export function albumGrid(albums, label = "Albums") {
  const grid = el("ul", { class: "albums", "data-testid": "albums", "aria-label": label });
  for (const album of albums) {
    const cover = album.art
      ? el("img", { class: "art", alt: "", loading: "lazy", decoding: "async", width: 160, height: 160, src: album.art })
      : el("span", { class: "art none", "aria-hidden": "true", text: "♪" });
    const by = [album.artist, album.year].filter(Boolean).join(" · ");
    grid.append(el("li", {}, el("a", { href: `#/album/${album.id}`, "data-testid": "album", "data-id": album.id },
      cover, el("span", { class: "name", text: album.name }), el("span", { class: "by", text: by }))));
  }
  return grid;
}

/** The star toggle of an album's or artist's page (stars.js keeps it). */
function starToggle(item) {
  return el("button", { type: "button", class: "star", "data-testid": "view-star", "data-star": item.id,
    "data-star-name": item.name, "aria-pressed": "false", "aria-label": `Star ${item.name}` }, starIcon());
}

/** The star's picture, the rows' own (row.html). */
export function starIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z");
  svg.append(path);
  return svg;
}

function heading(text) {
  return el("h2", { id: "view-title", tabindex: "-1", "data-testid": "view-title", text });
}

async function albums() {
  const data = await getJSON("/api/albums");
  if (!data) return [heading("Albums"), unreachable()];
  return [heading("Albums"), data.albums.length ? albumGrid(data.albums) : el("p", { class: "empty", text: "No albums yet." })];
}

async function album(id) {
  const data = await getJSON(`/api/albums/${encodeURIComponent(id)}`);
  if (!data) return notFound("This album");
  const { album: a } = data;
  const tracks = tracksOf(data.tracks);
  const discs = new Map(data.tracks.map((t) => [t.name, t.disc]));
  const artist = a.artist_ids.length === 1
    ? el("a", { href: `#/artist/${a.artist_ids[0]}`, "data-testid": "album-artist", text: a.artist })
    : a.artist;
  const facts = [a.year, plural(a.tracks, "track"), clock(a.duration_secs)].filter(Boolean).join(" · ");
  const play = el("button", { type: "button", class: "play", "data-testid": "play-view", text: "Play" });
  play.addEventListener("click", () => firstPlayer()?.play().catch(() => {}));
  return [
    el("div", { class: "view-head" }, a.art ? el("img", { class: "art", alt: "", width: 160, height: 160, src: a.art }) : "",
      el("div", {}, heading(a.name), el("p", { class: "facts" }, artist || "", artist ? " · " : "",
        el("span", { "data-testid": "album-facts", text: facts })),
      el("div", { class: "actions" }, play, starToggle(a)))),
    trackRows(tracks, { disc: a.discs > 1 ? (t) => discs.get(t.name) : null, label: `Tracks of ${a.name}` }),
  ];
}

async function artists() {
  const data = await getJSON("/api/artists");
  if (!data) return [heading("Artists"), unreachable()];
  const list = el("ul", { class: "names", "data-testid": "artists", "aria-label": "Artists" });
  for (const a of data.artists) {
    list.append(el("li", {}, el("a", { href: `#/artist/${a.id}`, "data-testid": "artist", text: a.name }),
      el("span", { class: "count", text: `${plural(a.albums, "album")} · ${plural(a.tracks, "track")}` })));
  }
  return [heading("Artists"), list];
}

async function artist(id) {
  const data = await getJSON(`/api/artists/${encodeURIComponent(id)}`);
  if (!data) return notFound("This artist");
  const a = data.artist;
  return [
    el("div", { class: "view-head" }, el("div", {}, heading(a.name),
      el("p", { class: "facts", text: `${plural(a.albums, "album")} · ${plural(a.tracks, "track")}` }),
      el("div", { class: "actions" }, starToggle(a)))),
    albumGrid(data.albums, `Albums by ${a.name}`),
  ];
}

async function genres() {
  const data = await getJSON("/api/genres");
  if (!data) return [heading("Genres"), unreachable()];
  const list = el("ul", { class: "names", "data-testid": "genres", "aria-label": "Genres" });
  for (const g of data.genres) {
    list.append(el("li", {}, el("a", { href: `#/genre/${g.id}`, "data-testid": "genre", text: g.name }),
      el("span", { class: "count", text: `${plural(g.albums, "album")} · ${plural(g.tracks, "track")}` })));
  }
  return [heading("Genres"), list];
}

async function genre(id) {
  const data = await getJSON(`/api/genres/${encodeURIComponent(id)}`);
  if (!data) return notFound("This genre");
  const g = data.genre;
  const play = el("button", { type: "button", class: "play", "data-testid": "play-view", text: "Play" });
  play.addEventListener("click", () => firstPlayer()?.play().catch(() => {}));
  return [
    heading(g.name),
    el("div", { class: "actions" }, play),
    el("h3", { text: "Albums" }), albumGrid(data.albums, `Albums of ${g.name}`),
    el("h3", { text: "Tracks" }), trackRows(tracksOf(data.tracks), { label: `Tracks of ${g.name}` }),
  ];
}

function notFound(what) {
  return [heading("Not found"), el("p", { class: "empty", text: `${what} is not in the library (any more).` })];
}

function unreachable() {
  return el("p", { class: "empty", text: "The server did not answer; try again in a moment." });
}

/** The catalog's views by the first part of their hash (`#/album/<id>` → `album`). */
export const catalogViews = { albums, album, artists, artist, genres, genre };
