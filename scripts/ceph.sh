#!/usr/bin/env bash
# A one-node Ceph cluster with its S3 gateway on 127.0.0.1, from Debian's packages
# (apt-get install radosgw ceph-mon ceph-osd ceph-common), for the tests and the benchmarks.
#
#   scripts/ceph.sh DIR S3_PORT MON_PORT ACCESS_KEY SECRET_KEY
#
# Everything lives under DIR (one monitor, one OSD keeping its objects in memory, one radosgw; no
# cephx between them: S3 requests are still checked against the user's keys). Prints
# `ready http://127.0.0.1:S3_PORT` once the gateway answers and the user exists, then runs until
# its standard input closes (the program that started it has ended) or it gets SIGTERM, and then
# stops the daemons and removes DIR. Ready in about 15 s. SIGUSR1 stops the gateway (the store is
# down), SIGUSR2 starts it again. The monitor will not start on a filesystem with less than 1% free:
# the tests put DIR on /dev/shm.
set -euo pipefail

dir=$1 s3_port=$2 mon_port=$3 access_key=$4 secret_key=$5
for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install radosgw ceph-mon ceph-osd ceph-common" >&2
    exit 3
  }
done

mkdir -p "$dir"/{mon,osd,run,log}
conf=$dir/ceph.conf
fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon data avail crit = 0
mon data avail warn = 0
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
[mon]
mon data = $dir/mon/\$cluster-\$id
[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 2147483648
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$s3_port tcp_nodelay=1
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
EOF

pids=()
rgw=
stop() {
  trap - EXIT INT TERM
  [ -n "$rgw" ] && pids+=("$rgw")
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap stop EXIT INT TERM

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
ceph-mon -c "$conf" -i a -f 2>/dev/null &
pids+=($!)

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_id=$(timeout 60 ceph -c "$conf" osd new "$osd_uuid")
mkdir -p "$dir/osd/ceph-$osd_id"
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>/dev/null
ceph-osd -c "$conf" -i "$osd_id" -f 2>/dev/null &
pids+=($!)
for _ in $(seq 120); do
  ceph -c "$conf" osd stat 2>/dev/null | grep -q '1 up' && break
  sleep 0.5
done

mkdir -p "$dir/rgw"
# The gateway is started and stopped by the loop at the end, never inside a trap: a signal that
# arrives while the other one's handler is still waiting for radosgw would otherwise be lost.
start_rgw() {
  if [ -n "$rgw" ] && kill -0 "$rgw" 2>/dev/null; then return 0; fi
  radosgw -c "$conf" -n client.rgw -f 2>/dev/null &
  rgw=$!
}
stop_rgw() {
  [ -n "$rgw" ] || return 0
  kill "$rgw" 2>/dev/null || true
  while kill -0 "$rgw" 2>/dev/null; do sleep 0.1; done
  wait "$rgw" 2>/dev/null || true
  rgw=
}
start_rgw
for _ in $(seq 240); do
  curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
  sleep 0.5
done
radosgw-admin -c "$conf" user create --uid=tests --display-name=tests \
  --access-key="$access_key" --secret-key="$secret_key" >/dev/null

want=up
trap 'want=down' USR1
trap 'want=up' USR2
echo "ready http://127.0.0.1:$s3_port"
# Until whoever started this goes away (stdin closes), keep the gateway as last asked.
cat <&0 >/dev/null &
reader=$!
while kill -0 "$reader" 2>/dev/null; do
  if [ "$want" = up ]; then start_rgw; else stop_rgw; fi
  sleep 0.2
done
