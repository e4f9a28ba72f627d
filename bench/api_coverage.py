"""How much of Mastodon's client API Warden serves (issue 33's coverage bar).

Reads the list of Mastodon client API operations (tests/data/mastodon_operations.json, taken from the
community OpenAPI description abraham/mastodon-openapi `dist/schema.json`; its `source` says which
commit and version) and Warden's own /openapi.json, and counts the Mastodon operations that Warden
declares: same HTTP method, same path once path parameters are normalised (`{id}` == `{account_id}`).

Only real routes count. A Warden route with a path parameter where Mastodon has a literal segment (the
catch-all `/api/v1/streaming/{channel}` for `/api/v1/streaming/user`, or `/api/v1/notifications/{id}`
for `/api/v1/notifications/unread_count`) does not declare that operation: such matches are listed
apart (they may also mean the route shadows the operation) and left out of the total.

    python bench/api_coverage.py            # covered/total and the missing operations by tag
    python bench/api_coverage.py --json     # the same as one JSON object
    python bench/api_coverage.py --url http://127.0.0.1:8000   # a running server's /openapi.json

Declared is not the same as "behaves as Mastodon's documentation says"; tests/test_api_coverage.py
checks the weaker property that every declared operation is routed and never answers 5xx.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "tests" / "data" / "mastodon_operations.json"
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = "{}"


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    operation_id: str
    tag: str
    docs: str

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.method, shape(self.path)


def shape(path: str) -> tuple[str, ...]:
    """The path's segments with every path parameter, whatever its name, replaced by `{}`."""
    segments = [s for s in path.strip("/").split("/") if s]
    return tuple(PARAM if s.startswith("{") and s.endswith("}") else s for s in segments)


def load_operations(path: Path = OPERATIONS) -> tuple[dict[str, Any], list[Operation]]:
    data = json.loads(path.read_text())
    ops = [Operation(o["method"].upper(), o["path"], o["operationId"], o["tag"], o["docs"])
           for o in data["operations"]]
    return data["source"], ops


def declared(openapi: dict[str, Any]) -> dict[tuple[str, tuple[str, ...]], str]:
    """Warden's operations from its OpenAPI document: (METHOD, shape) -> Warden's path template."""
    routes: dict[tuple[str, tuple[str, ...]], str] = {}
    for path, item in openapi.get("paths", {}).items():
        for method in item:
            if method.lower() in METHODS:
                routes[(method.upper(), shape(path))] = path
    return routes


def generic_match(op: Operation, routes: dict[tuple[str, tuple[str, ...]], str]) -> str | None:
    """A Warden template that takes `op`'s path only by reading a Mastodon literal segment as a parameter."""
    method, want = op.key
    for (m, have), template in routes.items():
        if m != method or len(have) != len(want):
            continue
        if all(h == w or h == PARAM for h, w in zip(have, want)):
            return template
    return None


@dataclass
class Coverage:
    source: dict[str, Any]
    total: int
    covered: list[tuple[Operation, str]]  # (Mastodon operation, Warden template)
    generic: list[tuple[Operation, str]]  # reached only through a generic route (not counted)
    missing: list[Operation]

    def as_dict(self) -> dict[str, Any]:
        by_tag: dict[str, list[str]] = defaultdict(list)
        for op in self.missing:
            by_tag[op.tag].append(f"{op.method} {op.path}")
        return {
            "source": self.source,
            "covered": len(self.covered),
            "total": self.total,
            "covered_operations": [{"method": op.method, "path": op.path, "operationId": op.operation_id,
                                    "warden_path": template} for op, template in self.covered],
            "generic_only": [{"method": op.method, "path": op.path, "warden_path": template}
                             for op, template in self.generic],
            "missing_by_tag": dict(sorted(by_tag.items())),
        }


def measure(openapi: dict[str, Any], operations_file: Path = OPERATIONS) -> Coverage:
    source, ops = load_operations(operations_file)
    routes = declared(openapi)
    covered: list[tuple[Operation, str]] = []
    generic: list[tuple[Operation, str]] = []
    missing: list[Operation] = []
    for op in ops:
        if op.key in routes:
            covered.append((op, routes[op.key]))
            continue
        template = generic_match(op, routes)
        if template is not None:
            generic.append((op, template))
        missing.append(op)
    return Coverage(source=source, total=len(ops), covered=covered, generic=generic, missing=missing)


def warden_openapi() -> dict[str, Any]:
    """Build Warden's app (no server, no worker, a throwaway SQLite file) and read its /openapi.json."""
    from starlette.testclient import TestClient

    from warden.api.app import create_app
    from warden.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/coverage.db", base_url="http://127.0.0.1:9",
                            detection_enabled=False)
        app = create_app(settings, worker=False)
        response = TestClient(app).get("/openapi.json")  # no `with`: the lifespan does not run
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def fetch_openapi(url: str) -> dict[str, Any]:
    import httpx

    response = httpx.get(url.rstrip("/") + "/openapi.json", timeout=30)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def render(coverage: Coverage) -> str:
    src = coverage.source
    lines = [f"Mastodon client API operations declared by Warden: {len(coverage.covered)} of {coverage.total}",
             f"(list: {src['repo']} {src['path']} @ {src['commit'][:12]}, info.version {src['info_version']})"]
    if coverage.generic:
        lines.append(f"\nTaken by a parameter where Mastodon has a literal (not counted): {len(coverage.generic)}")
        for op, template in coverage.generic:
            lines.append(f"  {op.method:6} {op.path}  (via {template})")
    lines.append(f"\nMissing: {len(coverage.missing)}")
    for tag, items in coverage.as_dict()["missing_by_tag"].items():
        lines.append(f"  {tag} ({len(items)})")
        lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--url", help="read /openapi.json from this running server instead of building the app")
    args = parser.parse_args(argv)
    openapi = fetch_openapi(args.url) if args.url else warden_openapi()
    coverage = measure(openapi)
    print(json.dumps(coverage.as_dict(), indent=2) if args.json else render(coverage))
    return 0


if __name__ == "__main__":
    sys.exit(main())
