"""`make bench`: run every benchmark in bench/ and print one table (what, value, target)."""

from __future__ import annotations

import importlib
import pkgutil

import bench
from bench.harness import Row, print_table


def main() -> None:
    rows: list[Row] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__)):
        if module.startswith("bench_"):
            rows.extend(importlib.import_module(f"bench.{module}").run())
    print_table(rows)


if __name__ == "__main__":
    main()
