"""One prune attempt's recovery and judgement: distil, gate, then RL fine-tune and gate again.

Distillation towards the reference takes no env steps, so it always comes first; RL fine-tuning
(in ``finetune_chunks`` pieces, judged after each) runs only while the candidate fails. A
recovery that diverges (NaN or Inf) is a failed attempt, rolled back like any other.
"""

from __future__ import annotations

import numpy as np

from prunerl.core.finite import NonFiniteError
from prunerl.loop.config import LoopConfig
from prunerl.loop.gate import GateResult, sequential_gate
from prunerl.loop.subject import Subject


class Judge:
    """Recovers and judges candidates; each gate starts at the next window of the seed pool."""

    def __init__(self, subject: Subject, config: LoopConfig) -> None:
        self.subject, self.config = subject, config
        self.gates = 0  # gate evaluations so far

    def gate(self, reference: np.ndarray) -> GateResult:
        """The sequential paired gate on the next window of the reference's episode pool."""
        start = (self.gates * self.config.eval_episodes) % reference.shape[-1]
        self.gates += 1
        evaluate = lambda n, seed: self.subject.evaluate(n, seed, True)  # noqa: E731
        return sequential_gate(evaluate, reference, start, self.config)

    def attempt(
        self, reference: np.ndarray, finetune: int, distill: int
    ) -> tuple[GateResult | None, int, str | None]:
        """(last gate, env steps of fine-tuning, why it diverged or None) for a pruned subject:
        ``distill`` steps of distillation, then up to ``finetune`` env steps of RL fine-tuning."""
        c = self.config
        trained, done, result = 0, 0, None
        chunks = [round(finetune * (k + 1) / c.finetune_chunks) for k in range(c.finetune_chunks)]
        try:
            self.subject.distill(distill)
            if c.eval_before_finetune or finetune == 0:
                result = self.gate(reference)
            for point in chunks if finetune > 0 else []:
                if result is not None and result.accepted:
                    break
                trained += self.subject.train(point - done)  # PPO rounds up to whole rollouts
                done = point
                result = self.gate(reference)
        except NonFiniteError as exc:
            return None, trained, f"recovery diverged ({exc})"
        return result, trained, None
