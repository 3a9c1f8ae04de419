"""HTML pages: the home page (the map of lenses) and one page per lab."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import HTMLResponse, Response

from .. import labs

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "index.html", {})


@router.get("/labs/{slug}", response_class=HTMLResponse)
def lab_page(slug: str, request: Request) -> Response:
    found = labs.find_lab(slug)
    if found is None:
        raise HTTPException(404, f"no lab {slug!r}")
    lens, lab = found
    template = f"labs/{slug}.html" if lab.ready else "labs/coming.html"
    return request.app.state.templates.TemplateResponse(
        request, template, {"lens": lens, "lab": lab}
    )


@router.get("/teacher", response_class=HTMLResponse)
def teacher(request: Request) -> Response:
    """The teacher's view of every training job (the page asks for the teacher token)."""
    return request.app.state.templates.TemplateResponse(request, "teacher.html", {})
