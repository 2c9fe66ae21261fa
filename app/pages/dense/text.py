"""The dense page's words in code: its worked examples and formulas, the numbers plugged in.

Every `*_formula` returns a MathML string; DEFINITIONS are rendered in the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from layerlab.app.mathml import tex
from layerlab.app.pages.dense.schemas import SEED001_SIZES, SINGLE, SOFT_TRIANGLE, TRIANGLE, UNION

DEFINITIONS = {
    "neuron": r"y_j = f\Big(\sum_{i=1}^{n} w_{ji}\, x_i + b_j\Big)",
    "layer": r"y = f(W x + b),\quad W \in \mathbb{R}^{m \times n},\ b \in \mathbb{R}^{m}",
    "line": r"w_{j1} x_1 + w_{j2} x_2 + b_j = 0",
    "two": r"y = f^{2}\big(W^{2} f^{1}(W^{1} x + b^{1}) + b^{2}\big)",
    "count": r"P = \sum_{l=1}^{L} \big(n_{l-1}\, n_l + n_l\big)",
    "torch": r"\text{F.linear}(x, W, b) = x W^{\top} + b",
    "loss": r"L = -\frac{1}{N}\sum_{k} \big(y_k \log p_k + (1 - y_k)\log(1 - p_k)\big)",
    "descent": r"w \leftarrow w - \eta\, \frac{\partial L}{\partial w}",
}
ACTIVATION_FORMULAS = {
    "identity": r"f(z) = z",
    "relu": r"f(z) = \max(0, z)",
    "step": r"f(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
    "sign": r"f(z) = \operatorname{sign}(z) \in \{-1, 0, 1\}",
    "sigmoid": r"f(z) = \frac{1}{1 + e^{-z}}",
    "tanh": r"f(z) = \tanh z",
}
ACTIVATION_WORDS = {
    "identity": "identity: the neuron's output is its plane, unchanged (a linear layer)",
    "relu": "ReLU rectifies: the plane is kept on the positive side of the line, flattened to 0 on the other",
    "step": "step folds hard: 1 on the positive side of the line, 0 on the other",
    "sign": "sign folds hard and bipolar: +1 on the positive side, −1 on the other",
    "sigmoid": "sigmoid folds softly into (0, 1): the larger |w|, the sharper the fold",
    "tanh": "tanh folds softly into (−1, 1): the larger |w|, the sharper the fold",
}
PRESETS = [
    {
        "id": "triangle",
        "label": "Seed 003: three lines AND-ed into a triangle",
        "note": "Three step neurons, each firing on its side of a line. The output neuron adds them and "
        "subtracts 2.5, so it fires only where all three fire: an AND. The region is the triangle the lines "
        "enclose; two layers give convex regions.",
        "state": {"layers": TRIANGLE},
    },
    {
        "id": "union",
        "label": "Seed 003: 7-2-1, a non-convex region",
        "note": "Seven lines; the second layer ANDs lines 1-3 into a triangle and lines 4-7 into a "
        "rectangle; the third layer ORs the two (their sum minus 0.5). The union of two convex regions "
        "is not convex: that needs the third layer.",
        "state": {"layers": UNION},
    },
    {
        "id": "soft",
        "label": "The triangle with sigmoid (soft folds)",
        "note": "The same lines with their weights tripled and sigmoid instead of step: every fold is soft, "
        "so the output is a smooth hill over the triangle instead of a sharp plateau.",
        "state": {"layers": SOFT_TRIANGLE},
    },
    {
        "id": "single",
        "label": "Seed 003: one neuron, 2x₂ − x₁ + 0",
        "note": "Seed 003's second example: one neuron whose plane is 2x₂ − x₁. ReLU keeps the half where it "
        "is positive and flattens the rest; switch the activation to see it folded instead.",
        "state": {"layers": SINGLE},
    },
]
COUNT_PRESETS = [
    {"id": key, "label": f"Seed 001: {key}", "sizes": sizes} for key, sizes in SEED001_SIZES.items()
]


def count_formula(sizes: Sequence[int], bias: bool, per_layer: Sequence[int], total: int) -> str:
    """The parameter count with the sizes plugged in, e.g. (3·4 + 4) + (4·2 + 2) = 16 + 10 = 26."""
    pairs = zip(sizes, sizes[1:], strict=False)
    terms = [rf"({a}\cdot {b}" + (rf" + {b})" if bias else ")") for a, b in pairs]
    sums = " + ".join(f"{n:,}".replace(",", r"{,}") for n in per_layer)
    middle = rf" = {sums}" if len(per_layer) > 1 else ""
    return str(tex(rf"P = {' + '.join(terms)}{middle} = {total:,}".replace(",", r"{,}")))


def activation_formulas(names: Sequence[str]) -> list[str]:
    """Each layer's activation as MathML."""
    return [str(tex(ACTIVATION_FORMULAS[name])) for name in names]


def linear_torch(input_shape: Sequence[int], out_features: int, bias: bool) -> str:
    """The PyTorch line that computes the same as /api/dense/linear."""
    shape = ", ".join(map(str, input_shape)) + ("," if len(input_shape) == 1 else "")
    out = ", ".join(map(str, (*input_shape[:-1], out_features))) + ("," if len(input_shape) == 1 else "")
    args = "x, weight, bias" if bias else "x, weight"
    return f"F.linear({args})  # x ({shape}), weight ({out_features}, {input_shape[-1]}) -> ({out})"
