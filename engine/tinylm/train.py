"""Train the tiny transformer on Layerlab's grammars and write engine/tinylm/weights.npz:
`python -m layerlab.engine.tinylm.train`.

Deterministic (seeded initialisation and sentences); Adam (Kingma & Ba, 2015, `engine/cnn/train.py`'s)
with a linear warmup then a cosine decay of the learning rate (as nanoGPT), fresh minibatches each step.
Prints the held-out next-token accuracy per grammar, and how strongly each head does the jobs the
lessons name (`measure_heads`); the held-out sentences come from another generator seed.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from layerlab.engine.cnn.train import Adam
from layerlab.engine.tinylm import CONFIG_FIELDS, WEIGHTS, corpus
from layerlab.engine.tinylm.corpus import MONEY_NEXT, RIVER_NEXT, VERBS, Sample, batch, encode, samples
from layerlab.engine.tinylm.model import Config, Params, forward, init_params, loss_and_grads

TRAIN_SEED, HELD_OUT_SEED, INIT_SEED = 2024, 7, 0
REPORT_EVERY = 500
# two in five training sequences are repeated runs: copying is learnt last and slowly, the other
# grammars in a few hundred steps
TRAIN_MIX = ("sense", "induction", "induction", "agreement", "alternation")


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warmup to peak over `warmup` steps, then a cosine decay to peak / 10 at `steps`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(
    config: Config,
    steps: int = 4000,
    batch_size: int = 64,
    lr: float = 3e-3,
    warmup: int = 200,
    seed: int = INIT_SEED,
    report: Callable[[int, Params], None] | None = None,
    mix: tuple[str, ...] = TRAIN_MIX,
) -> tuple[Params, list[float]]:
    """Trained parameters and the loss of each step, on fresh sentences from TRAIN_SEED's generator;
    report(step, params) is called every REPORT_EVERY steps."""
    params = init_params(config, seed)
    rng = np.random.default_rng(TRAIN_SEED)
    opt = Adam(lr=lr)
    losses = []
    for step in range(steps):
        tokens, targets = batch(samples(batch_size, rng, mix))
        loss, grads = loss_and_grads(params, config, tokens, targets)
        opt.lr = learning_rate(step, steps, lr, warmup)
        opt.step(params, grads)
        losses.append(loss)
        if report and (step + 1) % REPORT_EVERY == 0:
            report(step + 1, params)
    return params, losses


def accuracies(params: Params, config: Config, items: list[Sample]) -> dict[str, float]:
    """Held-out accuracies: every next token; per grammar the tokens only its pattern predicts.

    overall   : the top next token is the true one, over every position of every sequence;
    sense     : after "bank", the top next token is one of its sense's (account/loan/manager or
                of/near/under);
    induction : in the repeated half, the top next token is the copy (the run's first word excluded:
                nothing tells where the run ends);
    agreement : before the verb, the verbs of the subject's number are more probable together than
                the other number's.
    """
    tokens, targets = batch(items)
    logits = forward(params, config, tokens).logits
    top = logits.argmax(-1)
    known = targets >= 0
    scores: dict[str, list[bool]] = {"sense": [], "induction": [], "agreement": [], "alternation": []}
    next_ids = [encode(MONEY_NEXT), encode(RIVER_NEXT)]
    verb_ids = [encode(v[0] for v in VERBS), encode(v[1] for v in VERBS)]
    for row, s in enumerate(items):
        if s.grammar == "sense":
            scores["sense"].append(bool(np.isin(top[row, s.marks["bank"]], next_ids[s.marks["sense"]])))
        elif s.grammar == "induction":
            second = s.marks["start"] + s.marks["half"]
            span = slice(second, len(s.words) - 1)
            scores["induction"] += list(top[row, span] == targets[row, span])
        elif s.grammar == "alternation":
            span = slice(2, len(s.words) - 1)  # from the second word on
            scores["alternation"] += list(top[row, span] == targets[row, span])
        else:
            z = logits[row, s.marks["verb"] - 1]
            p = np.exp(z - z.max())
            number = s.marks["plural"]
            scores["agreement"].append(bool(p[verb_ids[number]].sum() > p[verb_ids[1 - number]].sum()))
    result = {"overall": float((top == targets)[known].mean())}
    result.update({name: float(np.mean(v)) for name, v in scores.items() if v})
    return result


def measure_heads(params: Params, config: Config, items: list[Sample]) -> dict[str, np.ndarray]:
    """(n_layers, n_heads) mean attention weights, per job, on held-out items.

    induction      : from the second occurrence of a word to the word after its first occurrence;
    previous_token : from every position p >= 1 to p - 1 (sequences of every grammar);
    sense          : from "bank" to its sense word (cash, river, ...);
    sense_top      : how often the sense word gets the largest weight from "bank".
    """
    tokens, _ = batch(items)
    weights = np.stack(forward(params, config, tokens).weights, axis=1)  # (B, L, H, T, T)
    jobs: dict[str, list[np.ndarray]] = {"induction": [], "previous_token": [], "sense": [], "sense_top": []}
    for row, s in enumerate(items):
        w = weights[row]  # (L, H, T, T)
        n = len(s.words)
        jobs["previous_token"].append(w[:, :, np.arange(1, n), np.arange(n - 1)].mean(-1))
        if s.grammar == "induction":
            half = s.marks["half"]
            queries = np.arange(s.marks["start"] + half, len(s.words))
            jobs["induction"].append(w[:, :, queries, queries - half + 1].mean(-1))
        elif s.grammar == "sense":
            bank, cue = s.marks["bank"], s.marks["cue"]
            jobs["sense"].append(w[:, :, bank, cue])
            jobs["sense_top"].append(w[:, :, bank, : bank + 1].argmax(-1) == cue)
    return {name: np.mean(v, axis=0) for name, v in jobs.items() if v}


def save(params: Params, config: Config, path: Path) -> None:
    """params as float32, the config's ints and the vocabulary (so a mismatch is caught on load)."""
    arrays: dict[str, np.ndarray] = {name: p.astype(np.float32) for name, p in params.items()}
    arrays.update({f"config.{f}": np.array(getattr(config, f)) for f in CONFIG_FIELDS})
    arrays["vocab"] = np.array(corpus.VOCAB)
    np.savez_compressed(path, **arrays)


