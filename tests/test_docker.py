"""The Docker image and docker-compose.yml, for real: the image builds offline from the local
Debian base (scripts/docker-base.sh) and build/wheelhouse, serves /api/health and the home page
from a container as a non-root user and turns healthy; the compose file's scheduler, CPU worker
and web commands form a working Dask cluster.

scripts/docker-test-setup.sh (run by scripts/test.sh, and again here; idempotent) installs and
starts docker when missing. A setup or build that fails is a failure. The one skip: a machine
that cannot run a Docker daemon at all (no root, or an unprivileged container where dockerd
refuses to start; the setup script exits 3 and says why), or MATHLENS_SKIP_DOCKER=1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = os.environ.get("MATHLENS_BASE_IMAGE", "mathlens-base:bookworm")
IMAGE = "mathlens:test"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETUP_TIMEOUT_S = 1200  # a fresh machine: apt, debootstrap, wheelhouse (scripts/test.sh ran it first)
BUILD_TIMEOUT_S = 1500  # a cold build on 2 cores
UP_TIMEOUT_S = 180  # container start to answering, on a busy machine


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _buildkit_client() -> str | None:
    """A docker CLI that can build with BuildKit: one with the buildx plugin, or a CLI older than
    23 (BuildKit built in, DOCKER_BUILDKIT=1). Debian's docker.io is the latter."""
    candidates = [os.environ.get("MATHLENS_DOCKER"), shutil.which("docker"), "/usr/bin/docker"]
    for cli in dict.fromkeys(c for c in candidates if c and os.access(c, os.X_OK)):
        if subprocess.run([cli, "buildx", "version"], capture_output=True).returncode == 0:
            return cli
        v = subprocess.run([cli, "version", "-f", "{{.Client.Version}}"], capture_output=True, text=True)
        major = v.stdout.strip().split(".")[0]
        if major.isdigit() and int(major) < 23:
            return cli
    return None


@pytest.fixture(scope="module")
def docker() -> str:
    """The docker CLI, after making docker available (or failing and saying why)."""
    if os.environ.get("MATHLENS_SKIP_DOCKER") == "1":
        pytest.skip("MATHLENS_SKIP_DOCKER=1")
    setup = subprocess.run(["bash", str(ROOT / "scripts" / "docker-test-setup.sh")], cwd=ROOT,
                           capture_output=True, text=True, timeout=SETUP_TIMEOUT_S)
    if setup.returncode == 3:
        pytest.skip("this machine cannot run a Docker daemon (scripts/docker-test-setup.sh exit 3):\n"
                    f"{_tail(setup.stdout + setup.stderr, 12)}")
    if setup.returncode != 0:
        pytest.fail("docker is not available: scripts/docker-test-setup.sh failed "
                    f"(set MATHLENS_SKIP_DOCKER=1 to skip the Docker tests):\n"
                    f"{_tail(setup.stdout + setup.stderr)}", pytrace=False)
    cli = _buildkit_client()
    if cli is None:
        pytest.fail("no docker CLI that builds with BuildKit (needs the buildx plugin, or "
                    "Debian's docker.io at /usr/bin/docker); set MATHLENS_DOCKER", pytrace=False)
    return cli


