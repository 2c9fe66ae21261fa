"""A small vocabulary with hand-made embeddings whose dimensions mean something.

Each of the D = 8 dimensions is a named feature (FEATURES), so a vector can be read off:
"finance" (money, banks, accounts), "nature" (the outdoors), "water" (rivers, swimming),
"animal", "action" (verbs), "place" (somewhere you can be), "person" (people, pronouns) and
"function" (the, of, on: words that carry grammar rather than meaning). "bank" has both a
finance and a riverside (nature, water) side, so attention to its neighbours decides which
one its contextual vector leans to: seed 004's "river bank" against "bank account".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import numpy as np

FEATURES = ("finance", "nature", "water", "animal", "action", "place", "person", "function")
DIM = len(FEATURES)

# word -> {feature: value}; features left out are 0. Values are judgement calls, kept in [0, 1].
_TABLE: dict[str, dict[str, float]] = {
    # function words
    "the": {"function": 1.0},
    "a": {"function": 1.0},
    "an": {"function": 1.0},
    "of": {"function": 1.0, "person": 0.1},
    "and": {"function": 1.0, "action": 0.1},
    "is": {"function": 0.9, "action": 0.3},
    "my": {"function": 0.8, "person": 0.5},
    "on": {"function": 0.9, "place": 0.3},
    "in": {"function": 0.9, "place": 0.3},
    "at": {"function": 0.9, "place": 0.4},
    "to": {"function": 0.9, "place": 0.2, "action": 0.1},
    "by": {"function": 0.9, "place": 0.2},
    "from": {"function": 0.9, "place": 0.2},
    # people
    "i": {"person": 1.0, "function": 0.4},
    "you": {"person": 1.0, "function": 0.4},
    "she": {"person": 1.0, "function": 0.4},
    "he": {"person": 1.0, "function": 0.4},
    "we": {"person": 1.0, "function": 0.4},
    "they": {"person": 1.0, "function": 0.4},
    "teacher": {"person": 1.0, "action": 0.1},
    "clerk": {"person": 0.9, "finance": 0.5},
    # the ambiguous word, halfway between its two senses (see SENSES)
    "bank": {"finance": 0.7, "nature": 0.5, "water": 0.5, "place": 0.9},
    # finance
    "account": {"finance": 1.0},
    "money": {"finance": 1.0},
    "cash": {"finance": 0.9, "place": 0.1},
    "loan": {"finance": 1.0, "action": 0.2},
    # nature and water
    "river": {"nature": 0.9, "water": 1.0, "place": 0.6},
    "water": {"nature": 0.6, "water": 1.0},
    "shore": {"nature": 0.7, "water": 0.7, "place": 0.8},
    "boat": {"water": 0.9, "place": 0.4},
    "tree": {"nature": 1.0, "place": 0.3},
    "park": {"nature": 0.7, "place": 0.9},
    # places
    "city": {"place": 1.0, "person": 0.2},
    "home": {"place": 1.0, "person": 0.3},
    # animals
    "fish": {"animal": 1.0, "water": 0.8, "nature": 0.6},
    "cat": {"animal": 1.0, "nature": 0.2},
    "dog": {"animal": 1.0, "nature": 0.2},
    "bird": {"animal": 1.0, "nature": 0.5},
    # verbs
    "sat": {"action": 0.8, "place": 0.3},
    "swam": {"action": 1.0, "water": 0.7},
    "ran": {"action": 1.0},
    "walked": {"action": 0.9, "place": 0.2},
    "opened": {"action": 0.9, "finance": 0.2},
    "paid": {"action": 0.7, "finance": 0.8},
    "flows": {"action": 0.6, "water": 0.8, "nature": 0.4},
}


def _vector(features: Mapping[str, float]) -> np.ndarray:
    """A read-only (D,) vector from {feature: value}."""
    v = np.array([features.get(name, 0.0) for name in FEATURES])
    v.flags.writeable = False
    return v


VOCAB: dict[str, np.ndarray] = {word: _vector(features) for word, features in _TABLE.items()}

# reference points for an ambiguous word's contextual vector: which sense does it lean to?
SENSES: dict[str, dict[str, np.ndarray]] = {
    "bank": {
        "river": _vector({"nature": 0.8, "water": 0.8, "place": 0.9}),
        "finance": _vector({"finance": 1.0, "place": 0.9}),
    }
}

PRESETS: dict[str, str] = {
    "river bank": "river bank",
    "bank account": "bank account",
    "by the river": "we sat on the river bank",
    "at the bank": "she opened a bank account",
    "fish": "the fish swam to the shore",
    "pets": "the dog ran to the cat",
}

UNKNOWN_STD = 0.35  # spread of an unknown word's vector: about the size of a hand-made one


def tokenize(text: str) -> list[str]:
    """Lowercase words: runs of letters and digits; spaces and punctuation only separate."""
    return re.findall(r"[^\W_]+", text.lower())


def unknown_vector(word: str) -> np.ndarray:
    """A (D,) vector for a word not in VOCAB, the same in every process (for a given NumPy).

    Seeded by the first 8 bytes of SHA-256 of the word (Python's hash() changes per process),
    entries drawn from N(0, UNKNOWN_STD²): meaningless, but deterministic.
    """
    seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng(seed).normal(0.0, UNKNOWN_STD, DIM)


def embed(
    tokens: Sequence[str], overrides: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray, list[str]]:
    """The (L, D) embeddings of tokens, and the tokens that were unknown (first-seen order, once each).

    overrides : word -> (D,) vector, taking precedence over VOCAB (an edited embedding, or a new
        word); unknown words get `unknown_vector`.
    """
    overrides = dict(overrides or {})
    for word, vector in overrides.items():
        if np.shape(vector) != (DIM,):
            raise ValueError(f"embedding of {word!r} must have shape ({DIM},), got {np.shape(vector)}")
    rows, unknown = [], []
    for token in tokens:
        if token in overrides:
            rows.append(np.asarray(overrides[token], dtype=np.float64))
        elif token in VOCAB:
            rows.append(VOCAB[token])
        else:
            rows.append(unknown_vector(token))
            if token not in unknown:
                unknown.append(token)
    return (np.array(rows) if rows else np.zeros((0, DIM))), unknown


def projections(
    d_model: int = DIM, d_k: int = DIM, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random W_Q, W_K, W_V, each of shape (d_k, d_model) as torch's Linear weights: Q = X·W_Qᵀ.

    Entries are N(0, 1/d_model), so a projection keeps the scale of its input; the same seed
    gives the same matrices. With d_k = d_model, np.concatenate([W_Q, W_K, W_V]) is an
    nn.MultiheadAttention in_proj_weight.
    """
    for name, size in (("d_model", d_model), ("d_k", d_k)):
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name} must be a positive int, got {size!r}")
    rng = np.random.default_rng(seed)
    w_q, w_k, w_v = rng.normal(0.0, 1.0 / np.sqrt(d_model), (3, d_k, d_model))
    return w_q, w_k, w_v
