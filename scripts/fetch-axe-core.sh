#!/usr/bin/env bash
# Fetches axe-core, the accessibility checker the browser tests inject into the page, from the npm
# registry: a pinned version, checked against the registry's sha512, into target/axe-core/.
#
#   scripts/fetch-axe-core.sh        (.ci/run calls it; the audit test skips without it)
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.14.1
integrity=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
out=target/axe-core
[ -f "$out/axe-$version.min.js" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 "https://registry.npmjs.org/axe-core/-/axe-core-$version.tgz" -o "$tmp/axe.tgz"
got=$(python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tmp/axe.tgz")
if [ "$got" != "$integrity" ]; then
  echo "axe-core $version: the download does not match the registry's checksum" >&2
  exit 1
fi
tar -xzf "$tmp/axe.tgz" -C "$tmp" package/axe.min.js package/LICENSE
mkdir -p "$out"
cp "$tmp/package/axe.min.js" "$out/axe-$version.min.js"
cp "$tmp/package/LICENSE" "$out/LICENSE"
ln -sf "axe-$version.min.js" "$out/axe.min.js"
echo "axe-core $version in $out"
