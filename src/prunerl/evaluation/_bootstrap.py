"""Seeded bootstrap confidence intervals over sets of (runs x episodes) returns.

Resamples *indices* through ``scipy.stats.bootstrap`` so one engine serves one set, two independent
sets (pruned vs dense) and two paired sets (the same evaluation episodes), either stratified by run
like rliable (Agarwal et al., 2021, "Deep RL at the Edge of the Statistical Precipice": episodes
are resampled within each run, so every run keeps its weight) or by whole runs (seed variance).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Maps resampled, flattened sets (each shaped (..., n_i)) to a statistic shaped (...).
SetStatistic = Callable[[list[np.ndarray]], np.ndarray]

_ELEMENT_BUDGET = 4_000_000  # floats gathered per vectorised batch of resamples
_SEED_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


@dataclass(frozen=True)
class _Layout:
    """How one set is rebuilt: by ``mode``, from index samples ``[first, first + count)``."""

    mode: str
    first: int
    count: int


def _mode(matrix: np.ndarray, resample: str) -> str:
    runs, episodes = matrix.shape
    return "runs" if episodes == 1 or (resample == "runs" and runs > 1) else "stratified"


def _index_samples(matrix: np.ndarray, mode: str) -> list[np.ndarray]:
    runs, episodes = matrix.shape
    return [np.arange(runs)] if mode == "runs" else [np.arange(episodes) for _ in range(runs)]


def _gather(matrix: np.ndarray, layout: _Layout, indices: Sequence[np.ndarray]) -> np.ndarray:
    ids = [
        np.asarray(i).astype(np.intp) for i in indices[layout.first : layout.first + layout.count]
    ]
    if layout.mode == "runs":
        picked = matrix[ids[0]]  # (..., runs, episodes)
        return picked.reshape(*picked.shape[:-2], -1)
    return np.concatenate([matrix[r][ids[r]] for r in range(len(ids))], axis=-1)


def bootstrap_interval(
    sets: Sequence[np.ndarray],
    statistic: SetStatistic,
    *,
    paired: bool = False,
    resample: str = "stratified",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: str = "percentile",
    seed: int = 0,
) -> tuple[float, float]:
    """Two-sided ``confidence`` interval of ``statistic`` over the (runs x episodes) ``sets``.

    ``paired`` resamples the same runs/episodes in every set (sets must share a shape). A set
    needs at least two returns. Data with no spread give the point estimate as both bounds.
    """
    if paired and any(m.shape != sets[0].shape for m in sets):
        shapes = [m.shape for m in sets]
        raise ValueError(f"paired sets must have the same shape, got {shapes}; pass paired=False")
    for i, matrix in enumerate(sets):
        if matrix.size < 2:
            raise ValueError(
                f"a confidence interval needs at least 2 returns per set, set {i} has "
                f"{matrix.size}; evaluate more episodes"
            )
    point = float(statistic([m.reshape(-1) for m in sets]))
    if all(np.ptp(m) == 0 for m in sets):
        return point, point

    samples: list[np.ndarray] = []
    layouts: list[_Layout] = []
    for i, matrix in enumerate(sets):
        if paired and i > 0:
            layouts.append(layouts[0])
            continue
        mode = _mode(matrix, resample)
        indices = _index_samples(matrix, mode)
        layouts.append(_Layout(mode, len(samples), len(indices)))
        samples.extend(indices)

    def resampled(*indices: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic([_gather(m, lay, indices) for m, lay in zip(sets, layouts, strict=True)])

    size = sum(m.size for m in sets)
    batch = max(1, min(n_resamples, _ELEMENT_BUDGET // size))

    def run(how: str) -> tuple[float, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate BCa warns; handled by the fallback below
            result = stats.bootstrap(
                tuple(samples),
                resampled,
                n_resamples=n_resamples,
                batch=batch,
                vectorized=True,
                axis=-1,
                confidence_level=confidence,
                method=how,
                **{_SEED_KEYWORD: np.random.default_rng(seed)},
            )
        return float(result.confidence_interval.low), float(result.confidence_interval.high)

    low, high = run(method)
    if method != "percentile" and not (np.isfinite(low) and np.isfinite(high)):
        low, high = run("percentile")  # BCa is undefined when every resample gives one value
    return low, high
