"""The error contract: 422 naming the field and bound, 413, 404 JSON under /api, never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

log = logging.getLogger("mathlens")


class ComputeError(ValueError):
    """A compute ``ValueError`` tied to a request field, answered as 422."""

    def __init__(self, field: str | tuple, message: str):
        super().__init__(message)
        self.loc = ("body", *((field,) if isinstance(field, str) else field))
        self.message = message


def field_error(e: ValueError, fields, default: str) -> ComputeError:
    """A compute ``ValueError`` as a 422 on the field it is about: compute's messages start with
    the parameter's name (``"rho must be in (-1, 1); got 2"``, ``"schedules[2] ..."``); when that
    word is not one of ``fields`` (a request's field names), on ``default``."""
    word = str(e).split(" ", 1)[0].split("[", 1)[0]
    return ComputeError(word if word in fields else default, str(e))


def _validation_body(errors: list[dict]) -> dict:
    detail = []
    for e in errors:
        loc = [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())]
        detail.append({"loc": loc, "msg": str(e.get("msg", "invalid")), "type": str(e.get("type", "value_error"))})
    first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
    return {"detail": detail, "message": f"{where}: {first['msg']}"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(_validation_body(list(exc.errors())), status_code=422)

    @app.exception_handler(ComputeError)
    async def _compute(request: Request, exc: ComputeError) -> Response:
        return JSONResponse(
            _validation_body([{"loc": exc.loc, "msg": exc.message, "type": "value_error"}]),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A 500 is a bug of ours; log it whole, answer without internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return HTMLResponse("<h1>Internal error</h1>", status_code=500)


class BodySizeLimit:
    """ASGI middleware: 413 for a body over the limit, whether Content-Length says so or not."""

    def __init__(self, app, max_bytes: int, upload_max_bytes: int, upload_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_prefixes = upload_prefixes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.upload_max_bytes if path.startswith(self.upload_prefixes) else self.max_bytes
        declared = None
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = -1
        if declared is not None and (declared < 0 or declared > limit):
            return await _too_large(send, limit)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = (
        b'{"detail":"request body too large","message":"body must be at most '
        + str(limit).encode()
        + b' bytes"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
