#!/usr/bin/env bash
# Writes scripts/hot-functions.txt: the functions of the server that run when it starts, scans a
# folder and serves the page, its assets, its events and tracks. build.rs hands the list to the
# linker of release builds, which lays these functions out first, side by side: the code a running
# server needs then sits in about 1.8 MB instead of being spread over the binary's 8 MB (the kernel
# maps code in 64 KiB around every page touched, so spread code costs resident memory).
#
#   scripts/hot-functions.sh [path/to/audio-streamer]     # default: target/release/audio-streamer
#
# Run it after a dependency or toolchain update (symbol names carry hashes that change then; names
# no longer found are skipped by the linker, and the layout falls back towards the unordered one).
# It says how many listed functions the binary has. Needs valgrind, curl and python3.
set -euo pipefail
bin=${1:-target/release/audio-streamer}
out=scripts/hot-functions.txt
for tool in valgrind curl python3 nm; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install valgrind curl python3 binutils)" >&2; exit 1; }
done
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# The demo tracks (MP3, Ogg, Opus, FLAC, M4A) plus a WAV large enough to be streamed slowly.
mkdir "$work/audio"
cp cached_audio/* "$work/audio/"
python3 - "$work/audio/noise.wav" <<'PY'
import os, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100); w.writeframes(os.urandom(16_000_000))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --demangle=no \
  "$bin" --port "$port" --audio-dir "$work/audio" >"$work/log" 2>&1 &
pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 240); do
  curl -sf -o /dev/null "$url/readyz" && break
  sleep 0.5
done
curl -sf -o /dev/null "$url/readyz" || { cat "$work/log" >&2; exit 1; }

get() { curl -s -o /dev/null "$@" || true; }
get "$url/"
get --compressed "$url/"
get "$url/api/library"
get --compressed "$url/api/tracks"
for asset in $(curl -s "$url/" | grep -oE '/static/[^"?]+' | sort -u); do
  get "$url$asset"
  get -H 'Accept-Encoding: br' "$url$asset"
done
for art in $(curl -s "$url/" | grep -oE '/art/[^"]+' | sort -u); do
  get "$url$art"
done
for track in test lullaby bells noise "Arpeggio%20in%20C"; do
  get "$url/audio/$track"
  get -I "$url/audio/$track"
  get -H 'Range: bytes=100-5000' "$url/audio/$track"
  get -H 'Range: bytes=-500' "$url/audio/$track"
  get -H 'Range: bytes=0-10,200-300,5000-' "$url/audio/$track"
  get -H 'Range: bytes=999999999-' "$url/audio/$track"
done
etag=$(curl -sI "$url/audio/test" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
get -H "If-None-Match: $etag" "$url/audio/test"
get -H "If-Range: $etag" -H 'Range: bytes=0-99' "$url/audio/test"
for path in /audio/nothing-here /audio/..%2F..%2Fetc%2Fpasswd /nowhere /api/stats /metrics /healthz; do
  get "$url$path"
done
get -X DELETE "$url/audio/test"
get --max-time 3 "$url/events"
# A listener reading slowly, so the stream waits for room in its socket again and again.
python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /audio/noise HTTP/1.1\r\nHost: x\r\n\r\n")
for _ in range(20):
    s.recv(65536)
    time.sleep(0.1)
s.close()
PY
sleep 1
kill -TERM "$pid"
wait "$pid" || true
pid=

nm --defined-only "$bin" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/defined"
grep -oE '^c?fn=\([0-9]+\) .*' "$work/callgrind.out"* | sed -E 's/^[^ ]* //' | sort -u >"$work/ran"
comm -12 "$work/ran" "$work/defined" >"$out"
echo "$out: $(wc -l <"$out") functions ran, of $(wc -l <"$work/defined") in $bin"
