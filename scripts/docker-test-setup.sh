#!/usr/bin/env bash
# Everything tests/test_docker.py needs to build and run the image on a machine without Docker
# Hub and without internet inside containers. Idempotent: a second run takes about a second.
#   1. docker.io, docker-compose and debootstrap from apt, when missing;
#   2. dockerd running (started in the background when `docker info` fails);
#   3. the base image mathlens-base:bookworm (scripts/docker-base.sh, debootstrap; kept);
#   4. build/wheelhouse: wheels of every runtime dependency, at the versions of this checkout's
#      venv, so the image installs offline (rebuilt only when the dependency list changes).
# MATHLENS_SKIP_DOCKER=1 skips it all (and tests/test_docker.py skips too).
# Exit status 3: this machine cannot run a Docker daemon at all (no root, or dockerd refuses to
# start, as in an unprivileged container); tests/test_docker.py then skips and says why.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${MATHLENS_SKIP_DOCKER:-0}" = 1 ]; then
  echo "== MATHLENS_SKIP_DOCKER=1: docker setup skipped"
  exit 0
fi
PY="${VENV:-.venv}/bin/python"
[ -x "$PY" ] || PY="$(command -v python3.11 || command -v python3)"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else echo "not root and no password-less sudo" >&2; exit 3; fi
fi
# pytest's fixture and scripts/test.sh may both run this: one at a time.
exec 9>"${TMPDIR:-/tmp}/mathlens-docker-setup.lock"
flock -w 900 9 || { echo "another docker-test-setup.sh held the lock for 900 s" >&2; exit 1; }

# 1. Packages.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
# Compose: the plugin (`docker compose`) or Debian's docker-compose.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  echo "== installing ${need[*]} (apt)"
  t0=$(date +%s)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  echo "== installed in $(( $(date +%s) - t0 ))s"
fi

# 2. The daemon.
if ! timeout 20 $SUDO docker info >/dev/null 2>&1; then
  echo "== starting dockerd (log: /var/log/mathlens-dockerd.log)"
  # 9>&-: the daemon must not inherit the lock's descriptor, or it would hold the lock forever.
  if [ -d /run/systemd/system ] && timeout 60 $SUDO systemctl start docker 9>&- 2>/dev/null; then
    :
  else
    $SUDO sh -c 'setsid nohup dockerd >/var/log/mathlens-dockerd.log 2>&1 < /dev/null &' 9>&-
  fi
  for _ in $(seq 1 60); do
    timeout 10 $SUDO docker info >/dev/null 2>&1 && break
    sleep 1
  done
  timeout 10 $SUDO docker info >/dev/null 2>&1 || {
    echo "dockerd did not come up in 60 s; last lines of its log:" >&2
    $SUDO tail -n 20 /var/log/mathlens-dockerd.log >&2 || true
    exit 3
  }
fi

# 3. The base image.
$SUDO bash scripts/docker-base.sh

# 4. The wheelhouse, keyed by the dependency list, this venv's versions and the Python.
WH=build/wheelhouse
mkdir -p build
reqs="$("$PY" -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))")"
pins="$("$PY" -m pip freeze --exclude-editable 2>/dev/null | grep -E '^[A-Za-z0-9_.-]+==' || true)"
key="$(printf '%s\n--\n%s\n--\n%s\n' "$reqs" "$pins" "$("$PY" -VV)" | sha256sum | cut -d' ' -f1)"
if [ -f "$WH.stamp" ] && [ "$(cat "$WH.stamp")" = "$key" ] && ls "$WH"/*.whl >/dev/null 2>&1; then
  echo "== $WH is current ($(ls "$WH" | wc -l) wheels)"
  exit 0
fi
echo "== building $WH with $PY"
t0=$(date +%s)
tmp="$(mktemp -d build/wheelhouse.tmp.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$reqs" >"$tmp/requirements.txt"
printf '%s\n' "$pins" >"$tmp/constraints.txt"
# setuptools and wheel: the image installs the project itself (editable) from the wheelhouse.
wheel() { "$PY" -m pip wheel -q --wheel-dir "$tmp/wheels" -r "$tmp/requirements.txt" 'setuptools>=68' wheel "$@"; }
# Same versions as the venv the other tests use; without them if the venv is older than pyproject.
wheel -c "$tmp/constraints.txt" 2>"$tmp/err" || { tail -n 3 "$tmp/err"; echo "   (the venv's versions do not resolve: unpinned)"; wheel; }
rm -rf "$WH"
mv "$tmp/wheels" "$WH"
echo "$key" >"$WH.stamp"
echo "== $WH: $(ls "$WH" | wc -l) wheels, $(du -sh "$WH" | cut -f1), in $(( $(date +%s) - t0 ))s"
