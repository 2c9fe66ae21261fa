"""The shipped tiny transformer: the heads HEADS names do their jobs on held-out sequences, the word
after "bank" follows its sense, and the held-out accuracies the README states hold."""

import numpy as np
import pytest

from layerlab.engine.tinylm import HEADS, WEIGHTS, load
from layerlab.engine.tinylm.corpus import MONEY_NEXT, RIVER_NEXT, VOCAB, encode, samples
from layerlab.engine.tinylm.model import forward
from layerlab.engine.tinylm.train import HELD_OUT_SEED, accuracies, measure_heads

PARAMS, CONFIG = load()
HELD_OUT = samples(300, HELD_OUT_SEED)


def _weights(words: str, job: str) -> np.ndarray:
    """(T, T) attention weights of the head HEADS[job] on one sentence (with <bos> first)."""
    layer, head = HEADS[job]
    return forward(PARAMS, CONFIG, encode("<bos> " + words)).weights[layer][0, head]


def _top_next(words: str) -> str:
    logits = forward(PARAMS, CONFIG, encode("<bos> " + words)).logits[0, -1]
    return VOCAB[int(logits.argmax())]


# The floor: the induction head gives the word after the first occurrence at least 0.5 of its
# attention on held-out repeated runs (the shipped weights measure 0.97), more than any other head.
def test_induction_head_attends_from_a_repeat_to_the_word_after_its_first_occurrence():
    items = samples(60, HELD_OUT_SEED + 1, ("induction",))
    weights = measure_heads(PARAMS, CONFIG, items)["induction"]
    assert weights[HEADS["induction"]] == weights.max() >= 0.5


def test_induction_head_sits_above_a_previous_token_head():
    """Olsson et al.'s circuit: the previous-token head is in an earlier layer than the induction head."""
    weights = measure_heads(PARAMS, CONFIG, HELD_OUT)["previous_token"]
    assert weights[HEADS["previous_token"]] == weights.max() >= 0.5
    assert HEADS["previous_token"][0] < HEADS["induction"][0]


def test_bank_attends_most_to_its_sense_word_through_the_sense_head():
    """ "bank" gives its sense word the largest weight of the sense head's row in most held-out sentences:
    measured 84% of money sentences (the carrying verb, "paid", "carried", takes the rest) and 100% of
    river sentences on the 600 held-out sequences; the floors leave room for a smaller sample."""
    items = samples(120, HELD_OUT_SEED + 2, ("sense",))
    layer, head = HEADS["sense"]
    for sense in (0, 1):
        some = [s for s in items if s.marks["sense"] == sense]
        assert len(some) >= 40
        hits = [
            forward(PARAMS, CONFIG, s.ids).weights[layer][0, head, s.marks["bank"]].argmax() == s.marks["cue"]
            for s in some
        ]
        assert np.mean(hits) >= (0.75, 0.95)[sense], (sense, np.mean(hits))


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        ("they brought the savings into the bank", "savings"),
        ("she took the old boat to the bank", "boat"),
        ("we sat on the river bank", "river"),
    ],
)
def test_lesson_sentences_bank_attends_most_to_the_sense_word(sentence, cue):
    words = ["<bos>", *sentence.split()]
    w = _weights(sentence, "sense")
    assert words[w[words.index("bank")].argmax()] == cue


def test_the_word_after_bank_follows_its_sense():
    assert _top_next("we sat on the river bank") in RIVER_NEXT
    assert _top_next("she took the fish to the bank") in RIVER_NEXT
    assert _top_next("i paid the cash into the bank") in MONEY_NEXT
    assert _top_next("he sat at the savings bank") in MONEY_NEXT


def test_held_out_accuracy_is_at_least_what_the_readme_states():
    got = accuracies(PARAMS, CONFIG, HELD_OUT)
    stated = {"overall": 0.52, "sense": 0.99, "induction": 0.99, "agreement": 0.99, "alternation": 0.99}
    assert all(got[k] >= v for k, v in stated.items()), got


def test_load_is_read_only_and_rejects_another_vocabulary(tmp_path):
    with pytest.raises(ValueError):
        PARAMS["head.weight"][0, 0] = 1.0
    with np.load(WEIGHTS) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["vocab"] = arrays["vocab"][::-1]
    np.savez(tmp_path / "w.npz", **arrays)
    with pytest.raises(ValueError, match="another vocabulary"):
        load(tmp_path / "w.npz")
