"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from typing import Callable, Sequence


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median wall time in ms of ``fn()`` after ``warmup`` calls (``fn`` must block until its
    work is done, e.g. ``jax.block_until_ready``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def interleaved_medians_ms(fns: Sequence[Callable[[], object]], repeats: int,
                           warmup: int = 2) -> list[float]:
    """Median wall times in ms of each of ``fns``, called in turn within each round, so a slow
    spell of the machine falls on all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, samples in zip(fns, times):
            begin = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - begin) * 1000)
    return [statistics.median(samples) for samples in times]
