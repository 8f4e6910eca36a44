"""``python -m bench`` (``make bench``): every benchmark in turn, each in its own process.

Each prints our figure, a named peer's from the same run, and the ratio. Extra arguments are not
passed on; run one module (``python -m bench.messages --help``) to tune it.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "messages",
    "transport",
    "check",
    "serve_scale",
    "station",
    "sim",
    "locust",
    "fuzz",
    "load",
)


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== python -m bench.{name}", flush=True)
        if subprocess.call([sys.executable, "-m", f"bench.{name}"]) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
