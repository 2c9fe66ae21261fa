"""The small-CNN page's words in code: fixed formulas, the PyTorch model, link notes, and formulas
filled with a request's numbers. Every formula is LaTeX here and MathML on the page (app.mathml.tex)."""

from __future__ import annotations

from layerlab.app.mathml import num, tex
from layerlab.engine.cnn.circle import PARTS
from layerlab.engine.trace import Trace

DEFINITIONS = {
    "conv": r"y_{o,i,j} = b_o + \sum_{c}\sum_{u=0}^{2}\sum_{v=0}^{2} w_{o,c,u,v}\, x_{c,\,i+u,\,j+v}",
    "relu": r"a = \max(0,\, y)",
    "pool": r"p_{c,i,j} = \max_{u,v \in \{0,1\}} a_{c,\,2i+u,\,2j+v}",
    "flatten": r"v_{25c + 5i + j} = p_{c,i,j}",
    "linear": r"z = W v + b,\quad W \in \mathbb{R}^{10\times 400}",
    "softmax": r"P(k) = \frac{e^{z_k}}{\sum_{m=0}^{9} e^{z_m}}",
    "loss": r"L = -\log P(t)",
    "grad_logits": r"\frac{\partial L}{\partial z_k} = P(k) - [k = t]",
    "grad_linear": r"\frac{\partial L}{\partial v} = W^{\top} \frac{\partial L}{\partial z}",
    "grad_pool": r"\frac{\partial L}{\partial a_{c,r,s}} = \begin{cases} "
    r"\frac{\partial L}{\partial p_{c,i,j}} & (r, s) \text{ won window } (i, j) \\ "
    r"0 & \text{otherwise} \end{cases}",
    "grad_relu": r"\frac{\partial L}{\partial y} = \frac{\partial L}{\partial a}\,[y > 0]",
    "grad_conv_input": r"\frac{\partial L}{\partial x_{c,i,j}} = \sum_{o}\sum_{u,v} w_{o,c,u,v}\, "
    r"\frac{\partial L}{\partial y_{o,\,i-u,\,j-v}} = \text{conv_transpose2d}"
    r"\Big(\frac{\partial L}{\partial y},\, w\Big)_{c,i,j}",
    "grad_conv_weight": r"\frac{\partial L}{\partial w_{o,c,u,v}} = \sum_{i,j} "
    r"\frac{\partial L}{\partial y_{o,i,j}}\, x_{c,\,i+u,\,j+v}",
    "sizes": r"28 - 3 + 1 = 26,\ \lfloor 26/2 \rfloor = 13,\ 13 - 3 + 1 = 11,\ \lfloor 11/2 \rfloor = 5,"
    r"\ 16\cdot 5\cdot 5 = 400",
}

# layer -> (parameter count as LaTeX, the count)
PARAMETERS = {
    "conv1": (r"8\cdot 1\cdot 3\cdot 3 + 8", 80),
    "conv2": (r"16\cdot 8\cdot 3\cdot 3 + 16", 1168),
    "fc": (r"10\cdot 400 + 10", 4010),
}

ARCHITECTURE = [  # the page's architecture table: layer, what it does, output shape (N, C, H, W)
    ("input", "the 28x28 digit, ink 1 on 0", "(1, 1, 28, 28)"),
    ("conv1", "8 kernels 1x3x3, stride 1, no padding", "(1, 8, 26, 26)"),
    ("relu1", "max(0, y)", "(1, 8, 26, 26)"),
    ("pool1", "2x2 max, stride 2", "(1, 8, 13, 13)"),
    ("conv2", "16 kernels 8x3x3", "(1, 16, 11, 11)"),
    ("relu2", "max(0, y)", "(1, 16, 11, 11)"),
    ("pool2", "2x2 max, stride 2 (row and column 11 dropped)", "(1, 16, 5, 5)"),
    ("flatten", "16 maps of 5x5, one after another", "(1, 400)"),
    ("fc", "400 -> 10 weighted sums", "(1, 10)"),
    ("softmax", "10 probabilities adding up to 1", "(1, 10)"),
]

