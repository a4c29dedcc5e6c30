"""Weight pruning outside RL: an MLP on scikit-learn's 8x8 digits, dense vs pruned to 90%.

Trains the same network twice with the same seed and data order: once dense, once with gradual
magnitude pruning (Zhu & Gupta 2017) driven by :class:`prunerl.Pruner`, and prints both test
accuracies with the pruned model's size and FLOPs. The digits ship with scikit-learn (no download).

    .venv/bin/python examples/digits_gmp.py                 # magnitude (gmp), 90% sparsity
    .venv/bin/python examples/digits_gmp.py --criterion taylor   # prune by |w * gradient|
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import prunerl
from prunerl.core import Cost


@dataclass
class DigitsResult:
    """Test accuracy, the weights' sparsity and the cost of the trained network."""

    accuracy: float
    sparsity: float
    cost: Cost


def load(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Digits scaled to [0, 1], split 75/25 stratified by class."""
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x / 16.0, y, test_size=0.25, random_state=seed, stratify=y
    )
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return as_x(x_tr), torch.tensor(y_tr), as_x(x_te), torch.tensor(y_te)


def train_digits(
    sparsity: float | None = 0.9,
    criterion: str = "magnitude",
    epochs: int = 40,
    hidden: int = 256,
    batch_size: int = 32,
    seed: int = 0,
) -> DigitsResult:
    """Train a 64-hidden-hidden-10 MLP; prune gradually to ``sparsity`` (None: stay dense).

    Pruning runs from 10% to 60% of training, updating masks every epoch; the rest fine-tunes.
    """
    torch.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load(seed)
    model = nn.Sequential(
        nn.Linear(64, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = -(-len(x_tr) // batch_size)
    total = epochs * steps_per_epoch
    pruner = None
    if sparsity is not None:
        config = prunerl.PruningConfig(
            method="gmp",
            criterion=criterion,
            sparsity=sparsity,
            begin_step=total // 10,
            end_step=total * 6 // 10,
            update_every=steps_per_epoch,
        )
        pruner = prunerl.Pruner(model, config).attach_optimizer(optimizer)
    generator = torch.Generator().manual_seed(seed)
    step = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(x_tr), generator=generator).split(batch_size):
            loss = nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx])
            optimizer.zero_grad()
            loss.backward()
            if pruner is not None:
                pruner.observe_gradients()  # feeds gradient criteria (no-op for magnitude)
            optimizer.step()
            if pruner is not None:
                pruner.step(step)  # keeps pruned weights at 0; updates masks on schedule
            step += 1
    with torch.no_grad():
        accuracy = (model(x_te).argmax(1) == y_te).float().mean().item()
    return DigitsResult(
        accuracy=accuracy,
        sparsity=pruner.sparsity() if pruner is not None else 0.0,
        cost=prunerl.measure(model, x_te[:1]),
    )


def main() -> None:
    """Train dense and pruned with the same seed; print accuracies, sizes and FLOPs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--criterion", default="magnitude", help="magnitude | taylor | gradient")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dense = train_digits(None, epochs=args.epochs, seed=args.seed)
    pruned = train_digits(args.sparsity, args.criterion, epochs=args.epochs, seed=args.seed)
    for name, r in (("dense", dense), (f"gmp {args.criterion}", pruned)):
        print(
            f"{name:>16}: test accuracy {r.accuracy:.2%}  weight sparsity {r.sparsity:.1%}  "
            f"nonzero params {r.cost.params_nonzero}/{r.cost.params_total}  "
            f"FLOPs {r.cost.flops_sparse}/{r.cost.flops_dense}"
        )
    print(f"accuracy change: {100 * (pruned.accuracy - dense.accuracy):+.2f} points")


if __name__ == "__main__":
    main()
