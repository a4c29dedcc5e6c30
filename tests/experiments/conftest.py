"""Shared fixtures: one torch thread, the test-double agent registered, runs in a temp dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from experiments.double import DoubleAgent


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_interrupts() -> Iterator[None]:
    yield
    DoubleAgent.interrupt_at = None
    DoubleAgent.raise_at = None
