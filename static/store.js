// What this browser keeps between visits (localStorage), tolerant of private mode and full quotas.

export const POSITIONS = "audio-streamer.positions";
export const CURRENT = "audio-streamer.current";
export const MODES = "audio-streamer.modes";
export const VOLUME = "audio-streamer.volume";
export const QUALITY = "audio-streamer.quality";

export function stored(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (_) { return fallback; }
}

export function store(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode, full quota */ }
}
