"""Inference latency of a policy at batch 1 (acting) and batch N (vectorised envs, evaluation)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from prunerl.evaluation._torch import as_input, inference
from prunerl.evaluation._validation import check_count


@dataclass(frozen=True)
class Latency:
    """Median wall-clock time of one call, in microseconds, at batch 1 and at ``batch_size``."""

    batch1_us: float
    batch_n_us: float
    batch_size: int
    repeats: int
    warmup: int
    threads: int | None

    @property
    def per_sample_us(self) -> float:
        """Time per observation at ``batch_size``: what batching buys."""
        return self.batch_n_us / self.batch_size

    def to_dict(self) -> dict[str, Any]:
        """Plain fields plus ``per_sample_us``, ready for JSON or a metrics logger."""
        return {**asdict(self), "per_sample_us": self.per_sample_us}

    def __str__(self) -> str:
        return (
            f"batch 1: {self.batch1_us:.1f} µs, batch {self.batch_size}: {self.batch_n_us:.1f} µs "
            f"({self.per_sample_us:.2f} µs/sample; median of {self.repeats})"
        )


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run torch with ``count`` intra-op threads (None: leave as is), restored afterwards."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _batch(fn: Callable[..., Any], example: Any, size: int) -> Any:
    """``size`` copies of one observation stacked on a new first axis, as numpy or torch."""
    if isinstance(example, np.ndarray) and not isinstance(fn, nn.Module):
        return np.repeat(example[None], size, axis=0)
    single = torch.as_tensor(example)
    return as_input(fn, single.unsqueeze(0).expand(size, *single.shape).contiguous(), "example")


def _synchronizer(batch: Any) -> Callable[[], None]:
    """Waits for queued GPU work, so a timing covers the computation and not just its launch."""
    if isinstance(batch, torch.Tensor) and batch.is_cuda:
        device = batch.device
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def _median_us(fn: Callable[..., Any], batch: Any, repeats: int, warmup: int) -> float:
    sync = _synchronizer(batch)
    for _ in range(warmup):
        fn(batch)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        fn(batch)
        sync()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000.0


def measure_latency(
    fn: Callable[..., Any],
    example: Any,
    *,
    batch_size: int = 256,
    repeats: int = 100,
    warmup: int = 10,
    threads: int | None = 1,
) -> Latency:
    """Median latency of ``fn`` on 1 and on ``batch_size`` copies of one observation ``example``.

    ``example`` has no batch axis. Torch modules run under ``torch.no_grad`` in eval mode on their
    own device; a plain callable given a numpy ``example`` gets numpy batches. ``threads`` pins
    torch's intra-op threads (1 by default: comparable, low-noise numbers; None leaves it).
    """
    batch_size = check_count(batch_size, "batch_size")
    repeats = check_count(repeats, "repeats")
    warmup = check_count(warmup, "warmup", 0)
    if threads is not None:
        threads = check_count(threads, "threads")
    ndim = example.dim() if isinstance(example, torch.Tensor) else np.ndim(example)
    if ndim == 0:
        raise ValueError(
            "example must be one observation (an array without the batch axis), got a scalar; "
            "wrap it, e.g. np.array([x])"
        )
    one, many = _batch(fn, example, 1), _batch(fn, example, batch_size)
    with _threads(threads), inference(fn):
        return Latency(
            batch1_us=_median_us(fn, one, repeats, warmup),
            batch_n_us=_median_us(fn, many, repeats, warmup),
            batch_size=batch_size,
            repeats=repeats,
            warmup=warmup,
            threads=threads,
        )
