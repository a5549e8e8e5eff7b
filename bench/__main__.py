"""`python -m bench [NAME ...]`: run every benchmark module (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
SKIP = {"harness", "__main__"}


def main(names: list[str]) -> int:
    available = sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name not in SKIP and not m.name.startswith("_")
    )
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; "
            f"available: {', '.join(available) or 'none yet'}"
        )
        return 2
    if not chosen:
        print("no benchmarks yet")
    for name in chosen:
        started = time.perf_counter()
        print(f"-- running bench/{name}.py ...", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(f"-- bench/{name}.py took {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
