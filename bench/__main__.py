"""`make bench`: run every benchmark and print its table (ratios, never bare timings to trust).

``python -m bench [NAMES] [--quick]``; ``--quick`` runs each at tiny sizes in seconds (the test
suite does, so the benchmarks cannot rot; its figures mean nothing). See bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]

from bench import (  # noqa: E402
    auvo_backfill,
    browser,
    etrac_day,
    fanout,
    loader,
    parse_cost,
    peer_venv,
    profile,
    values,
)

QUICK_LOADER_ROWS, QUICK_BROWSER_VEHICLES = 2_000, 5


def _loader(quick: bool, rows: int) -> None:
    loader.main(rows=QUICK_LOADER_ROWS if quick else rows)


def _browser(quick: bool, rows: int) -> None:
    browser.main(vehicles=QUICK_BROWSER_VEHICLES) if quick else browser.main()


BENCHMARKS: dict[str, Callable[[bool, int], None]] = {
    "loader": _loader,
    "browser": _browser,
    "etrac_day": lambda quick, rows: etrac_day.main(quick=quick),
    "parse_cost": lambda quick, rows: parse_cost.main(quick=quick),
    "profile": lambda quick, rows: profile.main(quick=quick),
    "values": lambda quick, rows: values.main(quick=quick),
    "fanout": lambda quick, rows: fanout.main(quick=quick),
    "auvo_backfill": lambda quick, rows: auvo_backfill.main(quick=quick),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, seconds: proves they run, not speed"
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the loader benchmark")
    parser.add_argument("--setup", action="store_true", help="only create the bench venv (dlt, py-spy)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if args.setup:
        print(peer_venv.ensure())
        return
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name](args.quick, args.rows)
        print(flush=True)


if __name__ == "__main__":
    main()
