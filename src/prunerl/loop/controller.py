"""The performance-gated pruning loop: prune a step, recover, judge, accept or roll back, verify.

    subject = AgentSubject(agent, config)
    result = GatedPruner(subject, config).run()

The flow: evaluate the reference on a pool of selection episodes and on held-out episodes
(train first if it is below ``threshold``) -> prune a step -> distil the pruned networks from
the reference -> judge with the sequential paired gate (:mod:`prunerl.loop.gate`) -> RL
fine-tune and judge again if it failed -> accept, or roll back to the last accepted weights,
masks and optimizer state and retry smaller -> at the end, verify the final policy on the
held-out episodes (:mod:`prunerl.loop.verify`), falling back to an earlier accepted point
when it misses the tolerance there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from prunerl.loop.config import LoopConfig
from prunerl.loop.gate import return_stats
from prunerl.loop.history import History, StepRecord
from prunerl.loop.judge import Judge
from prunerl.loop.result import LoopResult
from prunerl.loop.subject import Subject, check_targets
from prunerl.loop.verify import Verifier

EPS = 1e-9


class GatedPruner:
    """Runs the loop on a :class:`Subject`; resumable through :meth:`state_dict`.

    ``on_record(pruner, record)`` is called after every record, when the subject is at its last
    accepted point (after a rollback) or at the point just accepted: the moment to checkpoint.
    """

    def __init__(
        self,
        subject: Subject,
        config: LoopConfig,
        on_record: Callable[[GatedPruner, StepRecord], None] | None = None,
    ) -> None:
        self.subject, self.config, self.on_record = subject, config, on_record
        self.history = History()
        self.step = config.step
        self.retries = 0  # train-longer retries used at the current step
        self.iteration = 0
        self.env_steps = 0
        self.phase = "start"  # start -> threshold -> prune -> verify -> done
        self.at_target = False  # an accepted step went all the way to the targets
        self.reference: np.ndarray | None = None  # returns on the selection pool
        self.accepted_returns: np.ndarray | None = None
        self.stop_reason = ""
        self.message = ""
        self.verifier = Verifier(subject, config)
        self.judge = Judge(subject, config)
        self._accepted: Any = None
        self._t0 = time.perf_counter()
        check_targets(subject)

    def _budget_left(self) -> int | None:
        b = self.config.budget
        return None if b is None else b - self.env_steps

    # ------------------------------------------------------------------ records
    def _record(
        self, returns: np.ndarray | None, action: str, reason: str, **values: Any
    ) -> StepRecord:
        """Append (and return) a history row; ``returns`` None: nothing was evaluated."""
        stats = return_stats(returns, self.config)
        sparsity = self.subject.sparsity()
        defaults: dict[str, Any] = {
            "step": 0.0,
            "finetune_steps": 0,
            "sparsity_before": sparsity,
            "sparsity": sparsity,
            "groups": self.subject.group_sparsity(),
            "episodes": 0 if returns is None else int(np.shape(returns)[-1]),
        }
        record = StepRecord.from_stats(
            stats,
            **{**defaults, **values},
            iteration=self.iteration,
            action=action,
            env_steps=self.env_steps,
            reason=reason,
            wall_s=time.perf_counter() - self._t0,
        )
        self.history.append(record)
        return record

    def _emit(self, record: StepRecord) -> None:
        if self.on_record is not None:
            self.on_record(self, record)

    def _stop(self, reason: str, message: str) -> None:
        self.phase, self.stop_reason, self.message = "verify", reason, message

    # ------------------------------------------------------------------ phases
    def _evaluate_reference(self) -> None:
        """The start point on the whole selection pool (recorded for distillation) and on the
        held-out episodes: what every prune is compared with."""
        c = self.config
        self.reference = self.subject.evaluate(c.max_eval_episodes, c.eval_seed, True)
        self.accepted_returns = self.reference
        self.verifier.evaluate_reference()

    def _start(self) -> None:
        self._evaluate_reference()
        assert self.reference is not None
        stats = return_stats(self.reference, self.config)
        self.phase = "threshold" if self.config.threshold is not None else "prune"
        self._emit(self._record(self.reference, "reference", f"start point: {stats}"))

    def _train_to_threshold(self) -> None:
        """Train in chunks until the reference reaches the threshold, or the budget runs out."""
        c = self.config
        assert c.threshold is not None and self.reference is not None
        value = float(getattr(return_stats(self.reference, self.config), c.statistic))
        if value >= c.threshold:
            self.phase = "prune"
            return
        left = self._budget_left()
        if (left is not None and left <= 0) or self.iteration >= c.max_iterations:
            limit = f"the budget of {c.budget} env steps" if c.budget else "max_iterations"
            self.phase, self.stop_reason = "done", "threshold_not_reached"
            self.message = (
                f"the agent's {c.statistic} return {value:.1f} did not reach the threshold "
                f"{c.threshold:g} within {limit} ({self.env_steps} env steps of training); "
                "everything it did is kept: train longer (raise --budget) or lower --threshold"
            )
            return
        chunk = c.finetune_steps or 10_000
        trained = self.subject.train(chunk if left is None else min(chunk, left))
        self.env_steps += trained
        self._evaluate_reference()
        self.iteration += 1
        reason = f"training towards the threshold {c.threshold:g}: {c.statistic} {value:.1f} before"
        self._emit(self._record(self.reference, "train", reason, finetune_steps=trained))

    def _should_stop(self) -> bool:
        c = self.config
        current, targets = self.subject.group_sparsity(), self.subject.targets()
        if self.at_target or all(current[n] >= t - 1e-6 for n, t in targets.items()):
            reached = self.subject.sparsity()
            self._stop("target_reached", f"reached the target sparsity ({reached:.4f} overall)")
        elif self.step < c.min_step - EPS:
            self._stop(
                "min_step",
                f"the step shrank to {self.step:.4g} < min_step {c.min_step:g} after rollbacks; "
                f"the most compressed policy that passed the gate has sparsity "
                f"{self.subject.sparsity():.4f}",
            )
        elif (left := self._budget_left()) is not None and left <= 0 and c.distill_steps == 0:
            self._stop(
                "budget",
                f"the env-step budget {c.budget} is spent ({self.env_steps} used); "
                f"reached sparsity {self.subject.sparsity():.4f}",
            )
        elif self.iteration >= c.max_iterations:
            self._stop("max_iterations", f"stopped after max_iterations={c.max_iterations}")
        return self.phase != "prune"

    def _prune_step(self) -> None:
        """One attempt: prune, recover, judge, then accept or roll back and adapt."""
        c = self.config
        finetune = round(c.finetune_steps * c.longer**self.retries)
        left = self._budget_left()
        finetune = finetune if left is None else max(0, min(finetune, left))  # budget caps it
        if self._should_stop():
            return
        before, current = self.subject.sparsity(), self.subject.group_sparsity()
        proposal = {
            name: min(target, 1.0 - (1.0 - current[name]) * (1.0 - self.step))
            for name, target in self.subject.targets().items()
        }
        self.subject.prune_to(proposal)
        at_target = all(proposal[n] >= t - EPS for n, t in self.subject.targets().items())
        if self.subject.sparsity() <= before + EPS:
            if at_target:  # the target, rounded to whole weights per layer, is reached
                self.at_target = True
                self._should_stop()
                return
            self.phase, self.stop_reason = "verify", "stalled"
            self.message = (
                f"a step of {self.step:.4g} removes no weight at sparsity {before:.4f} (layers "
                "are down to a few weights); lower the target or use scope='global'"
            )
            return
        assert self.reference is not None
        distill = round(c.distill_steps * c.longer**self.retries)  # a retry recovers longer
        result, trained, problem = self.judge.attempt(self.reference, finetune, distill)
        self.env_steps += trained
        self.iteration += 1
        values = {
            "step": self.step,
            "finetune_steps": trained,
            "sparsity_before": before,
            "sparsity": self.subject.sparsity(),
            "groups": self.subject.group_sparsity(),
        }
        if result is not None:
            values.update(gate_value=result.check.value, gate_threshold=result.check.threshold)
        if result is not None and result.accepted:
            self._accepted = self.subject.snapshot()
            self.accepted_returns = result.returns
            self.verifier.keep(self.subject.sparsity(), self._accepted, result.returns)
            self.at_target = at_target
            record = self._record(result.returns, "accept", result.reason(), **values)
            self.step = min(self.step * c.grow, c.max_step)
            self.retries = 0
        else:
            self.subject.restore(self._accepted)
            if self.retries < c.train_longer and problem is None:
                self.retries += 1
                adapt = f"retry with {c.longer:g}x longer recovery"
            else:
                self.retries = 0
                self.step *= c.shrink
                adapt = f"step shrinks to {self.step:.4g}"
            why = problem or (result.reason() if result is not None else "")
            returns = None if result is None else result.returns
            record = self._record(returns, "rollback", f"{why}; {adapt}", **values)
        self._emit(record)

    def run(self) -> LoopResult:
        """Run (or continue) the loop until it stops; the subject ends at its chosen point."""
        if self.phase == "start":
            self._start()
        while self.phase == "threshold":
            self._train_to_threshold()
        if self.phase == "prune" and self._accepted is None:
            self._accepted = self.subject.snapshot()
            self.verifier.keep(self.subject.sparsity(), self._accepted, self.accepted_returns)
            self.subject.start_recovery()
        while self.phase == "prune":
            self._prune_step()
        if self.phase == "verify":
            outcome = self.verifier.verify(self._accepted, self.accepted_returns)
            assert self.verifier.returns is not None
            self.accepted_returns = self.verifier.selection  # the chosen point's gate returns
            self.phase = "done"
            self._emit(self._record(self.verifier.returns, "verify", str(outcome)))
        return self.result()

    def result(self) -> LoopResult:
        assert self.reference is not None and self.accepted_returns is not None
        return LoopResult(
            stop_reason=self.stop_reason,
            message=self.message,
            reference=return_stats(self.reference, self.config),
            final=return_stats(self.accepted_returns, self.config),
            sparsity=self.subject.sparsity(),
            group_sparsity=self.subject.group_sparsity(),
            env_steps=self.env_steps,
            history=self.history,
            verification=self.verifier.outcome,
        )

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict[str, Any]:
        """The loop's own state as JSON data (the subject is checkpointed beside it)."""
        arrays = {"reference": self.reference, "accepted_returns": self.accepted_returns}
        return {
            "phase": self.phase,
            "at_target": self.at_target,
            "step": self.step,
            "retries": self.retries,
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "gates": self.judge.gates,
            **{k: None if v is None else v.tolist() for k, v in arrays.items()},
            "verifier": self.verifier.state_dict(),
            "stop_reason": self.stop_reason,
            "message": self.message,
            "history": self.history.to_json(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`; the subject must be at the point it was saved at."""
        self.phase, self.step = str(state["phase"]), float(state["step"])
        self.at_target = bool(state["at_target"])
        self.retries, self.iteration = int(state["retries"]), int(state["iteration"])
        self.env_steps, self.judge.gates = int(state["env_steps"]), int(state.get("gates", 0))
        for key in ("reference", "accepted_returns"):
            value = state[key]
            setattr(self, key, None if value is None else np.asarray(value, dtype=np.float64))
        self.verifier.load_state_dict(state.get("verifier") or {})
        self.stop_reason, self.message = str(state["stop_reason"]), str(state["message"])
        self.history = History.from_json(state["history"])
        self._accepted = None  # taken in run(): the subject is at the last accepted point
        if self.phase in ("prune", "verify"):
            self._accepted = self.subject.snapshot()
            self.verifier.keep(self.subject.sparsity(), self._accepted, self.accepted_returns)
