"""`make bench`: run every benchmark and print its table (ratios, never bare timings to trust)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]

from bench import browser, loader  # noqa: E402

# --rows sizes the loader benchmarks; the browser one is a fixed 1,000-vehicle dense day.
BENCHMARKS = {"loader": loader.main, "browser": lambda rows: browser.main()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows per loader benchmark")
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name](rows=args.rows)


if __name__ == "__main__":
    main()
