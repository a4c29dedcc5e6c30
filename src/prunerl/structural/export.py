"""Export a (cut) policy to TorchScript, ONNX or the npz file the numpy runtime runs.

Every export is checked: the exported model runs on the example batch and must give the torch
model's outputs within ``atol`` (1e-5 by default) relative to the outputs' scale, or the export
raises: float32 arithmetic in another order is exact only to ~1e-7 of the magnitude, so Q-values
of a few hundred (LunarLander) need a bound that grows with them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from prunerl.runtime.format import FORMAT, HEADS, VERSION
from prunerl.runtime.policy import Policy
from prunerl.structural.npz import convert
from prunerl.structural.trace import default_example


def _outputs(model: nn.Module, example: torch.Tensor) -> list[np.ndarray]:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(example)
    finally:
        model.train(was_training)
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o.detach().cpu().float().numpy() for o in items]


def _check(what: str, expected: list[np.ndarray], got: list[np.ndarray], atol: float) -> None:
    if len(expected) != len(got):
        raise RuntimeError(f"{what} export check: {len(got)} outputs, expected {len(expected)}")
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        if not e.size:
            continue
        diff = float(np.max(np.abs(e - np.asarray(g).reshape(e.shape))))
        allowed = atol * max(1.0, float(np.max(np.abs(e))))  # relative beyond |output| of 1
        if not diff <= allowed:
            raise RuntimeError(
                f"{what} export check failed: output {i} differs from torch by {diff:.3g} "
                f"(> {allowed:.3g} = {atol} x max(1, max |output|)); please report this model"
            )


def to_npz(
    model: nn.Module,
    path: str | Path,
    example: torch.Tensor | None = None,
    *,
    head: str = "argmax",
    output: int = 0,
    action_low: Sequence[float] | None = None,
    action_high: Sequence[float] | None = None,
    sparse: str = "auto",
    atol: float = 1e-5,
) -> Path:
    """Write ``model`` as a numpy-runtime policy; returns the path.

    ``head`` says how output ``output`` becomes an action: ``argmax`` (discrete Q/logits),
    ``tanh`` (squashed mean, rescaled to [action_low, action_high] when given) or
    ``identity`` (raw mean). ``sparse``: ``auto`` stores a Linear weight in CSR when that is
    smaller (after unstructured pruning), ``always`` or ``never``.
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    if example is None:
        example = default_example(model)
    ops, arrays, outputs, example = convert(model, example, sparse)
    if not 0 <= output < len(outputs):
        raise ValueError(f"output must index the model's {len(outputs)} outputs, got {output}")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "head": head,
        "output": output,
        "obs_shape": list(example.shape[1:]),
        "action_low": None if action_low is None else [float(v) for v in action_low],
        "action_high": None if action_high is None else [float(v) for v in action_high],
        "ops": ops,
        "outputs": outputs,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    payload: dict[str, Any] = {"meta": np.array(json.dumps(meta)), **arrays}
    np.savez_compressed(tmp, **payload)
    tmp.replace(path)
    policy = Policy.load(path)
    _check("npz", _outputs(model, example), policy.forward(example.cpu().numpy()), atol)
    return path


def to_torchscript(
    model: nn.Module, path: str | Path, example: torch.Tensor | None = None, atol: float = 1e-5
) -> Path:
    """Trace ``model`` (eval mode) to TorchScript and save it; returns the path."""
    if example is None:
        example = default_example(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scripted = torch.jit.trace(model, example, check_trace=False)
    finally:
        model.train(was_training)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scripted.save(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jit.load points to torch.export
        loaded = torch.jit.load(str(path))
    _check("torchscript", _outputs(model, example), _outputs(loaded, example), atol)
    return path


def to_onnx(
    model: nn.Module,
    path: str | Path,
    example: torch.Tensor | None = None,
    atol: float = 1e-5,
    opset: int = 17,
) -> Path:
    """Export ``model`` to ONNX (batch axis dynamic); checked with onnxruntime when installed."""
    if example is None:
        example = default_example(model)
    expected = _outputs(model, example)
    names = [f"output{i}" for i in range(len(expected))]
    axes = {"obs": {0: "batch"}, **{n: {0: "batch"} for n in names}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (example,), str(path), input_names=["obs"], output_names=names,
                dynamic_axes=axes, opset_version=opset, dynamo=False,
            )  # fmt: skip
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"ONNX export needs an extra package ({exc.name}): pip install 'prunerl[onnx]'"
        ) from None
    finally:
        model.train(was_training)
    try:
        import onnxruntime
    except ImportError:
        return path  # no runtime to check against; the test suite checks where it is installed
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"obs": example.detach().cpu().numpy()})
    _check("onnx", expected, got, atol)
    return path


def export(
    model: nn.Module,
    directory: str | Path,
    example: torch.Tensor | None = None,
    formats: Sequence[str] = ("npz", "torchscript", "onnx"),
    **npz_options: object,
) -> dict[str, Path]:
    """Write ``policy.npz``, ``policy.pt`` and ``policy.onnx`` into ``directory``."""
    known = {"npz": "policy.npz", "torchscript": "policy.pt", "onnx": "policy.onnx"}
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise ValueError(f"unknown export formats {unknown}; choose from {sorted(known)}")
    directory = Path(directory)
    out: dict[str, Path] = {}
    for fmt in formats:
        target = directory / known[fmt]
        if fmt == "npz":
            out[fmt] = to_npz(model, target, example, **npz_options)  # type: ignore[arg-type]
        elif fmt == "torchscript":
            out[fmt] = to_torchscript(model, target, example)
        else:
            out[fmt] = to_onnx(model, target, example)
    return out
