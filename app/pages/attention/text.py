"""The attention page's formulas (LaTeX for app.mathml.tex) and its PyTorch lines."""

from __future__ import annotations

from layerlab.app.mathml import num
from layerlab.app.pages.attention.schemas import AttentionRequest

DEFINITIONS = {  # seed 000 (scaled dot-product), seed 004 (multi-head)
    "softmax": r"\mathrm{softmax}(z)_j = \frac{e^{z_j}}{\sum_{m} e^{z_m}}",
    "multihead": r"\mathrm{MultiHead}(X) = "
    r"\mathrm{Concat}(\mathrm{head}_1, \ldots, \mathrm{head}_h)\, W_O^{\top}",
    "projections": r"Q = X W_Q^{\top},\quad K = X W_K^{\top},\quad V = X W_V^{\top}",
    # seed 003 (Bahdanau)
    "additive": r"e_j = v^{\top} \tanh(W_1 s + W_2 h_j),\quad a = \mathrm{softmax}(e),\quad "
    r"c = \sum_j a_j h_j",
}


def additive_step(token: str, tanh_row, v, score: float) -> str:
    """score_j = vᵀ·tanh(W₁s + W₂hⱼ) = Σₐ vₐ·tanh(...)ₐ with the numbers, as LaTeX."""
    terms = " + ".join(rf"{num(a)}\cdot{_paren(t)}" for a, t in zip(v, tanh_row, strict=True))
    name = rf"\text{{{token}}}"
    return rf"e_{{{name}}} = v^{{\top}} \tanh(W_1 s + W_2 h_{{{name}}}) = {terms} = {num(score)}"


def _paren(value: float) -> str:
    return f"({num(value)})" if value < 0 else num(value)


def additive_softmax(tokens: list[str], scores, weights) -> str:
    """a = softmax(e) written out, one weight per encoder state."""
    parts = [rf"a_{{\text{{{t}}}}} = {num(w)}" for t, w in zip(tokens, weights, strict=True)]
    return rf"a = \mathrm{{softmax}}({', '.join(num(e) for e in scores)}):\quad " + r",\ ".join(parts)


def additive_torch() -> str:
    """The PyTorch lines for additive attention (torch has no single call for it)."""
    return (
        "scores = torch.tanh(s @ W1.T + h @ W2.T) @ v   # (T,)\n"
        "a = torch.softmax(scores, dim=0); context = a @ h"
    )


def attention_formula(req: AttentionRequest, d_k: int) -> str:
    """softmax(QKᵀ/√d_k)V as the current toggles make it, with the current d_k."""
    scale = rf"\sqrt{{{d_k}}}" if req.scaled else ""
    if req.temperature != 1:
        scale = rf"{scale}\cdot {num(req.temperature)}" if scale else num(req.temperature)
    scores = rf"\frac{{Q K^{{\top}}}}{{{scale}}}" if scale else r"Q K^{\top}"
    mask = " + M" if req.causal or req.padding else ""
    return (
        rf"\mathrm{{Attention}}(Q, K, V) = \mathrm{{softmax}}\left({scores}{mask}\right) V,\quad d_k = {d_k}"
    )


def torch_line(req: AttentionRequest, length: int, scale: float) -> str:
    """The PyTorch line for the current settings."""
    if req.heads > 1:
        lines = [f"mha = nn.MultiheadAttention(8, {req.heads}, bias=False, batch_first=True)"]
        args = ["x, x, x"]
        if req.causal:
            lines.append(f"causal = nn.Transformer.generate_square_subsequent_mask({length})")
            args.append("attn_mask=causal")
        if req.padding:
            lines.append(
                f"pad = torch.zeros(1, {length}, dtype=torch.bool); pad[:, {length - req.padding}:] = True"
            )
            args.append("key_padding_mask=pad")
        if not req.scaled or req.temperature != 1:
            lines.append("# it always divides by √d_k: multiply x's query copy by the extra factor")
        lines.append(f"out, weights = mha({', '.join(args)}, average_attn_weights=False)")
        return "\n".join(lines)
    args = ["q", "k", "v"]
    if req.padding:
        args.append("attn_mask=keep")
    elif req.causal:
        args.append("is_causal=True")
    if not req.scaled or req.temperature != 1:
        args.append(f"scale={scale:.6g}")
    line = f"out = F.scaled_dot_product_attention({', '.join(args)})"
    if req.padding:
        keep = "torch.ones(L, L).tril().bool()" if req.causal else "torch.ones(L, L).bool()"
        line = f"keep = {keep}; keep[:, {length - req.padding}:] = False\n" + line
    return line