TORCH = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3)   # 80 parameters
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3)  # 1,168
        self.fc = nn.Linear(16 * 5 * 5, 10)           # 4,010

    def forward(self, x):                             # (N, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)    # (N, 8, 13, 13)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)    # (N, 16, 5, 5)
        return self.fc(torch.flatten(x, 1))           # (N, 10) logits


model = SmallCNN()
# the weights this page uses, trained by `python -m layerlab.engine.cnn.train` (same names as the state_dict)
import numpy as np
model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load("engine/cnn/weights.npz").items()})
probs = F.softmax(model(x), dim=1)
loss = F.cross_entropy(model(x), torch.tensor([t]))  # -log P(t); loss.backward() fills every .grad"""

KERAS = """\
keras.Sequential([keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(8, kernel_size=(3, 3), activation="relu"), layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Conv2D(16, kernel_size=(3, 3), activation="relu"), layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(), layers.Dense(10, activation="softmax")])"""

LINK_NOTES = {
    "conv1": "The conv page takes a grey image and up to 8 kernels, so it can run conv1 itself: the "
    "server keeps this input (already fitted to 28x28) as an upload, and the link carries conv1's "
    "eight trained kernels and biases with ReLU on. The pooling link pools that filter's map 2x2 "
    "with stride 2: pool1. Uploads live in the server's memory until it restarts.",
    "conv2": "The conv page reads 1 or 3 channels, and conv2 reads 8, so conv2 itself cannot open "
    "there. Its 11x11 map after ReLU fits the pooling page's matrix (up to 12x12), so the link "
    "carries that map's numbers and pools them 2x2 with stride 2: exactly pool2's channel, "
    "the 11th row and column dropped.",
}

CIRCLE_NOTE = (
    "Seed 000 slides five 1x3x3 part kernels over a 1x5x5 circle and says the map is 4x2x2. "
    "Five kernels make five channels, and a 3x3 kernel at stride 1 on 5x5 gives 3x3, not 2x2. "
    "Here, as in the layer calculator's preset, all five kernels slide with stride 2: "
    "(5 - 3) // 2 + 1 = 2, so the map is 5x2x2 and the second-layer kernel is 5x2x2. "
    "At stride 2 the four windows sit on the circle's four corners, so four kernels are the quarter "
    "arcs; the seed does not say what the fifth is, so here it is a straight stroke (a part of a 1, "
    "not of a circle) that the second layer weighs 0. Like the seed, there is no activation between "
    "the layers."
)
PART_NAMES = [name for name, _ in PARTS]


def _power(value: float) -> str:
    """A small number as LaTeX, m x 10^e (0 as 0)."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.1e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def identity_formula(cell: dict, max_diff: float) -> str:
    """The conv2 input gradient at one cell, by backpropagation and by transposed convolution (MathML)."""
    c, i, j = cell["channel"], cell["row"], cell["col"]
    return str(
        tex(
            rf"\frac{{\partial L}}{{\partial x_{{{c},{i},{j}}}}} = {cell['backward']:.6g}"
            rf"\qquad \text{{conv_transpose2d}}"
            rf"\Big(\frac{{\partial L}}{{\partial y}}, w\Big)_{{{c},{i},{j}}}"
            rf" = {cell['transposed']:.6g}\qquad \max |\text{{difference}}| = {_power(max_diff)}"
        )
    )


def circle_formula(t: Trace) -> str:
    """The detector's sum with this input's numbers (MathML)."""
    per_part = t.stages["contributions"].sum(axis=(1, 2))
    terms = " + ".join(num(v) if v >= 0 else f"({num(v)})" for v in per_part)
    verdict = r"> 0\ \text{(fires)}" if t.params["fires"] else r"\le 0\ \text{(does not fire)}"
    out = t.output.item()
    return str(tex(rf"y = {terms} + ({num(t.params['bias'])}) = {num(out)} {verdict}"))
