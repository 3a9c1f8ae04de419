# MathLens: the web app (default target) and Dask workers. CPU torch; offline at run time.
# Needs BuildKit (the default builder since Docker 23; on Docker 20.10 set DOCKER_BUILDKIT=1).
#
#   docker build -t mathlens .
#   docker run -p 8000:8000 -v mathlens-data:/data mathlens        # http://localhost:8000/
#   docker build --target gpu-worker -t mathlens-gpu-worker .      # CUDA torch, for GPU hosts
#
# The default image is also the CPU Dask worker and the scheduler, with another command
# (`dask worker tcp://HOST:8786`, `dask scheduler`): see docker-compose.yml.
#
# Without Docker Hub: `sudo scripts/docker-base.sh` builds mathlens-base:bookworm from Debian's
# mirror; add --build-arg BASE_IMAGE=mathlens-base:bookworm. Without internet: put the wheels of
# every dependency in build/wheelhouse (scripts/docker-test-setup.sh does) and nothing is fetched.

ARG BASE_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# Either base works: python3 is found on PATH (/usr/local/bin in python:*-slim, /usr/bin in
# Debian's), and the venv at /opt/venv points at it.
FROM ${BASE_IMAGE} AS base
ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    NUMBA_CACHE_DIR=/var/cache/mathlens/numba \
    MATHLENS_DATA_DIR=/data
RUN python3 -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
 && groupadd --system --gid 10001 mathlens \
 && useradd --system --uid 10001 --gid mathlens --home-dir /home/mathlens --create-home \
      --shell /usr/sbin/nologin mathlens \
 && install -d -o mathlens -g mathlens /data /var/cache/mathlens/numba

# The runtime dependencies from pyproject.toml: the venv layer below is rebuilt only when this
# list (or the wheelhouse) changes, not on every edit of pyproject.toml.
FROM base AS requirements
COPY pyproject.toml /src/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" > /requirements.txt

# build/wheelhouse, when the context has one (the globs let it be absent); bind-mounted below,
# never a layer of the image.
FROM scratch AS wheels
COPY buil[d]/wheelhous[e] /wheels/

# ---------------------------------------------------------------------------------------------
# The dependencies in /opt/venv. torch's C++ headers (for building extensions) and the packages'
# test suites go (~200 MB nothing here runs); bytecode is compiled on every core.
FROM base AS deps
ARG TORCH_CPU_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN --mount=type=bind,from=wheels,target=/tmp/wheelhouse \
    --mount=type=bind,from=requirements,source=/requirements.txt,target=/tmp/requirements.txt \
    python3 -m venv /opt/venv \
 && if ls /tmp/wheelhouse/wheels/*.whl >/dev/null 2>&1; then \
      echo "== installing from build/wheelhouse, offline" \
      && pip install --no-compile --no-index --find-links /tmp/wheelhouse/wheels \
           -r /tmp/requirements.txt 'setuptools>=68' wheel; \
    else \
      echo "== no wheelhouse: torch from $TORCH_CPU_INDEX_URL, the rest from PyPI" \
      && pip install --no-compile --index-url "$TORCH_CPU_INDEX_URL" \
           "$(grep -E '^torch[=<>~ ]' /tmp/requirements.txt)" \
      && pip install --no-compile -r /tmp/requirements.txt 'setuptools>=68' wheel; \
    fi \
 && python -c "import torch; assert not torch.version.cuda, 'CUDA torch in the CPU image: ' + torch.__version__" \
 && pip freeze --all > /opt/venv/constraints.txt \
 && rm -rf /opt/venv/lib/python3*/site-packages/torch/include \
 && find /opt/venv/lib/python3*/site-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} + \
 && (python -m compileall -q -j 0 /opt/venv/lib >/dev/null || true)

# ---------------------------------------------------------------------------------------------
# GPU Dask worker: CUDA torch (pip's CUDA wheels carry the CUDA runtime; the host needs the
# NVIDIA driver and the NVIDIA Container Toolkit), every other package at the CPU image's
# version, so scheduler, web and workers run one Dask. Needs internet; built only on request.
FROM base AS gpu-worker
ARG TORCH_CUDA_INDEX_URL=https://download.pytorch.org/whl/cu130
COPY pyproject.toml README.md /app/
COPY compute /app/compute
COPY server /app/server
COPY templates /app/templates
COPY static /app/static
RUN --mount=type=bind,from=deps,source=/opt/venv/constraints.txt,target=/tmp/constraints.txt \
    python3 -m venv /opt/venv \
 && grep -vE '^torch==' /tmp/constraints.txt > /tmp/constraints-gpu.txt \
 && pip install --index-url "$TORCH_CUDA_INDEX_URL" \
      "torch==$(sed -nE 's/^torch==([0-9.]+).*/\1/p' /tmp/constraints.txt)" \
 && pip install -c /tmp/constraints-gpu.txt -e /app \
 && python -c "import torch; assert torch.version.cuda, 'not a CUDA build: ' + torch.__version__" \
 && rm -f /tmp/constraints-gpu.txt
USER 10001:10001
WORKDIR /home/mathlens
CMD ["dask", "worker", "tcp://scheduler:8786", "--nthreads", "1", "--resources", "GPU=1"]

# ---------------------------------------------------------------------------------------------
# The web app (the default target, so last); the CPU worker and the scheduler by another command.
FROM deps AS web
COPY pyproject.toml README.md /app/
COPY compute /app/compute
COPY server /app/server
COPY templates /app/templates
COPY static /app/static
# Editable: the app finds templates/ and static/ next to server/, as in a checkout.
RUN pip install --quiet --no-index --no-deps --no-build-isolation -e /app \
 && python -m compileall -q /app/compute /app/server \
 && mathlens --help >/dev/null
USER 10001:10001
# The numba kernels compiled now, into the image's cache (the app's user may add to it), so a
# container answers in seconds rather than after a minute of JIT compiling on each start.
RUN python -c "from compute import nn, optim; optim.warmup(); nn.warmup()" \
 || echo "numba warm-up failed: kernels will compile when the app starts"
ENV MATHLENS_HOST=0.0.0.0 \
    MATHLENS_PORT=8000
VOLUME ["/data"]
WORKDIR /home/mathlens
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('MATHLENS_PORT', '8000'), timeout=4)"]
CMD ["mathlens", "serve"]
