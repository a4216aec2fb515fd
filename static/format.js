// Formatting for people: byte counts and durations. `bytes` follows the server's
// `stats::human_bytes`, so a figure does not change form when the first live sample replaces the
// one rendered into the page.

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
export function bytes(n) {
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
export function duration(secs) {
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}
