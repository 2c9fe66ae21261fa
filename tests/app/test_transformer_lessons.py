"""The trained-transformer lessons state the engine's numbers, at each step's own URL.

Each step's page URL is read as /transformer's page.js reads it (s, layer, head, temp, k, step; the
page's defaults for what it omits), sent to the API the page calls, and every weight or probability
the step's narration or answer states is recomputed there, as the page prints it (3 decimals, trailing
zeros dropped). The held-out rates the lessons quote are measured again on the training's held-out set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from layerlab.app.lessons import Step, lessons
from layerlab.app.pages.transformer.schemas import TransformerRequest
from layerlab.engine import tinylm
from layerlab.engine.tinylm.corpus import VOCAB, batch, samples
from layerlab.engine.tinylm.model import forward
from layerlab.engine.tinylm.readout import next_token_probs
from layerlab.engine.tinylm.train import HELD_OUT_SEED, measure_heads

SENSE = {"money": 0, "river": 1}  # Sample.marks["sense"]


def shown(v: float) -> str:
    """A number as the page prints it (static/js/format.js fmt: 3 decimals, trailing zeros dropped)."""
    return f"{v:.3f}".rstrip("0").rstrip(".")


@dataclass
class View:
    """What a step's page shows: the tokens, the selected head's weights from the selected query, and
    the next-word probabilities over the whole vocabulary at the step's temperature and top-k."""

    step: Step
    tokens: list[str]
    query: int
    layer: int
    head: int
    weights: np.ndarray  # (T,) the selected head's row for the query
    probs: dict[str, float]  # word -> probability of being the next word after the query

    def weight(self, word: str) -> float:
        """The weight from the query to the first occurrence of `word`."""
        return self.weights[self.tokens.index(word)]

    def top(self) -> list[str]:
        return sorted(self.probs, key=self.probs.get, reverse=True)


def view(client, lesson_id: str, index: int) -> View:
    step = lessons()[lesson_id].steps[index]
    query = {k: v[0] for k, v in parse_qs(urlsplit(step.page).query).items()}
    d = TransformerRequest()  # the page's defaults (page_data.defaults)
    body = {
        "sentence": query.get("s", d.sentence),
        "layer": int(query.get("layer", d.layer)),
        "head": int(query.get("head", d.head)),
        "temperature": float(query.get("temp", d.temperature)),
        "top_k": int(query["k"]) if "k" in query else d.top_k,
    }
    res = client.post("/api/transformer/run", json=body).json()
    q = min(int(query["step"]), len(res["tokens"]) - 1)
    params, config = tinylm.load()
    logits = forward(params, config, np.array(res["ids"])).logits[0, q]
    p = next_token_probs(logits, body["temperature"], body["top_k"])
    listed = dict(zip(res["next"]["words"][q], res["next"]["probs"][q], strict=True))
    assert all(np.isclose(p[VOCAB.index(w)], v) for w, v in listed.items())  # the bars are these
    weights = np.array(res["attention"])[body["layer"], body["head"], q]
    return View(
        step, res["tokens"], q, body["layer"], body["head"], weights, dict(zip(VOCAB, p, strict=True))
    )


@cache
def held_out() -> tuple:
    """The training's held-out set (its seed, 600 sequences) and the heads' measured jobs on it."""
    items = samples(600, HELD_OUT_SEED)
    return items, measure_heads(*tinylm.load(), items)


def sense_rate(sense: str) -> float:
    """How often the sense head's largest weight from "bank" is on the sense word, in the held-out
    sentences of one sense."""
    items = [s for s in held_out()[0] if s.grammar == "sense" and s.marks["sense"] == SENSE[sense]]
    layer, head = tinylm.HEADS["sense"]
    tokens, _ = batch(items)
    w = forward(*tinylm.load(), tokens).weights[layer][:, head]  # (B, T, T)
    return float(
        np.mean(
            [
                w[i, s.marks["bank"], : s.marks["bank"] + 1].argmax() == s.marks["cue"]
                for i, s in enumerate(items)
            ]
        )
    )


def test_induction_lesson_states_the_engines_copy(client):
    first = view(client, "induction-head", 0)
    assert first.tokens[1] == first.tokens[first.query] == "tiger" and first.query == 5
    (word,) = first.top()[:1]
    assert word == first.tokens[2] == "apple"
    assert f"'apple', with {shown(first.probs[word])}" in first.step.predict.answer
    params, config = tinylm.load()
    ids = np.array([VOCAB.index(t) for t in first.tokens])
    guess = next_token_probs(forward(params, config, ids).logits[0, 1]).max()  # after the first 'tiger'
    assert f"only {shown(guess)}" in first.step.predict.answer

    prev = view(client, "induction-head", 1)
    assert (prev.layer, prev.head) == tinylm.HEADS["previous_token"]
    assert prev.weights.argmax() == prev.query - 1 and prev.tokens[prev.query - 1] == "tiger"
    assert f"{shown(prev.weights.max())}, goes to 'tiger'" in prev.step.narration

    ind = view(client, "induction-head", 2)
    assert (ind.layer, ind.head) == tinylm.HEADS["induction"] and ind.tokens[ind.query] == "tiger"
    assert ind.weights.argmax() == 2  # the word after the first 'tiger'
    assert f"'apple' (position 2), with {shown(ind.weights.max())}" in ind.step.predict.answer

    last = view(client, "induction-head", 3)
    after_first = last.tokens.index("zebra") + 1  # position 5
    assert last.tokens[last.query] == "zebra" and last.weights.argmax() == after_first
    said = f"gives {shown(last.weights.max())} to '{last.tokens[after_first]}' (position {after_first})"
    assert said in last.step.narration
    assert last.top()[0] == "tiger" and f"'tiger' with {shown(last.probs['tiger'])}" in last.step.narration
    _, jobs = held_out()
    assert f"{jobs['previous_token'][tinylm.HEADS['previous_token']]:.2f}" == "0.89" in prev.step.narration
    assert f"{jobs['induction'][tinylm.HEADS['induction']]:.2f}" == "0.97" in last.step.narration


