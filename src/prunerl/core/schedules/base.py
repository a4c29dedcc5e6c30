"""The schedule interface: target sparsity over steps, and when masks are updated."""

from __future__ import annotations

from prunerl.registry import Registry


class Schedule:
    """Maps a step counter (advanced by the caller) to a target sparsity and update points.

    Update points are ``begin, begin + every, ...`` up to ``end`` inclusive; the pruner updates
    masks the first time its step reaches or passes a point, so callers that advance the
    counter in strides (e.g. ``train_freq``) lose no update.
    """

    def __init__(self, begin: int, end: int, every: int) -> None:
        self.begin, self.end, self.every = begin, end, every

    def sparsity_at(self, step: int) -> float:
        raise NotImplementedError

    @property
    def final_sparsity(self) -> float:
        return self.sparsity_at(self.end)

    def next_update(self, after: int) -> int | None:
        """First update point strictly after step ``after``, or None when none is left."""
        if after < self.begin:
            point = self.begin
        else:
            point = self.begin + ((after - self.begin) // self.every + 1) * self.every
            if point > self.end and after < self.end:
                point = self.end
        return point if point <= self.end else None

    def update_points(self) -> list[int]:
        points: list[int] = []
        point = self.next_update(-1)
        while point is not None:
            points.append(point)
            point = self.next_update(point)
        return points

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


schedules: Registry[type[Schedule]] = Registry("schedule")
