"""The tiny transformer's vocabulary and the small grammars Layerlab trains it on.

Four grammars, each made so that a head can learn a pattern a class can see and name:

- **sense** ("bank" among money words or river words): "i paid the cash into the bank account",
  "we sat on the river bank near the water". The word after "bank" depends on its sense (money:
  account, loan, manager; river: of, near, under), and the only clue is a sense word earlier in the
  sentence, at a varying distance, so attending from "bank" to it pays off.
- **induction** (a run of random words repeated, after a prefix of other random words):
  "<bos> x y a b c d a b c d". The repeat is predictable only by copying: find the earlier occurrence
  of the current word and predict the word after it (Olsson et al., 2022, "In-context learning and
  induction heads"): a previous-token head in layer 0 and an induction head in layer 1.
- **agreement** (a subject's number decides its verb's form after a distractor phrase): "the dog near
  the trees runs", "the dogs near the tree run".
- **alternation** (two random words taking turns): "<bos> kite lemon kite lemon ...", from every
  position the next word is the one before the current one.

Every sequence starts with "<bos>" and has at most MAX_LEN tokens. The generators are seeded: the
training script and the held-out checks draw from different seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

MAX_LEN = 24  # the model's context (Config.max_len)
PAD, BOS = 0, 1  # ids of "<pad>" (never trained on) and "<bos>" (every sequence's first token)

# ---- word lists (each word once in VOCAB; the lists may share words) ----
FUNCTION = ("the", "a", "of", "and", "to", "into", "in", "on", "at", "by", "near", "under", "with")
FUNCTION += ("behind", "past", "for", "from", "then", "today", "every", "day", "back")
PRONOUNS = ("i", "you", "she", "he", "we", "they")
PEOPLE = ("man", "woman", "friend", "farmer", "clerk", "teller")
MONEY_WORDS = ("cash", "money", "coins", "cheque", "wages", "savings", "gold", "salary")
RIVER_WORDS = ("river", "water", "fish", "boat", "ducks", "stream", "reeds", "frogs")
# the first word after "bank" in each sense (money_next / river_next)
MONEY_NEXT = ("account", "loan", "manager")
RIVER_NEXT = ("of", "near", "under")
RIVER_ENDS = ("water", "trees", "bridge", "reeds")  # "... bank near the bridge"
CARRY_VERBS = ("paid", "took", "carried", "brought", "put", "moved", "sent", "threw")
SIT_VERBS = ("sat", "waited", "stood", "rested", "walked")
ADJECTIVES = ("old", "big", "small", "heavy", "new", "wet", "green", "red")
# agreement: (singular, plural) nouns and verbs
SUBJECTS = (
    ("dog", "dogs"),
    ("cat", "cats"),
    ("bird", "birds"),
    ("boy", "boys"),
    ("girl", "girls"),
    ("horse", "horses"),
    ("teacher", "teachers"),
    ("farmer", "farmers"),
)
DISTRACTORS = (
    ("tree", "trees"),
    ("house", "houses"),
    ("car", "cars"),
    ("hill", "hills"),
    ("lake", "lakes"),
    ("wall", "walls"),
)
VERBS = (
    ("runs", "run"),
    ("sleeps", "sleep"),
    ("sings", "sing"),
    ("jumps", "jump"),
    ("eats", "eat"),
    ("walks", "walk"),
    ("swims", "swim"),
    ("waits", "wait"),
)
PLACES = ("park", "garden", "field", "city", "town", "forest", "home", "school")
# induction: random runs drawn from these (words the other grammars seldom use, so copying is the
# only way to predict them)
CONTENT = (
    "apple", "bread", "cloud", "dream", "eagle", "flame", "ghost", "honey", "island", "jelly",
    "kite", "lemon", "mango", "night", "ocean", "piano", "queen", "robot", "snake", "tiger",
    "uncle", "violin", "whale", "yacht", "zebra", "anchor", "butter", "candle", "dragon", "engine",
    "feather", "guitar", "hammer", "igloo", "jacket", "kettle", "ladder", "magnet", "needle", "orange",
    "pepper", "rabbit", "saddle", "tomato", "turtle", "button", "wizard", "castle", "rocket", "pencil",
    "window", "carpet", "mirror", "planet", "pillow", "spider", "bottle", "cookie", "garlic", "helmet",
    "insect", "jungle", "kitten", "lizard", "marble", "noodle", "oyster", "parrot", "quilt", "ribbon",
    "silver", "tunnel", "violet", "walnut", "yogurt", "acorn", "banjo", "cactus", "donkey", "falcon",
    "goblin", "hippo", "iris", "jaguar", "koala", "llama", "moose", "nectar", "otter", "panda",
    "raven", "salmon", "tulip", "unicorn", "vulture", "wombat", "yak", "zipper", "comet", "desert",
)  # fmt: skip


def _unique(*groups: Iterable[str]) -> tuple[str, ...]:
    """The words of groups in first-seen order, each once."""
    return tuple(dict.fromkeys(word for group in groups for word in group))


VOCAB: tuple[str, ...] = _unique(
    ("<pad>", "<bos>", "bank"),
    FUNCTION,
    PRONOUNS,
    PEOPLE,
    MONEY_WORDS,
    RIVER_WORDS,
    MONEY_NEXT,
    RIVER_NEXT,
    RIVER_ENDS,
    CARRY_VERBS,
    SIT_VERBS,
    ADJECTIVES,
    (word for pair in SUBJECTS + DISTRACTORS + VERBS for word in pair),
    PLACES,
    CONTENT,
)
INDEX: dict[str, int] = {word: i for i, word in enumerate(VOCAB)}


def encode(text: str | Iterable[str]) -> np.ndarray:
    """The (T,) int ids of a lowercase sentence (words separated by spaces) or a list of words.

    "<bos>" is not added. Raises ValueError naming the words not in VOCAB.
    """
    words = text.lower().split() if isinstance(text, str) else list(text)
    unknown = [w for w in dict.fromkeys(words) if w not in INDEX]
    if unknown:
        raise ValueError(f"not in the vocabulary: {', '.join(repr(w) for w in unknown)}")
    return np.array([INDEX[w] for w in words], dtype=np.int64)


def decode(ids: Iterable[int]) -> list[str]:
    """The words of ids (ints in [0, len(VOCAB)))."""
    return [VOCAB[int(i)] for i in ids]


@dataclass(frozen=True)
class Sample:
    """One generated sequence and the positions its grammar makes predictable."""

    grammar: str  # "sense", "induction" or "agreement"
    words: tuple[str, ...]  # starting with "<bos>", at most MAX_LEN
    # sense: "bank" (its position), "cue" (the sense word's position), "sense" (0 money, 1 river);
    # induction: "start" (the run's first position a), "half" (its length L: words[a:a+L] ==
    # words[a+L:a+2L], the sequence's end);
    # agreement: "subject", "verb" (positions), "plural" (0 or 1)
    marks: dict[str, int] = field(default_factory=dict)

    @property
    def ids(self) -> np.ndarray:
        return encode(self.words)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _sense_sample(rng: np.random.Generator) -> Sample:
    sense = int(rng.integers(2))  # 0 money, 1 river
    cues, nexts = (MONEY_WORDS, MONEY_NEXT) if sense == 0 else (RIVER_WORDS, RIVER_NEXT)
    subject = ["the", _pick(rng, PEOPLE)] if rng.random() < 0.3 else [_pick(rng, PRONOUNS)]
    opening = ["then"] if rng.random() < 0.2 else []
    if rng.random() < 0.5:
        # "i paid the [old] cash into the bank ..."
        adjective = [_pick(rng, ADJECTIVES)] if rng.random() < 0.4 else []
        middle = [_pick(rng, CARRY_VERBS), "the", *adjective]
        cue_at = len(opening) + len(subject) + len(middle)
        middle += [_pick(rng, cues)]
        middle += ["with", "the", _pick(rng, ADJECTIVES), _pick(rng, PEOPLE)] if rng.random() < 0.2 else []
        middle += [_pick(rng, ("into", "to")), "the"]
    else:
        # "we sat on the river bank ...": the cue right before "bank", or the money-word compound
        middle = [_pick(rng, SIT_VERBS), _pick(rng, ("on", "at", "by", "near")), "the"]
        cue_at = len(opening) + len(subject) + len(middle)
        middle += [_pick(rng, ("savings", "money", "cash") if sense == 0 else ("river", "stream"))]
    words = ["<bos>", *opening, *subject, *middle]
    bank = len(words)
    words.append("bank")
    after = _pick(rng, nexts)
    if sense == 0:
        tail = [after] + (["today"] if rng.random() < 0.5 else [])
    elif after == "of":
        tail = [after, "the", _pick(rng, ("river", "stream"))]
    else:
        tail = [after, "the", _pick(rng, RIVER_ENDS)]
    return Sample("sense", tuple(words + tail), {"bank": bank, "cue": cue_at + 1, "sense": sense})


def _induction_sample(rng: np.random.Generator) -> Sample:
    # a prefix of unrelated words of random length, so a run's position does not give its length away
    # (else a layer-0 head learns to look a fixed distance back instead of copying)
    half = int(rng.integers(3, (MAX_LEN - 1) // 2 + 1))  # 3..11
    lead = int(rng.integers(0, MAX_LEN - 1 - 2 * half + 1))
    words = [CONTENT[int(i)] for i in rng.choice(len(CONTENT), size=lead + half, replace=False)]
    prefix, run = words[:lead], words[lead:]
    return Sample("induction", ("<bos>", *prefix, *run, *run), {"start": 1 + lead, "half": half})


def _alternation_sample(rng: np.random.Generator) -> Sample:
    # meant to reward looking one word back from every position (the first half of an induction
    # circuit) without needing layer 1
    first, second = (CONTENT[int(i)] for i in rng.choice(len(CONTENT), size=2, replace=False))
    return Sample("alternation", ("<bos>", *[first, second] * int(rng.integers(2, (MAX_LEN - 1) // 2 + 1))))


def _agreement_sample(rng: np.random.Generator) -> Sample:
    plural = int(rng.integers(2))
    words = ["<bos>", "the"]
    subject = len(words)
    words.append(_pick(rng, SUBJECTS)[plural])
    for _ in range(int(rng.integers(1, 3))):  # one or two distractor phrases, their number random
        noun = _pick(rng, DISTRACTORS)[int(rng.integers(2))]
        words += [_pick(rng, ("near", "by", "behind", "under")), "the", noun]
    verb = len(words)
    words.append(_pick(rng, VERBS)[plural])
    if rng.random() < 0.5:
        words += [_pick(rng, ("in", "near", "at")), "the", _pick(rng, PLACES)]
    return Sample("agreement", tuple(words), {"subject": subject, "verb": verb, "plural": plural})


GRAMMARS: dict[str, Callable[[np.random.Generator], Sample]] = {
    "sense": _sense_sample,
    "induction": _induction_sample,
    "agreement": _agreement_sample,
    "alternation": _alternation_sample,
}


def samples(
    n: int, seed: int | np.random.Generator, grammars: Iterable[str] = tuple(GRAMMARS)
) -> list[Sample]:
    """n samples, the grammar of each drawn uniformly from grammars; the same seed, the same list
    (a Generator is drawn from and advanced)."""
    names = tuple(grammars)
    rng = np.random.default_rng(seed)
    return [GRAMMARS[names[int(rng.integers(len(names)))]](rng) for _ in range(n)]


def batch(items: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    """tokens (B, T) padded with PAD and targets (B, T): the next token, -1 where there is none."""
    width = max(len(s.words) for s in items)
    tokens = np.full((len(items), width), PAD, dtype=np.int64)
    targets = np.full((len(items), width), -1, dtype=np.int64)
    for row, sample in enumerate(items):
        ids = sample.ids
        tokens[row, : len(ids)] = ids
        targets[row, : len(ids) - 1] = ids[1:]
    return tokens, targets
