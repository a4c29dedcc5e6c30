"""Invalid-action masking vs an invalid-action penalty on ``prunerl/InvalidActionChain-v0``.

Each cell of the chain allows 3 of 12 actions. The *penalty* learner sees no mask and pays 0.1
per invalid action; the *masking* learner samples and learns over valid actions only
(``prunerl.spaces.masked_log_softmax``, the MaskablePPO recipe; Huang & Ontañón 2022). Both use
the same REINFORCE learner (linear softmax policy, batch of 16 episodes, Adam 0.05, mean-return
baseline), so the gap is masking alone. Prunerl's PPO/DQN are compared the same way once they
read ``info["action_mask"]`` (``--agents ppo``): the penalty run then gets ``expose_mask=False``.

    .venv/bin/python -m benchmarks.bench_spaces_masking --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.bench_spaces_common import final_return, save, table, train
from prunerl.rl import Agent, Callback
from prunerl.rl.envs import make_env
from prunerl.spaces.action_mask import masked_argmax, masked_log_softmax

ENV_ID = "prunerl/InvalidActionChain-v0"


def play(
    policy: nn.Module, masked: bool, seed: int, batch: int, greedy: bool = False
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``batch`` episodes in lock-step: summed log-probs, returns, invalid actions per episode."""
    envs = [make_env(ENV_ID, env_kwargs={"expose_mask": masked}) for _ in range(batch)]
    obs, masks = [], []
    for i, env in enumerate(envs):
        o, info = env.reset(seed=seed + i)
        obs.append(o)
        masks.append(info.get("action_mask", np.ones(12, dtype=np.int8)))
    log_prob_sum = torch.zeros(batch)
    returns, invalid = np.zeros(batch), np.zeros(batch)
    active = list(range(batch))
    while active:
        logits = policy(torch.as_tensor(np.stack([obs[i] for i in active])))
        mask = torch.as_tensor(np.stack([masks[i] for i in active])).bool() if masked else None
        log_p = masked_log_softmax(logits, mask)
        if greedy:
            actions = masked_argmax(logits, mask)
        else:
            actions = torch.multinomial(log_p.exp(), 1).squeeze(1)
            taken = log_p.gather(1, actions[:, None]).squeeze(1)
            log_prob_sum = log_prob_sum.index_add(0, torch.tensor(active), taken)
        still = []
        for j, i in enumerate(active):
            chain = envs[i].unwrapped
            a = int(actions[j])
            invalid[i] += float(not chain.masks[chain.cell, a])  # type: ignore[attr-defined]
            o, r, terminated, truncated, info = envs[i].step(a)
            obs[i] = o
            returns[i] += r
            masks[i] = info.get("action_mask", masks[i])
            if not (terminated or truncated):
                still.append(i)
        active = still
    return log_prob_sum, returns, invalid


def reinforce(masked: bool, seed: int, iterations: int, batch: int = 16) -> dict[str, Any]:
    """Train a linear softmax policy with REINFORCE; learning curve and final greedy return."""
    torch.manual_seed(seed)
    policy = nn.Linear(8 + 12, 12)
    nn.init.zeros_(policy.weight)
    nn.init.zeros_(policy.bias)
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    curve, invalid_rate = [], []
    for it in range(iterations):
        log_p, returns, invalid = play(policy, masked, seed * 100_000 + it * batch, batch)
        advantage = torch.as_tensor(returns - returns.mean(), dtype=torch.float32)
        loss = -(log_p * advantage).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(float(returns.mean()))
        invalid_rate.append(float(invalid.mean()))
    with torch.no_grad():
        _, greedy, _ = play(policy, masked, 20_000, 20, greedy=True)
    solved = next((i for i, r in enumerate(curve) if r >= 0.5), None)
    return {
        "learner": "reinforce",
        "mode": "masking" if masked else "penalty",
        "seed": seed,
        "mean return, first 25 iters": statistics.mean(curve[:25]),
        "mean return, last 25 iters": statistics.mean(curve[-25:]),
        "invalid actions / episode, last 25": statistics.mean(invalid_rate[-25:]),
        "iters to return 0.5": solved if solved is not None else f">{iterations}",
        "greedy return": float(greedy.mean()),
    }


class FirstSolved(Callback):
    """Env step at which the last 20 training episodes first average a return >= 0.5."""

    def __init__(self) -> None:
        self.returns: list[float] = []
        self.step: int | None = None

    def on_episode(self, agent: Agent, episode_return: float, length: int) -> None:
        self.returns.append(episode_return)
        if self.step is None and len(self.returns) >= 20 and np.mean(self.returns[-20:]) >= 0.5:
            self.step = agent.num_timesteps


def agent_run(algo: str, masked: bool, seed: int, steps: int) -> dict[str, Any]:
    """Prunerl's agent on the chain, with the mask exposed (masking) or hidden (penalty)."""
    solved = FirstSolved()
    agent, seconds = train(
        algo, ENV_ID, seed, steps, ENV_ID, None, steps, [solved], {"expose_mask": masked}
    )
    return {
        "learner": algo,
        "mode": "masking" if masked else "penalty",
        "seed": seed,
        "env steps to training return 0.5": solved.step if solved.step else f">{steps}",
        "greedy return": final_return(agent),
        "train s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--agents", nargs="*", default=[], help="also run these prunerl agents")
    parser.add_argument("--agent-steps", type=int, default=30_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        for masked in (False, True):
            rows.append(reinforce(masked, seed, args.iterations))
            print(rows[-1], flush=True)
            for algo in args.agents:
                rows.append(agent_run(algo, masked, seed, args.agent_steps))
                print(rows[-1], flush=True)
            save(rows, args.json)
    columns = ["learner", "mode", "seed", "mean return, first 25 iters"]
    columns += ["mean return, last 25 iters", "invalid actions / episode, last 25"]
    columns += ["iters to return 0.5", "env steps to training return 0.5", "greedy return"]
    columns += ["train s"]
    print(table(rows, columns))


if __name__ == "__main__":
    main()
