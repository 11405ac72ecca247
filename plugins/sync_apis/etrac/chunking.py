"""How etrac_daily splits the fleet into mapped history tasks. Parse-time safe: standard library only.

25 plates per task by default (it was 10). Under a real scheduler with 200 ms of API latency
(``python -m bench fanout``, bench/results.md) a task's fixed cost — the task process around
``load_history`` and the scheduler's gap before the next task — took 29 % of a 10-plate task's
slot at parallelism 4 and 10 % of a 25-plate one's; the history phase at parallelism 4 took 29 s
instead of 36 s (3.5x against parallelism 1 instead of 3.3x). A larger chunk would trim little
more and leave a fleet of a few hundred vehicles too few tasks to keep four slots busy to the
end, and a failed task re-fetches all its plates. A 1,000-vehicle day is 40 mapped tasks. The
``chunk_size`` Param overrides it per run.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_CHUNK_SIZE = 25


def chunked(items: Sequence[str], size: int) -> list[list[str]]:
    size = max(1, int(size))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