@pytest.fixture(scope="module")
def image(docker: str) -> str:
    """mathlens:test, built from the local base with no network: pip sees only the wheelhouse."""
    t0 = time.monotonic()
    build = subprocess.run(
        [docker, "build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(ROOT)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "DOCKER_BUILDKIT": "1"})
    assert build.returncode == 0, f"docker build failed:\n{_tail(build.stdout + build.stderr, 60)}"
    print(f"docker build: {time.monotonic() - t0:.0f} s")
    return IMAGE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sh(docker: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker, *args], capture_output=True, text=True, timeout=timeout)


def _state(docker: str, name: str, field: str) -> str:
    return _sh(docker, "inspect", "-f", f"{{{{{field}}}}}", name).stdout.strip()


def _logs(docker: str, name: str) -> str:
    r = _sh(docker, "logs", name)
    return _tail(r.stdout + r.stderr)


def _wait(docker: str, name: str, ready, what: str, timeout: float = UP_TIMEOUT_S):
    """Poll ready() until it returns a truthy value; fail with the container's log if the
    container stops or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        got = ready()
        if got:
            return got
        if _state(docker, name, ".State.Running") != "true":
            pytest.fail(f"{name} stopped while waiting for {what}:\n"
                        f"{_logs(docker, name)}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} from {name} within {timeout:.0f} s:\n"
                        f"{_logs(docker, name)}", pytrace=False)
        time.sleep(0.5)  # polling interval under a deadline, not a wait for time to pass


def _get(url: str) -> tuple[int, str, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:  # an answer, just not a 2xx one
        with e:
            return e.code, e.headers.get("content-type", ""), e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None  # not listening yet (or the proxy is up and the app not yet)


@pytest.fixture
def containers(docker: str) -> Iterator[list[str]]:
    """Names of the containers (and networks) a test starts; all removed afterwards."""
    made: list[str] = []
    yield made
    for name in reversed(made):
        if name.startswith("net:"):
            _sh(docker, "network", "rm", name[4:])
        else:
            _sh(docker, "rm", "-f", "-v", name)


def _name(prefix: str) -> str:
    return f"mathlens-test-{prefix}-{uuid.uuid4().hex[:8]}"


def test_image_serves_the_app_alone(docker: str, image: str, containers: list[str]) -> None:
    name, port = _name("web"), _free_port()
    run = _sh(docker, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000",
              "--health-interval", "2s", "--health-start-period", "0s", image)
    assert run.returncode == 0, run.stderr
    containers.append(name)
    base = f"http://127.0.0.1:{port}"

    status, ctype, body = _wait(docker, name, lambda: _get(f"{base}/api/health"), "/api/health")
    assert status == 200 and ctype.startswith("application/json")
    assert json.loads(body)["status"] == "ok"
    status, ctype, body = _get(f"{base}/")
    assert status == 200 and ctype.startswith("text/html")
    assert b"MathLens" in body

    # The image's own HEALTHCHECK (python + urllib, no curl) reports healthy.
    _wait(docker, name, lambda: _state(docker, name, ".State.Health.Status") == "healthy",
          "healthy status")
    user = _sh(docker, "exec", name, "id", "-u").stdout.strip()
    assert user not in ("", "0"), f"the app runs as uid {user!r}; want a non-root user"
    writable = _sh(docker, "exec", name, "sh", "-c",
                   'test -w /data && mkdir -p "$NUMBA_CACHE_DIR" && test -w "$NUMBA_CACHE_DIR"')
    assert writable.returncode == 0, "/data or NUMBA_CACHE_DIR is not writable by the app's user"
    assert _sh(docker, "stop", "-t", "20", name).returncode == 0
    assert _state(docker, name, ".State.ExitCode") in ("0", "143"), _logs(docker, name)


def _command(service: str) -> list[str]:
    return [str(a) for a in COMPOSE["services"][service]["command"]]


def test_compose_cluster_runs_jobs_on_its_worker(docker: str, image: str,
                                                 containers: list[str]) -> None:
    """docker-compose.yml's scheduler, worker and web commands, run with plain docker on one
    network (no compose needed): the worker joins, runs code from the image, the web answers."""
    net = _name("net")
    assert _sh(docker, "network", "create", net).returncode == 0
    containers.append(f"net:{net}")

    def start(service: str, *extra: str) -> str:
        name = _name(service)
        r = _sh(docker, "run", "-d", "--name", name, "--network", net, "--network-alias", service,
                "--no-healthcheck", *extra, image, *_command(service))
        assert r.returncode == 0, r.stderr
        containers.append(name)
        return name

    scheduler = start("scheduler")
    probe = COMPOSE["services"]["scheduler"]["healthcheck"]["test"][1:]  # ["CMD", ...]
    _wait(docker, scheduler, lambda: _sh(docker, "exec", scheduler, *probe).returncode == 0,
          "the compose healthcheck")
    start("worker")
    env = [e.partition("=") for e in COMPOSE["services"]["web"]["environment"]]
    port = _free_port()
    web = start("web", "-p", f"127.0.0.1:{port}:8000",
                *(a for k, _, v in env if v for a in ("-e", f"{k}={v}")))
    assert "MATHLENS_SCHEDULER=tcp://scheduler:8786" in {f"{k}={v}" for k, _, v in env}

    status, _, body = _wait(docker, web, lambda: _get(f"http://127.0.0.1:{port}/api/health"),
                            "/api/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    # A client in the web container, as the app's job service is: the worker runs our code.
    script = (
        "import os, distributed\n"
        "c = distributed.Client(os.environ['MATHLENS_SCHEDULER'], timeout=60)\n"
        "c.wait_for_workers(1, timeout=120)\n"
        "f = c.submit(lambda: __import__('compute').__file__ + ' ' + __import__('torch').__version__, pure=False)\n"
        "print(f.result(timeout=120))\n"
        "c.close()\n")
    r = _sh(docker, "exec", web, "python", "-c", script, timeout=300)
    assert r.returncode == 0, _tail(r.stdout + r.stderr)
    where, torch_version = r.stdout.split()[-2:]
    assert where.startswith("/app/compute/") and "+cpu" in torch_version, r.stdout


def test_compose_file_declares_the_classroom_services() -> None:
    services = COMPOSE["services"]
    assert {"web", "scheduler", "worker", "gpu-worker"} <= services.keys()
    assert "MATHLENS_SCHEDULER=tcp://scheduler:8786" in services["web"]["environment"]
    assert any(v.endswith(":/data") for v in services["web"]["volumes"])
    assert _command("scheduler")[:2] == ["dask", "scheduler"]
    assert _command("worker")[:3] == ["dask", "worker", "tcp://scheduler:8786"]
    gpu = services["gpu-worker"]
    assert gpu["profiles"] == ["gpu"] and gpu["build"]["target"] == "gpu-worker"
    assert "GPU=1" in gpu["command"][gpu["command"].index("--resources") + 1]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    stages = [line.split()[-1] for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("FROM ")]
    assert "gpu-worker" in stages and stages[-1] == "web"  # web: the default target
