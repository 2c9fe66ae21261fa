"""F.linear and parameter counts against plain loops and seed 001's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.linear import linear, parameter_count
from tests.engine.dense_reference import linear_loop, parameter_count_loop

SHAPES = [(3,), (5, 3), (2, 4, 3), (2, 1, 3, 2), (1, 7)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_loop_reference_over_random_shapes_and_batch_dims(seed, with_bias):
    rng = np.random.default_rng(seed)
    shape = SHAPES[seed % len(SHAPES)]
    out_features = int(rng.integers(1, 6))
    x = rng.normal(size=shape)
    w = rng.normal(size=(out_features, shape[-1]))
    b = rng.normal(size=out_features) if with_bias else None
    t = linear(x, w, b)
    assert t.output.shape == (*shape[:-1], out_features)
    np.testing.assert_allclose(t.output, linear_loop(x, w, b), rtol=1e-12, atol=1e-12)


def test_linear_steps_write_out_each_neurons_weighted_sum():
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    w = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]])
    b = np.array([0.1, -0.2])
    t = linear(x, w, b)
    assert t.num_steps == 4
    np.testing.assert_array_equal(t.steps["index"], [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(t.steps["neuron"], [0, 1, 0, 1])
    step = t.step(1)  # sample 0, neuron 1
    np.testing.assert_array_equal(step["inputs"], [1, 2, 3])
    np.testing.assert_array_equal(step["weights"], [1, 0, -0.5])
    np.testing.assert_array_equal(step["products"], [1, 0, -1.5])
    assert step["sum"] == -0.5 and step["bias"] == -0.2
    assert step["result"] == pytest.approx(-0.7)
    for i in range(t.num_steps):  # every step lands where its index says (the output is one matmul)
        np.testing.assert_allclose(
            t.output[tuple(t.steps["index"][i])], t.steps["result"][i], rtol=1e-12, atol=1e-12
        )


def test_linear_without_bias_records_zero_bias_and_says_so():
    t = linear(np.ones(2), np.array([[2.0, 3.0]]))
    assert t.params["bias"] is False
    np.testing.assert_array_equal(t.steps["bias"], [0.0])
    np.testing.assert_array_equal(t.output, [5.0])


@pytest.mark.parametrize(
    ("x", "w", "b", "message"),
    [
        (np.ones((2, 3)), np.ones((4, 2)), None, "in_features = 2"),
        (np.ones(3), np.ones(3), None, "weight must be"),
        (np.ones(3), np.ones((2, 3)), np.ones(3), "bias must be"),
    ],
)
def test_linear_rejects_mismatched_shapes(x, w, b, message):
    with pytest.raises(ValueError, match=message):
        linear(x, w, b)


@pytest.mark.parametrize(("sizes", "total"), [([3, 4, 2], 26), ([3, 4, 4, 1], 41)])
def test_seed_001_parameter_counts(sizes, total):
    t = parameter_count(sizes)
    assert int(t.output) == total
    np.testing.assert_array_equal(t.stages["weights"] + t.stages["biases"], t.stages["parameters"])
    assert t.params["torch"][0] == "nn.Linear(3, 4)"


def test_seed_001_per_layer_breakdown():
    t = parameter_count([3, 4, 4, 1])
    np.testing.assert_array_equal(t.stages["weights"], [12, 16, 4])
    np.testing.assert_array_equal(t.stages["biases"], [4, 4, 1])


@pytest.mark.parametrize("seed", range(8))
def test_parameter_count_matches_closed_form_and_loop_over_random_stacks(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 50, size=int(rng.integers(2, 8))).tolist()
    closed = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
    assert int(parameter_count(sizes).output) == closed == parameter_count_loop(sizes)
    no_bias = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    assert int(parameter_count(sizes, bias=False).output) == no_bias


def test_parameter_count_needs_two_sizes():
    with pytest.raises(ValueError, match="two or more"):
        parameter_count([3])
