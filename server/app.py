"""The app factory: ``create_app(settings)`` wires settings, routers, errors, assets, templates."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from .assets import AssetStore, static_router
from .config import Settings
from .encoding import ORJSONResponse
from .errors import BodySizeLimit, install_error_handlers
from .routes import jobs, meta, optimize, pages
from .templating import make_templates

log = logging.getLogger("mathlens")

try:
    __version__ = version("mathlens")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

API_ROUTERS = (meta.router, optimize.router, jobs.router)


def _lab_routers() -> list:
    """Every ``server/routes/<area>.py`` exporting ``router``: a new lab area plugs in by existing."""
    import importlib
    import pkgutil

    from . import routes

    found = []
    for m in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{routes.__name__}.{m.name}")
        r = getattr(mod, "router", None)
        if r is not None and r not in API_ROUTERS and r is not pages.router:
            found.append(r)
    return found
UPLOAD_PREFIXES: tuple[str, ...] = ("/api/v1/linalg/images",)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from compute import nn, optim

        optim.warmup()  # compile the fast kernels once, before the first student drags a slider
        nn.warmup()  # and the small-network kernels (lr-schedules lab, lean training path)
        app.state.jobs = None
        if settings.start_jobs:  # training jobs on Dask; the cluster starts in the background
            from .jobs import JobService

            app.state.jobs = JobService(settings)
            await app.state.jobs.start()
        try:
            yield
        finally:
            if app.state.jobs is not None:
                await app.state.jobs.stop()

    app = FastAPI(
        title="MathLens API",
        version=__version__,
        summary="The mathematics under machine learning, computed: optimizers, surfaces, "
        "linear algebra, probability, information theory and live training runs.",
        default_response_class=ORJSONResponse,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    store = AssetStore()
    app.state.assets = store
    app.state.templates = make_templates(store, __version__)
    install_error_handlers(app)
    for r in (*API_ROUTERS, *_lab_routers()):
        app.include_router(r)
    app.include_router(static_router(store))
    app.include_router(pages.router)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)  # level 9 costs 3-5x the time for ~5% less
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.max_upload_bytes,
        upload_prefixes=UPLOAD_PREFIXES,
    )
    return app
