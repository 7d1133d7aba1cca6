#!/usr/bin/env bash
# Host tools the tests need: debootstrap (base image) and redis-server, whose
# binary the module tests start on 127.0.0.1 in temporary directories. The
# package's own service is not wanted on the host and is stopped/disabled.
# The node programs' libraries (Debian 12's python3-boto3, python3-redis,
# python3-zstandard) let the integration tests run those programs under the
# host's /usr/bin/python3 exactly as on a node.
set -euo pipefail

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
for module in boto3:python3-boto3 redis:python3-redis zstandard:python3-zstandard; do
  /usr/bin/python3 -c "import ${module%%:*}" >/dev/null 2>&1 || missing+=("${module#*:}")
done
[ ${#missing[@]} -eq 0 ] && { echo "host packages: present"; exit 0; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "host packages: missing ${missing[*]}; install them (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "host packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" redis-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now redis-server.service >/dev/null 2>&1 || true
fi
echo "host packages: ready"
