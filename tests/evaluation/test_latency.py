"""Latency measurement of torch modules and numpy callables."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.evaluation import measure_latency


def test_numpy_callable_gets_numpy_batches() -> None:
    shapes: list[tuple[int, ...]] = []

    def policy(obs: Any) -> Any:
        assert isinstance(obs, np.ndarray)
        shapes.append(obs.shape)
        return obs.sum(axis=-1)

    result = measure_latency(policy, np.zeros(4), batch_size=16, repeats=5, warmup=2)
    assert shapes.count((1, 4)) == 7 and shapes.count((16, 4)) == 7
    assert result.batch_size == 16 and result.repeats == 5 and result.warmup == 2
    assert result.batch1_us > 0 and result.per_sample_us == pytest.approx(result.batch_n_us / 16)


def test_median_reflects_real_time() -> None:
    def slow(obs: Any) -> Any:
        time.sleep(0.002)
        return obs

    result = measure_latency(slow, np.zeros(2), batch_size=2, repeats=5, warmup=0)
    assert 2000.0 <= result.batch1_us < 200_000.0


def test_module_runs_without_grad_in_eval_mode_with_one_thread() -> None:
    seen: dict[str, Any] = {}

    class Probe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.update(grad=torch.is_grad_enabled(), training=self.training)
            seen.update(threads=torch.get_num_threads(), dtype=x.dtype, shape=tuple(x.shape))
            return self.linear(x)

    probe = Probe().train()
    threads_before = torch.get_num_threads()
    result = measure_latency(probe, np.ones(3), batch_size=8, repeats=3, warmup=1)
    assert seen == {
        "grad": False,
        "training": False,
        "threads": 1,
        "dtype": torch.float32,  # numpy float64 example cast to the module's dtype
        "shape": (8, 3),
    }
    assert probe.training and torch.get_num_threads() == threads_before
    assert result.threads == 1 and "batch 8" in str(result)
    assert result.to_dict()["per_sample_us"] == pytest.approx(result.batch_n_us / 8)


def test_bigger_network_takes_longer() -> None:
    torch.manual_seed(0)
    small = nn.Linear(8, 2)
    big = nn.Sequential(nn.Linear(8, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.Linear(1024, 2))
    example = torch.zeros(8)
    t_small = measure_latency(small, example, batch_size=64, repeats=20, warmup=3).batch_n_us
    t_big = measure_latency(big, example, batch_size=64, repeats=20, warmup=3).batch_n_us
    assert t_big > 5 * t_small  # ~1000x the FLOPs; a generous margin for noisy shared CPUs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"repeats": 0}, "repeats must be an integer >= 1"),
        ({"warmup": -1}, "warmup must be an integer >= 0"),
        ({"threads": 0}, "threads must be an integer >= 1"),
    ],
)
def test_bad_options(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measure_latency(lambda x: x, np.zeros(2), **kwargs)


def test_scalar_example_is_rejected() -> None:
    with pytest.raises(ValueError, match="one observation"):
        measure_latency(lambda x: x, 3.0)
