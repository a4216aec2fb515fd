#!/usr/bin/env bash
# Regenerates the demo tracks in cached_audio/ from nothing but sox and ffmpeg (Debian packages
# `sox libsox-fmt-all ffmpeg`). Everything is synthesized, so the output is free to redistribute (CC0).
set -euo pipefail

out="${1:-cached_audio}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# melody NAME VOICE NOTE... : one WAV of plucked or sine notes, 0.35 s each, with a little reverb.
melody() {
  local name="$1" voice="$2"; shift 2
  local parts=() i=0
  for note in "$@"; do
    sox -q -n -r 44100 -c 1 "$tmp/$name-$i.wav" synth 0.35 "$voice" "$note" fade 0.005 0.35 0.1
    parts+=("$tmp/$name-$i.wav"); i=$((i + 1))
  done
  sox -q "${parts[@]}" "$tmp/$name.wav" gain -8 reverb 30 gain -n -3
}

melody arpeggio pluck C4 E4 G4 C5 G4 E4 C4 E4 G4 C5 E5 C5 G4 E4 C4 G3 \
                      A3 C4 E4 A4 E4 C4 A3 C4 F3 A3 C4 F4 G3 B3 D4 G4
melody lullaby sine E4 D4 C4 D4 E4 E4 E4 E4 D4 D4 D4 D4 E4 G4 G4 G4 \
                    E4 D4 C4 D4 E4 E4 E4 E4 D4 D4 E4 D4 C4 C4 C4 C4
melody bells pluck G5 D5 B4 G4 A4 D5 F#5 A5 G5 E5 C5 G4 A4 B4 C5 D5

sox -q "$tmp/arpeggio.wav" -C 128 "$out/Arpeggio in C.mp3"
sox -q "$tmp/lullaby.wav" -C 3 "$out/lullaby.ogg"
sox -q "$tmp/bells.wav" -r 22050 "$out/bells.flac"
# A 3-second test signal: a sine sweep, served at /audio/test.
sox -q -n -r 44100 -c 1 -C 64 "$out/test.mp3" synth 3 sine 220-880 fade 0.05 3 0.2 gain -6
ffmpeg -loglevel error -y -i "$tmp/lullaby.wav" -c:a libopus -b:a 48k "$out/Lullaby (opus).opus"
ffmpeg -loglevel error -y -i "$tmp/arpeggio.wav" -c:a aac -b:a 96k "$out/arpeggio-aac.m4a"

# Covers and tags: two generated 300x300 pictures, embedded with ffmpeg where the container takes
# one (MP3: ID3v2 APIC, FLAC: PICTURE block, M4A: covr). The Ogg files keep no cover.
ffmpeg -loglevel error -y -f lavfi -i "gradients=s=300x300:c0=0x2f6fdf:c1=0xf2a541:x0=0:y0=0:x1=300:y1=300:nb_colors=2:seed=7" \
  -frames:v 1 "$tmp/cover-arpeggio.png"
ffmpeg -loglevel error -y -f lavfi -i "mandelbrot=s=300x300:maxiter=200" -frames:v 1 "$tmp/cover-bells.png"
tag() {
  local file="$1" cover="$2" title="$3" track="$4" ext="${1##*.}"
  local extra=()
  [ "$ext" = mp3 ] && extra=(-id3v2_version 3)
  ffmpeg -loglevel error -y -i "$out/$file" -i "$cover" -map 0:a -map 1:v -c copy -disposition:v attached_pic \
    -metadata title="$title" -metadata artist="audio-streamer demo" -metadata album="Synthesized" \
    -metadata track="$track" "${extra[@]}" "$tmp/tagged.$ext"
  mv "$tmp/tagged.$ext" "$out/$file"
}
tag "Arpeggio in C.mp3" "$tmp/cover-arpeggio.png" "Arpeggio in C" 1
tag "arpeggio-aac.m4a" "$tmp/cover-arpeggio.png" "Arpeggio in C (AAC)" 2
tag "bells.flac" "$tmp/cover-bells.png" "Bells" 3
ls -l "$out"
