"""Cost accounting checked by hand: parameters, FLOPs (Linear, Conv2d) and CSR bytes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import prunerl
from prunerl.core.cost import csr_bytes

from .nets import mlp, nature_cnn


def test_mlp_costs_by_hand():
    model = mlp((4, 256, 256, 2))
    weights = 4 * 256 + 256 * 256 + 256 * 2
    params = weights + 256 + 256 + 2
    cost = prunerl.measure(model, torch.zeros(7, 4))  # FLOPs are per example, any batch
    assert cost.params_total == cost.params_nonzero == params
    assert cost.flops_dense == cost.flops_sparse == 2 * weights
    assert cost.bytes_dense == cost.bytes_sparse == 4 * params  # dense CSR would be larger

    pruner = prunerl.prune(model, sparsity=0.9)
    kept = [t.nonzero for t in pruner.targets]
    assert kept == [round(0.1 * n) for n in (1024, 65536, 512)]
    cost = prunerl.measure(model, torch.zeros(1, 4))
    assert cost.params_nonzero == sum(kept) + 256 + 256 + 2
    assert cost.flops_sparse == 2 * sum(kept)
    csr = [k * 8 + (rows + 1) * 4 for k, rows in zip(kept, (256, 256, 2), strict=True)]
    dense = [4 * n for n in (1024, 65536, 512)]
    assert cost.bytes_sparse == sum(min(c, d) for c, d in zip(csr, dense, strict=True)) + 4 * 514
    assert cost.sparsity == pytest.approx(1 - cost.params_nonzero / params)


def test_nature_cnn_costs_by_hand():
    model = nature_cnn(channels=4, actions=6)
    conv = [(32 * 4 * 8 * 8, 20 * 20), (64 * 32 * 4 * 4, 9 * 9), (64 * 64 * 3 * 3, 7 * 7)]
    linear = [3136 * 512, 512 * 6]
    biases = 32 + 64 + 64 + 512 + 6
    flops = 2 * (sum(w * positions for w, positions in conv) + sum(linear))
    cost = prunerl.measure(model, torch.zeros(2, 4, 84, 84))
    assert cost.params_total == sum(w for w, _ in conv) + sum(linear) + biases
    assert cost.flops_dense == cost.flops_sparse == flops
    unbatched = prunerl.measure(model[:6], torch.zeros(4, 84, 84))  # conv trunk, no batch dim
    assert unbatched.flops_dense == 2 * sum(w * positions for w, positions in conv)

    prunerl.prune(model, sparsity=0.75, exclude_first=True)
    cost = prunerl.measure(model, torch.zeros(1, 4, 84, 84))
    kept_conv = [conv[0][0], round(0.25 * conv[1][0]), round(0.25 * conv[2][0])]
    kept_linear = [round(0.25 * n) for n in linear]
    assert cost.flops_sparse == 2 * (
        sum(k * p for k, (_, p) in zip(kept_conv, conv, strict=True)) + sum(kept_linear)
    )
    assert cost.params_nonzero == sum(kept_conv) + sum(kept_linear) + biases


def test_csr_bytes_counts_values_indices_and_row_pointers():
    w = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    assert csr_bytes(w) == 3 * (4 + 4) + 3 * 4
    assert csr_bytes(w, value_bytes=2, index_bytes=2) == 3 * 4 + 3 * 2
    conv = nn.Conv2d(2, 3, 2, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 1.0
    cost = prunerl.measure(conv)
    assert cost.bytes_dense == 4 * 24
    assert cost.bytes_sparse == 1 * 8 + (3 + 1) * 4  # a conv weight is stored as 3 rows of 8
    assert cost.flops_dense == 0  # no example input: FLOPs are not measured
