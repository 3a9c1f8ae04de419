"""Static files: one content-hashed version in every URL, served gzip-compressed from memory
with a year of caching, so a classroom fetches Plotly.js once per browser, compressed."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Third-party files served from installed packages, never copied into the repository.
VENDOR = {"vendor/plotly.min.js": PLOTLY_JS}
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".html", ".txt", ".map")


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gz: bytes | None
    media_type: str
    etag: str


class AssetStore:
    def __init__(self) -> None:
        self.files: dict[str, Path] = dict(VENDOR)
        for p in sorted(STATIC_DIR.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                self.files[p.relative_to(STATIC_DIR).as_posix()] = p
        h = hashlib.sha256()
        for name, p in sorted(self.files.items()):
            h.update(name.encode())
            h.update(p.read_bytes())
        # One version for all files: relative ES-module imports stay inside one version.
        self.version = h.hexdigest()[:12]
        self._cache: dict[str, Asset] = {}

    def url(self, name: str) -> str:
        if name not in self.files:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{self.version}/{name}"

    def get(self, name: str) -> Asset | None:
        if name in self._cache:
            return self._cache[name]
        p = self.files.get(name)
        if p is None:
            return None
        raw = p.read_bytes()
        gz = gzip.compress(raw, compresslevel=9, mtime=0) if name.endswith(COMPRESSIBLE) else None
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            media = "text/javascript"
        asset = Asset(raw, gz, media, '"' + hashlib.sha256(raw).hexdigest()[:16] + '"')
        self._cache[name] = asset
        return asset


def static_router(store: AssetStore) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/static/{version}/{name:path}")
    def static_file(version: str, name: str, request: Request) -> Response:
        asset = store.get(name)
        if asset is None:
            raise HTTPException(404, f"no static file {name!r}")
        current = version == store.version
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable" if current else "no-cache",
            "ETag": asset.etag,
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        if asset.gz is not None and "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gz, media_type=asset.media_type, headers=headers)
        return Response(asset.raw, media_type=asset.media_type, headers=headers)

    return router
