#!/usr/bin/env bash
# Build the Debian 12 base image that stands in for a freshly launched EC2
# instance (systemd as PID 1, python3, the packages Debian's cloud image has).
# No registry is reachable here, so the image is made with debootstrap and
# `docker import` (containers set stop_signal SIGRTMIN+3 themselves, import
# cannot); it is tagged by a hash of this recipe and rebuilt only when
# the recipe changes. Prints the image reference on stdout.
set -euo pipefail

repo=${BASE_IMAGE_REPO:-redisops/debian12-base}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=(
  systemd systemd-sysv dbus python3 python3-apt sudo ca-certificates curl
  gnupg iproute2 iputils-ping procps openssh-server less netbase tzdata
)

recipe_hash=$( { cat "$0"; echo "$mirror"; } | sha256sum | cut -c1-12)
image="$repo:$recipe_hash"

if docker image inspect "$image" >/dev/null 2>&1; then
  docker tag "$image" "$repo:latest"
  echo "base image $image is cached" >&2
  echo "$image"
  exit 0
fi

command -v debootstrap >/dev/null || {
  echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

rootfs=$(mktemp -d /var/tmp/redisops-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "building $image with debootstrap (about a minute)" >&2
timeout 900 debootstrap --variant=minbase \
  --include="$(IFS=,; echo "${packages[*]}")" bookworm "$rootfs" "$mirror" >&2

cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
# The login user of Debian's cloud images: admin, passwordless sudo; its
# authorized_keys comes with the instance (the key pair, put there by the
# sandbox's platform as cloud-init does on EC2).
chroot "$rootfs" useradd --create-home --uid 1000 --user-group --shell /bin/bash admin
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/admin/.ssh"
echo 'admin ALL=(ALL) NOPASSWD:ALL' > "$rootfs/etc/sudoers.d/90-cloud-init-users"
chmod 0440 "$rootfs/etc/sudoers.d/90-cloud-init-users"
# Key logins only, as in the cloud images.
cat > "$rootfs/etc/ssh/sshd_config.d/50-cloud-image.conf" <<'SSHD'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
SSHD
# A container may not set the audit login uid; a failure to do so must not
# refuse the session.
sed -i 's/^session\s\+required\s\+pam_loginuid.so/session optional pam_loginuid.so/' "$rootfs/etc/pam.d/sshd"
# Identity is created at first boot, as on EC2: the machine id by systemd,
# sshd's host keys (cloud-init's job there) before sshd starts, so every
# instance has keys of its own.
: > "$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
cat > "$rootfs/etc/systemd/system/ssh.service.d/host-keys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
# Units that cannot work without real hardware or a real kernel console.
for unit in getty@tty1.service serial-getty@.service systemd-remount-fs.service \
            sys-kernel-config.mount sys-kernel-debug.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | docker import \
  --change 'ENV container=docker' \
  --change 'CMD ["/lib/systemd/systemd"]' \
  - "$image" >&2
docker tag "$image" "$repo:latest"
echo "$image"
