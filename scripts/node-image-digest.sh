#!/usr/bin/env bash
# What a node image committed by the redis_image Molecule scenario was made
# from: the base image it started from and every file of roles/redis_image.
# The Makefile hands that image to the other scenarios only while this digest
# is the one on its label, so a stale image is never reused.
#   node-image-digest.sh <base image>
set -euo pipefail
cd "$(dirname "$0")/.."
{
  docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || echo "no base image $1"
  find roles/redis_image -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-32
