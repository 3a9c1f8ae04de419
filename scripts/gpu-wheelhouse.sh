#!/usr/bin/env bash
# build/gpu-wh: wheels of our web/Dask stack (this venv's versions) for a GPU machine that has
# python3 + CUDA torch but no index: pure-Python wheels once, binary ones for CPython 3.11-3.13
# (about 50 MB, under the device tool's 64 MiB carry). Then, with the device tool:
#   run(command="bash scripts/gpu-check.sh", carry=["build/gpu-wh"])
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="${VENV:-.venv}/bin/pip"
PK="annotated_doc annotated_types anyio click cloudpickle dask distributed fastapi h11 idna importlib_metadata
jinja2 latex2mathml lazy_importer locket markupsafe msgpack narwhals orjson packaging partd plotly psutil
pydantic pydantic_core pydantic_settings python_dotenv python_multipart pyyaml sortedcontainers starlette
tblib toolz tornado typing_extensions typing_inspection uvicorn zict zipp httpx httpcore certifi pillow
pytest pluggy iniconfig pygments opentelemetry_api"
rm -rf build/gpu-wh && mkdir -p build/gpu-wh/pure && cd build/gpu-wh
pins=$("../../$PIP" freeze | tr 'A-Z-' 'a-z_')
for p in $PK; do v=$(echo "$pins" | grep -E "^$p==" | head -1 || true); echo "${v:-$p}" | tr _ -; done >req.txt
for v in 3.11 3.12 3.13; do
  d="cp${v/./}"
  "../../$PIP" download -q -d "$d" --only-binary=:all: --no-deps --python-version "$v" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -r req.txt
  mv -f "$d"/*-none-any.whl "$d"/*abi3*.whl pure/ 2>/dev/null || true
done
du -sh .
