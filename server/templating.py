"""Jinja2 environment: LaTeX in templates rendered to MathML on the server, static URLs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi.templating import Jinja2Templates
from latex2mathml.converter import convert
from markupsafe import Markup

from . import labs
from .assets import AssetStore

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=4096)
def mathml(latex: str, display: bool = False) -> str:
    """LaTeX → MathML (native in browsers, offline, read by screen readers)."""
    return convert(latex, display="block" if display else "inline")


def tex(latex: str, display: bool = False) -> Markup:
    return Markup(mathml(latex, display))


def make_templates(store: AssetStore, version: str) -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATE_DIR))
    t.env.globals.update(
        tex=tex,
        static=store.url,
        lenses=labs.LENSES,
        training=labs.TRAINING,
        app_version=version,
    )
    return t
