"""Export: TorchScript, ONNX (checked with onnxruntime) and the numpy-runtime npz."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from prunerl import prune
from prunerl.runtime import Policy
from prunerl.structural import cut, make_plan
from prunerl.structural.export import export, to_npz, to_onnx, to_torchscript

from .nets import ActorCritic, Dueling, ImpalaCNN, ResidualMLP, bn_cnn, mlp, nature_cnn
from .test_surgery import randomise_batch_norm

CASES = {
    "mlp": (lambda: mlp((4, 64, 64, 2)), (4,)),
    "nature_cnn": (nature_cnn, (3, 44, 44)),
    "dueling": (Dueling, (4,)),
    "actor_critic": (ActorCritic, (6,)),
    "impala": (ImpalaCNN, (3, 16, 16)),
    "residual_mlp": (ResidualMLP, (6,)),
    "batchnorm": (bn_cnn, (2, 8, 8)),
}


def torch_outputs(model: nn.Module, x: torch.Tensor) -> list[np.ndarray]:
    with torch.no_grad():
        out = model.eval()(x)
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


@pytest.mark.parametrize("name", list(CASES))
def test_npz_runtime_reproduces_the_cut_network(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    build, shape = CASES[name]
    model = build().eval()
    randomise_batch_norm(model)
    x = torch.randn(9, *shape)
    small = cut(model, make_plan(model, 0.5, "l1", example=x)).eval()
    policy = Policy.load(to_npz(small, tmp_path / "p.npz", x))
    for want, got in zip(torch_outputs(small, x), policy.forward(x.numpy()), strict=True):
        assert np.max(np.abs(want - got)) <= 1e-5


def test_torchscript_round_trip(tmp_path: Path) -> None:
    model = Dueling()
    x = torch.randn(5, 4)
    path = to_torchscript(model, tmp_path / "q.pt", x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13: "use torch.export"
        loaded = torch.jit.load(str(path))
    other = torch.randn(3, 4)
    assert torch.allclose(loaded(other), model(other), atol=1e-5)


@pytest.mark.parametrize("name", ["dueling", "impala"])
def test_onnx_matches_onnxruntime(name: str, tmp_path: Path) -> None:
    ort = pytest.importorskip(
        "onnxruntime", reason="onnxruntime is not installed (pip install 'prunerl[onnx]')"
    )
    pytest.importorskip("onnx", reason="onnx is not installed (pip install 'prunerl[onnx]')")
    build, shape = CASES[name]
    model = build().eval()
    path = to_onnx(model, tmp_path / "p.onnx", torch.randn(4, *shape))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 7):  # the batch axis is dynamic
        x = torch.randn(batch, *shape)
        got = session.run(None, {"obs": x.numpy()})[0]
        assert np.max(np.abs(got - torch_outputs(model, x)[0])) <= 1e-5


def test_unstructured_sparse_weights_are_stored_in_csr(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = mlp((4, 128, 128, 2))
    prune(model, sparsity=0.9)
    x = torch.randn(6, 4)
    sparse = to_npz(model, tmp_path / "s.npz", x)
    dense = to_npz(model, tmp_path / "d.npz", x, sparse="never")
    with np.load(sparse) as f:
        assert "p2.weight.data" in f.files and "p2.weight" not in f.files
    # zlib already squeezes the zeros of the dense file; CSR (uint8 indices) still wins
    assert sparse.stat().st_size < 0.9 * dense.stat().st_size
    for compute in ("dense", "sparse"):
        got = Policy.load(sparse, compute=compute).forward(x.numpy())[0]
        assert np.max(np.abs(got - torch_outputs(model, x)[0])) <= 1e-5


class Concat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.a(x), x], dim=-1)


def test_unsupported_ops_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"operation 'cat'.*torchscript or onnx"):
        to_npz(Concat(), tmp_path / "c.npz")
    with pytest.raises(ValueError, match="layer '0' \\(GRUCell\\)"):
        to_npz(nn.Sequential(nn.GRUCell(4, 4)), tmp_path / "g.npz", torch.randn(2, 4))
    with pytest.raises(ValueError, match="head must be one of"):
        to_npz(mlp(), tmp_path / "m.npz", head="softmax")
    with pytest.raises(ValueError, match="unknown export formats"):
        export(mlp(), tmp_path, formats=["tflite"])
    paths = export(mlp(), tmp_path / "all", formats=["npz", "torchscript"])
    assert sorted(p.name for p in paths.values()) == ["policy.npz", "policy.pt"]
