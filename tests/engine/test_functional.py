"""layerlab.functional against torch's documented signatures, plain-loop references, the engine's
own functions (argument order), torch's dtype rule, and the engine's one softmax."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import layerlab.functional as F
from layerlab.engine import activations, attention, norm, pool_regions, transposed
from layerlab.engine.cnn import layers
from layerlab.engine.trace import Trace
from tests.engine import activation_reference as AR
from tests.engine import attention_reference as ATT
from tests.engine import pool_reference as PR
from tests.engine import reference as R

# torch.nn.functional's signatures as its documentation (2.5) writes them
CONV_TRANSPOSE = "input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1"
MAX_POOL = "input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False"
TORCH_SIGNATURES = {
    "conv1d": "input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1",
    "conv2d": "input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1",
    "conv_transpose1d": CONV_TRANSPOSE,
    "conv_transpose2d": CONV_TRANSPOSE,
    "max_pool1d": MAX_POOL,
    "max_pool2d": MAX_POOL,
    "avg_pool1d": "input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True",
    "avg_pool2d": "input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
    "divisor_override=None",
    "lp_pool1d": "input, norm_type, kernel_size, stride=None, ceil_mode=False",
    "lp_pool2d": "input, norm_type, kernel_size, stride=None, ceil_mode=False",
    "adaptive_avg_pool2d": "input, output_size",
    "adaptive_max_pool2d": "input, output_size, return_indices=False",
    "fractional_max_pool2d": "input, kernel_size, output_size=None, output_ratio=None, return_indices=False, "
    "_random_samples=None",
    "batch_norm": "input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, "
    "eps=1e-05",
    "instance_norm": "input, running_mean=None, running_var=None, weight=None, bias=None, "
    "use_input_stats=True, momentum=0.1, eps=1e-05",
    "layer_norm": "input, normalized_shape, weight=None, bias=None, eps=1e-05",
    "group_norm": "input, num_groups, weight=None, bias=None, eps=1e-05",
    "rms_norm": "input, normalized_shape, weight=None, eps=None",
    "local_response_norm": "input, size, alpha=0.0001, beta=0.75, k=1.0",
    "relu": "input, inplace=False",
    "leaky_relu": "input, negative_slope=0.01, inplace=False",
    "prelu": "input, weight",
    "elu": "input, alpha=1.0, inplace=False",
    "gelu": "input, approximate='none'",
    "sigmoid": "input",
    "tanh": "input",
    "silu": "input, inplace=False",
    "softmax": "input, dim=None, _stacklevel=3, dtype=None",
    "log_softmax": "input, dim=None, _stacklevel=3, dtype=None",
    "linear": "input, weight, bias=None",
    "scaled_dot_product_attention": "query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, "
    "scale=None, enable_gqa=False",
    "channel_shuffle": "input, groups",
    "pad": "input, pad, mode='constant', value=None",
}


def signature_text(fn) -> str:
    """A signature as torch's documentation writes it: names, defaults, '*' before keyword-only ones."""
    parts, starred = [], False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not starred:
            parts.append("*")
            starred = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(parts)


def test_the_namespace_holds_exactly_the_documented_functions():
    assert sorted(F.__all__) == sorted(TORCH_SIGNATURES)
    assert all(callable(getattr(F, name)) for name in F.__all__)


@pytest.mark.parametrize("name", sorted(TORCH_SIGNATURES))
def test_signature_equals_torchs(name):
    assert signature_text(getattr(F, name)) == TORCH_SIGNATURES[name]


