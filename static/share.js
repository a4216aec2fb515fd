// The now-playing bar's "Share": asks the server for a signed link to the track in the bar, good
// for the chosen time, and shows it ready to copy. Present only when the server has a link secret.

import { barTrack } from "./bar.js";

const share = document.querySelector("[data-testid=share]");
const part = (id) => share?.querySelector(`[data-testid=${id}]`);

/** Wires the "Make link" button. */
export function setUpShare() {
  if (!share) return;
  part("share-make").addEventListener("click", makeLink);
}

async function makeLink() {
  const track = barTrack();
  const status = part("share-status");
  const output = part("share-link");
  if (!track) return;
  const lifetime = part("share-lifetime").value;
  status.textContent = "";
  try {
    const res = await fetch(`/api/link?track=${encodeURIComponent(track.name)}&lifetime=${lifetime}`);
    // Errors under /api/ are JSON: {"error": "..."}.
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
    const { url } = await res.json();
    output.value = new URL(url, location.href).href;
    output.hidden = false;
    output.select();
    await navigator.clipboard?.writeText(output.value).then(
      () => (status.textContent = "Copied."),
      () => (status.textContent = "Copy the link above."),
    );
  } catch (err) {
    output.hidden = true;
    status.textContent = `No link: ${String(err.message || err).trim()}`;
  }
}
