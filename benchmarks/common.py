"""Timing helpers shared by benchmarks: interleaved repeats in one process, medians, ratios."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping

Clock = Callable[[], float]
#: Clocks by name: ``cpu`` (process CPU time) is steadier than ``wall`` on a shared machine,
#: since time spent waiting for a core is not counted; use it with one torch thread.
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}


def seconds(fn: Callable[[], object], clock: Clock = time.perf_counter) -> float:
    """Seconds one call of ``fn`` takes on ``clock``."""
    start = clock()
    fn()
    return clock() - start


def interleaved(
    variants: Mapping[str, Callable[[], object]],
    repeats: int,
    clock: Clock = time.perf_counter,
) -> dict[str, list[float]]:
    """Time every variant once per repeat, alternating their order (drift hits all alike)."""
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(seconds(variants[name], clock))
    return times


def median(values: list[float]) -> float:
    """The median of ``values`` (robust to the odd slow repeat on a shared machine)."""
    return statistics.median(values)


def paired_ratio(times: Mapping[str, list[float]], variant: str, baseline: str) -> float:
    """Median over repeats of variant / baseline time, each pair measured back to back."""
    pairs = zip(times[variant], times[baseline], strict=True)
    return statistics.median(v / b for v, b in pairs)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(**settings: object) -> str:
    """One line saying where a benchmark ran: CPU model, cores, torch, and its settings (e.g.
    ``flush_denormal=True``). Speed ratios differ between CPUs: quote them with this line."""
    import torch

    extra = "".join(f", {k}={v}" for k, v in settings.items())
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s){extra}"
    )
