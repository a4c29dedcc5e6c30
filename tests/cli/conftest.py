"""CLI test fixtures: one torch thread, the test-double agent registered and reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from experiments.double import DoubleAgent


@pytest.fixture(autouse=True)
def _one_thread_no_interrupts() -> Iterator[None]:
    torch.set_num_threads(1)
    yield
    DoubleAgent.interrupt_at = None
    DoubleAgent.raise_at = None
