"""The small CNN (engine/cnn): each layer against plain loops and the engine's own conv2d and max_pool2d,
every backward against central differences, convolution's input gradient as a transposed convolution,
training, the committed weights' accuracy, the digit generator, and seed 000's circle detector."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.cnn import layers as L
from layerlab.engine.cnn.circle import SHAPES, detect
from layerlab.engine.cnn.data import SIDE, draw_digit, fit_digit, make_dataset, sample_digit
from layerlab.engine.cnn.model import (
    LAYERS,
    backward,
    conv_input_gradient_as_transposed,
    forward,
    gradients,
    init_params,
    load_weights,
    parameter_count,
    predict,
)
from layerlab.engine.cnn.model import SHAPES as PARAM_SHAPES
from layerlab.engine.cnn.train import HELD_OUT_SEED, TRAIN_SEED, train
from layerlab.engine.conv import conv2d
from layerlab.engine.pool import max_pool2d
from layerlab.engine.transposed import conv_transpose2d
from tests.engine.cnn_reference import (
    conv2d_loop,
    cross_entropy_loop,
    linear_loop,
    max_pool2x2_loop,
    numeric_gradient,
    relu_loop,
)

HELD_OUT_ACCURACY = 0.97  # measured on a fresh seed: see test_committed_weights_classify_held_out_digits
CONV_CASES = [(1, 1, 5, 5, 2, 3), (2, 3, 6, 7, 4, 3), (2, 2, 4, 6, 3, 2), (1, 4, 3, 3, 2, 3)]


def _conv_case(seed: int, n: int, c: int, h: int, w: int, o: int, k: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c, h, w)), rng.normal(size=(o, c, k, k)), rng.normal(size=o)


# ---- forward ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward_matches_loop_reference_and_engine_conv2d(case):
    x, w, b = _conv_case(1, *case)
    y = L.conv2d_forward(x, w, b)
    np.testing.assert_allclose(y, conv2d_loop(x, w, b), atol=1e-12)
    np.testing.assert_allclose(y, conv2d(x, w, b, record_steps=False).output, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 3, 5, 7), (1, 2, 26, 26), (1, 2, 11, 11)])
def test_max_pool_matches_loop_reference_and_engine_max_pool2d(shape):
    x = np.random.default_rng(2).normal(size=shape)
    y, argmax = L.max_pool2x2_forward(x)
    np.testing.assert_array_equal(y, max_pool2x2_loop(x))
    engine = max_pool2d(x, 2, 2, return_indices=True)
    np.testing.assert_array_equal(y, engine.output)
    # the winner's flat index in the input, as torch's return_indices gives it
    oh, ow = y.shape[2:]
    rows = 2 * np.arange(oh)[:, None] + argmax // 2
    cols = 2 * np.arange(ow)[None, :] + argmax % 2
    np.testing.assert_array_equal(rows * shape[3] + cols, engine.stages["indices"])


def test_max_pool_tie_goes_to_the_first_cell_in_reading_order():
    x = np.array([[[[1.0, 2], [2, 0]], [[5.0, 5], [5, 5]]]])
    _, argmax = L.max_pool2x2_forward(x)
    np.testing.assert_array_equal(argmax[0, :, 0, 0], [1, 0])


def test_relu_linear_and_cross_entropy_match_loop_references():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4, 4))
    np.testing.assert_array_equal(L.relu_forward(x), relu_loop(x))
    v, w, b = rng.normal(size=(3, 7)), rng.normal(size=(4, 7)), rng.normal(size=4)
    np.testing.assert_allclose(L.linear_forward(v, w, b), linear_loop(v, w, b), atol=1e-12)
    logits, target = rng.normal(size=(5, 10)) * 30, np.array([0, 3, 9, 3, 1])  # large: exp would overflow
    loss, probs = L.cross_entropy_forward(logits, target)
    assert loss == pytest.approx(cross_entropy_loop(logits, target), rel=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(L.softmax(logits), probs, atol=1e-12)


def test_forward_records_every_stage_with_the_documented_shape():
    params = init_params(0)
    t = forward(np.random.default_rng(4).random((28, 28)), params)
    for name, shape in LAYERS:
        assert t.stages[name].shape == shape, name
    assert t.output.shape == (1, 10) and t.output.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(t.stages["flatten"][0], t.stages["pool2"][0].reshape(-1))
    assert parameter_count() == parameter_count(params) == 80 + 1168 + 4010
    assert {name: p.shape for name, p in params.items()} == PARAM_SHAPES


def test_forward_refuses_another_input_shape():
    with pytest.raises(ValueError, match="28, 28"):
        forward(np.zeros((1, 1, 27, 28)), init_params(0))


# ---- backward -------------------------------------------------------------------------------------


def _loss_with(upstream: np.ndarray, f):
    """A scalar sum(upstream * f()) whose gradient w.r.t. f's output is `upstream`."""
    return lambda: float((upstream * f()).sum())


