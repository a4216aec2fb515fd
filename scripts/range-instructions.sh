#!/usr/bin/env bash
# Instructions per 64 KiB range request, counted by callgrind (repeatable on a noisy machine).
#
#   scripts/range-instructions.sh [path/to/audio-streamer] [requests] [top]
#
# With a third argument N, also lists the N functions that cost the most (their own instructions).
# Starts the server under valgrind on 127.0.0.1 with one worker and a generated 8 MB track, sends
# the requests on one kept-alive connection, and prints the instructions counted between the
# first and the last request, divided by their number. Needs valgrind and python3.
set -euo pipefail
bin=${1:-target/release/audio-streamer}
requests=${2:-2000}
top=${3:-0}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
[ -z "${KEEP:-}" ] || echo "keeping $work" >&2
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir "$work/audio"
# A real WAV (tags read at once): lofty scanning 8 MB of noise for MP3 frames would run during the
# measurement.
python3 - "$work/audio/track.wav" <<'PY'
import os, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100); w.writeframes(os.urandom(8000000))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$work/out.%p" \
  "$bin" --port "$port" --workers 1 --audio-dir "$work/audio" >"$work/log" 2>&1 &
pid=$!
python3 - "$port" "$requests" "$pid" <<'PY'
import random, socket, subprocess, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.time() + 120
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        if time.time() > deadline: sys.exit("server did not start")
        time.sleep(0.2)
def get(first):
    s.sendall(f"GET /audio/track HTTP/1.1\r\nHost: x\r\nRange: bytes={first}-{first + 65535}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf: buf += s.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 206"), head
    while len(body) < 65536: body += s.recv(65536)
random.seed(7)
for _ in range(50): get(random.randrange(0, 8000044 - 65536))   # warm up
subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
for _ in range(n): get(random.randrange(0, 8000044 - 65536))
subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
PY
total=$(cat "$work"/out.*.1 | awk '/^summary:/ {s += $2} /^totals:/ {t += $2} END {print (s > 0 ? s : t)}')
echo "$requests requests: $total instructions, $((total / requests)) per request"
if [ "$top" -gt 0 ]; then
  callgrind_annotate --inclusive=no "$work"/out.*.1 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -n "$top"
fi
