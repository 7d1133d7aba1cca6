#!/usr/bin/env bash
# How long a re-run of site.yml takes on a converged 6-node sandbox (it
# changes nothing), over the production path - SSH as admin through the
# bastion, pipelining and ControlPersist (ansible.cfg) - and, in the same run
# on the same nodes, over the Docker connection the sandbox used before, as
# the reference. Run from the project root:
#   bench/bench_site_rerun.sh
# A sandbox of its own (docs/targets.md, "Sandbox identity"), never the
# user's; REDISOPS_BENCH_PORT picks its moto port (the bastion's is the next).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/redisops-bench-site.XXXXXX)
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_CONFIG="$PWD/ansible.cfg" AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  REDISOPS_SANDBOX_PORT=${REDISOPS_BENCH_PORT:-5057} \
  REDISOPS_SANDBOX_NETWORK=${REDISOPS_BENCH_NETWORK:-redisops-bench-site} \
  REDISOPS_SANDBOX_VPC_CIDR=${REDISOPS_BENCH_VPC_CIDR:-10.75.0.0/16} REDISOPS_SANDBOX_DIR="$dir" \
  REDISOPS_SANDBOX_CONTAINER_PREFIX=${REDISOPS_BENCH_CONTAINER_PREFIX:-redisops-bench-site-} \
  REDISOPS_SANDBOX_CLUSTER_NAME=${REDISOPS_BENCH_CLUSTER_NAME:-bench-site}
# Called inside $(...): a failure must reach the terminal, not the variable.
run() { ansible-playbook "$@" >"$dir/last.log" 2>&1 || { tail -30 "$dir/last.log" >&2; exit 1; }; }
seconds() { local start=$SECONDS; "$@"; echo $((SECONDS - start)); }
# The re-run must change nothing, or its time says nothing.
changed() { grep -E '^[0-9.]+ +:' "$dir/last.log" | grep -o 'changed=[0-9]*' | cut -d= -f2 | sort -n | tail -1; }
cleanup() { ansible-playbook playbooks/sandbox_down.yml >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

# The reference: the nodes' containers through Docker (root, no bastion), as
# a second inventory source whose group_vars outrank the sandbox's.
mkdir -p "$dir/docker-inventory/group_vars/redis_instances"
cat >"$dir/docker-inventory/group_vars/redis_instances/connection.yml" <<'VARS'
ansible_connection: community.docker.docker
# The inventory's compose sets ansible_host (a host variable, above any
# group_vars): the Docker connection's own name for the container outranks it.
ansible_docker_host: "{{ redisops_sandbox.container_prefix }}{{ instance_id }}"
ansible_user: root
VARS
printf '[redis_instances]\n' >"$dir/docker-inventory/hosts.ini"

up=$(seconds run playbooks/sandbox_up.yml)
echo "sandbox up:                          ${up} s"
first=$(seconds run site.yml)
echo "site.yml, first deploy (ssh):        ${first} s"
ssh=$(seconds run site.yml); ssh_changed=$(changed)
echo "site.yml re-run, ssh via bastion:    ${ssh} s (changed=${ssh_changed})"
cp "$dir/last.log" "${REDISOPS_BENCH_LOG_DIR:-/tmp}/bench-site-rerun-ssh.log"
# Check the reference really goes through Docker, on every node.
via=$(ansible -i inventories/sandbox -i "$dir/docker-inventory" redis_cluster -o -m ansible.builtin.debug \
  -a var=ansible_connection | grep -c '"community.docker.docker"' || true)
[ "$via" = 6 ] || { echo "the reference run would not use the Docker connection on 6 nodes ($via)"; exit 1; }
reached=$(ansible -i inventories/sandbox -i "$dir/docker-inventory" redis_cluster -o -m ansible.builtin.ping | grep -c SUCCESS || true)
[ "$reached" = 6 ] || { echo "the Docker connection reaches $reached of 6 nodes"; exit 1; }
docker=$(seconds run -i inventories/sandbox -i "$dir/docker-inventory" site.yml); docker_changed=$(changed)
cp "$dir/last.log" "${REDISOPS_BENCH_LOG_DIR:-/tmp}/bench-site-rerun-docker.log"
echo "site.yml re-run, docker connection:  ${docker} s (changed=${docker_changed})"
