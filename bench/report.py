"""How every benchmark prints: aligned figures, ratios against targets marked met / NOT MET.

The quick-mode test (tests/bench) reads these lines back, so their shape is the contract:
``  <label>  <value>  <unit>`` for a figure, ``  <name>  <ratio>x  target >= <t>x  met|NOT MET``.
"""

from __future__ import annotations

import os


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def figure(label: str, value: float, unit: str, note: str = "") -> None:
    print(f"  {label:<58} {value:>12,.0f} {unit}{'  ' + note if note else ''}", flush=True)


def ratio(name: str, value: float, target: float, *, below: bool = False) -> None:
    """A ratio against its target; ``below`` when smaller is better (e.g. milliseconds)."""
    met = value < target if below else value >= target
    sign = "<" if below else ">="
    print(
        f"  {name:<58} {value:>11.2f}x  target {sign} {target:g}x  {'met' if met else 'NOT MET'}", flush=True
    )


def limit(name: str, value: float, unit: str, target: float) -> None:
    """An absolute figure against a ceiling (milliseconds, megabytes)."""
    verdict = "met" if value < target else "NOT MET"
    print(f"  {name:<58} {value:>12.1f} {unit}  target < {target:g} {unit}  {verdict}", flush=True)


def scale(name: str, value: float) -> None:
    """A ratio given for scale only (no target)."""
    print(f"  {name:<58} {value:>11.2f}x", flush=True)