def test_induction_heads_first_run_rests_mostly_on_bos(client):
    last = view(client, "induction-head", 3)
    params, config = tinylm.load()
    ids = np.array([VOCAB.index(t) for t in last.tokens])
    w = forward(params, config, ids).weights[last.layer][0, last.head]
    firsts = w[1:5].argmax(-1)  # the first run's queries
    assert np.sum(firsts == 0) > len(firsts) / 2 and "rests mostly on <bos>" in last.step.narration


def test_bank_lesson_states_the_sense_heads_weights_and_the_next_words(client):
    money = view(client, "bank-in-context", 0)
    assert (money.layer, money.head) == tinylm.HEADS["sense"] and money.tokens[money.query] == "bank"
    assert money.tokens[money.weights.argmax()] == "savings"
    answer = money.step.predict.answer
    assert f"'savings', with {shown(money.weights.max())}" in answer
    assert f"<bos> ({shown(money.weight('<bos>'))})" in answer
    assert money.tokens[np.argsort(money.weights)[-3]] == "the"  # "mostly to <bos> and 'the'"

    after = view(client, "bank-in-context", 1)
    assert after.top()[:3] == ["loan", "account", "manager"]
    for word in ("loan", "account", "manager"):
        assert f"'{word}' {shown(after.probs[word])}" in after.step.narration
    assert all(after.probs[w] < 0.001 for w in ("of", "under", "near"))

    river = view(client, "bank-in-context", 2)
    changed = [(a, b) for a, b in zip(money.tokens, river.tokens, strict=True) if a != b]
    assert changed == [("savings", "fish")]  # one word changed, every position the same
    assert river.top()[:3] == ["of", "under", "near"]
    for word in ("of", "under", "near"):
        assert f"'{word}' {shown(river.probs[word])}" in river.step.predict.answer
    assert all(river.probs[w] < 0.001 for w in ("loan", "account", "manager"))

    sense = view(client, "bank-in-context", 3)
    assert sense.tokens[sense.weights.argmax()] == "fish"
    assert f"'fish' {shown(sense.weight('fish'))}" in sense.step.narration


def test_bank_lesson_quotes_the_sense_heads_held_out_rates_and_its_miss():
    narration = lessons()["bank-in-context"].steps[3].narration
    assert f"{sense_rate('money'):.0%} of money sentences" in narration
    assert f"{sense_rate('river'):.0%} of river ones" in narration
    params, config = tinylm.load()
    words = ["<bos>", *"he paid the cash into the bank".split()]
    layer, head = tinylm.HEADS["sense"]
    w = forward(params, config, np.array([VOCAB.index(t) for t in words])).weights[layer][0, head, -1]
    assert words[w.argmax()] == "paid" and "it looks at 'paid'" in narration


@pytest.mark.parametrize("index", range(4))
def test_temperature_lesson_steps_show_the_same_query(client, index):
    v = view(client, "temperature", index)
    assert v.query == 0 and v.tokens[0] == "<bos>"
    assert v.step.page.split("&temp")[0] == lessons()["temperature"].steps[0].page.split("&temp")[0]


def test_temperature_lesson_states_the_top_word_at_each_temperature(client):
    t1, cold, hot, topk = (view(client, "temperature", i) for i in range(4))
    assert t1.top()[:2] == cold.top()[:2] == hot.top()[:2] == topk.top()[:2] == ["the", "then"]
    assert f"'the' {shown(t1.probs['the'])}, 'then' {shown(t1.probs['then'])}" in t1.step.narration
    pronouns = t1.top()[2:4]
    assert set(pronouns) <= {"i", "you", "she", "he", "we", "they"}
    assert all(abs(t1.probs[w] - 0.02) < 0.0015 for w in pronouns)  # "pronouns near 0.02"

    assert cold.probs["the"] > t1.probs["the"]
    assert cold.step.predict.answer.startswith(f"Up, to {shown(cold.probs['the'])}")
    assert f"'then' keeps {shown(cold.probs['then'])}" in cold.step.predict.answer

    assert hot.probs["the"] < t1.probs["the"]
    assert hot.step.predict.answer.startswith(f"Down, to {shown(hot.probs['the'])}")
    assert f"('then' {shown(hot.probs['then'])})" in hot.step.predict.answer

    kept = [w for w, p in topk.probs.items() if p > 0]
    assert kept == topk.top()[:3] and len(kept) == 3  # the others exactly 0
    answer = topk.step.predict.answer
    assert answer.startswith(f"{shown(topk.probs['the'])}: 'the', 'then' and '{kept[2]}'")
    assert f"({', '.join(shown(topk.probs[w]) for w in topk.top()[:3])})" in answer
    ratio = [hot.probs[w] / hot.probs["the"] for w in kept]  # the same ratios as without top-k
    assert np.allclose(ratio, [topk.probs[w] / topk.probs["the"] for w in kept])
