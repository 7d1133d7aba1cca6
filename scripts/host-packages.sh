#!/usr/bin/env bash
# Host tools the tests need: debootstrap (base image); redis-server, whose
# binary the module tests start on 127.0.0.1 in temporary directories; gpg and
# gpgv (signature checks); Debian's python3-boto3, python3-redis and python3-zstandard, with which
# the integration tests run the node programs as the nodes do; cron, whose
# crontab binary ansible.builtin.cron needs (the backup rotation schedule).
# The packages' own services are not wanted on the host and are stopped.
set -euo pipefail

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v gpgv >/dev/null 2>&1 || missing+=(gpgv)
command -v crontab >/dev/null 2>&1 || missing+=(cron)
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
if [[ " ${missing[*]} " == *" cron "* ]]; then
  if [ -d /run/systemd/system ]; then
    systemctl disable --now cron.service >/dev/null 2>&1 || true
  else
    service cron stop >/dev/null 2>&1 || true
  fi
fi
echo "host packages: ready"
