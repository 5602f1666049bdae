"""How much does ``course_utils.train.fit`` cost over a plain hand-written PyTorch loop?

Both loops train the same CNN on the same Animal-MNIST batches for the same epochs, each
with a validation pass per epoch and the usual loss/accuracy bookkeeping. They alternate
for several rounds; the best time of each is compared (the least disturbed by the rest of
the machine). Prints the ratio fit / plain, which must be at most 1.05.

    python benchmarks/loop_overhead.py [--rounds 5] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from course_utils.data import load_tensors, make_loader
from course_utils.settings import get_device, seed_everything
from course_utils.train import fit

MAX_RATIO = 1.05


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 1, 28, 28) -> (N, 16, 14, 14)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> (N, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def plain_loop(model, train_loader, val_loader, epochs, device) -> None:
    """The loop a learner writes by hand (notebook 04): the baseline."""
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        running_loss, correct, seen = 0.0, 0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        model.eval()
        val_loss, val_correct, val_seen = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                val_loss += criterion(logits, y).item() * len(y)
                val_correct += (logits.argmax(1) == y).sum().item()
                val_seen += len(y)


def main() -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    device = get_device()
    train = make_loader(load_tensors("animals", "train"), batch_size=128, shuffle=True)
    val = make_loader(load_tensors("animals", "val"), batch_size=512)

    def timed(run) -> float:
        seed_everything(0)
        model = make_model()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run(model)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    timed(lambda m: plain_loop(m, train, val, 1, device))  # warm-up (allocator, kernels)
    plain, ours = [], []
    for r in range(args.rounds):
        plain.append(timed(lambda m: plain_loop(m, train, val, args.epochs, device)))
        ours.append(timed(lambda m: fit(m, train, val, epochs=args.epochs, device=device,
                                        progress=True, verbose=False)))
        print(f"round {r + 1}: plain {plain[-1]:.2f}s  fit {ours[-1]:.2f}s")
    ratio = min(ours) / min(plain)
    print(f"device {device}, {args.epochs} epochs x {len(train)} batches, best of {args.rounds}: "
          f"plain {min(plain):.2f}s, fit {min(ours):.2f}s")
    print(f"overhead ratio fit / plain = {ratio:.3f} (must be <= {MAX_RATIO})")
    return ratio


if __name__ == "__main__":
    raise SystemExit(0 if main() <= MAX_RATIO else 1)