@pytest.mark.parametrize("case", CONV_CASES[:3])
def test_conv2d_backward_matches_central_differences(case):
    x, w, b = _conv_case(5, *case)
    g = np.random.default_rng(6).normal(size=L.conv2d_forward(x, w, b).shape)
    grad_x, grad_w, grad_b = L.conv2d_backward(x, w, g)
    f = _loss_with(g, lambda: L.conv2d_forward(x, w, b))
    np.testing.assert_allclose(grad_x, numeric_gradient(f, x), atol=1e-6)
    np.testing.assert_allclose(grad_w, numeric_gradient(f, w), atol=1e-6)
    np.testing.assert_allclose(grad_b, numeric_gradient(f, b), atol=1e-6)


def test_relu_and_max_pool_backward_match_central_differences():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 2, 5, 6))
    x[np.abs(x) < 1e-3] = 0.5  # keep every value away from ReLU's kink
    g = rng.normal(size=x.shape)
    np.testing.assert_allclose(
        L.relu_backward(x, g), numeric_gradient(_loss_with(g, lambda: L.relu_forward(x)), x), atol=1e-7
    )
    y, argmax = L.max_pool2x2_forward(x)
    gy = rng.normal(size=y.shape)
    routed = L.max_pool2x2_backward(argmax, gy, x.shape)
    numeric = numeric_gradient(_loss_with(gy, lambda: L.max_pool2x2_forward(x)[0]), x)
    np.testing.assert_allclose(routed, numeric, atol=1e-7)
    assert (routed[:, :, 4, :] == 0).all()  # the dropped last row gets no gradient
    assert np.count_nonzero(routed) == y.size  # one winner per window


def test_linear_flatten_and_cross_entropy_backward_match_central_differences():
    rng = np.random.default_rng(8)
    x, w, b = rng.normal(size=(3, 6)), rng.normal(size=(4, 6)), rng.normal(size=4)
    g = rng.normal(size=(3, 4))
    grad_x, grad_w, grad_b = L.linear_backward(x, w, g)
    f = _loss_with(g, lambda: L.linear_forward(x, w, b))
    for analytic, wrt in ((grad_x, x), (grad_w, w), (grad_b, b)):
        np.testing.assert_allclose(analytic, numeric_gradient(f, wrt), atol=1e-7)
    logits, target = rng.normal(size=(3, 10)), np.array([2, 0, 7])
    _, probs = L.cross_entropy_forward(logits, target)
    numeric = numeric_gradient(lambda: L.cross_entropy_forward(logits, target)[0], logits)
    np.testing.assert_allclose(L.cross_entropy_backward(probs, target), numeric, atol=1e-7)
    t = rng.normal(size=(2, 3, 2, 2))
    np.testing.assert_array_equal(L.flatten_backward(L.flatten_forward(t), t.shape), t)


def test_whole_network_gradients_match_central_differences_at_sampled_entries():
    params = init_params(9)
    rng = np.random.default_rng(10)
    x, target = rng.random((2, 1, 28, 28)), np.array([3, 8])
    _, grads = gradients(forward(x, params), target, params)

    def loss() -> float:
        return gradients(forward(x, params), target, params)[0]

    for name, p in [*params.items(), ("grad_input", x)]:
        at = [tuple(int(rng.integers(0, n)) for n in p.shape) for _ in range(4)]
        analytic = [grads[name][idx] for idx in at]
        np.testing.assert_allclose(analytic, numeric_gradient(loss, p, at=at), atol=1e-6, err_msg=name)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_input_gradient_is_the_transposed_convolution_of_the_output_gradient(case):
    x, w, b = _conv_case(11, *case)
    g = np.random.default_rng(12).normal(size=L.conv2d_forward(x, w, b).shape)
    grad_x, _, _ = L.conv2d_backward(x, w, g)
    np.testing.assert_allclose(grad_x, conv_transpose2d(g, w).output, atol=1e-12)
    np.testing.assert_allclose(grad_x, conv_input_gradient_as_transposed(g, w), atol=1e-12)


