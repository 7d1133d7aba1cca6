#!/usr/bin/env bash
# Seconds of a site.yml re-run on a converged 6-node sandbox (changed=0), with
# the project's connection settings (pipelining on) next to the same re-run
# with pipelining off, alternating, in one run on a private sandbox:
#   bench/bench_site_rerun.sh [rounds]        (default 2 rounds)
# Heavy: run it alone (flock /tmp/redisops-docker.lock bench/bench_site_rerun.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
dir=$(mktemp -d /tmp/redisops-bench-site.XXXXXX)
# A sandbox of its own (docs/targets.md, "Sandbox identity"), never the user's.
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg" AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  REDISOPS_SANDBOX_PORT=${REDISOPS_BENCH_PORT:-5058} REDISOPS_SANDBOX_NETWORK=redisops-bench-site \
  REDISOPS_SANDBOX_VPC_CIDR=10.75.0.0/16 REDISOPS_SANDBOX_DIR="$dir" \
  REDISOPS_SANDBOX_CONTAINER_PREFIX=redisops-bsite- REDISOPS_SANDBOX_CLUSTER_NAME=bsite
run() { ansible-playbook "$@" >"$dir/last.log" 2>&1 || { tail -30 "$dir/last.log"; exit 1; }; }
changed() { awk '/PLAY RECAP/{r=1} r && /changed=/{sub(/.*changed=/, ""); s += $1} END{print s + 0}' "$dir/last.log"; }
rerun() {  # rerun <label> [env ...]: one timed re-run that must change nothing
  local label=$1 start; shift
  start=$(date +%s%N)
  env "$@" ansible-playbook site.yml >"$dir/last.log" 2>&1 || { tail -30 "$dir/last.log"; exit 1; }
  [ "$(changed)" = 0 ] || { echo "$label: the re-run changed something"; grep -B3 "changed:" "$dir/last.log" | head -40; exit 1; }
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf '%s %d.%d\n' "$label" $((ms / 1000)) $((ms % 1000 / 100)) >>"$dir/times"
}
cleanup() { ansible-playbook playbooks/sandbox_down.yml >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

run playbooks/sandbox_up.yml
run site.yml
for _ in $(seq "$rounds"); do
  rerun pipelining
  rerun no-pipelining ANSIBLE_PIPELINING=false
done
echo "site.yml re-run on a converged 6-node sandbox, changed=0 each time ($rounds rounds):"
for label in pipelining no-pipelining; do
  awk -v l="$label" '$1 == l {printf "  %-14s %s s\n", l, $2}' "$dir/times"
done
