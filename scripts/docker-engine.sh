#!/usr/bin/env bash
# Make sure a Docker engine answers. On Debian/Ubuntu as root, install
# docker.io and start dockerd in the background when none is running;
# anywhere else, say what to do and stop.
set -euo pipefail

# After the engine was (re)started here, stopped project containers are
# leftovers: their sandbox died with its moto server, which keeps state in
# memory. (A running engine may hold a live sandbox's stopped instances.)
prune_stale() {
  local stale
  stale=$(docker ps -aq --filter label=io.redisops.managed=true --filter status=exited --filter status=created)
  if [ -n "$stale" ]; then
    echo "docker: removing $(echo "$stale" | wc -l) stopped project container(s)"
    docker rm -f $stale >/dev/null
  fi
}

if docker info >/dev/null 2>&1; then
  echo "docker: engine is running"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! grep -qiE '^ID(_LIKE)?=.*(debian|ubuntu)' /etc/os-release; then
  echo "docker: no engine answers 'docker info'. Start Docker (or run this as root on Debian/Ubuntu to have it installed) and retry." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker: installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

echo "docker: starting dockerd in the background (log: /var/log/redisops-dockerd.log)"
nohup dockerd >/var/log/redisops-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine is running"
    prune_stale
    exit 0
  fi
  sleep 1
done
echo "docker: dockerd did not answer within 60 s; see /var/log/redisops-dockerd.log" >&2
exit 1
