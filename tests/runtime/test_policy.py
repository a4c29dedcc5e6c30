"""The numpy runner gives the torch policy's actions, and rejects malformed files clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from prunerl import prune
from prunerl.runtime import Policy
from prunerl.structural import cut, make_plan
from prunerl.structural.export import to_npz
from structural.nets import ActorCritic, Dueling, ImpalaCNN, mlp, nature_cnn


def exported(model: torch.nn.Module, x: torch.Tensor, path: Path, **kw: object) -> Policy:
    return Policy.load(to_npz(model.eval(), path, x, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build,shape",
    [
        (lambda: mlp((4, 256, 256, 2)), (4,)),
        (Dueling, (4,)),
        (nature_cnn, (3, 44, 44)),
        (ImpalaCNN, (3, 16, 16)),
    ],
)
def test_discrete_actions_match_torch_single_and_batch(build, shape, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build().eval()
    x = torch.randn(32, *shape)
    small = cut(model, make_plan(model, 0.9, "l1", example=x)).eval()
    policy = exported(small, x, tmp_path / "q.npz")
    with torch.no_grad():
        want = small(x).argmax(-1).numpy()
    assert np.array_equal(policy.act(x.numpy()), want)
    single = policy.act(x[3].numpy())
    assert np.ndim(single) == 0 and single == want[3]


def test_continuous_heads(tmp_path: Path) -> None:
    torch.manual_seed(1)
    actor = mlp((3, 32, 2), torch.nn.Tanh)
    x = torch.randn(10, 3)
    low, high = np.array([-2.0, 0.0]), np.array([2.0, 1.0])
    with torch.no_grad():
        mean = actor(x).numpy()
    squashed = exported(actor, x, tmp_path / "t.npz", head="tanh", action_low=low, action_high=high)
    want = low + (np.tanh(mean) + 1) / 2 * (high - low)
    assert np.allclose(squashed.act(x.numpy()), want, atol=1e-5)
    raw = exported(actor, x, tmp_path / "i.npz", head="identity")
    assert np.allclose(raw.act(x[0].numpy()), mean[0], atol=1e-5)


def test_actor_critic_picks_the_actor_output(tmp_path: Path) -> None:
    model = ActorCritic()
    x = torch.randn(8, 6)
    policy = exported(model, x, tmp_path / "ac.npz")
    _, value = policy.forward(x.numpy())
    with torch.no_grad():
        want_logits, want_value = model(x)
    assert np.allclose(value, want_value.numpy(), atol=1e-5)
    assert np.array_equal(policy.act(x.numpy()), want_logits.argmax(-1).numpy())
    critic = exported(model, x, tmp_path / "v.npz", head="identity", output=1)
    assert np.allclose(critic.act(x.numpy()), want_value.numpy(), atol=1e-5)


def test_sparse_compute_gives_the_same_actions(tmp_path: Path) -> None:
    torch.manual_seed(2)
    model = mlp((4, 64, 64, 3))
    prune(model, sparsity=0.9)
    x = torch.randn(50, 4)
    dense = exported(model, x, tmp_path / "s.npz")
    sparse = Policy.load(tmp_path / "s.npz", compute="sparse")
    assert np.array_equal(dense.act(x.numpy()), sparse.act(x.numpy()))
    with pytest.raises(ValueError, match="compute must be one of"):
        Policy.load(tmp_path / "s.npz", compute="gpu")


def write(path: Path, meta: object, **arrays: np.ndarray) -> Path:
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def test_malformed_files_are_clear_errors(tmp_path: Path) -> None:
    good = exported(mlp(), torch.randn(4, 4), tmp_path / "good.npz").meta
    with pytest.raises(FileNotFoundError, match="no policy file"):
        Policy.load(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"numpy cannot read it.*Export the policy again"):
        Policy.load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    with pytest.raises(ValueError, match=r"no 'meta' entry.*to_npz"):
        Policy.load(tmp_path / "plain.npz")
    with pytest.raises(ValueError, match=r"version 99.*upgrade prunerl"):
        Policy.load(write(tmp_path / "v.npz", {**good, "version": 99}))
    with pytest.raises(ValueError, match=r"needs array 'p0.weight', which is missing"):
        Policy.load(write(tmp_path / "a.npz", good))
    bad_op = {**good, "ops": [{"op": "gelu", "in": [0], "out": 1}]}
    with pytest.raises(ValueError, match="unknown kind 'gelu'"):
        Policy.load(write(tmp_path / "o.npz", bad_op))
    policy = exported(mlp(), torch.randn(4, 4), tmp_path / "ok.npz")
    with pytest.raises(ValueError, match=r"matches neither one observation \(4,\)"):
        policy.act(np.zeros((2, 5)))
