"""The network over the plane and the initialization demo, against loops and seed 000's argument."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.app.pages.dense.schemas import SINGLE, TRIANGLE, UNION
from layerlab.engine.init_demo import init_demo, init_params, loss_and_grads, toy_set, train
from layerlab.engine.mlp import ACTIVATIONS, clip_line, mlp_plane
from tests.engine.dense_reference import bce_loop, mlp_point

NAMES = list(ACTIVATIONS)


def random_net(rng, sizes, names):
    weights = [rng.normal(size=(b, a)) for a, b in zip(sizes, sizes[1:], strict=False)]
    biases = [rng.normal(size=b) for b in sizes[1:]]
    return weights, biases, names


def as_arrays(layers):
    return (
        [np.array(layer["weight"], float) for layer in layers],
        [np.array(layer["bias"], float) for layer in layers],
    )


@pytest.mark.parametrize("seed", range(6))
def test_plane_matches_loop_reference_at_every_grid_point(seed):
    rng = np.random.default_rng(seed)
    sizes = [2, *rng.integers(1, 5, size=int(rng.integers(1, 4))).tolist()]
    names = [NAMES[(seed + k) % len(NAMES)] for k in range(len(sizes) - 1)]
    weights, biases, names = random_net(rng, sizes, names)
    t = mlp_plane(weights, biases, names, extent=2.0, resolution=9)
    axis = t.stages["axis"]
    np.testing.assert_allclose(axis, np.linspace(-2, 2, 9))
    for r, x2 in enumerate(axis):  # rows follow x2, columns x1
        for c, x1 in enumerate(axis):
            for layer, (z, h) in enumerate(mlp_point((x1, x2), weights, biases, names), start=1):
                np.testing.assert_allclose(t.stages[f"pre{layer}"][:, r, c], z, rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(t.stages[f"post{layer}"][:, r, c], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(t.output, t.stages[f"post{len(names)}"])


def test_triangle_preset_fires_inside_the_triangle_only():
    weights, biases = as_arrays(TRIANGLE)
    t = mlp_plane(weights, biases, ["step", "step"], extent=3.0, resolution=61)
    axis = t.stages["axis"]
    region = t.stages["region"][0]
    x1, x2 = np.meshgrid(axis, axis)
    # the triangle with corners (-2, -1.5), (2, -1.5), (0, 2), as the three half-planes say
    inside = (x2 + 1.5 > 0) & (1.75 * x1 - x2 + 2 > 0) & (-1.75 * x1 - x2 + 2 > 0)
    np.testing.assert_array_equal(region, inside.astype(int))
    assert region[30, 30] == 1 and region[0, 0] == 0  # the origin is inside, a corner of the plane is not


def test_union_preset_region_is_not_convex():
    weights, biases = as_arrays(UNION)
    t = mlp_plane(weights, biases, ["step"] * 3, extent=3.0, resolution=61)
    region, axis = t.stages["region"][0], t.stages["axis"]
    row = int(np.argmin(np.abs(axis - 0.0)))  # the line x2 = 0 crosses both pieces and the gap between
    left, gap, right = (int(np.argmin(np.abs(axis - v))) for v in (-1.5, 0.0, 1.5))
    assert region[row, left] == 1 and region[row, right] == 1
    assert region[row, gap] == 0  # two points in the region, the midpoint between them not: non-convex
    # the second layer's two neurons are each convex pieces: the triangle and the rectangle
    assert t.stages["post2"][0][row, left] == 1 and t.stages["post2"][1][row, right] == 1


def test_seed_003_single_neuron_is_rectified():
    weights, biases = as_arrays(SINGLE)
    t = mlp_plane(weights, biases, ["relu"], extent=3.0, resolution=7)
    x1, x2 = np.meshgrid(t.stages["axis"], t.stages["axis"])
    np.testing.assert_allclose(t.stages["pre1"][0], 2 * x2 - x1)
    np.testing.assert_allclose(t.output[0], np.maximum(2 * x2 - x1, 0))


@pytest.mark.parametrize("seed", range(10))
def test_clipped_lines_lie_on_the_line_and_the_planes_edge(seed):
    rng = np.random.default_rng(seed)
    w, b, e = rng.normal(size=2), float(rng.normal(scale=2)), 3.0
    segment = clip_line(w, b, e)
    if np.isnan(segment).any():  # a miss: the line stays on one side of every corner
        corners = np.array([[-e, -e], [-e, e], [e, -e], [e, e]])
        values = corners @ w + b
        assert (values > 0).all() or (values < 0).all()
        return
    for p in segment:
        assert abs(p @ w + b) < 1e-9
        assert np.isclose(np.abs(p).max(), e)  # on the edge of the plane
    assert np.linalg.norm(segment[0] - segment[1]) > 0


def test_axis_aligned_and_missing_lines():
    np.testing.assert_allclose(clip_line(np.array([0.0, 1.0]), 1.5, 3.0), [[-3, -1.5], [3, -1.5]])
    assert np.isnan(clip_line(np.array([1.0, 0.0]), 5.0, 3.0)).all()  # x1 = -5 is off the plane
    assert np.isnan(clip_line(np.array([0.0, 0.0]), 1.0, 3.0)).all()  # no line at all


def test_normals_point_to_the_positive_side():
    weights, biases = as_arrays(TRIANGLE)
    t = mlp_plane(weights, biases, ["step", "step"])
    for (p0, p1), n, w, b in zip(t.stages["lines"], t.stages["normals"], weights[0], biases[0], strict=True):
        mid = (p0 + p1) / 2
        assert np.isclose(np.linalg.norm(n), 1)
        assert (mid + 0.1 * n) @ w + b > 0


def test_plane_rejects_chained_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match="layer 1"):
        mlp_plane([np.ones((3, 2)), np.ones((1, 2))], [np.ones(3), np.ones(1)], ["relu", "relu"])


# ---- the initialization demo (seed 000) ----------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("mode", ["constant", "random"])
def test_backward_matches_central_finite_differences(activation, mode):
    x, y = toy_set("xor", 24, seed=3)
    params = init_params(3, mode, constant=0.3, seed=5)
    if mode == "constant":  # make the neurons differ so every gradient entry is tested on its own
        params["W1"] = params["W1"] + np.array([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]])
    loss, grads = loss_and_grads(params, x, y, activation)
    assert loss == pytest.approx(bce_loop(params, x, y, activation), rel=1e-12)
    h = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in params.items()}
                moved[name][index] += sign * h
                numeric[index] += sign * bce_loop(moved, x, y, activation) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("kind", ["xor", "circle"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_constant_init_neurons_stay_exactly_identical(kind, activation):
    t = init_demo(kind=kind, activation=activation, hidden=5, epochs=200, constant=0.7)
    for mode in ("constant",):
        hidden = t.steps[f"{mode}_hidden"]  # (E + 1, H, 3)
        assert hidden.shape == (201, 5, 3)
        np.testing.assert_array_equal(hidden, np.broadcast_to(hidden[:, :1], hidden.shape))
        assert not np.array_equal(hidden[0], hidden[-1])  # they did move, all together
    random = t.steps["random_hidden"]
    assert np.abs(random[-1] - random[-1][:1]).max() > 0.5


@pytest.mark.parametrize("kind", ["xor", "circle"])
def test_random_init_learns_the_toy_set_and_constant_init_cannot(kind):
    t = init_demo(kind=kind, hidden=4, activation="tanh", epochs=300, lr=0.5, seed=0)
    s = t.steps
    assert s["random_accuracy"][-1] >= 0.95
    assert s["random_loss"][-1] < 0.25 * s["random_loss"][0]
    assert np.all(np.diff(s["random_loss"]) < 1e-9)  # full-batch descent with a small step: never up
    assert s["constant_accuracy"][-1] <= 0.8  # all neurons one line: neither set is separable by one
    assert s["constant_loss"][-1] > 2 * s["random_loss"][-1] + 0.3


def test_init_demo_regions_are_the_final_networks_predictions():
    t = init_demo(epochs=50, resolution=11)
    assert t.output.shape == (2, 11, 11)
    np.testing.assert_array_equal(t.stages["constant_region"], (t.output[0] > 0.5).astype(int))
    np.testing.assert_array_equal(t.stages["random_region"], (t.output[1] > 0.5).astype(int))


def test_train_records_the_start_and_every_epoch():
    x, y = toy_set("circle", 20, seed=1)
    run = train(init_params(2, "random", seed=2), x, y, "tanh", epochs=7, lr=0.1)
    assert run["loss"].shape == (8,) and run["hidden"].shape == (8, 2, 3) and run["output"].shape == (8, 3)
    start = init_params(2, "random", seed=2)
    np.testing.assert_array_equal(run["hidden"][0], np.column_stack([start["W1"], start["b1"]]))


def test_toy_sets_are_seeded_and_balanced():
    for kind in ("xor", "circle"):
        x, y = toy_set(kind, 40, seed=9)
        x2, y2 = toy_set(kind, 40, seed=9)
        np.testing.assert_array_equal(x, x2)
        assert y.sum() == 20 and np.abs(x).max() < 3
    with pytest.raises(ValueError, match="unknown toy set"):
        toy_set("moons", 10, 0)
