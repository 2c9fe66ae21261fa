"""The tiny transformer against a plain-loop reference, the engine's own ops, and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.engine.activations import gelu
from layerlab.engine.attention import multi_head_attention
from layerlab.engine.linear import linear
from layerlab.engine.norm import layer_norm
from layerlab.engine.tinylm.model import (
    Config,
    erf,
    forward,
    init_params,
    loss_and_grads,
    param_shapes,
)
from layerlab.engine.tinylm.readout import next_token_probs

SMALL = Config(vocab_size=11, d_model=8, n_heads=2, n_layers=2, d_ff=12, max_len=6)


def random_params(config: Config, seed: int) -> dict[str, np.ndarray]:
    """Every parameter random, layer norms and biases too, so no term of the model hides at 0 or 1."""
    rng = np.random.default_rng(seed)
    return {name: rng.normal(0.0, 0.6, shape) for name, shape in param_shapes(config).items()}


def loop_layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One position's layer norm with the mean and biased variance summed out term by term."""
    n = len(x)
    mean = sum(x[j] for j in range(n)) / n
    var = sum((x[j] - mean) ** 2 for j in range(n)) / n
    return np.array([(x[j] - mean) / math.sqrt(var + 1e-5) * weight[j] + bias[j] for j in range(n)])


def loop_reference(params: dict[str, np.ndarray], config: Config, ids: list[int]) -> dict[str, list]:
    """One sentence through the model position by position, head by head, key by key."""
    T, D, H, dk = len(ids), config.d_model, config.n_heads, config.d_k
    x = [params["tok_emb.weight"][ids[t]] + params["pos_emb.weight"][t] for t in range(T)]
    out: dict[str, list] = {"resid": [np.array(x)], "weights": [], "q": []}
    for i in range(config.n_layers):
        p = {name[len(f"blocks.{i}.") :]: a for name, a in params.items() if name.startswith(f"blocks.{i}.")}
        h = [loop_layer_norm(x[t], p["ln1.weight"], p["ln1.bias"]) for t in range(T)]
        w_in, b_in = p["attn.in_proj_weight"], p["attn.in_proj_bias"]
        qkv = [[w_in[r] @ h[t] + b_in[r] for r in range(3 * D)] for t in range(T)]
        weights = np.zeros((H, T, T))
        qs = np.zeros((H, T, dk))
        concat = np.zeros((T, D))
        for head in range(H):
            cols = range(head * dk, (head + 1) * dk)
            for t in range(T):
                q = [qkv[t][c] for c in cols]
                qs[head, t] = q
                scores = [
                    sum(q[e] * qkv[j][D + c] for e, c in enumerate(cols)) / math.sqrt(dk)
                    for j in range(t + 1)
                ]
                top = max(scores)
                exps = [math.exp(s - top) for s in scores]
                for j in range(t + 1):  # keys after t keep weight 0: the causal mask
                    weights[head, t, j] = exps[j] / sum(exps)
                for c in cols:
                    concat[t, c] = sum(weights[head, t, j] * qkv[j][2 * D + c] for j in range(t + 1))
        out["weights"].append(weights)
        out["q"].append(qs)
        x = [x[t] + p["attn.out_proj.weight"] @ concat[t] + p["attn.out_proj.bias"] for t in range(T)]
        out["resid"].append(np.array(x))
        for t in range(T):
            h2 = loop_layer_norm(x[t], p["ln2.weight"], p["ln2.bias"])
            fc = p["mlp.fc.weight"] @ h2 + p["mlp.fc.bias"]
            hidden = np.array([a * 0.5 * (1.0 + math.erf(a / math.sqrt(2.0))) for a in fc])
            x[t] = x[t] + p["mlp.proj.weight"] @ hidden + p["mlp.proj.bias"]
        out["resid"].append(np.array(x))
    final = [loop_layer_norm(x[t], params["ln_f.weight"], params["ln_f.bias"]) for t in range(T)]
    out["logits"] = [
        np.array([params["head.weight"][v] @ final[t] for v in range(config.vocab_size)]) for t in range(T)
    ]
    return out


def test_forward_matches_plain_loop_reference_on_random_weights() -> None:
    params = random_params(SMALL, seed=1)
    tokens = np.array([[3, 7, 3, 0, 10], [1, 2, 9, 9, 4]])
    fwd = forward(params, SMALL, tokens)
    for b, ids in enumerate(tokens.tolist()):
        ref = loop_reference(params, SMALL, ids)
        np.testing.assert_allclose(fwd.logits[b], np.array(ref["logits"]), rtol=0, atol=1e-10)
        assert len(fwd.resid) == len(ref["resid"]) == 1 + 2 * SMALL.n_layers
        for got, want in zip(fwd.resid, ref["resid"], strict=True):
            np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-10)
        for i in range(SMALL.n_layers):
            np.testing.assert_allclose(fwd.weights[i][b], ref["weights"][i], rtol=0, atol=1e-10)
            np.testing.assert_allclose(fwd.q[i][b], ref["q"][i], rtol=0, atol=1e-10)


