"""Cost of the SB3 callback's NaN/Inf checks: SB3 DQN on CartPole-v1, ``PruningCallback`` with
``check_finite`` on vs off (GMP to 90% either way), one torch thread, process CPU time.

Two settings: SB3's defaults (a round of one gradient step every 4 env steps: the weights are
checked most often) and RL-Zoo's (128 gradient steps every 256 env steps). Reported: median
seconds per run of each, the median of the paired on/off ratios (repeats alternate their order),
the checks timed alone (per env step: observation and reward; per round: the weights), and
``inside``: the time spent in the checks during the runs with checks on, over those runs' time
(wall clock both; steadier than the ratio on a shared machine, whose noise is several percent).
Target: ratio <= 1.01.

    .venv/bin/python -m benchmarks.bench_sb3_guard --steps 20000 --repeats 5
"""

from __future__ import annotations

import argparse
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from benchmarks.bench_dqn_speed import ZOO
from benchmarks.common import CLOCKS, median

SETTINGS: dict[str, dict[str, Any]] = {
    "sb3-default": {"learning_starts": 1000, "policy_kwargs": {"net_arch": [64, 64]}},
    "zoo": {**ZOO, "policy_kwargs": {"net_arch": [256, 256]}},
}


INSIDE = [0.0, 0.0]  # wall seconds inside the checks, and of the runs with checks on


def timed(fn: Callable[..., None]) -> Callable[..., None]:
    """``fn``, adding the wall time of each call to ``INSIDE``, less the clock's own cost (an
    empty interval timed just before: in a run, with cold caches, a perf_counter call costs
    ~0.5 us, a tenth of what is measured)."""

    def wrapper(*args: Any) -> None:
        start = time.perf_counter()
        mid = time.perf_counter()
        try:
            fn(*args)
        finally:
            INSIDE[0] += (time.perf_counter() - mid) - (mid - start)

    return wrapper


def one_run(setting: str, steps: int, check: bool, seed: int) -> float:
    """CPU seconds of ``model.learn(steps)`` with the callback's checks on or off."""
    from stable_baselines3 import DQN

    from prunerl.integrations import sb3
    from prunerl.integrations.sb3 import PruningCallback

    if not hasattr(sb3.WeightCheck, "__timed__"):
        sb3.EnvStepCheck.__call__ = timed(sb3.EnvStepCheck.__call__)  # type: ignore[method-assign]
        sb3.WeightCheck.__call__ = timed(sb3.WeightCheck.__call__)  # type: ignore[method-assign]
        sb3.WeightCheck.__timed__ = True  # type: ignore[attr-defined]

    model = DQN("MlpPolicy", "CartPole-v1", seed=seed, device="cpu", **SETTINGS[setting])
    schedule = {"begin_step": steps // 5, "end_step": 3 * steps // 4, "update_every": 1000}
    cb = PruningCallback(method="gmp", sparsity=0.9, check_finite=check, **schedule)
    clock = CLOCKS["cpu"]
    start, wall = clock(), time.perf_counter()
    model.learn(steps, callback=cb)
    if check:
        INSIDE[1] += time.perf_counter() - wall
    return clock() - start


def checks_alone(net_arch: list[int]) -> tuple[float, float]:
    """Microseconds of one env step's check and of one weight check (a CartPole DQN net)."""
    from stable_baselines3 import DQN

    from prunerl.integrations.sb3_checks import EnvStepCheck, WeightCheck

    obs, reward = np.zeros((1, 4), np.float32), np.ones(1, np.float32)
    done, infos = np.zeros(1, bool), [{}]
    n = 20_000
    env_check = EnvStepCheck()
    env_us = timeit.timeit(lambda: env_check(obs, reward, done, infos, 1), number=n) / n
    q = DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": net_arch}).policy.q_net
    check = WeightCheck({f"q_net.{k}": p for k, p in q.named_parameters()})
    w_us = timeit.timeit(lambda: check(1), number=n // 10) / (n // 10)
    return env_us * 1e6, w_us * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--settings", default="sb3-default,zoo")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| setting | off (s, median) | on (s, median) | on/off (median of pairs) | "
          "env-step check | weight check | per step, alone | inside |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for setting in args.settings.split(","):
        times: dict[bool, list[float]] = {True: [], False: []}
        INSIDE[:] = [0.0, 0.0]
        for r in range(args.repeats):
            for check in (True, False) if r % 2 == 0 else (False, True):
                times[check].append(one_run(setting, args.steps, check, seed=r))
        inside = INSIDE[0] / INSIDE[1]
        ratio = median([a / b for a, b in zip(times[True], times[False], strict=True)])
        cfg = SETTINGS[setting]
        env_us, w_us = checks_alone(cfg["policy_kwargs"]["net_arch"])
        per_step_us = median(times[False]) / args.steps * 1e6
        train_freq = cfg.get("train_freq", 4)
        alone = (env_us + w_us / train_freq) / per_step_us
        print(f"| {setting} | {median(times[False]):.2f} | {median(times[True]):.2f} | "
              f"{ratio:.4f} | {env_us:.1f} us | {w_us:.1f} us | {alone:.2%} of "
              f"{per_step_us:.0f} us | {inside:.2%} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
