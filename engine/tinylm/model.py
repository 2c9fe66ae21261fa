"""A tiny decoder-only transformer (GPT-2's shape in miniature), forward and backward in NumPy.

    tokens (B, T)
    x = tok_emb[tokens] + pos_emb[:T]                       (B, T, D)
    per block i (pre-norm, Radford et al. 2019):
        x = x + out_proj(causal_mha(ln1(x)))                (B, T, D), H heads of d_k = D / H
        x = x + mlp.proj(gelu(mlp.fc(ln2(x))))              (B, T, D), hidden (B, T, F)
    logits = head(ln_f(x))                                  (B, T, V), no bias, untied

The parameters are a state_dict with torch's names and layouts (`nn.MultiheadAttention`'s
in_proj_weight holds the rows W_q, W_k, W_v; `nn.Linear` weights are (out, in); `nn.LayerNorm`
eps 1e-5), so the same numbers load into a PyTorch model and give the same logits. GELU is the
exact one, x·Φ(x) (Hendrycks & Gimpel 2016). Attention is Vaswani et al. 2017's
softmax(QKᵀ/√d_k)V with the causal mask. `loss_and_grads` is the backward written out by hand,
op by op, as `engine/cnn/model.py`'s is; it runs vectorized over (B, T).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev

Params = dict[str, np.ndarray]
LN_EPS = 1e-5


@dataclass(frozen=True)
class Config:
    vocab_size: int  # V, the number of token ids
    d_model: int = 32  # D, the residual stream's width
    n_heads: int = 2  # H; each head has d_k = D / H dimensions
    n_layers: int = 2  # blocks of attention + MLP
    d_ff: int = 128  # F, the MLP's hidden width
    max_len: int = 24  # the longest sequence (rows of pos_emb)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Config.{field.name} must be a positive int, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")

    @property
    def d_k(self) -> int:
        return self.d_model // self.n_heads


def param_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """name -> shape, in the order of the state_dict torch would list."""
    V, D, F = config.vocab_size, config.d_model, config.d_ff
    shapes: dict[str, tuple[int, ...]] = {"tok_emb.weight": (V, D), "pos_emb.weight": (config.max_len, D)}
    for i in range(config.n_layers):
        p = f"blocks.{i}."
        shapes |= {
            p + "ln1.weight": (D,),
            p + "ln1.bias": (D,),
            p + "attn.in_proj_weight": (3 * D, D),
            p + "attn.in_proj_bias": (3 * D,),
            p + "attn.out_proj.weight": (D, D),
            p + "attn.out_proj.bias": (D,),
            p + "ln2.weight": (D,),
            p + "ln2.bias": (D,),
            p + "mlp.fc.weight": (F, D),
            p + "mlp.fc.bias": (F,),
            p + "mlp.proj.weight": (D, F),
            p + "mlp.proj.bias": (D,),
        }
    return shapes | {"ln_f.weight": (D,), "ln_f.bias": (D,), "head.weight": (V, D)}


def init_params(config: Config, seed: int = 0) -> Params:
    """PyTorch's default initialisation of each module: nn.Embedding N(0, 1); nn.MultiheadAttention's
    in_proj_weight Xavier-uniform U(±√(6 / (D + 3D))) and its biases 0; every nn.Linear weight
    U(±1/√fan_in) (its bias 0 here); nn.LayerNorm weight 1, bias 0.

    The scale matters: with GPT-2's N(0, 0.02) at d_model 32, q·k starts near 0.05 and its gradient
    with it, and the second layer's heads stayed uniform for thousands of steps (no induction head
    formed); with these scales a two-layer induction circuit forms within about 1,000 steps.
    """
    rng = np.random.default_rng(seed)
    params: Params = {}
    for name, shape in param_shapes(config).items():
        if ".ln" in name or name.startswith("ln_f"):
            params[name] = np.ones(shape) if name.endswith("weight") else np.zeros(shape)
        elif name.endswith("bias"):
            params[name] = np.zeros(shape)
        elif name.endswith("emb.weight"):
            params[name] = rng.normal(0.0, 1.0, shape)
        else:
            fan_out, fan_in = shape
            bound = (
                math.sqrt(6.0 / (fan_in + fan_out))
                if name.endswith("in_proj_weight")
                else 1 / math.sqrt(fan_in)
            )
            params[name] = rng.uniform(-bound, bound, shape)
    return params


@dataclass(frozen=True)
class Forward:
    """Every intermediate of one forward pass, batched (B, ...); per-layer lists indexed by layer."""

    tokens: np.ndarray  # (B, T) int64
    embeddings: np.ndarray  # (B, T, D) tok_emb[tokens] + pos_emb[:T]
    resid: list[np.ndarray]  # 1 + 2·n_layers of (B, T, D): embeddings, then after each add
    ln1: list[np.ndarray]  # (B, T, D) the attention's input
    q: list[np.ndarray]  # (B, H, T, d_k)
    k: list[np.ndarray]  # (B, H, T, d_k)
    v: list[np.ndarray]  # (B, H, T, d_k)
    scores: list[np.ndarray]  # (B, H, T, T) q·k, query rows, key columns
    scaled: list[np.ndarray]  # (B, H, T, T) scores / √d_k
    masked: list[np.ndarray]  # (B, H, T, T) scaled, -inf above the diagonal (a key after its query)
    exp: list[np.ndarray]  # (B, H, T, T) e^(masked - row max)
    weights: list[np.ndarray]  # (B, H, T, T) softmax of masked: exp / its row sum
    head_out: list[np.ndarray]  # (B, H, T, d_k) weights @ v
    attn_out: list[np.ndarray]  # (B, T, D) the heads concatenated, through out_proj
    mlp_hidden: list[np.ndarray]  # (B, T, F) gelu(fc(ln2(x)))
    mlp_out: list[np.ndarray]  # (B, T, D) proj(mlp_hidden)
    final: np.ndarray  # (B, T, D) ln_f's output
    logits: np.ndarray  # (B, T, V)

    def squeeze(self) -> Forward:
        """The one sentence of a batch of one, every array without its batch axis."""
        if len(self.tokens) != 1:
            raise ValueError(f"squeeze needs a batch of one sentence, got {len(self.tokens)}")
        drop = {
            f.name: [a[0] for a in value] if isinstance(value, list) else value[0]
            for f in dataclasses.fields(self)
            for value in [getattr(self, f.name)]
        }
        return Forward(**drop)


# erf by piecewise Chebyshev interpolation of math.erf on [0, 6] (erf(6) rounds to 1), 192 pieces
# of degree 6: within 1e-15 of math.erf and ~5x faster than calling it element by element, which
# the training loop's (B, T, F) GELUs would otherwise spend most of a step on.
_ERF_PIECES, _ERF_DEGREE, _ERF_END = 192, 6, 6.0


def _erf_table() -> np.ndarray:
    """(degree + 1, pieces): power-basis coefficients in t ∈ [-1, 1] across each piece."""
    half = 0.5 * _ERF_END / _ERF_PIECES
    rows = []
    for centre in np.linspace(half, _ERF_END - half, _ERF_PIECES):
        fit = chebyshev.chebinterpolate(np.vectorize(lambda t, c=centre: math.erf(c + half * t)), _ERF_DEGREE)
        coef = chebyshev.cheb2poly(fit)
        rows.append(np.pad(coef, (0, _ERF_DEGREE + 1 - len(coef))))
    return np.ascontiguousarray(np.array(rows).T)


_ERF_TABLE = _erf_table()


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, element-wise, within 1e-15 of math.erf."""
    a = np.abs(x)
    s = a * (_ERF_PIECES / _ERF_END)
    piece = np.minimum(s.astype(np.intp), _ERF_PIECES - 1)
    t = (s - piece) * 2.0 - 1.0  # where a lies across its piece
    y = _ERF_TABLE[_ERF_DEGREE].take(piece)
    for j in range(_ERF_DEGREE - 1, -1, -1):  # Horner
        y *= t
        y += _ERF_TABLE[j].take(piece)
    y[a >= _ERF_END] = 1.0
    return np.copysign(y, x)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, ...]:
    """nn.LayerNorm over the last axis: (output, x_hat, 1/√(var + eps))."""
    centred = x - x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + LN_EPS)
    x_hat = centred * inv_std
    return x_hat * weight + bias, x_hat, inv_std


