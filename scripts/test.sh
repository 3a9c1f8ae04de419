#!/usr/bin/env bash
# Every test: ruff, then pytest (compute, API, fuzz, browser, layering). Installs Debian's
# chromium for the browser tests when it is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
    || { echo "could not install chromium"; exit 1; }
fi

echo "== ruff"
"$BIN/ruff" check . || exit 1

# tests/test_docker.py needs docker, the local base image and build/wheelhouse: set up here,
# outside pytest's clock (apt, debootstrap: minutes on a fresh machine; seconds after).
if [ "${MATHLENS_SKIP_DOCKER:-0}" != 1 ]; then
  echo "== docker test setup"
  VENV="${VENV:-.venv}" bash scripts/docker-test-setup.sh \
    || echo "docker test setup failed: tests/test_docker.py will fail and say why"
fi

echo "== pytest"
"$BIN/python" -m pytest -q "$@"
rc=$?
# pytest exits 5 when it collected no test: that is not a failure of the code under test.
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi
exit "$rc"
