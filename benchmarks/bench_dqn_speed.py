"""DQN training speed on CartPole-v1: prunerl (dense and GMP 90%) against Stable-Baselines3.

    .venv/bin/python benchmarks/bench_dqn_speed.py --repeats 3

All three use RL-Zoo's CartPole hyperparameters (identical for both libraries) and one torch
thread; the runs alternate within one process so machine load hits them alike. Reports the
median process CPU time (one thread: the wall time of an idle machine) and wall time of each,
env steps per second and the ratios. Needs ``stable-baselines3``.

prunerl flushes denormal floats to 0 while it trains (``flush_denormal``, on by default); SB3
does not, so its runs set the flag off, as a user's SB3 run has it. ``--variants`` adds
``prunerl dense, no flush`` to measure what flushing gains on this CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.common import machine_line
from prunerl.core import PruningConfig
from prunerl.rl.dqn import DQN, DQNConfig

ENV = "CartPole-v1"
# RL-Zoo (rl-baselines3-zoo, hyperparams/dqn.yml) CartPole-v1; SB3 defaults otherwise
# (tau 1, max_grad_norm 10, Huber loss, Adam).
ZOO = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
)
GMP90 = dict(method="gmp", sparsity=0.9, begin_step=10_000, end_step=37_500, update_every=1000)


Timing = tuple[float, float]  # (CPU seconds, wall seconds)


def timed(fn: Callable[[], object]) -> Timing:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def run_sb3(steps: int, seed: int) -> Timing:
    """CPU and wall seconds of one SB3 DQN training run."""
    from stable_baselines3 import DQN as SB3DQN

    model = SB3DQN(
        "MlpPolicy", ENV, policy_kwargs=dict(net_arch=[256, 256]), seed=seed, device="cpu", **ZOO
    )
    torch.set_flush_denormal(False)  # SB3 leaves the CPU's default
    return timed(lambda: model.learn(steps))


def run_prunerl(steps: int, seed: int, pruned: bool, flush: bool = True) -> Timing:
    """CPU and wall seconds of one prunerl run (agent construction excluded, like SB3)."""
    config = DQNConfig(net_arch=(256, 256), **ZOO)  # type: ignore[arg-type]
    pruning = PruningConfig(**GMP90) if pruned else None
    agent = DQN(ENV, config, pruning=pruning, seed=seed, flush_denormal=flush)
    return timed(lambda: agent.learn(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--no-sb3", action="store_true", help="skip the SB3 baseline")
    parser.add_argument(
        "--no-flush", action="store_true", help="also time prunerl dense with denormals kept"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_line(flush_denormal="prunerl on, sb3 off"), flush=True)
    runs: dict[str, Callable[[int, int], Timing]] = {
        "prunerl dense": lambda n, s: run_prunerl(n, s, False),
        "prunerl gmp90": lambda n, s: run_prunerl(n, s, True),
    }
    if args.no_flush:
        runs["prunerl dense, no flush"] = lambda n, s: run_prunerl(n, s, False, flush=False)
    if not args.no_sb3:
        runs["sb3"] = run_sb3
    times: dict[str, list[Timing]] = {name: [] for name in runs}
    for rep in range(args.repeats):
        for name, fn in runs.items():
            times[name].append(fn(args.steps, rep))
            cpu, wall = times[name][-1]
            print(f"repeat {rep} {name}: cpu {cpu:.1f}s wall {wall:.1f}s", flush=True)
    for k, clock in enumerate(("cpu", "wall")):
        med = {name: statistics.median(t[k] for t in ts) for name, ts in times.items()}
        for name, m in med.items():
            print(f"[{clock}] {name}: median {m:.1f}s, {args.steps / m:.0f} env steps/s")
        print(f"[{clock}] gmp90 / dense: {med['prunerl gmp90'] / med['prunerl dense']:.3f}")
        if "sb3" in med:
            speedup = med["sb3"] / med["prunerl dense"]
            print(f"[{clock}] prunerl dense speed-up over SB3: {speedup:.2f}x")
        if "prunerl dense, no flush" in med:
            gain = med["prunerl dense, no flush"] / med["prunerl dense"]
            print(f"[{clock}] dense without / with denormal flushing: {gain:.3f}")


if __name__ == "__main__":
    main()
