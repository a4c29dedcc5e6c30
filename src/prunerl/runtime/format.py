"""The npz policy layout, shared by the exporter (torch side) and the runner (numpy side).

An exported policy is one ``.npz`` file: a JSON ``meta`` entry (format, version, head kind,
observation shape, action bounds, and a list of ops over numbered registers) plus the arrays the
ops name. Register 0 holds the observation batch; ops run in order, each reading registers and
writing one. Weights stored compressed use three arrays ``<name>.data``, ``<name>.indices`` and
``<name>.indptr`` (CSR, rows = output units).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

FORMAT = "prunerl-policy"
VERSION = 1

#: How raw outputs become actions: argmax (discrete Q-values/logits), tanh (squashed mean,
#: rescaled to the action bounds when given) or identity (raw mean, clipped to bounds if given).
HEADS = ("argmax", "tanh", "identity")

#: Op name -> (array params it needs, attributes it needs).
OPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "linear": (("weight",), ()),
    "conv2d": (("weight",), ("stride", "padding")),
    "maxpool2d": ((), ("kernel", "stride", "padding")),
    "affine": (("scale", "shift"), ("axis",)),
    "layer_norm": ((), ("eps",)),
    "relu": ((), ()),
    "tanh": ((), ()),
    "sigmoid": ((), ()),
    "silu": ((), ()),
    "leaky_relu": ((), ("slope",)),
    "elu": ((), ("alpha",)),
    "softplus": ((), ("beta", "threshold")),
    "reshape": ((), ("shape",)),
    "add": ((), ()),
    "sub": ((), ()),
    "mul": ((), ()),
    "div": ((), ()),
    "mean": ((), ("axis", "keepdim")),
    "sum": ((), ("axis", "keepdim")),
    "softmax": ((), ("axis",)),
    "slice": ((), ("axis", "start", "stop")),
    "clamp": ((), ("min", "max")),
    "const": (("value",), ()),
}
#: Ops whose listed params are optional (a Linear without bias, a LayerNorm without affine).
OPTIONAL_PARAMS = {"linear": ("bias",), "conv2d": ("bias",), "layer_norm": ("weight", "bias")}


def fail(path: str, problem: str) -> ValueError:
    """The one error for a malformed file: what is wrong and how to get a good one."""
    return ValueError(
        f"{path} is not a valid prunerl policy file: {problem}. Export the policy again with "
        "prunerl.structural.export.to_npz(model, path, example) (or `prunerl export`)"
    )


def read_meta(arrays: Mapping[str, np.ndarray], path: str) -> dict[str, Any]:
    """Parse and check the ``meta`` entry and every op's arrays and attributes."""
    if "meta" not in arrays:
        raise fail(path, "it has no 'meta' entry (is it a plain numpy archive?)")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise fail(path, f"its 'meta' entry is not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise fail(path, f"'meta' does not declare format {FORMAT!r}")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(
            f"{path} has policy format version {version!r}; this prunerl reads up to {VERSION}: "
            "upgrade prunerl or export with the version that reads it"
        )
    if meta.get("head") not in HEADS:
        raise fail(path, f"head {meta.get('head')!r} is not one of {HEADS}")
    ops = meta.get("ops")
    if not isinstance(ops, list) or not ops:
        raise fail(path, "it lists no ops")
    written = {0}
    for i, op in enumerate(ops):
        kind = op.get("op")
        if kind not in OPS:
            raise fail(path, f"op {i} has unknown kind {kind!r} (known: {sorted(OPS)})")
        params, attrs = OPS[kind]
        for name in params + OPTIONAL_PARAMS.get(kind, ()):
            key = op.get("params", {}).get(name)
            if key is None:
                if name in params:
                    raise fail(path, f"op {i} ({kind}) names no array for {name!r}")
                continue
            if key not in arrays and f"{key}.data" not in arrays:
                raise fail(path, f"op {i} ({kind}) needs array {key!r}, which is missing")
        for name in attrs:
            if name not in op.get("attrs", {}):
                raise fail(path, f"op {i} ({kind}) lacks attribute {name!r}")
        for r in op.get("in", []):
            if r not in written:
                raise fail(path, f"op {i} ({kind}) reads register {r} before it is written")
        if op.get("out") != i + 1:
            raise fail(path, f"op {i} ({kind}) must write register {i + 1}, not {op.get('out')}")
        written.add(i + 1)
    for r in meta.get("outputs", []):
        if r not in written:
            raise fail(path, f"output register {r} is never written")
    return meta


def index_dtype(columns: int) -> type[np.unsignedinteger[Any]]:
    """The smallest unsigned integer type that holds column indices below ``columns``."""
    if columns <= 1 << 8:
        return np.uint8
    return np.uint16 if columns <= 1 << 16 else np.uint32


def csr_bytes(dense: np.ndarray) -> int:
    """Bytes the CSR arrays of ``dense`` take (float32 values, smallest indices)."""
    nnz = int(np.count_nonzero(dense))
    width = np.dtype(index_dtype(dense.shape[1])).itemsize
    return nnz * (4 + width) + (dense.shape[0] + 1) * 4


def csr_arrays(name: str, dense: np.ndarray) -> dict[str, np.ndarray]:
    """CSR arrays (values, column indices, row pointers) of a 2-D array, stored under ``name``."""
    rows, cols = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
    return {
        f"{name}.data": dense[rows, cols].astype(dense.dtype),
        f"{name}.indices": cols.astype(index_dtype(dense.shape[1])),
        f"{name}.indptr": indptr,
        f"{name}.shape": np.asarray(dense.shape, dtype=np.int64),
    }