def test_forward_matches_engine_layer_norm_linear_attention_and_gelu() -> None:
    params = random_params(SMALL, seed=2)
    tokens = np.array([[5, 1, 5, 8, 2, 6]])
    fwd = forward(params, SMALL, tokens)
    x = params["tok_emb.weight"][tokens] + params["pos_emb.weight"][:6]
    D = SMALL.d_model
    for i in range(SMALL.n_layers):
        p = f"blocks.{i}."
        h = layer_norm(x, D, params[p + "ln1.weight"], params[p + "ln1.bias"]).output
        attn = multi_head_attention(
            h,
            h,
            h,
            SMALL.n_heads,
            params[p + "attn.in_proj_weight"],
            params[p + "attn.in_proj_bias"],
            params[p + "attn.out_proj.weight"],
            params[p + "attn.out_proj.bias"],
            is_causal=True,
            average_attn_weights=False,
        )
        for name, stage in (("q", "q_heads"), ("k", "k_heads"), ("v", "v_heads"), ("scores", "scores")):
            np.testing.assert_allclose(getattr(fwd, name)[i], attn.stages[stage], rtol=0, atol=1e-10)
        np.testing.assert_array_equal(np.isneginf(fwd.masked[i]), np.isneginf(attn.stages["masked"]))
        np.testing.assert_allclose(fwd.weights[i], attn.stages["weights"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(fwd.attn_out[i], attn.output, rtol=0, atol=1e-10)
        x = x + attn.output
        h2 = layer_norm(x, D, params[p + "ln2.weight"], params[p + "ln2.bias"]).output
        hidden = gelu(linear(h2, params[p + "mlp.fc.weight"], params[p + "mlp.fc.bias"]).output).output
        np.testing.assert_allclose(fwd.mlp_hidden[i], hidden, rtol=0, atol=1e-10)
        x = x + linear(hidden, params[p + "mlp.proj.weight"], params[p + "mlp.proj.bias"]).output
        np.testing.assert_allclose(fwd.resid[2 * i + 2], x, rtol=0, atol=1e-10)
    final = layer_norm(x, D, params["ln_f.weight"], params["ln_f.bias"]).output
    np.testing.assert_allclose(fwd.final, final, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fwd.logits, linear(final, params["head.weight"]).output, rtol=0, atol=1e-10)


def test_forward_records_masked_exp_and_softmax_consistently() -> None:
    fwd = forward(random_params(SMALL, seed=3), SMALL, np.array([4, 4, 2, 7]))
    one = fwd.squeeze()
    assert one.tokens.shape == (4,) and one.weights[0].shape == (2, 4, 4) and one.logits.shape == (4, 11)
    upper = np.triu(np.ones((4, 4), dtype=bool), 1)
    for i in range(SMALL.n_layers):
        np.testing.assert_allclose(one.scaled[i], one.scores[i] / math.sqrt(SMALL.d_k))
        assert np.isneginf(one.masked[i][:, upper]).all() and np.isfinite(one.masked[i][:, ~upper]).all()
        assert (one.exp[i][:, upper] == 0).all() and np.allclose(one.exp[i].max(axis=-1), 1.0)
        np.testing.assert_allclose(one.weights[i], one.exp[i] / one.exp[i].sum(-1, keepdims=True))
        np.testing.assert_allclose(one.head_out[i], one.weights[i] @ one.v[i])


def test_loss_is_mean_cross_entropy_over_targets_not_minus_one() -> None:
    params = random_params(SMALL, seed=4)
    tokens = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    targets = np.array([[2, 3, -1, 5], [-1, -1, 8, 0]])
    loss, _ = loss_and_grads(params, SMALL, tokens, targets)
    logits = forward(params, SMALL, tokens).logits
    terms = [
        math.log(sum(math.exp(z) for z in logits[b, t])) - logits[b, t, targets[b, t]]
        for b in range(2)
        for t in range(4)
        if targets[b, t] >= 0
    ]
    assert loss == pytest.approx(sum(terms) / len(terms), rel=1e-12)


def test_every_gradient_matches_central_finite_differences() -> None:
    config = Config(vocab_size=7, d_model=4, n_heads=2, n_layers=2, d_ff=6, max_len=5)
    params = random_params(config, seed=5)
    tokens = np.array([[2, 5, 2, 2], [6, 0, 1, 5]])  # token 2 three times: tok_emb's scatter-add
    targets = np.array([[5, 2, -1, 3], [0, -1, 5, 6]])
    _, grads = loss_and_grads(params, config, tokens, targets)
    assert list(grads) == list(params) and all(grads[n].shape == params[n].shape for n in params)
    rng = np.random.default_rng(6)
    eps = 1e-6
    for name, value in params.items():
        flat = value.ravel()  # a view: editing it edits params[name]
        for j in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            saved = flat[j]
            flat[j] = saved + eps
            up = loss_and_grads(params, config, tokens, targets)[0]
            flat[j] = saved - eps
            down = loss_and_grads(params, config, tokens, targets)[0]
            flat[j] = saved
            numeric = (up - down) / (2 * eps)
            assert grads[name].ravel()[j] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (name, j)
    # rows no sentence reaches get no gradient: tokens 3 and 4, the position past T = 4
    assert not grads["tok_emb.weight"][[3, 4]].any() and not grads["pos_emb.weight"][4].any()
    assert grads["tok_emb.weight"][2].any()


def test_init_params_torch_default_scales_and_names() -> None:
    config = Config(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=8)
    params = init_params(config, seed=0)
    assert params.keys() == param_shapes(config).keys()
    assert all(params[n].shape == s for n, s in param_shapes(config).items())
    assert params["blocks.1.attn.in_proj_weight"].shape == (96, 32) and params["head.weight"].shape == (
        50,
        32,
    )
    assert (params["blocks.0.ln1.weight"] == 1).all() and not params["blocks.0.mlp.fc.bias"].any()
    # torch's defaults: nn.Embedding N(0, 1); in_proj Xavier-uniform U(±√(6 / (32 + 96))); nn.Linear
    # U(±1/√fan_in), whose standard deviation is the bound / √3
    assert params["tok_emb.weight"].std() == pytest.approx(1.0, rel=0.05)
    in_proj = params["blocks.0.attn.in_proj_weight"]
    assert np.abs(in_proj).max() <= math.sqrt(6 / 128) and in_proj.std() == pytest.approx(
        math.sqrt(2 / 128), rel=0.1
    )
    proj = params["blocks.0.mlp.proj.weight"]  # (32, 64): fan_in 64
    assert np.abs(proj).max() <= 1 / 8 and proj.std() == pytest.approx(1 / 8 / math.sqrt(3), rel=0.1)
    np.testing.assert_array_equal(init_params(config, seed=0)["head.weight"], params["head.weight"])
    assert not np.array_equal(init_params(config, seed=1)["head.weight"], params["head.weight"])


def test_bad_config_and_tokens_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="divisible"):
        Config(vocab_size=10, d_model=10, n_heads=3)
    params = init_params(SMALL)
    with pytest.raises(ValueError, match="max_len"):
        forward(params, SMALL, np.zeros(7, dtype=int))
    with pytest.raises(ValueError, match="ids in 0..10"):
        forward(params, SMALL, np.array([1, 11]))
    with pytest.raises(ValueError, match="at least one"):
        loss_and_grads(params, SMALL, np.array([[1, 2]]), np.array([[-1, -1]]))


def test_erf_matches_math_erf() -> None:
    x = np.concatenate([np.linspace(-7.0, 7.0, 4001), [0.0, 5.999999, 6.0, -1e-300]])
    np.testing.assert_allclose(erf(x), [math.erf(v) for v in x], rtol=0, atol=2e-15)


def test_next_token_probs_sum_top_k_and_temperature_limits() -> None:
    logits = np.array([0.5, 2.0, -1.0, 1.5, 2.0 - 1e-3, -3.0])
    probs = next_token_probs(logits)
    assert probs.sum() == pytest.approx(1.0) and (probs > 0).all()
    np.testing.assert_allclose(probs, np.exp(logits) / np.exp(logits).sum())
    top = next_token_probs(logits, temperature=0.7, top_k=3)
    assert top.sum() == pytest.approx(1.0)
    assert set(np.flatnonzero(top)) == {1, 3, 4} and (top[[0, 2, 5]] == 0).all()
    cold = next_token_probs(logits, temperature=1e-6)
    np.testing.assert_array_equal(cold, np.eye(6)[1])  # → the argmax as T → 0+
    assert (next_token_probs(logits, temperature=1e-300) == np.eye(6)[1]).all()
    hot = next_token_probs(logits, temperature=1e9, top_k=3)
    np.testing.assert_allclose(hot[[1, 3, 4]], 1 / 3, rtol=1e-8)  # → uniform over the top k
    warmer = next_token_probs(logits, temperature=3.0)
    assert warmer.max() < probs.max() < next_token_probs(logits, temperature=0.3).max()
    for bad in ({"temperature": 0.0}, {"temperature": -1.0}, {"top_k": 0}, {"top_k": 7}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            next_token_probs(logits, **bad)


def test_the_residual_stream_and_the_likeliest_next_words_against_plain_references():
    from layerlab.engine.tinylm.readout import residual_stream, top_next_words

    config = Config(vocab_size=20, d_model=8, n_heads=2, n_layers=2, d_ff=16, max_len=6)
    params = init_params(config, seed=3)
    f = forward(params, config, np.array([1, 4, 7, 2, 9]))
    vectors, norms = residual_stream(f)
    assert vectors.shape == (5, 5, 8)
    for s, stage in enumerate(f.resid):
        for t in range(5):
            assert norms[s, t] == pytest.approx(math.sqrt(sum(v * v for v in stage[0, t])), rel=1e-12)
    ids, probs, sampled = top_next_words(f.logits[0], 0.7, 5, 11, 3)
    for t, row in enumerate(f.logits[0]):
        p = next_token_probs(row, temperature=0.7, top_k=5)
        assert list(ids[t]) == sorted(range(20), key=lambda i: (-p[i], i))[:3]
        assert np.array_equal(probs[t], p[ids[t]])
        assert sampled[t] == np.random.default_rng(11).choice(20, p=p) and p[sampled[t]] > 0
