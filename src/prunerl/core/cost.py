"""Cost accounting: parameters, FLOPs of a forward pass, and storage bytes, dense vs sparse."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class Cost:
    """Sizes and forward-pass cost of a model (FLOPs count a multiply-add as 2)."""

    params_total: int
    params_nonzero: int
    flops_dense: int
    flops_sparse: int
    bytes_dense: int
    bytes_sparse: int

    @property
    def sparsity(self) -> float:
        return 1.0 - self.params_nonzero / max(self.params_total, 1)

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "sparsity": self.sparsity}


def count_params(model: nn.Module) -> tuple[int, int]:
    """(total, nonzero) over all parameters."""
    total = sum(p.numel() for p in model.parameters())
    nonzero = sum(int(torch.count_nonzero(p.detach())) for p in model.parameters())
    return total, nonzero


def csr_bytes(weight: torch.Tensor, value_bytes: int = 4, index_bytes: int = 4) -> int:
    """Bytes of a 2-D view of ``weight`` in CSR: values + column indices + row pointers."""
    rows = weight.shape[0]
    nnz = int(torch.count_nonzero(weight))
    return nnz * (value_bytes + index_bytes) + (rows + 1) * index_bytes


def storage_bytes(model: nn.Module) -> tuple[int, int]:
    """(dense, sparse) bytes: sparse stores each ≥2-D tensor in CSR when that is smaller."""
    dense = sparse = 0
    for p in model.parameters():
        size = p.numel() * p.element_size()
        dense += size
        if p.dim() >= 2:
            sparse += min(size, csr_bytes(p.detach().reshape(p.shape[0], -1), p.element_size()))
        else:
            sparse += size
    return dense, sparse


@torch.no_grad()
def forward_flops(model: nn.Module, example: torch.Tensor) -> tuple[int, int]:
    """(dense, sparse) FLOPs of one forward pass on ``example`` (per batch element).

    Counts Linear and Conv layers (the dominant cost) through forward hooks; sparse FLOPs count
    only nonzero weights. Activations, norms and poolings are ignored.
    """
    counts = [0, 0]

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        w = module.weight
        assert isinstance(w, torch.Tensor)
        nnz = int(torch.count_nonzero(w))
        if isinstance(module, nn.Linear):
            batch = output.shape[0] if output.dim() > 1 else 1
            per_item = output.numel() // (output.shape[-1] * batch)
        else:  # conv: every weight is used once per output position (batched or not)
            per_item = math.prod(output.shape[-(w.dim() - 2) :])
        counts[0] += 2 * w.numel() * per_item
        counts[1] += 2 * nnz * per_item

    handles = [
        m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, *_CONV))
    ]
    try:
        model(example)
    finally:
        for h in handles:
            h.remove()
    return counts[0], counts[1]


def measure(model: nn.Module, example: torch.Tensor | None = None) -> Cost:
    """Parameters, FLOPs (if an example input is given) and bytes of ``model``."""
    total, nonzero = count_params(model)
    flops_dense = flops_sparse = 0
    if example is not None:
        flops_dense, flops_sparse = forward_flops(model, example)
    bytes_dense, bytes_sparse = storage_bytes(model)
    return Cost(total, nonzero, flops_dense, flops_sparse, bytes_dense, bytes_sparse)
