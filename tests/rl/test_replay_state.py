"""Replay state a checkpoint must carry (n-step pending steps, optional buffer fields) and the
rewindable learning-rate schedule fine-tuning uses."""

from __future__ import annotations

import numpy as np
import pytest

from prunerl.rl.buffers import ReplayBuffer
from prunerl.rl.nstep import NStepWriter
from prunerl.rl.schedules import LinearSchedule, rate_schedule


def _steps(writer: NStepWriter, start: int, count: int) -> None:
    for t in range(start, start + count):
        obs = np.full(3, t, dtype=np.float32)
        writer.add(obs, t % 2, float(t), obs + 1, terminated=False, done=False)


def test_nstep_writer_resumes_with_its_pending_steps() -> None:
    whole = NStepWriter(ReplayBuffer(50, (3,)), n=3, gamma=0.9)
    _steps(whole, 0, 10)
    first = NStepWriter(ReplayBuffer(50, (3,)), n=3, gamma=0.9)
    _steps(first, 0, 5)
    second = NStepWriter(ReplayBuffer(50, (3,)), n=3, gamma=0.9)
    second.buffer.load_arrays(first.buffer.filled_arrays(), first.buffer.pos, first.buffer.full)
    second.load_state_dict(first.state_dict())
    assert len(second.pending) == 2
    _steps(second, 5, 5)
    for key, value in whole.buffer.filled_arrays().items():
        np.testing.assert_array_equal(second.buffer.filled_arrays()[key], value, err_msg=key)
    assert second.buffer.discounts is not None  # the optional field came back too


def test_buffer_rejects_saved_arrays_of_another_shape() -> None:
    buffer = ReplayBuffer(10, (3,))
    buffer.add(np.zeros(3), np.asarray(1), 1.0, np.zeros(3), False)
    other = ReplayBuffer(10, (4,))
    with pytest.raises(ValueError, match="resume with the same config"):
        other.load_arrays(buffer.filled_arrays(), buffer.pos, buffer.full)


def test_rate_schedule_restarts_at_its_origin() -> None:
    assert rate_schedule(1.0, 0.0, 100, 0) == LinearSchedule(1.0, 0.0, 100)
    rewound = rate_schedule(1.0, 0.0, 1100, 1000)
    assert rewound(1000) == 1.0 and rewound(1050) == pytest.approx(0.5) and rewound(1100) == 0.0
    assert rewound(500) == 1.0  # before the origin: the start value
