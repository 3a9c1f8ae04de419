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
# Then the image build starts in the background, so that it overlaps the other tests;
# tests/test_docker.py waits for it (MATHLENS_DOCKER_BUILD_RC) instead of building again.
if [ "${MATHLENS_SKIP_DOCKER:-0}" != 1 ]; then
  echo "== docker test setup"
  if VENV="${VENV:-.venv}" bash scripts/docker-test-setup.sh; then
    cmd="$("$BIN/python" - <<'PY'
import importlib.util, shlex
spec = importlib.util.spec_from_file_location("td", "tests/test_docker.py")
td = importlib.util.module_from_spec(spec)
spec.loader.exec_module(td)
cli = td._buildkit_client()
print(shlex.join(td.build_command(cli)) if cli else "")
PY
)"
    if [ -n "$cmd" ]; then
      mkdir -p build && rm -f build/docker-build.rc build/docker-build.log
      echo "== docker build in the background (log: build/docker-build.log)"
      ( DOCKER_BUILDKIT=1 timeout 1500 $cmd >build/docker-build.log 2>&1; echo $? >build/docker-build.rc ) &
      export MATHLENS_DOCKER_BUILD_RC="$PWD/build/docker-build.rc"
    fi
  else
    echo "docker test setup failed: tests/test_docker.py will say why"
  fi
fi

echo "== pytest"
"$BIN/python" -m pytest -q "$@"
rc=$?
# pytest exits 5 when it collected no test: that is not a failure of the code under test.
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi
exit "$rc"
