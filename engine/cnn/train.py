"""Train the small CNN on generated digits and write engine/cnn/weights.npz:
`python -m layerlab.engine.cnn.train`.

Deterministic (seeded data, initialisation and shuffling); Adam (Kingma & Ba, 2015) written out here,
minibatches of 64, the learning rate halved each epoch. Prints the training and held-out accuracy; the
held-out digits come from another generator seed.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from layerlab.engine.cnn.data import make_dataset
from layerlab.engine.cnn.model import WEIGHTS, Params, forward, gradients, init_params, predict

TRAIN_SEED, HELD_OUT_SEED, INIT_SEED = 2024, 7, 0


@dataclass
class Adam:
    """Adam: per-parameter steps from running means of the gradient (m) and its square (v)."""

    lr: float = 3e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)

    def step(self, params: Params, grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for name, p in params.items():
            g = grads[name]
            self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def train(
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    batch: int = 64,
    seed: int = INIT_SEED,
    lr: float = 3e-3,
) -> tuple[Params, list[float]]:
    """Trained parameters and the mean loss of each epoch."""
    params = init_params(seed)
    rng = np.random.default_rng(seed)
    opt = Adam(lr=lr)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(images))
        total = 0.0
        for i in range(0, len(images), batch):
            pick = order[i : i + batch]
            loss, grads = gradients(forward(images[pick], params), labels[pick], params)
            opt.step(params, grads)
            total += loss * len(pick)
        losses.append(total / len(images))
        opt.lr /= 2
    return params, losses


def accuracy(images: np.ndarray, labels: np.ndarray, params: Params) -> float:
    return float((predict(images, params) == labels).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=12000, help="training digits")
    parser.add_argument("--held-out", type=int, default=2000, help="held-out digits")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    images, labels = make_dataset(args.train, TRAIN_SEED)
    held_images, held_labels = make_dataset(args.held_out, HELD_OUT_SEED)
    made = time.perf_counter()
    params, losses = train(images, labels, args.epochs)
    trained = time.perf_counter()
    print(f"data {made - start:.1f} s, training {trained - made:.1f} s")
    print("loss per epoch: " + ", ".join(f"{v:.4f}" for v in losses))
    print(f"train accuracy {accuracy(images, labels, params):.4f}")
    print(f"held-out accuracy {accuracy(held_images, held_labels, params):.4f} ({args.held_out} digits)")
    np.savez_compressed(args.out, **{name: p.astype(np.float32) for name, p in params.items()})
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
