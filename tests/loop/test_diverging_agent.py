"""A real agent whose fine-tuning meets NaN observations: the step is rolled back, no crash."""

from __future__ import annotations

import torch

from prunerl.loop import GatedPruner, LoopConfig
from prunerl.loop.structured import agent_subject
from prunerl.rl import DQN, DQNConfig
from rl.faulty import NAN_OBS, register

register()


def test_a_fine_tuning_that_meets_nan_is_rolled_back() -> None:
    torch.set_num_threads(1)
    config = DQNConfig(net_arch=(32, 32), learning_starts=100, train_freq=4)
    agent = DQN(NAN_OBS, config, seed=0, env_kwargs={"at_step": 1500})
    agent.learn(1000)
    agent.env_kwargs = {"at_step": 10**9}  # evaluation episodes stay healthy; training does not
    loop = LoopConfig(
        target=0.9, distill_steps=0, finetune_steps=1000, eval_before_finetune=False,
        eval_episodes=4, max_eval_episodes=4, holdout_episodes=4, evidence="point",
        tolerance=1e6, mode="absolute", max_iterations=3,
    )  # fmt: skip
    subject = agent_subject(agent, loop)
    before = {k: v.clone() for k, v in agent.networks["q"].state_dict().items()}
    result = GatedPruner(subject, loop).run()
    rollbacks = [r for r in result.history if r.action == "rollback"]
    assert rollbacks and "recovery diverged (observation[1] is NaN at env step 1500" in (
        rollbacks[0].reason
    )
    assert all(torch.isfinite(v).all() for v in agent.networks["q"].state_dict().values())
    accepted = [r for r in result.history if r.accepted]
    if not accepted:  # every attempt diverged: the agent is back where it started
        for k, v in agent.networks["q"].state_dict().items():
            assert torch.equal(v, before[k])
