"""``mathlens serve [--host] [--port]``: the whole app, no other service, no configuration.

For training on other machines: ``mathlens scheduler`` on one, ``mathlens worker tcp://host:8786
[--gpu]`` on each (``dask scheduler`` / ``dask worker`` with MathLens's defaults), and
``MATHLENS_SCHEDULER=tcp://host:8786 mathlens serve``.
"""

from __future__ import annotations

import argparse
import os
import sys

from .config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mathlens", description="MathLens: ML math, visible.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app and API")
    serve.add_argument("--host", default=None, help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument("--log-level", default="info")
    worker = sub.add_parser(
        "worker",
        help="run a Dask worker for training jobs (dask worker); other options go to dask worker",
    )
    worker.add_argument("scheduler", help="scheduler address, e.g. tcp://host:8786")
    worker.add_argument(
        "--gpu", action="store_true", help="offer a GPU to jobs (--resources GPU=1)"
    )
    worker.add_argument("--nthreads", type=int, default=1, help="jobs at once (default 1)")
    sched = sub.add_parser(
        "scheduler",
        help="run a Dask scheduler for training jobs (dask "
        "scheduler); other options go to dask scheduler",
    )
    sched.add_argument("--host", default=None, help="interface (default: all)")
    sched.add_argument("--port", type=int, default=8786)
    args, extra = parser.parse_known_args(argv)  # options we do not know go to dask as they are
    if extra and args.command not in ("worker", "scheduler"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    if args.command in ("worker", "scheduler"):
        cmd = dask_command(args, extra)
        print(" ".join(cmd), file=sys.stderr)
        os.execv(cmd[0], cmd)  # become the Dask process: signals and exit codes are its own

    if args.command == "serve":
        import uvicorn

        from .app import create_app

        overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
        settings = Settings(**overrides)
        app = create_app(settings)
        print(f"MathLens on http://{settings.host}:{settings.port}/", file=sys.stderr)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level)
    return 0


def dask_command(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The ``dask worker`` / ``dask scheduler`` command line that ``mathlens worker|scheduler`` runs."""
    cmd = [sys.executable, "-m", "dask", args.command]
    if args.command == "worker":
        cmd += [args.scheduler, "--nthreads", str(args.nthreads)]
        if args.gpu:
            cmd += ["--resources", "GPU=1"]
    else:
        cmd += ["--port", str(args.port)] + (["--host", args.host] if args.host else [])
    return cmd + extra


if __name__ == "__main__":
    raise SystemExit(main())
