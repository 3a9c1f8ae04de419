#!/usr/bin/env bash
# The CUDA path of training, on a GPU machine whose python3 holds torch (no fastapi needed):
# the `gpu`-marked tests of compute/nn, then the canonical example timed on CUDA vs CPU.
set -u
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest -q -m gpu tests/compute/test_nn.py --noconftest -p no:cacheprovider -o addopts="--import-mode=importlib" -W "ignore::DeprecationWarning" 2>&1 | tail -15
python3 - <<'PY'
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
