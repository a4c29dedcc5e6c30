"""Channel sets: the members and groups grouping produces, and the union-find that joins them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Member:
    """One layer's part in a group; through Flatten, channel c owns inputs c*repeat...+repeat-1."""

    module: str
    role: str  # "out" | "in" | "feature"
    repeat: int = 1


@dataclass
class Group:
    """Channels that shrink together: ``size`` channels shared by ``members``."""

    size: int
    members: list[Member] = field(default_factory=list)
    pinned: str | None = None  # why the group must stay whole (e.g. "network output")

    @property
    def name(self) -> str:
        """The producing layers' names, e.g. ``"trunk.0"`` or ``"conv+blocks.0.conv1"``."""
        return "+".join(m.module for m in self.by_role("out")) or "<input>"

    @property
    def prunable(self) -> bool:
        """True when channels may be removed: not pinned, and some layer produces them."""
        return self.pinned is None and bool(self.by_role("out"))

    def by_role(self, role: str) -> list[Member]:
        """The members playing ``role`` ("out", "in" or "feature")."""
        return [m for m in self.members if m.role == role]


@dataclass
class Feat:
    """Where a traced tensor keeps a channel set: its axis, and columns per channel."""

    space: int  # union-find id of the channel set
    dim: int  # the tensor axis that holds the channels
    repeat: int = 1


class Spaces:
    """Union-find over channel sets, with their members and pin reasons."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.size: list[int] = []
        self.members: list[list[Member]] = []
        self.pinned: list[str | None] = []

    def new(self, size: int) -> int:
        self.parent.append(len(self.parent))
        self.size.append(size)
        self.members.append([])
        self.pinned.append(None)
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> int:
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if self.size[a] != self.size[b]:  # cannot happen for valid shapes; stay safe anyway
            self.pin(a, "joined with a channel set of another size")
            self.pin(b, "joined with a channel set of another size")
            return a
        self.parent[b] = a
        self.members[a] += self.members[b]
        self.pinned[a] = self.pinned[a] or self.pinned[b]
        return a

    def add(self, space: int, member: Member) -> None:
        root = self.find(space)
        if member not in self.members[root]:
            self.members[root].append(member)

    def pin(self, space: int, reason: str) -> None:
        root = self.find(space)
        self.pinned[root] = self.pinned[root] or reason
