"""engine.activations and engine.activation_demos against scalar references, finite differences,
known PyTorch values, and the claims the activations page makes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerlab.engine import activations as A
from layerlab.engine.activation_demos import dead_relu_training, sample_curve, saturated_runs
from tests.engine import activation_reference as R

SHAPES = [(7,), (3, 4), (2, 3, 5), (2, 3, 4, 4)]


def random_input(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Normal numbers spread to +-8 (saturated tails included), none within 1e-3 of the kink at 0."""
    x = np.random.default_rng(seed).normal(0.0, 3.0, shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


def elementwise_cases(seed: int) -> list[tuple[str, object, object]]:
    """(name, engine call, scalar reference) with parameters drawn from the seed."""
    rng = np.random.default_rng(1000 + seed)
    slope, alpha = float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.1, 3.0))
    return [
        ("sigmoid", A.sigmoid, R.sigmoid),
        ("tanh", A.tanh, R.tanh),
        ("relu", A.relu, R.relu),
        ("leaky_relu", lambda x: A.leaky_relu(x, slope), lambda v: R.leaky_relu(v, slope)),
        ("leaky_relu default", A.leaky_relu, lambda v: R.leaky_relu(v, 0.01)),
        ("elu", lambda x: A.elu(x, alpha), lambda v: R.elu(v, alpha)),
        ("gelu", A.gelu, R.gelu),
        ("gelu tanh", lambda x: A.gelu(x, approximate="tanh"), R.gelu_tanh),
    ]


