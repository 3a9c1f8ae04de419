"""Health and the catalog: labs, test functions, optimizers, schedules, probability families and
the training lab's datasets, models and fields, with defaults and bounds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from compute import optim, prob, surfaces
from compute.nn import catalog as training_catalog

from .. import labs
from ..schemas.common import describe_fields
from ..schemas.meta import Catalog, Health
from ..schemas.optimize import OPTIMIZER_MODELS, SCHEDULE_MODELS
from ..templating import mathml

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
def health(request: Request) -> dict[str, Any]:
    from ..app import __version__

    return {"status": "ok", "version": __version__}


def _catalog() -> dict[str, Any]:
    functions = []
    for name, spec in surfaces.FUNCTIONS.items():
        obj = surfaces.get_function(name)
        functions.append({
            "name": name, "latex": spec.latex, "mathml": mathml(spec.latex, True),
            "description": spec.description,
            "params": [{"name": p, "default": ps.default, "min": ps.lo, "max": ps.hi,
                        "description": ps.description} for p, ps in spec.params.items()],
            "x_range": list(obj.x_range), "y_range": list(obj.y_range),
            "minima": [list(m) for m in obj.minima],
        })  # fmt: skip
    optimizers = []
    for name, model in OPTIMIZER_MODELS.items():
        spec = optim.OPTIMIZERS[name]
        optimizers.append({
            "name": name, "description": spec.description, "update_latex": spec.update_latex,
            "update_mathml": mathml(spec.update_latex, True), "hyperparameters": describe_fields(model),
        })  # fmt: skip
    schedules = [
        {"name": name, "description": optim.SCHEDULES[name].description, "params": describe_fields(model)}
        for name, model in SCHEDULE_MODELS.items()
    ]
    lab_list = [
        {"slug": lab.slug, "title": lab.title, "lens": lens.key, "ready": lab.ready,
         "url": f"/labs/{lab.slug}", "summary": lab.summary}
        for lens, lab in labs.all_labs()
    ]  # fmt: skip
    distributions = [
        {"name": k, "title": f.description, "discrete": f.discrete, "latex": f.latex, "ml": f.ml,
         "params": [{"name": n, "default": p.default, "min": p.lo, "max": p.hi,
                     "integer": p.integer, "description": p.description} for n, p in f.params.items()]}
        for k, f in prob.FAMILIES.items()
    ]  # fmt: skip
    return {"labs": lab_list, "functions": functions, "optimizers": optimizers, "schedules": schedules,
            "distributions": distributions, "training": training_catalog()}


_CACHE: dict[str, Any] = {}


@router.get("/v1/catalog", response_model=Catalog)
def catalog() -> dict[str, Any]:
    """Everything a client needs to build its controls: names, defaults and bounds."""
    if "c" not in _CACHE:
        _CACHE["c"] = _catalog()
    return _CACHE["c"]
