"""Loop test fixtures: one torch thread; the experiments' test-double agent reset after use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from experiments.double import DoubleAgent


@pytest.fixture(autouse=True)
def _one_thread_no_interrupts() -> Iterator[None]:
    torch.set_num_threads(1)
    yield
    DoubleAgent.raise_at = None
    DoubleAgent.interrupt_at = None
