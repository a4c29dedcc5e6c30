"""Common random numbers for episodes played in lock-step: one random stream per episode.

Envs and wrappers that draw from numpy's global generator (``np.random.normal``) or torch's
default generator would otherwise share one stream across every episode and evaluation, so a
baseline run and a permuted run would see different noise even with the same reset seeds.
:class:`GlobalStreams` gives each episode (and the policy) its own state of both generators,
swapped in around every call, so an episode replays exactly whenever its actions do. Python's
``random`` module is not covered (saving its state costs more than a CartPole step); draws
from it, or from any unseeded generator, show up in the replay check instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from numpy.random.mtrand import get_bit_generator, set_bit_generator


class GlobalStreams:
    """Per-key states of numpy's global bit generator and torch's default generator.

    Use inside :meth:`session` (which restores the caller's generators at its end); each
    :meth:`use` block runs on the stream of its key (an integer >= -1), created on first use
    from ``(seed, key)`` alone, so a key's stream does not depend on which other keys exist.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._numpy: dict[int, np.random.BitGenerator] = {}
        self._torch: dict[int, torch.Tensor] = {}

    @contextmanager
    def session(self) -> Iterator[GlobalStreams]:
        """Run with these streams; the caller's global generators are untouched afterwards."""
        caller_numpy = get_bit_generator()
        caller_torch = torch.get_rng_state()
        try:
            yield self
        finally:
            set_bit_generator(caller_numpy)
            torch.set_rng_state(caller_torch)

    @contextmanager
    def use(self, key: int) -> Iterator[None]:
        """Make ``key``'s stream the global one for the block, then save where it got to."""
        if key not in self._numpy:
            entropy = np.random.SeedSequence([abs(self.seed), int(self.seed < 0), key + 1])
            self._numpy[key] = np.random.MT19937(entropy)
            torch_seed = int(entropy.generate_state(1, np.uint64)[0] >> np.uint64(1))
            self._torch[key] = torch.Generator().manual_seed(torch_seed).get_state()
        set_bit_generator(self._numpy[key])
        torch.set_rng_state(self._torch[key])
        try:
            yield
        finally:
            self._torch[key] = torch.get_rng_state()
