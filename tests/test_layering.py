"""compute/ is pure math: it imports no web code (parsed from the source, not trusted to convention)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"fastapi", "starlette", "pydantic", "pydantic_settings", "uvicorn", "server", "jinja2",
             "plotly", "orjson", "httpx", "distributed", "dask"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_compute_imports_no_web_code():
    files = sorted((ROOT / "compute").rglob("*.py"))
    assert files
    bad = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN) for f in files}
    assert not {k: v for k, v in bad.items() if v}


def test_the_layering_test_can_fail(tmp_path):
    p = tmp_path / "x.py"
    p.write_text("from fastapi import FastAPI\nimport server.app\n")
    assert imported_roots(p) & FORBIDDEN == {"fastapi", "server"}
