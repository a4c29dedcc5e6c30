"""What the divergence guards cost: DQN, PPO and SAC training with the checks on and off.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_guard_overhead --repeats 5

The guards check every env step's observation and reward (one sum) and every round of updates'
losses and weights (one sum per tensor). "Off" replaces both checks with no-ops on the agent.
Both variants run the same seed, interleaved in one process; the reported ratio is the median
over repeats of (on / off) process CPU time, one torch thread. Target: <= 1.01.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from benchmarks.common import CLOCKS, interleaved, machine_line, median, paired_ratio
from prunerl.rl import DQN, PPO, SAC, Agent, SACConfig

CASES: dict[str, tuple[Callable[[], Agent], int]] = {
    "dqn CartPole-v1": (lambda: DQN("CartPole-v1", seed=0), 20_000),
    "ppo CartPole-v1": (lambda: PPO("CartPole-v1", seed=0), 50_000),
    "sac Pendulum-v1": (lambda: SAC("Pendulum-v1", SACConfig(net_arch=(64, 64)), seed=0), 3_000),
}


def train(make: Callable[[], Agent], steps: int, guarded: bool) -> Callable[[], object]:
    def run() -> object:
        agent = make()
        if not guarded:
            agent.check_transition = lambda *_: None  # type: ignore[method-assign]
            agent.check_update = lambda *_: None  # type: ignore[method-assign]
        return agent.learn(steps)

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
        times = interleaved(variants, args.repeats, CLOCKS["cpu"])
        ratio = paired_ratio(times, "on", "off")
        print(
            f"{name}, {steps} env steps: guards on {median(times['on']):.2f} s, off "
            f"{median(times['off']):.2f} s (medians of {args.repeats}); on / off {ratio:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
