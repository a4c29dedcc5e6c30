"""Stable-Baselines3 models pruned while they learn (``prunerl.integrations.sb3``): final return.

SB3's DQN and PPO on CartPole-v1 with RL-Zoo's hyperparameters (the ones in
``bench_dqn_speed.py`` / ``bench_ppo_speed.py``), dense and with ``PruningCallback`` (GMP to 90%,
cubic, 20% -> 75% of training, every 1000 env steps). Final policy, 20 deterministic episodes.

    .venv/bin/python -m benchmarks.bench_sb3_pruning --seeds 3 --workers 2
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

STEPS = {"dqn": 50_000, "ppo": 100_000}


def run(job: tuple[str, str, int]) -> dict[str, Any]:
    """Train one SB3 model (dense or pruned) and score its final policy."""
    import torch
    from stable_baselines3 import DQN, PPO

    from benchmarks.bench_dqn_speed import ZOO
    from prunerl.integrations.sb3 import PruningCallback
    from prunerl.rl.evaluate import evaluate_policy

    algo, variant, seed = job
    torch.set_num_threads(1)
    steps = STEPS[algo]
    if algo == "dqn":
        model: Any = DQN("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": [256, 256]},
                         seed=seed, **ZOO)  # fmt: skip
    else:
        from stable_baselines3.common.env_util import make_vec_env

        envs = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO("MlpPolicy", envs, n_steps=32, batch_size=256, gae_lambda=0.8,
                    gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate=lambda f: 1e-3 * f,
                    clip_range=lambda f: 0.2 * f, seed=seed)  # fmt: skip
    callback = None
    if variant == "gmp90":
        callback = PruningCallback(
            method="gmp", sparsity=0.9, begin_step=int(0.2 * steps), end_step=int(0.75 * steps),
            update_every=1000, distribution="uniform" if algo == "dqn" else "erk",
        )  # fmt: skip
    start = time.perf_counter()
    model.learn(steps, callback=callback)
    wall = time.perf_counter() - start

    def policy(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    returns = evaluate_policy(policy, "CartPole-v1", episodes=20)
    sparsity = callback.pruner.sparsity() if callback and callback.pruner else 0.0
    return {"algo": algo, "variant": variant, "seed": seed, "return": float(returns.mean()),
            "sparsity": sparsity, "wall_s": wall}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--algos", default="dqn,ppo")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(a, v, s) for a in args.algos.split(",") for v in ("dense", "gmp90")
            for s in range(args.seeds)]  # fmt: skip
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(run, jobs):
            rows.append(row)
            print(row, flush=True)
    print("| SB3 algo | variant | returns per seed | solved (>= 475) | sparsity | wall (median) |")
    print("|---|---|---|---|---|---|")
    for algo in args.algos.split(","):
        for variant in ("dense", "gmp90"):
            sel = [r for r in rows if r["algo"] == algo and r["variant"] == variant]
            rets = ", ".join(f"{r['return']:.1f}" for r in sel)
            solved = sum(r["return"] >= 475 for r in sel)
            wall = float(np.median([r["wall_s"] for r in sel]))
            print(f"| {algo} | {variant} | {rets} | {solved}/{len(sel)} | "
                  f"{sel[0]['sparsity']:.3f} | {wall:.1f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
