"""The tiny transformer's vocabulary and grammars: every sample says what its marks claim."""

import numpy as np
import pytest

from layerlab.engine.tinylm import corpus
from layerlab.engine.tinylm.corpus import (
    MAX_LEN,
    MONEY_NEXT,
    MONEY_WORDS,
    RIVER_NEXT,
    RIVER_WORDS,
    SUBJECTS,
    VERBS,
    VOCAB,
    batch,
    decode,
    encode,
    samples,
)

SAMPLES = samples(300, seed=3)


def test_vocab_has_pad_and_bos_first_and_each_word_once():
    assert VOCAB[:2] == ("<pad>", "<bos>")
    assert len(set(VOCAB)) == len(VOCAB)
    assert 150 <= len(VOCAB) <= 400
    assert all(w == w.lower() and " " not in w for w in VOCAB)


def test_encode_and_decode_are_inverse_and_unknown_words_are_named():
    words = "we sat on the river bank"
    assert decode(encode(words)) == words.split()
    assert encode(words.split()).tolist() == encode(words).tolist()
    with pytest.raises(ValueError, match="'zorp'.*'blick'"):
        encode("the zorp and the blick")


def test_samples_are_seeded_start_with_bos_and_fit_the_context():
    assert [s.words for s in samples(20, seed=3)] == [s.words for s in SAMPLES[:20]]
    assert [s.words for s in samples(20, seed=4)] != [s.words for s in SAMPLES[:20]]
    assert {s.grammar for s in SAMPLES} == {"sense", "induction", "agreement", "alternation"}
    for s in SAMPLES:
        assert s.words[0] == "<bos>" and "<bos>" not in s.words[1:]
        assert len(s.words) <= MAX_LEN


def test_sense_samples_put_a_sense_word_before_bank_and_a_sense_word_after_it():
    for s in (s for s in SAMPLES if s.grammar == "sense"):
        bank, cue, sense = s.marks["bank"], s.marks["cue"], s.marks["sense"]
        assert s.words[bank] == "bank" and cue < bank
        assert s.words[cue] in (MONEY_WORDS, RIVER_WORDS)[sense]
        assert s.words[bank + 1] in (MONEY_NEXT, RIVER_NEXT)[sense]
        other = (MONEY_WORDS, RIVER_WORDS)[1 - sense]
        assert not any(w in other for w in s.words[:bank])


def test_induction_samples_repeat_a_run_of_distinct_words():
    for s in (s for s in SAMPLES if s.grammar == "induction"):
        start, half = s.marks["start"], s.marks["half"]
        run = s.words[start : start + half]
        assert len(s.words) == start + 2 * half and s.words[start + half :] == run
        assert len(set(s.words[: start + half])) == start + half  # no word twice before the repeat


def test_agreement_samples_verb_agrees_with_subject_not_with_the_distractor():
    singular = {pair[0] for pair in SUBJECTS + VERBS}
    plural = {pair[1] for pair in SUBJECTS + VERBS}
    seen_disagreeing_distractor = False
    for s in (s for s in SAMPLES if s.grammar == "agreement"):
        subject, verb = s.words[s.marks["subject"]], s.words[s.marks["verb"]]
        assert {subject, verb} <= (plural if s.marks["plural"] else singular)
        distractor = s.words[s.marks["verb"] - 1]
        seen_disagreeing_distractor |= distractor.endswith("s") != bool(s.marks["plural"])
    assert seen_disagreeing_distractor


def test_alternation_samples_take_turns_between_two_words():
    for s in (s for s in SAMPLES if s.grammar == "alternation"):
        assert len(set(s.words[1:])) == 2 and len(s.words) % 2 == 1
        assert s.words[1:-2] == s.words[3:]


def test_batch_pads_and_ignores_positions_without_a_next_token():
    items = SAMPLES[:8]
    tokens, targets = batch(items)
    for row, s in enumerate(items):
        n = len(s.words)
        assert decode(tokens[row, :n]) == list(s.words)
        assert np.all(tokens[row, n:] == corpus.PAD)
        assert np.array_equal(targets[row, : n - 1], tokens[row, 1:n])
        assert np.all(targets[row, n - 1 :] == -1)