@pytest.mark.parametrize("seed", range(4))
def test_elementwise_activations_match_scalar_reference_over_random_shapes(seed):
    x = random_input(seed, SHAPES[seed])
    for name, engine, reference in elementwise_cases(seed):
        t = engine(x)
        assert t.output.shape == x.shape, name
        np.testing.assert_allclose(
            t.output, R.elementwise(reference, x), rtol=1e-12, atol=1e-15, err_msg=name
        )
        np.testing.assert_array_equal(t.stages["input"], x, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_elementwise_derivatives_match_central_differences(seed):
    x = random_input(seed, SHAPES[seed])
    for name, engine, _ in elementwise_cases(seed):
        numeric = R.central_difference(lambda v, f=engine: f(v).output, x)
        np.testing.assert_allclose(engine(x).stages["grad"], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_values_at_minus_one_zero_and_one_match_the_closed_forms():
    # Phi(1) = 0.8413447460685429..., e^-1 - 1, 1 / (1 + e^-1): what torch prints in float64
    x = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_allclose(A.gelu(x).output, [-0.15865525393145707, 0.0, 0.8413447460685429], rtol=1e-14)
    np.testing.assert_allclose(
        A.gelu(x, "tanh").output, [-0.15880800939172324, 0.0, 0.8411919906082768], rtol=1e-14
    )
    np.testing.assert_allclose(A.elu(x).output, [-0.6321205588285577, 0.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(A.sigmoid(x).output, [0.2689414213699951, 0.5, 0.7310585786300049], rtol=1e-14)


def test_sigmoid_is_finite_and_exact_far_out():
    t = A.sigmoid(np.array([-800.0, 800.0]))
    assert t.output.tolist() == [0.0, 1.0] and np.all(np.isfinite(t.stages["grad"]))
    assert A.sigmoid(np.array([-40.0])).output[0] == pytest.approx(math.exp(-40.0), rel=1e-14)


def test_tanh_is_a_scaled_sigmoid_as_seed_001_says():
    x = random_input(5, (50,))
    np.testing.assert_allclose(A.tanh(x).output, 2 * A.sigmoid(2 * x).output - 1, atol=1e-15)


def test_derivative_at_the_kink_is_the_one_torch_backward_uses():
    zero = np.array([0.0])
    assert A.relu(zero).stages["grad"][0] == 0.0
    assert A.leaky_relu(zero, 0.2).stages["grad"][0] == 0.2
    assert A.prelu(zero, 0.3).stages["grad"][0] == 0.3
    assert A.elu(zero, 1.5).stages["grad"][0] == 1.5


def test_relu_keeps_its_signature_and_output():
    x = np.array([[-2.0, 0.0, 3.0]])
    t = A.relu(x, inplace=True)
    assert t.output.tolist() == [[0.0, 0.0, 3.0]] and t.params == {"inplace": True}
    assert t.stages["grad"].tolist() == [[0.0, 0.0, 1.0]]


def test_gelu_tanh_approximation_stays_within_5e_4_of_the_exact_form():
    x = np.linspace(-8, 8, 4001)
    gap = np.abs(A.gelu(x).output - A.gelu(x, "tanh").output)
    assert 1e-4 < gap.max() < 5e-4
    with pytest.raises(ValueError, match="approximate"):
        A.gelu(x, "erf")


@pytest.mark.parametrize("seed", range(3))
def test_prelu_broadcasts_one_weight_per_channel_on_dim_1(seed):
    rng = np.random.default_rng(seed)
    shape = [(2, 3), (2, 4, 5), (1, 3, 4, 4)][seed]
    x, w = random_input(seed, shape), rng.uniform(-1, 1, shape[1])
    t = A.prelu(x, w)
    np.testing.assert_allclose(t.output, R.prelu(x, w), rtol=1e-15)
    numeric = R.central_difference(lambda v: A.prelu(v, w).output, x)
    np.testing.assert_allclose(t.stages["grad"], numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(A.prelu(x, 0.25).output, R.prelu(x, np.array([0.25])), rtol=1e-15)


def test_prelu_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match="3 weights for 2 channels"):
        A.prelu(np.zeros((4, 2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="2 weights for 1 channels"):
        A.prelu(np.zeros(5), np.ones(2))
    with pytest.raises(ValueError, match="1-D"):
        A.prelu(np.zeros((2, 2)), np.ones((2, 1)))
    assert A.prelu(np.array([-2.0, 3.0]), np.array([0.5])).output.tolist() == [-1.0, 3.0]


@pytest.mark.parametrize("seed", range(3))
def test_softmax_matches_reference_and_sums_to_one(seed):
    shape = [(6,), (3, 5), (2, 3, 4)][seed]
    x = np.random.default_rng(seed).normal(0, 2, shape)
    for dim in range(-len(shape), len(shape)):
        t = A.softmax(x, dim)
        np.testing.assert_allclose(t.output, R.softmax(x, dim % len(shape)), rtol=1e-13)
        np.testing.assert_allclose(t.output.sum(axis=dim), 1.0, rtol=1e-14)


def test_softmax_dim_none_picks_torchs_implicit_dim():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(A.softmax(x).output, A.softmax(x, 1).output)
    y = np.random.default_rng(1).normal(size=(3, 4, 5))
    np.testing.assert_allclose(A.softmax(y).output, A.softmax(y, 0).output)
    with pytest.raises(ValueError, match="out of range"):
        A.softmax(y, 3)


def test_softmax_subtracts_the_max_so_large_inputs_do_not_overflow():
    t = A.softmax(np.array([1000.0, 1001.0, 1002.0]), 0)
    np.testing.assert_allclose(t.output, R.softmax(np.array([0.0, 1.0, 2.0]), 0), rtol=1e-14)
    assert t.stages["shifted"].max() == 0.0 and t.stages["exp"].max() == 1.0


def test_softmax_jacobian_matches_finite_differences():
    x = np.random.default_rng(3).normal(0, 2, 5)
    jacobian = A.softmax(x, 0).stages["jacobian"]
    h = 1e-6
    numeric = np.stack(
        [(A.softmax(x + h * e, 0).output - A.softmax(x - h * e, 0).output) / (2 * h) for e in np.eye(5)],
        axis=1,
    )
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(jacobian.sum(axis=0), 0.0, atol=1e-15)  # the outputs always sum to 1


@pytest.mark.parametrize("seed", range(3))
def test_maxout_matches_reference_with_winner_and_gradient(seed):
    rng = np.random.default_rng(seed)
    k, out_features, in_features = 2 + seed, 3, 4
    x = rng.normal(size=(5, in_features))
    w, b = rng.normal(size=(k, out_features, in_features)), rng.normal(size=(k, out_features))
    t = A.maxout(x, w, b)
    np.testing.assert_allclose(t.output, R.maxout(x, w, b), rtol=1e-13)
    pieces = t.stages["pieces"]  # (5, k, out)
    assert np.all(np.take_along_axis(pieces, t.stages["winner"][:, None, :], 1)[:, 0] == t.output)
    for i in range(in_features):
        e = np.zeros(in_features)
        e[i] = 1e-6
        numeric = (A.maxout(x + e, w, b).output - A.maxout(x - e, w, b).output) / 2e-6
        np.testing.assert_allclose(t.stages["grad"][..., i], numeric, rtol=1e-6, atol=1e-8)


def test_maxout_of_x_and_0_is_relu_as_seed_001_says():
    x = random_input(7, (40,))
    t = A.maxout(x[:, None], np.array([[1.0], [0.0]]), np.array([0.0, 0.0]))
    np.testing.assert_array_equal(t.output, A.relu(x).output)
    np.testing.assert_array_equal(t.stages["winner"], np.where(x > 0, 0, 1))
    with pytest.raises(ValueError, match="in_features"):
        A.maxout(np.zeros((3, 2)), np.ones((2, 3)), np.zeros(2))


def test_saturated_stretches_of_the_sigmoid_start_where_its_slope_is_the_threshold():
    t = sample_curve(A.sigmoid, -8, 8, 1601, 0.05)
    edge = math.log(
        (1 + math.sqrt(1 - 4 * 0.05)) / (1 - math.sqrt(1 - 4 * 0.05))
    )  # sigma(x)(1-sigma(x)) = 0.05
    (a0, a1), (b0, b1) = t.stages["intervals"]
    assert a0 == -8 and b1 == 8
    assert -edge - 0.01 <= a1 < -edge and edge < b0 <= edge + 0.01
    np.testing.assert_array_equal(t.stages["saturated"], np.abs(t.stages["grad"]) < 0.05)
    assert saturated_runs(np.arange(4.0), np.array([False, True, True, False])).tolist() == [[1.0, 2.0]]
    assert sample_curve(A.relu, -1, 1, 5, 0.05).stages["intervals"].tolist() == [[-1.0, 0.0]]


def test_dead_units_have_exactly_zero_gradient_and_never_move_again():
    t = dead_relu_training(seed=0, lr=0.3, steps=100)
    s = t.steps
    dead = s["dead"]
    assert dead.any() and np.all(s["pre_max"][dead] <= 0)
    assert np.all(s["grad_w1"][dead] == 0) and np.all(s["grad_b1"][dead] == 0)
    for unit in np.flatnonzero(dead.any(axis=0)):
        first = int(np.argmax(dead[:, unit]))
        assert dead[first:, unit].all(), f"unit {unit} came back"
        for name in ("w1", "b1", "w2"):
            assert np.all(s[name][first:, unit] == s[name][first, unit]), (unit, name)


def test_dead_relu_run_tells_the_pages_story():
    kill = dead_relu_training(seed=0, lr=0.3).steps["dead"].sum(axis=1)
    assert kill[0] == 2 and kill[4] == 13 and kill[-1] == 15
    calm = dead_relu_training(seed=0, lr=0.05).steps
    assert calm["dead"].sum(axis=1).max() == 2 and calm["loss"][-1] < 0.5 * calm["loss"][0]
    leaky = dead_relu_training(seed=0, lr=0.2, negative_slope=0.3).steps["dead"].sum(axis=1)
    assert leaky.max() >= leaky[-1] + 3  # units below the data come back: they still had a gradient


def test_dead_relu_run_is_deterministic_and_refuses_to_diverge():
    a, b = dead_relu_training(seed=4, lr=0.2), dead_relu_training(seed=4, lr=0.2)
    for name in a.steps:
        np.testing.assert_array_equal(a.steps[name], b.steps[name])
    assert not np.array_equal(a.steps["w1"], dead_relu_training(seed=5, lr=0.2).steps["w1"])
    with pytest.raises(ValueError, match="diverged"):
        dead_relu_training(lr=2.0)


def test_dead_relu_gradients_match_finite_differences_of_the_loss():
    t = dead_relu_training(seed=1, lr=0.05, steps=0, negative_slope=0.1)
    x, target = t.stages["x"], t.stages["target"]
    w1, b1, w2, b2 = (t.steps[k][0] for k in ("w1", "b1", "w2", "b2"))

    def loss(w1v: np.ndarray) -> float:
        z = x[:, None] * w1v + b1
        return float(np.mean((np.where(z > 0, z, 0.1 * z) @ w2 + b2 - target) ** 2))

    for j in range(3):
        e = np.zeros_like(w1)
        e[j] = 1e-6
        assert t.steps["grad_w1"][0][j] == pytest.approx(
            (loss(w1 + e) - loss(w1 - e)) / 2e-6, rel=1e-5, abs=1e-9
        )
