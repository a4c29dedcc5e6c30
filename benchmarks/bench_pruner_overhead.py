"""Overhead of ``Pruner.step`` per optimizer step, as a ratio to the same loop without pruning.

Two networks, one torch thread, the dense and pruned loops interleaved in one process on the
same data: a 4-256-256-2 MLP (batch 64, Adam) and the Nature CNN (84x84x4, batch 32, Adam).
The pruned loop runs gradual magnitude pruning to 90% with masks updating every 1000 steps
(reaching 90% at the last timed step); its timed steps include those updates. Two ratios:

* ``vs dense``: pruned loop / dense loop (median of back-to-back pairs) -- what a user sees,
  including any change in how fast the sparse network itself trains;
* ``own``: pruned loop / (pruned loop - time inside the pruner's calls) -- the pruner's cost.

Target: MLP ratio <= 1.10.

    .venv/bin/python -m benchmarks.bench_pruner_overhead --repeats 21
    .venv/bin/python -m benchmarks.bench_pruner_overhead --only mlp --repeats 41 --mlp-steps 250
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from benchmarks.common import CLOCKS, Clock, interleaved, median, paired_ratio, seconds
from prunerl import Pruner, PruningConfig


@dataclass
class Case:
    """One network to benchmark: a builder, an input shape and the steps timed per repeat."""

    key: str
    name: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    steps: int


def mlp() -> nn.Module:
    """The 4-256-256-2 MLP of a CartPole agent."""
    return nn.Sequential(
        nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2)
    )


def nature_cnn() -> nn.Module:
    """The DQN Nature CNN (Mnih et al. 2015) with 6 actions."""
    return nn.Sequential(
        nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(), nn.Linear(512, 6),
    )  # fmt: skip


def training_loop(
    model: nn.Module, data: list[tuple[torch.Tensor, torch.Tensor]], pruner: Pruner | None
) -> Callable[[int], float]:
    """A closure running ``n`` Adam steps of regression, calling the pruner if given.

    It returns the share of its wall time spent inside the pruner's calls (0 without one),
    timed with ``perf_counter`` (a few tens of nanoseconds per reading).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    if pruner is not None:
        pruner.attach_optimizer(optimizer)
    counter = [0]
    clock = time.perf_counter

    def run(n: int) -> float:
        inside = 0.0
        start = clock()
        for _ in range(n):
            x, y = data[counter[0] % len(data)]
            loss = (model(x) - y).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            if pruner is not None:
                t0 = clock()
                pruner.observe_gradients()  # the full contract (a no-op for magnitude)
                inside += clock() - t0
            optimizer.step()
            if pruner is not None:
                t0 = clock()
                pruner.step(counter[0])
                inside += clock() - t0
            counter[0] += 1
        return inside / (clock() - start)

    return run


def zero_grad_fraction(model: nn.Module) -> float:
    """Share of gradient entries that are exactly 0 after the last step (dead units)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return sum(int((g == 0).sum()) for g in grads) / sum(g.numel() for g in grads)


def bench(
    case: Case, repeats: int, warmup: int, clock: Clock, distribution: str
) -> dict[str, float]:
    """Per-step milliseconds of the dense and pruned loops, their ratio, and the pruner's cost."""
    torch.manual_seed(0)
    dense_model = case.build()
    pruned_model = copy.deepcopy(dense_model)
    outputs = dense_model(torch.zeros(case.input_shape)).shape
    data = [(torch.randn(case.input_shape), torch.randn(outputs)) for _ in range(8)]
    end = warmup + repeats * case.steps - 1
    config = PruningConfig(
        method="gmp", sparsity=0.9, end_step=end, update_every=1000, distribution=distribution
    )
    pruner = Pruner(pruned_model, config)
    loops = {
        "dense": training_loop(dense_model, data, None),
        "pruned": training_loop(pruned_model, data, pruner),
    }
    for loop in loops.values():
        loop(warmup)
    shares: list[float] = []
    variants = {
        "dense": lambda: loops["dense"](case.steps),
        "pruned": lambda: shares.append(loops["pruned"](case.steps)),
    }
    times = interleaved(variants, repeats, clock)
    step = [end + 1]

    def steps_only() -> None:  # Pruner.step alone, between updates (masks at 90%)
        for _ in range(1000):
            step[0] += 1
            pruner.step(step[0])

    alone = median([seconds(steps_only, clock) for _ in range(5)]) / 1000
    return {
        "dense_ms": 1e3 * median(times["dense"]) / case.steps,
        "pruned_ms": 1e3 * median(times["pruned"]) / case.steps,
        "ratio": paired_ratio(times, "pruned", "dense"),
        "own_ratio": 1.0 / (1.0 - median(shares)),
        "step_us": 1e6 * alone,
        "updates": pruner.num_updates,
        "zero_grads": zero_grad_fraction(pruned_model),
        "zero_grads_dense": zero_grad_fraction(dense_model),
        "sparsity": pruner.sparsity(),
    }


def main() -> None:
    """Run both cases and print a table (milliseconds per optimizer step)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--mlp-steps", type=int, default=500)
    parser.add_argument("--cnn-steps", type=int, default=20)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--distribution", choices=["uniform", "erk"], default="uniform")
    parser.add_argument("--only", choices=["mlp", "cnn"], help="run one network only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [
        Case("mlp", "mlp 4-256-256-2, batch 64", mlp, (64, 4), args.mlp_steps),
        Case("cnn", "nature-cnn 84x84x4, batch 32", nature_cnn, (32, 4, 84, 84), args.cnn_steps),
    ]
    print(f"clock: {args.clock}; {args.repeats} repeats; medians; {args.distribution} sparsity")
    header = (
        "network",
        "dense ms",
        "pruned ms",
        "vs dense",
        "own",
        "step() us",
        "updates",
        "zero grads",
    )
    print("{:<30} {:>9} {:>10} {:>9} {:>6} {:>10} {:>8} {:>16}".format(*header))
    for case in cases:
        if args.only not in (None, case.key):
            continue
        r = bench(case, args.repeats, min(200, case.steps), CLOCKS[args.clock], args.distribution)
        print(
            f"{case.name:<30} {r['dense_ms']:>9.3f} {r['pruned_ms']:>10.3f} {r['ratio']:>9.3f} "
            f"{r['own_ratio']:>6.3f} {r['step_us']:>10.1f} {r['updates']:>8} "
            f"{r['zero_grads']:>6.0%} vs {r['zero_grads_dense']:.0%}"
        )


if __name__ == "__main__":
    main()
