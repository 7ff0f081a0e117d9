"""The project's OpenAPI document: every service's routes, found without a list to edit.

`python -m infra.openapi [out_path]` (what `make docs` runs) writes `docs/openapi.json`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import services
from shared.api import Api
from shared.openapi import TITLE, openapi_document, render

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "openapi.json"


def service_names() -> list[str]:
    """The service packages under services/: a new service is picked up without a list to edit."""
    return sorted(module.name for module in pkgutil.iter_modules(services.__path__) if module.ispkg)


def service_apis() -> list[Api]:
    """The `api` of every service that has an HTTP API (`services.<svc>.handlers.http`, and
    `handlers.<name>_http` beside it)."""
    apis: list[Api] = []
    for name in service_names():
        # find_spec raises, rather than answers None, when the parent package is missing.
        if importlib.util.find_spec(f"services.{name}.handlers") is None:
            continue
        if importlib.util.find_spec(f"services.{name}.handlers.http") is None:
            continue
        handlers = importlib.import_module(f"services.{name}.handlers")
        # Besides `http`, a service may keep routes in modules of their own (`search_http`).
        extra = sorted(m.name for m in pkgutil.iter_modules(handlers.__path__))
        modules = ["http", *(m for m in extra if m.endswith("_http"))]
        for module in modules:
            api = importlib.import_module(f"services.{name}.handlers.{module}").api
            if not isinstance(api, Api):
                raise TypeError(f"services.{name}.handlers.{module}.api is not a shared.api.Api")
            apis.append(api)
    return apis


def project_document() -> dict[str, Any]:
    """The document of every service, versioned as the project: what `docs/openapi.json` holds."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return openapi_document(service_apis(), TITLE, str(project["version"]))


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(project_document()), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
