#!/usr/bin/env bash
# Bake figures on a private sandbox: cold bake (base AMI published, builder
# launched, configured, sealed, committed), cached re-run (AMI reused), and
# the sizes of the base and node images. Run from the project root:
#   bench/bench_bake.sh [engine]
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-redis}
dir=$(mktemp -d /tmp/redisops-bench-bake.XXXXXX)
# A sandbox of its own (docs/targets.md, "Sandbox identity"), never the user's.
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg" AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  REDISOPS_SANDBOX_PORT=${REDISOPS_BENCH_PORT:-5059} REDISOPS_SANDBOX_NETWORK=redisops-bench \
  REDISOPS_SANDBOX_VPC_CIDR=10.76.0.0/16 REDISOPS_SANDBOX_DIR="$dir" \
  REDISOPS_SANDBOX_CONTAINER_PREFIX=redisops-bench- REDISOPS_SANDBOX_CLUSTER_NAME=bench
run() { ansible-playbook "$@" >"$dir/last.log" 2>&1 || { tail -30 "$dir/last.log" >&2; exit 1; }; }
seconds() { local start=$SECONDS; "$@"; echo $((SECONDS - start)); }
cleanup() { ansible-playbook playbooks/sandbox_down.yml >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

up=$(seconds run playbooks/sandbox_up.yml -e '{"node_instances_count": 0, "sandbox_images_from_cache": false}' \
  -e "ami_bake_engine=$engine")
cold=$(seconds run playbooks/bake_ami.yml -e "ami_bake_engine=$engine" -e ami_bake_rebuild=true)
warm=$(seconds run playbooks/bake_ami.yml -e "ami_bake_engine=$engine")
ami=$(grep -o "AMI ami-[0-9a-f]*" "$dir/last.log" | tail -1 | cut -d' ' -f2)
size() { docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'; }
echo "engine:                 $engine"
echo "sandbox up (incl. bake): ${up} s"
echo "bake, cold (rebuild):    ${cold} s"
echo "bake, cached (reuse):    ${warm} s"
echo "base image size:         $(size redisops/debian12-base:latest)"
echo "node image size ($ami): $(size "redisops/ami:$ami")"