def normal(seed: int, *shape: int, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- values against plain loops ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv2d_relu_max_pool2d_composes_and_matches_loop_references(seed):
    rng = np.random.default_rng(seed)
    c_in, groups = int(rng.integers(1, 3)) * 2, int(rng.choice([1, 2]))
    size, stride, padding, dilation = (
        int(rng.integers(6, 10)),
        int(rng.integers(1, 3)),
        1,
        int(rng.integers(1, 3)),
    )
    x, w, b = (
        normal(seed, 2, c_in, size, size),
        normal(seed + 10, 4, c_in // groups, 3, 3),
        normal(seed + 20, 4),
    )
    conv = F.conv2d(x, w, b, stride, padding, dilation, groups)
    expected = R.conv2d_loop(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(conv, expected, atol=1e-12)
    pooled, indices = F.max_pool2d(F.relu(conv), 2, return_indices=True)
    want, want_indices = PR.max_pool2d_loop(np.maximum(expected, 0.0), 2)
    assert isinstance(pooled, Trace) and np.asarray(pooled).shape == want.shape
    np.testing.assert_allclose(pooled, want, atol=1e-12)
    np.testing.assert_array_equal(indices, want_indices)
    assert indices.dtype == np.int64


def test_conv1d_and_conv_transpose2d_match_loop_references():
    x1, w1 = normal(3, 2, 4, 11), normal(4, 6, 2, 3)
    np.testing.assert_allclose(
        F.conv1d(x1, w1, None, 2, 1, 2, 2), R.conv1d_loop(x1, w1, None, 2, 1, 2, 2), atol=1e-12
    )
    x2, w2, b2 = normal(5, 1, 2, 4, 5), normal(6, 2, 3, 3, 2), normal(7, 3)
    np.testing.assert_allclose(
        F.conv_transpose2d(x2, w2, b2, 2, 1, 1, 1, 1),
        R.conv_transpose2d_loop(x2, w2, b2, 2, 1, 1, 1, 1),
        atol=1e-12,
    )


def test_pooling_matches_loop_references():
    x = normal(8, 2, 3, 7, 9)
    np.testing.assert_allclose(
        F.avg_pool2d(x, 3, 2, 1, True, False, None), PR.avg_pool2d_loop(x, 3, 2, 1, True, False), atol=1e-12
    )
    np.testing.assert_allclose(
        F.lp_pool2d(np.abs(x), 3.0, 2), PR.lp_pool2d_loop(np.abs(x), 3.0, 2), atol=1e-12
    )
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 4)), PR.adaptive_pool2d_loop(x, (3, 4), "avg")[0])
    values, indices = F.adaptive_max_pool2d(x, (2, 5), return_indices=True)
    want, want_indices = PR.adaptive_pool2d_loop(x, (2, 5), "max")
    np.testing.assert_allclose(values, want)
    np.testing.assert_array_equal(indices, want_indices)
    row = x[:, :, 0, :]  # (N, C, L): 1-D pooling is the 2-D pooling of one row
    values1d, indices1d = F.max_pool1d(row, 3, 2, 1, return_indices=True)
    want1d, want_indices1d = PR.max_pool2d_loop(row[:, :, None, :], (1, 3), (1, 2), (0, 1))
    np.testing.assert_allclose(values1d, want1d[:, :, 0])
    np.testing.assert_array_equal(indices1d, want_indices1d[:, :, 0])


def test_softmax_log_softmax_and_silu_match_loop_references():
    x = normal(9, 2, 3, 4) * 3
    for dim in (0, 1, -1):
        np.testing.assert_allclose(F.softmax(x, dim), AR.softmax(x, dim % 3), rtol=1e-13)
        np.testing.assert_allclose(F.log_softmax(x, dim), np.log(AR.softmax(x, dim % 3)), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x), F.softmax(x, 0))  # torch's deprecated default for 3-D input
    np.testing.assert_allclose(F.silu(x), AR.elementwise(lambda v: v * AR.sigmoid(v), x), rtol=1e-13)


