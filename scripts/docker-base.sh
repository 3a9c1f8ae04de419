#!/usr/bin/env bash
# Build a Debian bookworm base image with Python 3.11 from Debian's own mirror, for machines that
# cannot pull python:3.11-slim from Docker Hub. Needs root, debootstrap and a running dockerd.
#
#   sudo scripts/docker-base.sh                 # -> image mathlens-base:bookworm (kept if present)
#   docker build --build-arg BASE_IMAGE=mathlens-base:bookworm -t mathlens .
#
# Env: MATHLENS_BASE_IMAGE (image name), MATHLENS_DEBIAN_MIRROR / MATHLENS_DEBIAN_SECURITY
# (default: what this machine's apt sources use, else deb.debian.org), FORCE=1 rebuilds.
set -euo pipefail

IMAGE="${MATHLENS_BASE_IMAGE:-mathlens-base:bookworm}"
SUITE=bookworm
DOCKER="${DOCKER:-docker}"

if [ "${FORCE:-0}" != 1 ] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "== base image $IMAGE exists (FORCE=1 rebuilds)"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "docker-base.sh: debootstrap needs root (run with sudo)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "docker-base.sh: install debootstrap (apt-get install debootstrap)" >&2; exit 1; }

# The mirror this machine's apt already reaches (deb822 *.sources or one-line sources.list).
apt_uris() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | sed 's/^URIs:[[:space:]]*//' | tr ' ' '\n'
    grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}'
  } | grep -E '^https?://' | grep -E '/debian(-security)?/?$' || true
}
MIRROR="${MATHLENS_DEBIAN_MIRROR:-$(apt_uris | grep -v -- '-security' | head -n1)}"
SECURITY="${MATHLENS_DEBIAN_SECURITY:-$(apt_uris | grep -- '-security' | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="${SECURITY:-http://deb.debian.org/debian-security}"

ROOTFS="$(mktemp -d /var/tmp/mathlens-rootfs.XXXXXX)"
LOG="$ROOTFS.log"
trap 'rm -rf --one-file-system "$ROOTFS" "$LOG"' EXIT
trap 'echo "docker-base.sh failed; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2' ERR
chmod 755 "$ROOTFS"  # apt's _apt user must reach the chroot's lists
echo "== debootstrap $SUITE from $MIRROR into $ROOTFS"
t0=$(date +%s)
# minbase = essential + apt; python3-venv brings ensurepip (pip for `python3 -m venv`),
# passwd brings useradd for the image's non-root user.
# Two stages, so that dpkg in the second skips its fsyncs (the tree is tarred at the end anyway):
# minutes saved on a busy disk.
debootstrap --foreign --variant=minbase --include=python3,python3-venv,passwd \
  "$SUITE" "$ROOTFS" "$MIRROR" >>"$LOG" 2>&1
echo force-unsafe-io >"$ROOTFS/etc/dpkg/dpkg.cfg.d/mathlens-unsafe-io"
chroot "$ROOTFS" /debootstrap/debootstrap --second-stage >>"$LOG" 2>&1

# Same security updates python:3.11-slim would carry.
cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get -y -qq upgrade && apt-get clean' >>"$LOG" 2>&1

rm -f "$ROOTFS/etc/dpkg/dpkg.cfg.d/mathlens-unsafe-io"

# Slim it: apt lists, caches, docs (copyright files stay), man pages, locales.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* "$ROOTFS"/tmp/*
find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete
"$ROOTFS/usr/bin/python3" --version >/dev/null 2>&1 || chroot "$ROOTFS" python3 --version

tar --numeric-owner --xattrs -C "$ROOTFS" -c . | "$DOCKER" import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
  --message "debootstrap --variant=minbase $SUITE $MIRROR + python3" - "$IMAGE" >/dev/null
echo "== base image $IMAGE built in $(( $(date +%s) - t0 ))s ($("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
