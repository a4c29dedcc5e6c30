"""State-space pruning on envs with distractor features: which measure finds the real ones?

For each case and seed: train an agent on the env with distractors (early stop once solved),
then for every measure decide by backward elimination within a return tolerance (paired
episodes, removals only where the CI shows the drop is within it), deploy the reduced agent (cut
first layer + observation wrapper) and evaluate it on episodes no decision saw, before and after
a short fine-tuning. ``lasso`` variants train with :class:`InputGroupLasso`.

    .venv/bin/python -m benchmarks.bench_spaces_state --cases cartpole-ppo --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.bench_spaces_common import final_return, grouped_means, save, table, train
from prunerl.evaluation import bootstrap_ci
from prunerl.rl.evaluate import evaluate_policy
from prunerl.spaces import InputGroupLasso, prune_observations, reduce_agent
from prunerl.spaces.feature_importance import feature_measures


@dataclass
class Case:
    """One benchmark setting: algorithm, env with distractors, training budget, tolerance."""

    algo: str
    env_id: str
    config_env: str  # whose tuned hyperparameters to train with
    steps: int
    target: float | None  # early-stop return (None: train every step)
    every: int  # env steps between early-stop checks
    tolerance: float
    n_real: int
    finetune: int  # env steps of fine-tuning the reduced agent (0: none)
    lasso: float | None = None  # group-lasso shrinkage per update for the lasso variant
    finetune_overrides: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    unseen: int = 50  # paired episodes (seeds 30000+) behind the unseen drop


CASES = {
    "cartpole-ppo": Case(
        "ppo",
        "prunerl/CartPoleDistractors-v0",
        "CartPole-v1",
        100_000,
        495,
        8192,
        0.02,
        4,
        16_384,
        0.01,
    ),
    "cartpole-dqn": Case(
        "dqn",
        "prunerl/CartPoleDistractors-v0",
        "CartPole-v1",
        60_000,
        495,
        5000,
        0.02,
        4,
        10_000,
        finetune_overrides={"exploration_initial_eps": 0.04, "learning_starts": 500},
    ),
    "pendulum-sac": Case(
        "sac",
        "prunerl/PendulumDistractors-v0",
        "Pendulum-v1",
        20_000,
        -200,
        2000,
        0.1,
        3,
        5_000,
    ),
    # the scenario: Acrobot with 24 distractors, PPO for 200k steps (no early stop)
    "acrobot-ppo": Case(
        "ppo",
        "prunerl/AcrobotDistractors-v0",
        "Acrobot-v1",
        200_000,
        None,
        200_000,
        0.05,
        6,
        0,
        env_kwargs={"n_distractors": 24},
        unseen=200,  # chaotic returns: 50 episodes cannot resolve a 5% drop
    ),
}


def unseen_drop(agent: Any, small: Any, episodes: int = 50) -> tuple[float, float]:
    """Mean paired drop (full agent - reduced agent) on ``episodes`` unseen episodes (seeds
    30000+, the same for both), in % of |full return|, and the upper end of its 95% CI."""
    dense = evaluate_policy(agent.predict, agent.env_id, episodes, 30_000, agent.env_kwargs)
    reduced = evaluate_policy(small.predict, small.env_id, episodes, 30_000, small.env_kwargs)
    scale = 100.0 / max(abs(float(np.mean(dense))), 1e-9)
    high = bootstrap_ci(np.asarray(dense) - np.asarray(reduced), "mean")[1]
    return float(np.mean(dense) - np.mean(reduced)) * scale, high * scale


def run_case(name: str, case: Case, seed: int, variant: str) -> list[dict[str, Any]]:
    """Train once, then decide with every measure; one row per measure."""
    callbacks = [InputGroupLasso(case.lasso)] if variant == "lasso" and case.lasso else []
    agent, train_s = train(
        case.algo,
        case.env_id,
        seed,
        case.steps,
        case.config_env,
        case.target,
        case.every,
        callbacks,
        env_kwargs=case.env_kwargs or None,
    )
    dense_final = final_return(agent)
    rows = []
    for measure in feature_measures.names():
        start = time.perf_counter()
        result = prune_observations(agent, measure, tolerance=case.tolerance, episodes=10)
        prune_s = time.perf_counter() - start
        config = dataclasses.replace(agent.config, **case.finetune_overrides)
        small = reduce_agent(agent, result, config=config)
        reduced = final_return(small)
        drop, drop_high = unseen_drop(agent, small, case.unseen)
        if case.finetune:
            small.learn(case.finetune)
        kept = set(result.keep)
        scores = np.asarray(result.scores[measure])
        top = set(np.argsort(-scores, kind="stable")[: case.n_real].tolist())
        n_dist = result.n - case.n_real
        pure = [i for i, x in enumerate(result.names) if x.startswith(("noise", "constant"))]
        rows.append(
            {
                "case": name,
                "variant": variant,
                "measure": measure,
                "seed": seed,
                "train steps": agent.num_timesteps,
                "train s": train_s,
                "dense return": dense_final,
                "kept": len(kept),
                "real kept": len(kept & set(range(case.n_real))),
                "distractors dropped %": 100.0
                * (n_dist - len(kept - set(range(case.n_real))))
                / n_dist,
                "top-n real %": 100.0 * len(top & set(range(case.n_real))) / case.n_real,
                "noise/const kept": len(kept & set(pure)),
                "reduced return": reduced,
                "unseen drop %": drop,
                "unseen drop CI high %": drop_high,
                "fine-tuned return": final_return(small) if case.finetune else reduced,
                "prune s": prune_s,
                "trials": len(result.trials),
            }
        )
        print(rows[-1], flush=True)
    return rows


VALUES = ["real kept", "distractors dropped %", "top-n real %", "dense return", "reduced return"]
VALUES += ["noise/const kept", "unseen drop %", "unseen drop CI high %", "prune s"]
VALUES += ["fine-tuned return"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["plain", "lasso"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name in args.cases:
        case = CASES[name]
        for variant in args.variants:
            if variant == "lasso" and case.lasso is None:
                continue
            for seed in args.seeds:
                rows += run_case(name, case, seed, variant)
                save(rows, args.json)
    means = grouped_means(
        rows,
        ["case", "variant", "measure"],
        VALUES,
    )
    columns = ["case", "variant", "measure", "seeds", "real kept", "distractors dropped %"]
    columns += ["min distractors dropped %", "top-n real %", "dense return", "reduced return"]
    columns += ["noise/const kept", "unseen drop %", "unseen drop CI high %"]
    columns += ["min reduced return", "fine-tuned return", "min fine-tuned return", "prune s"]
    print(table(means, columns))


if __name__ == "__main__":
    main()
