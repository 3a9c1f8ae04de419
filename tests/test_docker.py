"""The Docker image and docker-compose.yml, for real: the image builds offline from the local
Debian base (scripts/docker-base.sh) and build/wheelhouse, serves /api/health and the home page
from a container as a non-root user and turns healthy; `docker compose up` (or Debian's
docker-compose) starts the scheduler, a CPU worker and the web app, and a job submitted over HTTP
trains on the worker container.

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


def build_command(docker: str) -> list[str]:
    return [docker, "build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(ROOT)]


@pytest.fixture(scope="module")
def image(docker: str) -> str:
    """mathlens:test, built from the local base with no network: pip sees only the wheelhouse.

    scripts/test.sh starts this very build in the background while the other tests run and
    names its exit-status file in MATHLENS_DOCKER_BUILD_RC (log beside it): then this waits for
    it rather than building again."""
    t0 = time.monotonic()
    rc_file = os.environ.get("MATHLENS_DOCKER_BUILD_RC")
    if rc_file:
        rc_path = Path(rc_file)
        log = rc_path.with_suffix(".log")
        while not rc_path.exists():
            if time.monotonic() - t0 > BUILD_TIMEOUT_S:
                pytest.fail(f"the background docker build did not finish in {BUILD_TIMEOUT_S} s:\n"
                            f"{_tail(log.read_text() if log.exists() else '', 60)}", pytrace=False)
            time.sleep(1)  # waiting for another process's build, under a deadline
        rc = rc_path.read_text().strip()
        out = log.read_text() if log.exists() else ""
        assert rc == "0", f"docker build failed (exit {rc}):\n{_tail(out, 60)}"
    else:
        build = subprocess.run(build_command(docker), capture_output=True, text=True,
                               timeout=BUILD_TIMEOUT_S, env={**os.environ, "DOCKER_BUILDKIT": "1"})
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


def _compose_cli(docker: str) -> list[str]:
    if subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no `docker compose` plugin and no docker-compose (scripts/docker-test-setup.sh "
                "installs Debian's)", pytrace=False)


def test_compose_up_runs_a_job_on_the_cluster_worker(docker: str, image: str) -> None:
    """`docker compose up` of docker-compose.yml as a teacher runs it (with the image just built):
    scheduler healthy, worker joined, web answering; a training job submitted over HTTP runs on
    the worker container, not in the web one, and succeeds."""
    project = _name("compose").replace("-", "")
    port = _free_port()
    env = {**os.environ, "MATHLENS_IMAGE": image, "MATHLENS_PORT": str(port),
           "MATHLENS_SCHEDULER_PORT": str(_free_port()), "MATHLENS_DASHBOARD_PORT": str(_free_port()),
           "COMPOSE_PROJECT_NAME": project}
    compose = [*_compose_cli(docker), "-f", str(ROOT / "docker-compose.yml"), "-p", project]

    def sh(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], capture_output=True, text=True, env=env,
                              timeout=timeout, cwd=ROOT)

    try:
        up = sh("up", "-d", "--no-build")
        assert up.returncode == 0, _tail(up.stdout + up.stderr)
        web = sh("ps", "-q", "web").stdout.strip()
        base = f"http://127.0.0.1:{port}"
        status, _, body = _wait(docker, web, lambda: _get(f"{base}/api/health"), "/api/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        config = {"dataset": {"name": "moons", "n_samples": 300, "seed": 0},
                  "model": {"hidden": [8]}, "optimizer": {"name": "adam", "lr": 0.03},
                  "epochs": 60, "batch_size": 32, "seed": 0}
        req = urllib.request.Request(f"{base}/api/v1/jobs", method="POST",
                                     data=json.dumps({"config": config}).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 202
            job_id = json.loads(r.read())["id"]

        def finished():
            got = _get(f"{base}/api/v1/jobs/{job_id}")
            j = json.loads(got[2]) if got and got[0] == 200 else {}
            return j if j.get("status") in ("succeeded", "failed", "cancelled", "interrupted") else None

        j = _wait(docker, web, finished, "the job to finish", timeout=240)
        assert j["status"] == "succeeded", j["error"]
        assert j["result"]["test_accuracy"] > 0.8
        worker = sh("ps", "-q", "worker").stdout.strip()
        worker_ip = _state(docker, worker, "range .NetworkSettings.Networks}}{{.IPAddress}}{{end")
        assert worker_ip and f"//{worker_ip}:" in j["worker"], (j["worker"], worker_ip)
    finally:
        down = sh("down", "-v", "--remove-orphans", timeout=120)
        assert down.returncode == 0, _tail(down.stdout + down.stderr)


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
