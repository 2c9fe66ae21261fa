"""The trained-transformer page's formulas (LaTeX for app.mathml.tex) and its PyTorch lines."""

from __future__ import annotations

DEFINITIONS = {
    "attention": r"\mathrm{Attention}(Q, K, V) = "
    r"\mathrm{softmax}\!\left(\frac{Q K^{\top}}{\sqrt{d_k}} + M\right) V",
    "mask": r"M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i \end{cases}",
    "block": r"x \leftarrow x + \mathrm{Attn}(\mathrm{LN}_1(x)),\qquad "
    r"x \leftarrow x + \mathrm{MLP}(\mathrm{LN}_2(x))",
    "softmax": r"w_j = \frac{e^{z_j - \max_m z_m}}{\sum_{m} e^{z_m - \max_m z_m}}",
    "sampling": r"p = \mathrm{softmax}(\ell / T)\ \text{over the } k \text{ largest logits } \ell",
}


def torch_lines(d_model: int, n_heads: int, layer: int) -> str:
    """The PyTorch lines computing the selected block's attention weights."""
    return (
        f"attn = nn.MultiheadAttention({d_model}, {n_heads}, batch_first=True)  # blocks.{layer}.attn\n"
        "causal = nn.Transformer.generate_square_subsequent_mask(T)\n"
        "h = ln1(x)\n"
        "out, w = attn(h, h, h, attn_mask=causal, average_attn_weights=False)  # w: (1, H, T, T)"
    )