def test_scaled_dot_product_attention_with_gqa_shares_each_key_head_between_query_heads():
    q, k, v = normal(10, 4, 3, 5), normal(11, 2, 6, 5), normal(12, 2, 6, 7)  # 4 query heads, 2 key heads
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    for h in range(4):
        want = ATT.sdpa_loop(q[h], k[h // 2], v[h // 2], is_causal=True)
        np.testing.assert_allclose(out[h], want[0] if isinstance(want, tuple) else want, atol=1e-12)
    with pytest.raises(ValueError, match="enable_gqa"):
        F.scaled_dot_product_attention(normal(0, 3, 2, 5), k, v, enable_gqa=True)


def test_pad_matches_numpy_per_mode_and_crops_with_negative_amounts():
    x = normal(13, 1, 2, 4, 5)
    np.testing.assert_array_equal(
        F.pad(x, (1, 2), value=7.0), np.pad(x, [(0, 0)] * 3 + [(1, 2)], constant_values=7)
    )
    pads = (1, 1, 2, 0)  # (left, right) of W, then (top, bottom) of H
    for mode, padding_mode in (("reflect", "reflect"), ("replicate", "replicate"), ("circular", "circular")):
        np.testing.assert_allclose(F.pad(x, pads, mode), R.pad_loop(x, (2, 0, 1, 1), padding_mode))
    np.testing.assert_array_equal(F.pad(x, (-1, 0, 0, -2)), x[:, :, :2, 1:])
    with pytest.raises(ValueError, match="mode"):
        F.pad(x, (1, 1), "edge")


# --- every adapter passes its arguments where the engine expects them ----------------------------


def engine_calls():
    """(functional call, the engine call with keyword arguments) pairs that must give equal outputs."""
    x, w3 = normal(14, 2, 4, 6, 6), normal(15, 4, 2, 3, 3)
    mean, var, gamma, beta = normal(16, 4), np.abs(normal(17, 4)) + 0.5, normal(18, 4), normal(19, 4)
    wt = normal(20, 4, 3, 3, 3)
    return {
        "batch_norm": (
            lambda: F.batch_norm(x, mean, var, gamma, beta, True, 0.3, 1e-3),
            lambda: norm.batch_norm(
                x,
                running_mean=mean,
                running_var=var,
                weight=gamma,
                bias=beta,
                training=True,
                momentum=0.3,
                eps=1e-3,
            ),
        ),
        "instance_norm": (
            lambda: F.instance_norm(x, None, None, gamma, beta, True, 0.1, 1e-3),
            lambda: norm.instance_norm(x, weight=gamma, bias=beta, eps=1e-3),
        ),
        "group_norm": (
            lambda: F.group_norm(x, 2, gamma, beta, 1e-3),
            lambda: norm.group_norm(x, 2, gamma, beta, 1e-3),
        ),
        "layer_norm": (
            lambda: F.layer_norm(x, (6, 6), None, None, 1e-3),
            lambda: norm.layer_norm(x, normalized_shape=(6, 6), eps=1e-3),
        ),
        "rms_norm": (lambda: F.rms_norm(x, 6, None, 1e-3), lambda: norm.rms_norm(x, 6, eps=1e-3)),
        "conv_transpose2d": (
            lambda: F.conv_transpose2d(x, wt, None, 2, 1, 1, 1, 2),
            lambda: transposed.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1, dilation=2),
        ),
        "grouped conv2d": (
            lambda: F.conv2d(x, w3, None, 1, "same", 1, 2),
            lambda: R.conv2d_loop(x, w3, None, 1, "same", 1, 2),
        ),
        "gelu": (lambda: F.gelu(x, "tanh"), lambda: activations.gelu(x, approximate="tanh")),
        "leaky_relu": (lambda: F.leaky_relu(x, 0.2), lambda: activations.leaky_relu(x, negative_slope=0.2)),
        "elu": (lambda: F.elu(x, 0.5), lambda: activations.elu(x, alpha=0.5)),
        "adaptive_avg_pool2d": (
            lambda: F.adaptive_avg_pool2d(x, 4),
            lambda: pool_regions.adaptive_avg_pool2d(x, output_size=4),
        ),
        "linear": (
            lambda: F.linear(x[0, 0], normal(21, 3, 6), normal(22, 3)),
            lambda: ATT.linear_loop(x[0, 0], normal(21, 3, 6), normal(22, 3)),
        ),
    }


@pytest.mark.parametrize("name", sorted(engine_calls()))
def test_adapter_gives_the_engines_output(name):
    ours, theirs = engine_calls()[name]
    np.testing.assert_allclose(ours(), np.asarray(theirs()), atol=1e-12)


# --- dtype follows the input, as in torch --------------------------------------------------------


def calls(dtype):
    """One call of every function on `dtype` inputs."""
    x, img, seq = (
        normal(30, 2, 3, 4, dtype=dtype),
        normal(31, 1, 4, 6, 6, dtype=dtype),
        normal(32, 1, 2, 9, dtype=dtype),
    )
    return {
        "conv1d": lambda: F.conv1d(seq, normal(33, 3, 2, 3, dtype=dtype)),
        "conv2d": lambda: F.conv2d(img, normal(34, 2, 4, 3, 3, dtype=dtype)),
        "conv_transpose1d": lambda: F.conv_transpose1d(seq, normal(35, 2, 3, 3, dtype=dtype)),
        "conv_transpose2d": lambda: F.conv_transpose2d(img, normal(36, 4, 2, 3, 3, dtype=dtype)),
        "max_pool1d": lambda: F.max_pool1d(seq, 2, return_indices=True),
        "max_pool2d": lambda: F.max_pool2d(img, 2),
        "avg_pool1d": lambda: F.avg_pool1d(seq, 2),
        "avg_pool2d": lambda: F.avg_pool2d(img, 3, 1, 1),
        "lp_pool1d": lambda: F.lp_pool1d(seq, 2.0, 3),
        "lp_pool2d": lambda: F.lp_pool2d(img, 2.0, 2),
        "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(img, 2),
        "adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(img, 3, return_indices=True),
        "fractional_max_pool2d": lambda: F.fractional_max_pool2d(img, 2, output_size=3),
        "batch_norm": lambda: F.batch_norm(img, None, None, training=True),
        "instance_norm": lambda: F.instance_norm(img),
        "layer_norm": lambda: F.layer_norm(x, 4),
        "group_norm": lambda: F.group_norm(img, 2),
        "rms_norm": lambda: F.rms_norm(x, [3, 4]),
        "local_response_norm": lambda: F.local_response_norm(img, 3),
        "relu": lambda: F.relu(x),
        "leaky_relu": lambda: F.leaky_relu(x),
        "prelu": lambda: F.prelu(img, np.full(4, 0.25, dtype=dtype)),
        "elu": lambda: F.elu(x),
        "gelu": lambda: F.gelu(x),
        "sigmoid": lambda: F.sigmoid(x),
        "tanh": lambda: F.tanh(x),
        "silu": lambda: F.silu(x),
        "softmax": lambda: F.softmax(x, -1),
        "log_softmax": lambda: F.log_softmax(x, 1),
        "linear": lambda: F.linear(x, normal(37, 5, 4, dtype=dtype)),
        "scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(x, x, x),
        "channel_shuffle": lambda: F.channel_shuffle(img, 2),
        "pad": lambda: F.pad(x, (1, 1)),
    }


def test_the_dtype_table_covers_every_function():
    assert sorted(calls(np.float64)) == sorted(F.__all__)


@pytest.mark.parametrize("name", sorted(TORCH_SIGNATURES))
def test_output_dtype_follows_the_input(name):
    results = {}
    for dtype in (np.float32, np.float64):
        result = calls(dtype)[name]()
        trace = result[0] if isinstance(result, tuple) else result
        assert isinstance(trace, Trace)
        assert trace.dtype == dtype and np.asarray(trace).dtype == dtype
        results[dtype] = np.asarray(trace)
    np.testing.assert_allclose(results[np.float32], results[np.float64], rtol=1e-4, atol=1e-4)


def test_softmax_dtype_argument_casts_first_as_torch():
    x = normal(40, 3, 5)
    assert F.softmax(x, 1, dtype=np.float32).dtype == np.float32
    assert F.log_softmax(x.astype(np.float32), 1, dtype=np.float64).dtype == np.float64


# --- one softmax ---------------------------------------------------------------------------------


def test_every_softmax_in_the_engine_is_the_one_softmax_parts():
    logits = normal(41, 4, 10) * 5
    want = activations.softmax_parts(logits, -1)["output"]
    for got in (
        F.softmax(logits, -1),
        activations.softmax(logits, -1),
        attention.softmax(logits),
        layers.softmax(logits),
    ):
        np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_allclose(want, AR.softmax(logits, 1), rtol=1e-13)
    for fn in (
        activations.softmax,
        attention.softmax,
        layers.softmax,
        attention.scaled_dot_product_attention,
    ):
        assert "softmax_parts" in fn.__code__.co_names, fn.__qualname__
