"""What the divergence guards cost: DQN, PPO and SAC training with the checks on and off.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_guard_overhead --repeats 5

The guards check every env step's observation and reward (one sum) and every round of updates'
losses and weights (one sum per tensor). "Off" replaces both checks with no-ops on the agent.
Both variants run the same seed, interleaved in one process; reported: the median over repeats
of (on / off) process CPU time, one torch thread, and ``inside``: the wall time spent in the
checks during the runs with checks on, over those runs' wall time (steadier than the ratio on a
shared machine, whose run-to-run noise is a few percent). Target: <= 1%.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from benchmarks.common import CLOCKS, interleaved, machine_line, median, paired_ratio
from prunerl.rl import DQN, PPO, SAC, Agent, SACConfig

CASES: dict[str, tuple[Callable[[], Agent], int]] = {
    "dqn CartPole-v1": (lambda: DQN("CartPole-v1", seed=0), 20_000),
    "ppo CartPole-v1": (lambda: PPO("CartPole-v1", seed=0), 50_000),
    "sac Pendulum-v1": (lambda: SAC("Pendulum-v1", SACConfig(net_arch=(64, 64)), seed=0), 3_000),
}


INSIDE = [0.0, 0.0]  # wall seconds inside the checks, and of the guarded runs


def timed(fn: Callable[..., None]) -> Callable[..., None]:
    """``fn``, adding the wall time of each call to ``INSIDE``."""

    def call(*args: object) -> None:
        start = time.perf_counter()
        try:
            fn(*args)
        finally:
            INSIDE[0] += time.perf_counter() - start

    return call


def train(make: Callable[[], Agent], steps: int, guarded: bool) -> Callable[[], object]:
    def run() -> object:
        agent = make()
        if guarded:
            agent.check_transition = timed(agent.check_transition)  # type: ignore[method-assign]
            agent.check_update = timed(agent.check_update)  # type: ignore[method-assign]
        else:
            agent.check_transition = lambda *_: None  # type: ignore[method-assign]
            agent.check_update = lambda *_: None  # type: ignore[method-assign]
        start = time.perf_counter()
        agent.learn(steps)
        if guarded:
            INSIDE[1] += time.perf_counter() - start
        return agent

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_line(clock="process CPU time"), flush=True)
    for name in args.cases.split(","):
        make, steps = CASES[name]
        variants = {"on": train(make, steps, True), "off": train(make, steps, False)}
        INSIDE[:] = [0.0, 0.0]
        times = interleaved(variants, args.repeats, CLOCKS["cpu"])
        ratio = paired_ratio(times, "on", "off")
        print(
            f"{name}, {steps} env steps: guards on {median(times['on']):.2f} s, off "
            f"{median(times['off']):.2f} s (medians of {args.repeats}); on / off {ratio:.4f}; "
            f"inside the checks {INSIDE[0] / INSIDE[1]:.2%} of the guarded runs",
            flush=True,
        )


if __name__ == "__main__":
    main()