def _layer_norm_backward(
    grad: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(d input, d weight, d bias) of _layer_norm given d output."""
    g = grad * weight
    d_x = inv_std * (g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))
    return d_x, (grad * x_hat).reshape(-1, x_hat.shape[-1]).sum(0), grad.reshape(-1, grad.shape[-1]).sum(0)


def _check_tokens(config: Config, tokens: np.ndarray) -> np.ndarray:
    ids = np.asarray(tokens)
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"tokens must be an int array (T,) or (B, T), got {ids.dtype} {ids.shape}")
    if not 1 <= ids.shape[1] <= config.max_len:
        raise ValueError(f"tokens: length T must be 1..max_len = {config.max_len}, got {ids.shape[1]}")
    if ids.size and (ids.min() < 0 or ids.max() >= config.vocab_size):
        raise ValueError(f"tokens must be ids in 0..{config.vocab_size - 1}, got {ids.min()}..{ids.max()}")
    return ids.astype(np.int64)


def _forward(params: Params, config: Config, tokens: np.ndarray) -> tuple[Forward, dict[str, list]]:
    """The forward pass and what the backward needs beyond it (layer norms' x_hat and 1/σ, GELU's
    input and Φ, the heads concatenated)."""
    ids = _check_tokens(config, tokens)
    B, T = ids.shape
    H, dk = config.n_heads, config.d_k
    causal = np.triu(np.ones((T, T), dtype=bool), 1)  # True where the key comes after the query
    rec: dict[str, list] = {n.name: [] for n in dataclasses.fields(Forward)}
    cache: dict[str, list] = {k: [] for k in ("ln1", "ln2", "fc", "cdf", "concat", "ln_f")}
    x = params["tok_emb.weight"][ids] + params["pos_emb.weight"][:T]  # (B, T, D)
    rec["resid"].append(x)
    for i in range(config.n_layers):
        p = f"blocks.{i}."
        h, *stats = _layer_norm(x, params[p + "ln1.weight"], params[p + "ln1.bias"])
        cache["ln1"].append(stats)
        qkv = h @ params[p + "attn.in_proj_weight"].T + params[p + "attn.in_proj_bias"]  # (B, T, 3D)
        q, k, v = qkv.reshape(B, T, 3, H, dk).transpose(2, 0, 3, 1, 4)  # each (B, H, T, dk)
        scores = q @ k.transpose(0, 1, 3, 2)  # (B, H, T, T)
        scaled = scores / math.sqrt(dk)
        masked = np.where(causal, -np.inf, scaled)
        exp = np.exp(masked - masked.max(axis=-1, keepdims=True))  # the diagonal is never masked
        weights = exp / exp.sum(axis=-1, keepdims=True)
        head_out = weights @ v  # (B, H, T, dk)
        concat = head_out.transpose(0, 2, 1, 3).reshape(B, T, -1)  # (B, T, D)
        attn_out = concat @ params[p + "attn.out_proj.weight"].T + params[p + "attn.out_proj.bias"]
        x = x + attn_out
        rec["resid"].append(x)
        h2, *stats = _layer_norm(x, params[p + "ln2.weight"], params[p + "ln2.bias"])
        fc = h2 @ params[p + "mlp.fc.weight"].T + params[p + "mlp.fc.bias"]  # (B, T, F)
        cdf = erf(fc * (1.0 / math.sqrt(2.0)))  # then Φ(fc) = (1 + erf) / 2, in place
        cdf += 1.0
        cdf *= 0.5
        hidden = fc * cdf
        mlp_out = hidden @ params[p + "mlp.proj.weight"].T + params[p + "mlp.proj.bias"]  # (B, T, D)
        x = x + mlp_out
        rec["resid"].append(x)
        cache["ln2"].append(stats)
        cache["fc"].append(fc)
        cache["cdf"].append(cdf)
        cache["concat"].append(concat)
        for name, value in (
            ("ln1", h),
            ("q", q),
            ("k", k),
            ("v", v),
            ("scores", scores),
            ("scaled", scaled),
            ("masked", masked),
            ("exp", exp),
            ("weights", weights),
            ("head_out", head_out),
            ("attn_out", attn_out),
            ("mlp_hidden", hidden),
            ("mlp_out", mlp_out),
        ):
            rec[name].append(value)
    final, *stats = _layer_norm(x, params["ln_f.weight"], params["ln_f.bias"])
    cache["ln_f"] = stats
    logits = final @ params["head.weight"].T  # (B, T, V)
    rec |= {"tokens": ids, "embeddings": rec["resid"][0], "final": final, "logits": logits}
    return Forward(**rec), cache


def forward(params: Params, config: Config, tokens: np.ndarray) -> Forward:
    """The forward pass of tokens (T,) or (B, T) (ids < vocab_size, T <= max_len), every
    intermediate recorded, batched (B, ...) (B = 1 for a (T,) input: `.squeeze()` drops it)."""
    return _forward(params, config, tokens)[0]


def loss_and_grads(
    params: Params, config: Config, tokens: np.ndarray, targets: np.ndarray
) -> tuple[float, Params]:
    """Mean cross-entropy of the next-token logits over the positions whose target is >= 0
    (-1 = ignored, as torch's ignore_index), and its gradient for every parameter.

    tokens, targets : int arrays of shape (B, T) (or both (T,))
    """
    fwd, cache = _forward(params, config, tokens)
    ids = fwd.tokens
    tgt = np.asarray(targets)
    tgt = tgt[None] if tgt.ndim == 1 else tgt
    if tgt.shape != ids.shape or not np.issubdtype(tgt.dtype, np.integer):
        raise ValueError(f"targets must be ints shaped as tokens {ids.shape}, got {tgt.dtype} {tgt.shape}")
    if tgt.min() < -1 or tgt.max() >= config.vocab_size:
        raise ValueError(f"targets must be -1 (ignored) or ids in 0..{config.vocab_size - 1}")
    B, T = ids.shape
    H, dk = config.n_heads, config.d_k
    keep = tgt >= 0  # (B, T)
    count = int(keep.sum())
    if count == 0:
        raise ValueError("targets: at least one position must have a target >= 0")

    shifted = fwd.logits - fwd.logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=-1, keepdims=True)  # (B, T, 1)
    safe = np.where(keep, tgt, 0)[..., None]  # (B, T, 1)
    picked = np.take_along_axis(shifted, safe, axis=-1) - np.log(total)  # log p(target)
    loss = float(-(picked[..., 0] * keep).sum() / count)

    grads: Params = {}
    d_logits = e * (keep[..., None] / (count * total))  # (softmax - one_hot) / count, kept rows
    np.put_along_axis(d_logits, safe, np.take_along_axis(d_logits, safe, -1) - keep[..., None] / count, -1)
    D = config.d_model
    grads["head.weight"] = d_logits.reshape(-1, config.vocab_size).T @ fwd.final.reshape(-1, D)
    d_final = d_logits @ params["head.weight"]  # (B, T, D)
    d_x, grads["ln_f.weight"], grads["ln_f.bias"] = _layer_norm_backward(
        d_final, *cache["ln_f"], params["ln_f.weight"]
    )
    for i in reversed(range(config.n_layers)):
        p = f"blocks.{i}."
        # MLP: x = x + proj(gelu(fc(ln2(x))))
        hidden = fwd.mlp_hidden[i]
        F = hidden.shape[-1]
        d_out = d_x.reshape(-1, D)
        grads[p + "mlp.proj.weight"] = d_out.T @ hidden.reshape(-1, F)
        grads[p + "mlp.proj.bias"] = d_out.sum(0)
        fc, cdf = cache["fc"][i], cache["cdf"][i]
        slope = np.exp(-0.5 * fc * fc)  # GELU' = Φ + fc·φ, φ = e^(-fc²/2) / √(2π)
        slope *= fc * (1.0 / math.sqrt(2.0 * math.pi))
        slope += cdf
        d_fc = (d_x @ params[p + "mlp.proj.weight"]) * slope  # (B, T, F)
        x_hat2, _ = cache["ln2"][i]
        h2 = x_hat2 * params[p + "ln2.weight"] + params[p + "ln2.bias"]
        grads[p + "mlp.fc.weight"] = d_fc.reshape(-1, F).T @ h2.reshape(-1, D)
        grads[p + "mlp.fc.bias"] = d_fc.reshape(-1, F).sum(0)
        d_ln, grads[p + "ln2.weight"], grads[p + "ln2.bias"] = _layer_norm_backward(
            d_fc @ params[p + "mlp.fc.weight"], *cache["ln2"][i], params[p + "ln2.weight"]
        )
        d_x = d_x + d_ln
        # attention: x = x + out_proj(concat of heads of softmax(q kᵀ / √d_k + mask) v)
        d_out = d_x.reshape(-1, D)
        grads[p + "attn.out_proj.weight"] = d_out.T @ cache["concat"][i].reshape(-1, D)
        grads[p + "attn.out_proj.bias"] = d_out.sum(0)
        d_head = (d_x @ params[p + "attn.out_proj.weight"]).reshape(B, T, H, dk).transpose(0, 2, 1, 3)
        weights, q, k, v = fwd.weights[i], fwd.q[i], fwd.k[i], fwd.v[i]
        d_weights = d_head @ v.transpose(0, 1, 3, 2)  # (B, H, T, T)
        d_v = weights.transpose(0, 1, 3, 2) @ d_head  # (B, H, T, dk)
        # softmax: masked entries have weight 0, so their gradient is 0 as well
        d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
        d_scores *= 1.0 / math.sqrt(dk)
        d_q = d_scores @ k
        d_k = d_scores.transpose(0, 1, 3, 2) @ q
        d_qkv = np.stack([d_q, d_k, d_v]).transpose(1, 3, 0, 2, 4).reshape(-1, 3 * D)  # (B·T, 3D)
        grads[p + "attn.in_proj_weight"] = d_qkv.T @ fwd.ln1[i].reshape(-1, D)
        grads[p + "attn.in_proj_bias"] = d_qkv.sum(0)
        d_ln, grads[p + "ln1.weight"], grads[p + "ln1.bias"] = _layer_norm_backward(
            (d_qkv @ params[p + "attn.in_proj_weight"]).reshape(B, T, D),
            *cache["ln1"][i],
            params[p + "ln1.weight"],
        )
        d_x = d_x + d_ln
    # scatter-add into tok_emb's rows (a token seen twice gathers both gradients), as one bincount
    cells = (ids.reshape(-1, 1) * D + np.arange(D)).ravel()
    d_tok = np.bincount(cells, d_x.ravel(), minlength=config.vocab_size * D).reshape(-1, D)
    d_pos = np.zeros_like(params["pos_emb.weight"])
    d_pos[:T] = d_x.sum(axis=0)
    grads["tok_emb.weight"], grads["pos_emb.weight"] = d_tok, d_pos
    return loss, {name: grads[name] for name in param_shapes(config)}
