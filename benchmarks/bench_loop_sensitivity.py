"""Sensitivity curves of a trained run: each layer of the acting network pruned alone.

Prints a markdown table (mean return over ``--episodes`` fixed-seed episodes per layer and
sparsity), the per-layer targets the curves give for ``--target`` at 5% tolerance, and saves
the plot.

    .venv/bin/prunerl train --env CartPole-v1 --algo dqn --steps 50000 --out runs/dqn
    .venv/bin/python -m benchmarks.bench_loop_sensitivity runs/dqn --plot dqn.png
"""

from __future__ import annotations

import argparse

import torch

from prunerl.experiments.prune_session import load_source
from prunerl.loop import AgentSubject, LoopConfig, layer_targets, sensitivity

LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--plot", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    _, config, agent = load_source(args.run_dir, "last")
    subject = AgentSubject(agent, LoopConfig(target=args.target))
    result = sensitivity(subject, LEVELS, episodes=args.episodes)
    print(f"{config.algo} {config.env_id} (seed {config.seed}), reference {result.reference}")
    print("| layer | weights | " + " | ".join(f"{s:.0%}" for s in LEVELS) + " |")
    print("|---|---:|" + "---:|" * len(LEVELS))
    for layer in result.layers:
        values = " | ".join(f"{v:.0f}" for v in result.values(layer))
        print(f"| `{layer}` | {result.numel[layer]} | {values} |")
    try:
        targets = layer_targets(result, args.target, 0.05)
        print("targets:", {k: round(v, 3) for k, v in targets.items()})
    except ValueError as exc:
        print("targets:", exc)
    if args.plot:
        result.plot(args.plot, title=f"{config.algo.upper()} {config.env_id}, seed {config.seed}")


if __name__ == "__main__":
    main()
