"""Stability of returns: their spread across episodes, training seeds and evaluation env seeds.

A pruned agent that keeps its mean return but varies more between seeds or episodes is less
trustworthy; these numbers make that visible. All standard deviations are sample std (ddof=1,
0.0 for a single value).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from prunerl.evaluation._validation import as_returns


def _std(values: np.ndarray, axis: int) -> np.ndarray:
    """Sample std along ``axis``; zeros where that axis has a single value."""
    if values.shape[axis] < 2:
        return np.zeros(tuple(int(s) for s in np.delete(values.shape, axis)))
    return np.asarray(np.std(values, axis=axis, ddof=1))


def coefficient_of_variation(returns: ArrayLike) -> float:
    """std / |mean| of all returns: spread relative to scale (inf if the mean is 0, std not)."""
    flat = as_returns(returns, ndims=(1, 2, 3)).reshape(-1)
    std = float(_std(flat, 0))
    mean = abs(float(np.mean(flat)))
    if mean == 0.0:
        return 0.0 if std == 0.0 else math.inf
    return std / mean


@dataclass(frozen=True)
class Stability:
    """Spread of returns; ``*_env_seeds`` fields are None unless env seeds were given as an axis."""

    mean: float
    cv: float
    std_episodes: float
    std_seeds: float
    worst_seed: float
    best_seed: float
    worst_seed_index: int
    worst_episode: float
    seed_means: tuple[float, ...]
    n_seeds: int
    n_episodes: int
    std_env_seeds: float | None = None
    worst_env_seed: float | None = None
    n_env_seeds: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, ready for JSON or a metrics logger."""
        data = asdict(self)
        data["seed_means"] = list(self.seed_means)
        return data

    def __str__(self) -> str:
        env = (
            f", std across env seeds {self.std_env_seeds:.1f}"
            if self.std_env_seeds is not None
            else ""
        )
        return (
            f"mean {self.mean:.1f}, CV {self.cv:.3f}, std across episodes {self.std_episodes:.1f}, "
            f"across seeds {self.std_seeds:.1f}{env}, worst seed {self.worst_seed:.1f} "
            f"(seed #{self.worst_seed_index}), worst episode {self.worst_episode:.1f}"
        )


def stability(returns: ArrayLike) -> Stability:
    """Spread of a (seeds x episodes) or (seeds x env_seeds x episodes) array of returns.

    - ``std_episodes``: within-seed std over episodes (over episodes of one env seed for 3-D),
      averaged over seeds (and env seeds);
    - ``std_seeds``: std of the per-seed mean returns (training-seed sensitivity);
    - ``std_env_seeds`` (3-D only): std over env seeds of per-(seed, env seed) means, averaged
      over seeds (sensitivity to the evaluation environment);
    - ``worst_seed`` / ``best_seed``: lowest / highest per-seed mean; ``worst_episode``: the
      single lowest return; ``worst_env_seed`` (3-D): lowest env-seed mean averaged over seeds.
    """
    array = as_returns(returns, ndims=(2, 3))
    cells = array if array.ndim == 3 else array[:, None, :]  # (seeds, env_seeds, episodes)
    seeds, env_seeds, episodes = cells.shape
    seed_means = cells.mean(axis=(1, 2))
    cell_means = cells.mean(axis=2)  # (seeds, env_seeds)
    worst = int(np.argmin(seed_means))
    env = array.ndim == 3
    return Stability(
        mean=float(array.mean()),
        cv=coefficient_of_variation(array),
        std_episodes=float(_std(cells, 2).mean()),
        std_seeds=float(_std(seed_means, 0)),
        worst_seed=float(seed_means[worst]),
        best_seed=float(seed_means.max()),
        worst_seed_index=worst,
        worst_episode=float(array.min()),
        seed_means=tuple(float(m) for m in seed_means),
        n_seeds=seeds,
        n_episodes=episodes,
        std_env_seeds=float(_std(cell_means, 1).mean()) if env else None,
        worst_env_seed=float(cell_means.mean(axis=0).min()) if env else None,
        n_env_seeds=env_seeds if env else None,
    )
