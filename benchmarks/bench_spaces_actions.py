"""Action elimination: does prunerl find the actions a trained agent needs, and keep return?

Cases: CartPole with two extra copies of left/right and a no-op (7 actions, 2 needed) for PPO
and DQN, and MiniGrid-Empty-5x5 (7 actions; turning and moving forward suffice) for PPO. For
each seed: train (early stop once solved), then for every action measure decide by backward
elimination within a return tolerance, cut the output layer, wrap the action space, and
evaluate the reduced agent on 20 episodes no decision saw.

    .venv/bin/python -m benchmarks.bench_spaces_actions --cases cartpole-ppo --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from benchmarks.bench_spaces_common import final_return, grouped_means, save, table, train
from prunerl.spaces import prune_actions, reduce_agent
from prunerl.spaces.action_importance import action_measures

MINIGRID_ID = "prunerl-bench/MiniGridEmpty5x5-v0"


class NamedFlatGrid(gym.ObservationWrapper[np.ndarray, Any, Any]):
    """MiniGrid's 7x7x3 view flattened to float32, with ``action_names`` for the tables."""

    def __init__(self, env: gym.Env) -> None:
        from minigrid.wrappers import ImgObsWrapper

        super().__init__(ImgObsWrapper(env))
        self.observation_space = gym.spaces.Box(0.0, 255.0, (147,), np.float32)
        self.action_names = tuple(a.name for a in env.unwrapped.actions)  # type: ignore[attr-defined]

    def observation(self, observation: Any) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32).reshape(-1)


def make_minigrid() -> gym.Env:
    """MiniGrid-Empty-5x5-v0 with flat float observations (needs ``pip install minigrid``)."""
    import minigrid  # noqa: F401  (registers the MiniGrid envs)

    return NamedFlatGrid(gym.make("MiniGrid-Empty-5x5-v0"))


if MINIGRID_ID not in gym.registry:
    gym.register(MINIGRID_ID, entry_point=make_minigrid)


@dataclass
class Case:
    """One setting: algorithm, env, training budget, early-stop target, tolerance."""

    algo: str
    env_id: str
    config_env: str
    steps: int
    target: float
    every: int
    tolerance: float
    needed: tuple[str, ...]  # action names a good policy can do with
    overrides: dict[str, Any] = field(default_factory=dict)


CASES = {
    "cartpole-ppo": Case(
        "ppo",
        "prunerl/CartPoleExtraActions-v0",
        "CartPole-v1",
        100_000,
        495,
        8192,
        0.02,
        ("left", "right"),
    ),
    "cartpole-dqn": Case(
        "dqn",
        "prunerl/CartPoleExtraActions-v0",
        "CartPole-v1",
        60_000,
        495,
        5000,
        0.02,
        ("left", "right"),
    ),
    "minigrid-ppo": Case(
        "ppo",
        MINIGRID_ID,
        "MiniGrid",
        100_000,
        0.9,
        8192,
        0.05,
        ("left", "right", "forward"),
        {"n_steps": 128, "learning_rate": 2.5e-4, "ent_coef": 0.01},
    ),
}


def run_case(name: str, case: Case, seed: int) -> list[dict[str, Any]]:
    """Train once, then decide with every action measure; one row per measure."""
    agent, train_s = train(
        case.algo,
        case.env_id,
        seed,
        case.steps,
        case.config_env,
        case.target,
        case.every,
        overrides=case.overrides,
    )
    rows = []
    for measure in action_measures.names():
        start = time.perf_counter()
        result = prune_actions(agent, measure, tolerance=case.tolerance, episodes=10)
        prune_s = time.perf_counter() - start
        small = reduce_agent(agent, actions=result)
        names = [result.names[i].split(":", 1)[-1] for i in result.keep]
        rows.append(
            {
                "case": name,
                "measure": measure,
                "seed": seed,
                "train steps": agent.num_timesteps,
                "train s": train_s,
                "dense return": float(result.baseline_return or 0.0),
                "kept": len(result.keep),
                "of": result.n,
                "kept actions": "/".join(names),
                "only needed kinds": float(set(names) <= set(case.needed)),
                "reduced return": final_return(small),
                "prune s": prune_s,
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name in args.cases:
        for seed in args.seeds:
            rows += run_case(name, CASES[name], seed)
            save(rows, args.json)
    print(
        table(
            rows,
            [
                "case",
                "measure",
                "seed",
                "dense return",
                "kept",
                "of",
                "kept actions",
                "reduced return",
                "prune s",
            ],
        )
    )
    means = grouped_means(
        rows, ["case", "measure"], ["kept", "only needed kinds", "dense return", "reduced return"]
    )
    print(
        table(
            means,
            [
                "case",
                "measure",
                "seeds",
                "kept",
                "only needed kinds",
                "dense return",
                "reduced return",
                "min reduced return",
            ],
        )
    )


if __name__ == "__main__":
    main()