def _line(found: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in found.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument(
        "--mix", nargs="+", default=TRAIN_MIX, help="grammars to draw from (repeat to weight)"
    )
    parser.add_argument("--d-model", type=int, default=48)
    parser.add_argument("--heads", type=int, default=3, help="attention heads per layer")
    parser.add_argument("--held-out", type=int, default=600, help="held-out sequences")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    config = Config(vocab_size=len(corpus.VOCAB), d_model=args.d_model, n_heads=args.heads)
    held_out = samples(args.held_out, HELD_OUT_SEED)

    def report(step: int, params: Params) -> None:
        induction = measure_heads(params, config, held_out)["induction"].max()
        found = accuracies(params, config, held_out)
        print(f"step {step}: {_line(found)}, strongest induction head {induction:.3f}", flush=True)

    start = time.perf_counter()
    params, losses = train(config, args.steps, args.batch, args.lr, report=report, mix=tuple(args.mix))
    print(f"training {time.perf_counter() - start:.1f} s, {args.steps} steps of {args.batch}")
    every = max(1, args.steps // 10)
    print("loss: " + ", ".join(f"{np.mean(losses[i : i + every]):.3f}" for i in range(0, args.steps, every)))
    print(f"held-out accuracy: {_line(accuracies(params, config, held_out))}")
    for job, table in measure_heads(params, config, held_out).items():
        print(f"{job} (layer x head): " + " | ".join(" ".join(f"{v:.3f}" for v in layer) for layer in table))
    save(params, config, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
