#!/usr/bin/env bash
# Does a track read from a cold disk hold up other requests? Serves a 400 MB track with one worker,
# drops the page cache (needs root), downloads the track, and meanwhile asks /api/stats every 5 ms:
# prints the download time and the slowest /api/stats answer.
#
#   scripts/cold-cache.sh [path/to/audio-streamer]
set -euo pipefail
bin=${1:-target/release/audio-streamer}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/audio"
python3 - "$work/audio/big.wav" <<'PY'
import os, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
    for _ in range(100): w.writeframes(os.urandom(4_000_000))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin" --port "$port" --workers 1 --audio-dir "$work/audio" >"$work/log" 2>&1 &
pid=$!
sync
echo 3 > /proc/sys/vm/drop_caches || { echo "dropping the page cache needs root" >&2; exit 1; }
python3 - "$port" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
for _ in range(200):
    try: socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError: time.sleep(0.05)
done = threading.Event()
def download():
    start = time.time()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /audio/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    n = 0
    while chunk := s.recv(1 << 20): n += len(chunk)
    print(f"cold download: {n / 1e6:.0f} MB in {time.time() - start:.2f} s")
    done.set()
threading.Thread(target=download).start()
worst, count = 0.0, 0
while not done.is_set():
    start = time.time()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    while s.recv(65536): pass
    worst, count = max(worst, time.time() - start), count + 1
    time.sleep(0.005)
print(f"/api/stats during it: {count} answers, slowest {worst * 1000:.1f} ms")
PY
