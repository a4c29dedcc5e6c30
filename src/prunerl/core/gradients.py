"""Gradient statistics recorded during training, for gradient-based criteria."""

from __future__ import annotations

import torch

from prunerl.core.targets import Target


class GradientStats:
    """Running sums of |g| and |w·g| per target since the last reset (vectorised with foreach).

    Pruned weights still receive dense gradients (masks are applied to weights, not to the
    forward pass), which is what gradient-based regrowth (RigL) needs.
    """

    def __init__(self, targets: list[Target], *, taylor: bool = False, last: bool = False) -> None:
        self.targets = targets
        self.taylor = taylor
        self.last = (  # |g| of the most recent observe(), when a criterion asks for it
            [torch.zeros_like(t.param, dtype=torch.float32) for t in targets] if last else []
        )
        self.abs_sum = [torch.zeros_like(t.param, dtype=torch.float32) for t in targets]
        self.taylor_sum = (
            [torch.zeros_like(t.param, dtype=torch.float32) for t in targets] if taylor else []
        )
        self.count = 0

    def observe(self) -> None:
        """Add the current ``.grad`` of every target (call after ``loss.backward()``)."""
        params = [t.param for t in self.targets]
        if any(p.grad is None for p in params):
            missing = [t.name for t in self.targets if t.param.grad is None]
            raise RuntimeError(
                f"observe_gradients() found no gradient for {missing[:3]}: call it after "
                "loss.backward() and before optimizer.zero_grad()"
            )
        grads = [p.grad.detach().float() for p in params]  # type: ignore[union-attr]
        abs_grads = torch._foreach_abs(grads)
        torch._foreach_add_(self.abs_sum, abs_grads)
        if self.last:
            torch._foreach_copy_(self.last, abs_grads)
        if self.taylor:
            products = torch._foreach_mul(grads, [p.detach().float() for p in params])
            torch._foreach_add_(self.taylor_sum, torch._foreach_abs(products))
        self.count += 1

    def mean_abs(self, index: int) -> torch.Tensor:
        return self.abs_sum[index] / max(self.count, 1)

    def last_abs(self, index: int) -> torch.Tensor:
        if not self.last:
            raise RuntimeError("these statistics keep no last gradient: build with last=True")
        return self.last[index]

    def mean_taylor(self, index: int) -> torch.Tensor:
        return self.taylor_sum[index] / max(self.count, 1)

    def reset(self) -> None:
        for buf in (*self.abs_sum, *self.taylor_sum, *self.last):
            buf.zero_()
        self.count = 0

    def state_dict(self) -> dict[str, object]:
        return {
            "abs_sum": self.abs_sum,
            "taylor_sum": self.taylor_sum,
            "last": self.last,
            "count": self.count,
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        for dst, src in zip(self.abs_sum, state["abs_sum"], strict=True):  # type: ignore[call-overload]
            dst.copy_(src)
        for dst, src in zip(self.taylor_sum, state["taylor_sum"], strict=True):  # type: ignore[call-overload]
            dst.copy_(src)
        self.count = int(state["count"])  # type: ignore[call-overload]
        saved_last = state.get("last") or []
        if not self.last:
            return
        if len(saved_last) != len(self.last):  # type: ignore[arg-type]
            # saved without the last gradient (another criterion): start the statistics afresh,
            # so no mask update can rank the zeros; the next observe() fills them
            self.reset()
            return
        for dst, src in zip(self.last, saved_last, strict=True):  # type: ignore[call-overload]
            dst.copy_(src)
