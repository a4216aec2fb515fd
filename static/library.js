// The track list as the server has it: fetched whole as JSON once, then kept current by asking
// `/api/library` what changed since this page's version whenever `/events` says the library moved
// (and after a reconnect). Whoever shows the list subscribes with `onChange`.

export const library = {
  /** Every track, in the server's order. */
  tracks: [],
  /** Track by name. */
  byName: new Map(),
  /** `epoch.version` of the list held, or null before the first answer. */
  version: null,
  /** `{ read, total }` while the server scans, else null. */
  scan: null,
};

const listeners = [];
/** `fn(changedNames, reset)` runs after every update of the list. */
export function onChange(fn) { listeners.push(fn); }

// One request in flight; changes announced meanwhile (a long scan announces one a second) fold
// into one more request.
let fetching = null, again = false;
export function refresh() {
  if (fetching) { again = true; return fetching; }
  fetching = update().catch(() => {}).finally(() => {
    fetching = null;
    if (again) { again = false; refresh(); }
  });
  return fetching;
}

async function update() {
  const since = library.version ? `?since=${encodeURIComponent(library.version)}` : "";
  const response = await fetch(`/api/library${since}`, { cache: "no-store" });
  if (response.status === 401) {
    // Signed out (elsewhere, or the session ended): sign in again, then come back here.
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  if (!response.ok) return;
  const delta = await response.json();
  const changed = delta.reset ? null : apply(delta);
  if (delta.reset) library.tracks = delta.tracks;
  library.byName = new Map(library.tracks.map((t) => [t.name, t]));
  library.version = delta.version;
  library.scan = delta.scan;
  for (const fn of listeners) fn(changed, delta.reset);
}

// Patches the list: drops what was removed or changed, then puts each added or changed track
// right after the one it now follows. Returns the names that changed.
function apply(delta) {
  const changed = new Set(delta.removed);
  const follows = new Map();
  for (const track of delta.tracks) {
    changed.add(track.name);
    follows.set(track.after ?? null, track);
    delete track.after;
  }
  const tracks = [];
  const chain = (name) => {
    for (let t = follows.get(name); t; t = follows.get(t.name)) tracks.push(t);
  };
  chain(null);
  for (const track of library.tracks) {
    if (changed.has(track.name)) continue;
    tracks.push(track);
    chain(track.name);
  }
  library.tracks = tracks;
  return changed;
}