def test_backward_trace_holds_every_gradient_and_the_transposed_identity():
    params = init_params(13)
    x = sample_digit(4, 0)
    t = backward(x, 4, params)
    fwd = forward(x, params)
    for name, shape in LAYERS[:-1]:
        assert t.stages[f"grad_{name}"].shape == shape, name
    for name, shape in PARAM_SHAPES.items():
        assert t.stages[name].shape == shape
    assert t.output == pytest.approx(-np.log(fwd.output[0, 4]))
    # dL/dlogits = p - onehot(target)
    np.testing.assert_allclose(t.stages["grad_logits"][0], fwd.output[0] - np.eye(10)[4], atol=1e-12)
    diffs = t.params["transposed_max_abs_diff"]
    assert diffs["conv1"] < 1e-12 and diffs["conv2"] < 1e-12
    np.testing.assert_allclose(t.stages["grad_pool1_transposed"], t.stages["grad_pool1"], atol=1e-12)
    with pytest.raises(ValueError, match="class 0-9"):
        backward(x, 10, params)


# ---- training and the committed weights -------------------------------------------------------------


def test_a_short_retraining_lowers_the_loss():
    images, labels = make_dataset(300, TRAIN_SEED)
    params, losses = train(images, labels, epochs=2, batch=32, lr=5e-3)
    initial = gradients(forward(images, init_params(0)), labels, init_params(0))[0]
    final = gradients(forward(images, params), labels, params)[0]
    assert losses[1] < losses[0] < initial
    assert final < 0.5 * initial


def test_committed_weights_classify_held_out_digits():
    """Held-out digits from a seed neither training (2024) nor the training script's check (7) used."""
    seed = 31337
    assert seed not in (TRAIN_SEED, HELD_OUT_SEED)
    images, labels = make_dataset(500, seed)
    params = load_weights()
    assert all(p.dtype == np.float64 for p in params.values())
    accuracy = (predict(images, params) == labels).mean()
    assert accuracy >= HELD_OUT_ACCURACY


# ---- the digit generator ------------------------------------------------------------------------


def test_generator_is_deterministic_in_range_and_cycles_the_classes():
    a, la = make_dataset(30, 5)
    b, lb = make_dataset(30, 5)
    c, _ = make_dataset(30, 6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert a.shape == (30, 1, 28, 28) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(la, np.arange(30) % 10)
    np.testing.assert_array_equal(sample_digit(7, 3), sample_digit(7, 3))
    assert not np.array_equal(sample_digit(7, 3), sample_digit(7, 4))


def test_fit_digit_scales_the_ink_to_20_pixels_and_centres_its_mass():
    drawing = draw_digit(1, np.random.default_rng(0))
    fitted = fit_digit(drawing)
    ink = np.argwhere(fitted >= 0.1 * fitted.max())
    extent = ink.max(axis=0) - ink.min(axis=0) + 1
    assert 18 <= extent.max() <= 21
    ys, xs = np.mgrid[0:SIDE, 0:SIDE] + 0.5
    centre = np.array([(ys * fitted).sum(), (xs * fitted).sum()]) / fitted.sum()
    assert np.abs(centre - SIDE / 2).max() <= 0.5
    np.testing.assert_array_equal(fit_digit(np.zeros((40, 30))), np.zeros((28, 28)))


def test_fit_digit_gives_nearly_the_same_input_for_a_drawing_at_another_size_and_place():
    """What the page relies on: a digit drawn big in a corner of the canvas reads as the same digit."""
    small = draw_digit(3, np.random.default_rng(1))
    big = np.zeros((100, 100))
    big[10:94, 5:89] = np.kron(small, np.ones((3, 3)))  # three times larger, off centre
    a, b = fit_digit(small), fit_digit(big)
    assert np.abs(a - b).mean() < 0.05
    params = load_weights()
    assert forward(a, params).output.argmax() == forward(b, params).output.argmax() == 3


# ---- seed 000's circle detector -----------------------------------------------------------------------


def test_circle_detector_fires_for_the_circle_only():
    fired = {name: detect(image).params["fires"] for name, image in SHAPES.items()}
    assert fired == {name: name == "circle" for name in SHAPES}
    assert set(SHAPES) == {"circle", "square", "plus", "cross", "filled", "blank"}


def test_circle_detector_maps_have_five_channels_and_each_arc_matches_its_corner():
    t = detect(SHAPES["circle"])
    assert t.stages["parts"].shape == (5, 2, 2)  # the seed says 4x2x2: five kernels make five channels
    assert t.stages["detector"].shape == (1, 5, 2, 2)
    parts = t.stages["parts"]
    for channel, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        assert parts[channel, r, c] == 4.0 == parts[channel].max()  # four ink cells matched, none missed
    assert t.output.item() == 4 * 4.0 - 14.0
    np.testing.assert_allclose(t.stages["contributions"].sum() + t.params["bias"], t.output.item())
