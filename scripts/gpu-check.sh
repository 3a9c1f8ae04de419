#!/usr/bin/env bash
# The CUDA path of training, on a lent GPU machine (the `device` tool), whose python3 holds torch
# with CUDA but not our web/Dask stack and cannot reach any index:
#   1. installs the rest from build/gpu-wh (made here by scripts/gpu-wheelhouse.sh, carried along);
#   2. the `gpu`-marked compute tests, then tests/test_jobs_cluster.py: a real `dask scheduler`,
#      a CPU worker and a `mathlens worker --gpu` (GPU=1) — a job asking for CUDA goes to the GPU
#      worker and trains there;
#   3. the canonical example timed on CUDA vs CPU, in process.
set -u
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
PY=python3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the checkout itself, not installed
$PY -VV
if [ -d build/gpu-wh ]; then
  tag="cp$($PY -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
  $PY -m pip install -q --no-index --find-links build/gpu-wh/pure --find-links "build/gpu-wh/$tag" \
    -r build/gpu-wh/req.txt 2>&1 | tail -3
fi
$PY -c "import torch, dask, distributed, fastapi; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| dask', dask.__version__, '| fastapi', fastapi.__version__)"
PYTEST=($PY -m pytest -q -p no:cacheprovider -o addopts="--import-mode=importlib" -o filterwarnings= -p no:randomly)
"${PYTEST[@]}" -m gpu tests/compute/test_nn.py --noconftest 2>&1 | tail -5
"${PYTEST[@]}" tests/test_jobs_cluster.py -o markers="slow: slow" -rA 2>&1 | grep -E "PASS|FAIL|ERROR|passed|failed|error" | tail -15
$PY - <<'PY'
import time
from compute.nn import train
from compute.nn.config import TrainConfig
base = {"dataset": {"name": "moons", "n_samples": 1000, "noise": 0.2, "test_fraction": 0.3, "seed": 0},
        "model": {"hidden": [16, 16], "activation": "tanh"}, "optimizer": {"name": "adam", "lr": 0.01},
        "epochs": 200, "batch_size": 64, "seed": 0}
for device, backend in (("cuda", "torch"), ("cpu", "torch")):
    t = time.perf_counter()
    r = train(TrainConfig.from_dict({**base, "device": device, "backend": backend}))
    print(f"{device:4s} backend={r.backend} device={r.device} test_acc={r.test_accuracy:.4f} "
          f"train_acc={r.train_accuracy:.4f} wall={time.perf_counter() - t:.2f}s")
PY
