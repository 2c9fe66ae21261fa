"""POST /api/family/*: the numbers of every convolution-family view, checked against the engine's
plain-loop references and closed forms, the PyTorch lines, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from tests.app.helpers import DERIVATIVE_OUTPUT, assert_error
from tests.engine.reference import (
    channel_shuffle_loop,
    conv1d_loop,
    conv2d_loop,
    conv_transpose2d_loop,
    tiled_conv2d_loop,
)

SIGNAL = [0, 0, 1, 2, 4, 4, 4, 3, 1, 0]  # seed 002
WORKED = {"input": [[1, 2], [3, 4]], "kernel": [[1, 1, 1]] * 3, "stride": 2}
WORKED_OUTPUT = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]


def post(client, variant: str, body: dict) -> dict:
    r = client.post(f"/api/family/{variant}", json=body)
    assert r.status_code == 200, r.text[:400]
    return r.json()


def close(got, expected) -> None:
    np.testing.assert_allclose(np.array(got, dtype=float), expected, rtol=1e-5, atol=1e-5)


def scene_channels(size: int, channels: int) -> np.ndarray:
    """R, G, B of the scene, then the mixes the page documents: luma, R-G, G-B, B-R, 1-R, ..."""
    r, g, b = sample_image("scene", size, "rgb")
    planes = [r, g, b, 0.299 * r + 0.587 * g + 0.114 * b, r - g, g - b, b - r, 1 - r, 1 - g, 1 - b]
    planes += [(r + g) / 2, (g + b) / 2]
    return np.stack(planes[:channels])


# ---- 1-D -------------------------------------------------------------------------------------


def test_conv1d_of_seed_002_signal_is_its_derivative(client):
    body = post(client, "conv1d", {"signal": SIGNAL, "kernel": [-1, 1], "padding": 1})
    assert body["output"] == DERIVATIVE_OUTPUT[0]
    assert body["num_steps"] == 11
    steps = body["steps"]
    assert steps["position"] == list(range(11))
    assert steps["positions"][3] == [3, 4]
    assert body["stages"]["padded"] == [0, *SIGNAL, 0]
    close(steps["products"], np.array(steps["window"]) * [-1, 1])
    assert steps["result"] == body["output"]
    assert body["torch"] == "nn.Conv1d(1, 1, kernel_size=2, padding=1, bias=False)"
    assert (
        body["formulas"]["size"].startswith("<math")
        and "<mn>11</mn></mrow></math>" in body["formulas"]["size"]
    )


@pytest.mark.parametrize(
    "settings_",
    [
        {"stride": 2, "padding": 2, "dilation": 2},
        {"kernel": [1, -2, 1], "padding": 3, "padding_mode": "reflect"},
        {"kernel": [0.5, 0.5], "stride": 3, "padding": 1, "padding_mode": "circular"},
    ],
)
def test_conv1d_matches_the_loop_reference(client, settings_):
    req = {"signal": SIGNAL, "kernel": [-1, 1], **settings_}
    body = post(client, "conv1d", req)
    kwargs = {key: req.get(key, default) for key, default in (("stride", 1), ("padding", 0), ("dilation", 1))}
    expected = conv1d_loop(
        np.array([[SIGNAL]], float), np.array([[req["kernel"]]], float), None,
        padding_mode=req.get("padding_mode", "zeros"), **kwargs,
    )  # fmt: skip
    close(body["output"], expected[0, 0])
    assert body["num_steps"] == expected.shape[-1]


# ---- transposed ---------------------------------------------------------------------------------


def test_transposed_worked_example_both_readings_agree(client):
    body = post(client, "transposed", WORKED)
    assert body["output"] == WORKED_OUTPUT
    assert body["max_difference"] == 0
    assert body["gather"]["output"] == WORKED_OUTPUT
    assert body["scatter"]["partial"][-1] == WORKED_OUTPUT
    first = np.zeros((5, 5))
    first[:3, :3] = 1  # x[0, 0] = 1 stamps the ones kernel at the corner
    assert body["scatter"]["partial"][0] == first.tolist()
    assert body["scatter"]["steps"]["index"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert body["scatter"]["steps"]["origin"][3] == [2, 2]
    # zeros inserted between the values, then padded by d(k-1) - p = 2 on every side
    assert body["gather"]["zero_inserted"] == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert np.array(body["gather"]["padded"]).shape == (7, 7)
    assert body["gather"]["frame"] == [2, 2, 5, 5]
    assert body["torch"] == "nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, bias=False)"
    assert "<mn>5</mn></mrow></math>" in body["formulas"]["height"]
    assert body["num_steps"] == 25 and body["scatter"]["num_steps"] == 4 and body["gather"]["num_steps"] == 25
    schedule = body["schedule"]
    assert schedule["gather"] == list(range(25))
    assert schedule["scatter"][0] == 0 and schedule["scatter"][-1] == 3
    assert all(0 <= b - a <= 1 for a, b in zip(schedule["scatter"], schedule["scatter"][1:], strict=False))


GEOMETRIES = [
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"input": [[1, -2, 0.5], [0, 3, 1]], "kernel": [[1, 2], [-1, 0.5]], "dilation": 2, "output_padding": 1},
    {"input": [[2, 1, 0], [1, -1, 3], [0, 2, 1]], "stride": 3, "padding": 2, "dilation": 2},
]


@pytest.mark.parametrize("change", GEOMETRIES)
def test_transposed_partial_sums_follow_the_scatter_loop(client, change):
    req = {**WORKED, **change}
    body = post(client, "transposed", req)
    x, w = np.array(req["input"], float), np.array(req["kernel"], float)
    kwargs = {key: req.get(key, 0) for key in ("stride", "padding", "output_padding")}
    kwargs["dilation"] = req.get("dilation", 1)
    expected = conv_transpose2d_loop(x[None, None], w[None, None], **kwargs)[0, 0]
    close(body["output"], expected)
    close(body["gather"]["output"], expected)
    assert body["max_difference"] < 1e-12
    partial = np.array(body["scatter"]["partial"])
    for s in range(x.size):  # after step s: the loop over the first s + 1 input values only
        first = np.where(np.arange(x.size).reshape(x.shape) <= s, x, 0)
        close(partial[s], conv_transpose2d_loop(first[None, None], w[None, None], **kwargs)[0, 0])


def test_transposed_gather_steps_are_sums_over_the_flipped_kernel(client):
    body = post(client, "transposed", {**WORKED, "kernel": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "padding": 1})
    gather = body["gather"]
    assert gather["kernel"] == [[9, 8, 7], [6, 5, 4], [3, 2, 1]]
    padded, steps = np.array(gather["padded"]), gather["steps"]
    for j in (0, 4, len(steps["result"]) - 1):
        window = padded[np.ix_(steps["rows"][j], steps["cols"][j])]
        close(steps["window"][j], window)
        assert steps["result"][j] == pytest.approx(float((window * gather["kernel"]).sum()))
        r, c = steps["index"][j]
        assert body["output"][r][c] == pytest.approx(steps["result"][j])


# ---- grouped / depthwise / pointwise / separable -----------------------------------------------


@pytest.mark.parametrize(
    ("mode", "groups_used", "kernel_used"),
    [("standard", 1, 3), ("grouped", 2, 3), ("depthwise", 4, 3), ("pointwise", 1, 1)],
)
def test_grouped_modes_compute_conv2d_and_count_its_cost(client, mode, groups_used, kernel_used):
    req = {"mode": mode, "in_channels": 4, "out_channels": 8, "groups": 2, "kernel_size": 3, "size": 8}
    body = post(client, "grouped", req)
    x = scene_channels(8, 4)
    close(body["input"], x)
    assert body["names"] == ["R", "G", "B", "luma"]
    w = np.array(body["weights"]["weight"])
    assert w.shape == (8, 4 // groups_used, kernel_used, kernel_used)
    pad = (kernel_used - 1) // 2
    close(body["output"], conv2d_loop(x[None], w, padding=pad, groups=groups_used)[0])
    per = 4 // groups_used * kernel_used**2
    assert body["cost"]["layer"] == {"parameters": 8 * per, "macs": 8 * 8 * 8 * per}
    assert body["cost"]["standard"] == {
        "parameters": 8 * 4 * kernel_used**2,
        "macs": 8 * 64 * 4 * kernel_used**2,
    }
    assert body["ratio"]["parameters"] == pytest.approx(groups_used)
    (diagram,) = body["diagrams"]
    expected = [[o // (8 // groups_used) == c // (4 // groups_used) for c in range(4)] for o in range(8)]
    assert diagram["connections"] == expected
    assert diagram["source_group"] == [c // (4 // groups_used) for c in range(4)]
    assert body["params"]["groups"] == groups_used and body["params"]["kernel_size"] == kernel_used


def test_separable_is_depthwise_then_pointwise_and_costs_less(client):
    req = {
        "mode": "separable",
        "in_channels": 6,
        "out_channels": 12,
        "kernel_size": 3,
        "size": 8,
        "bias": True,
    }
    body = post(client, "grouped", req)
    x = scene_channels(8, 6)
    assert body["names"][3:] == ["luma", "R−G", "G−B"]
    wts = {key: np.array(value) for key, value in body["weights"].items()}
    middle = conv2d_loop(x[None], wts["depthwise"], wts["depthwise_bias"], padding=1, groups=6)
    close(body["middle"], middle[0])
    close(body["output"], conv2d_loop(middle, wts["pointwise"], wts["pointwise_bias"])[0])
    depthwise, pointwise = 6 * 9 + 6, 12 * 6 + 12
    assert body["cost"]["layer"]["parameters"] == depthwise + pointwise
    assert body["cost"]["standard"]["parameters"] == 12 * 6 * 9 + 12
    assert body["cost"]["layer"]["macs"] == 64 * (6 * 9 + 12 * 6)
    first, second = body["diagrams"]
    assert first["connections"] == np.eye(6, dtype=bool).tolist()
    assert second["connections"] == np.ones((12, 6), dtype=bool).tolist()
    assert body["torch"] == (
        "nn.Sequential(nn.Conv2d(6, 6, kernel_size=3, padding='same', groups=6), "
        "nn.Conv2d(6, 12, kernel_size=1))"
    )
    assert "<math" in body["formulas"]["parameters"] and "<mn>60</mn>" in body["formulas"]["parameters"]


def test_grouped_weights_depend_only_on_their_channels(client):
    small = post(client, "grouped", {"mode": "standard", "in_channels": 2, "out_channels": 2, "size": 5})
    large = post(client, "grouped", {"mode": "standard", "in_channels": 3, "out_channels": 5, "size": 5})
    close(np.array(large["weights"]["weight"])[:2, :2], np.array(small["weights"]["weight"]))


# ---- shuffle ------------------------------------------------------------------------------------


def test_shuffle_permutation_and_maps(client):
    body = post(client, "shuffle", {"channels": 6, "groups": 2, "size": 5})
    assert body["permutation"] == [0, 3, 1, 4, 2, 5]
    assert body["input_group"] == [0, 0, 0, 1, 1, 1]
    x = scene_channels(5, 6)
    close(body["input"], x)
    close(body["output"], channel_shuffle_loop(x[None], 2)[0])
    assert body["output_names"] == ["R", "luma", "G", "R−G", "B", "G−B"]
    assert body["torch"] == "nn.ChannelShuffle(2)"


# ---- tiled ----------------------------------------------------------------------------------------


def test_tiled_defaults_are_presets_and_match_the_loop(client):
    body = post(client, "tiled", {"tile": [2, 2], "kernel_size": 3, "size": 8, "stride": 1, "padding": 1})
    names = ["sobel_x", "sobel_y", "edge", "sharpen"]
    kernels = np.array(body["kernels"])
    close(kernels.reshape(4, 3, 3), np.array([PRESETS[n].weights for n in names]))
    x = sample_image("scene", 8, "gray")
    close(body["output"], tiled_conv2d_loop(x[None], kernels[:, :, None, None], padding=1)[0, 0])
    rows, cols = np.indices((8, 8))
    assert body["tile_id"] == ((rows % 2) * 2 + cols % 2).tolist()
    assert body["parameters"] == {"tiled": 4 * 9, "plain": 9}
    assert "<mn>36</mn>" in body["formulas"]["tiled"]
    assert body["torch"].splitlines()[1] == (
        "convs = nn.ModuleList(nn.Conv2d(1, 1, kernel_size=3, stride=2, bias=False) for _ in range(4))"
    )


def test_tiled_uses_the_kernels_sent(client):
    weight = [[[[1, 0], [0, 0]], [[0, 1], [0, 0]], [[0, 0], [1, 0]]]]  # tile 1x3, 2x2 kernels
    body = post(client, "tiled", {"tile": [1, 3], "kernel_size": 2, "size": 6, "stride": 2, "weight": weight})
    x = sample_image("scene", 6, "gray")
    w = np.array(weight, float)[:, :, None, None]
    close(body["output"], tiled_conv2d_loop(x[None], w, stride=2)[0, 0])
    assert body["kernels"] == weight
    assert body["tile_id"][0] == [0, 1, 2]


# ---- flattened --------------------------------------------------------------------------------------


def test_flattened_default_is_sobel_x_on_a_colour_mix(client):
    body = post(client, "flattened", {"color": "gray", "channel": [1], "size": 8})
    assert body["full_kernel"] == [PRESETS["sobel_x"].weights.tolist()]
    x = sample_image("scene", 8, "gray")
    close(body["output"], conv2d_loop(x[None], PRESETS["sobel_x"].weights[None, None], padding=1)[0, 0])
    close(body["full_output"], body["output"])
    assert body["max_difference"] < 1e-12
    assert body["operations"] == {"full": 64 * 9, "flattened": 64 * 7}


def test_flattened_rgb_counts_operations_as_seed_003(client):
    req = {
        "color": "rgb",
        "channel": [0.5, -1, 2],
        "vertical": [1, 0, -1, 2],
        "horizontal": [3, 1],
        "padding": 0,
    }
    body = post(client, "flattened", {**req, "size": 8})
    oh, ow = 8 - 4 + 1, 8 - 2 + 1
    assert body["operations"] == {"full": oh * ow * 3 * 4 * 2, "flattened": oh * ow * (3 + 4 + 2)}
    full = np.einsum("c,u,v->cuv", *(np.array(req[k], float) for k in ("channel", "vertical", "horizontal")))
    close(body["full_kernel"], full)
    x = sample_image("scene", 8, "rgb")
    close(body["output"], conv2d_loop(x[None], full[None])[0, 0])
    close(body["stages"]["after_channel"], np.tensordot(req["channel"], x, axes=1))
    assert body["torch"].splitlines()[2].strip() == "nn.Conv2d(1, 1, kernel_size=(4, 1), bias=False),"


# ---- residual ---------------------------------------------------------------------------------------


def test_residual_block_is_relu_of_branch_plus_input(client):
    body = post(client, "residual", {"color": "rgb", "mid_channels": 3, "kernel_size": 3, "size": 8})
    x = sample_image("scene", 8, "rgb")
    w1, w2 = (np.array(body["weights"][k]) for k in ("conv1", "conv2"))
    assert w1.shape == (3, 3, 3, 3) and w2.shape == (3, 3, 3, 3)
    close(w1[0, 0], PRESETS["sobel_x"].weights / 3)
    conv1 = conv2d_loop(x[None], w1, padding=1)
    close(body["stages"]["conv1"], conv1[0])
    relu1 = np.maximum(conv1, 0)
    close(body["stages"]["relu1"], relu1[0])
    conv2 = conv2d_loop(relu1, w2, padding=1)[0]
    close(body["stages"]["conv2"], conv2)
    close(body["stages"]["identity"], x)
    close(body["stages"]["sum"], conv2 + x)
    close(body["output"], np.maximum(conv2 + x, 0))
    assert body["names"] == ["R", "G", "B"]


def test_residual_with_conv2_scaled_to_zero_passes_the_input_through(client):
    body = post(client, "residual", {"scale": 0, "size": 8})
    x = sample_image("scene", 8, "gray")
    close(body["stages"]["conv2"], np.zeros_like(x))
    close(body["output"], x)
    assert body["torch"].endswith("y = F.relu(conv2(F.relu(conv1(x))) + x)")


# ---- the page, and over the wire --------------------------------------------------------------------


def test_family_page_is_live_on_the_index_and_hands_over_defaults(client):
    assert 'href="/family"' in client.get("/").text
    html = client.get("/family").text
    assert "/static/js/family/page.js" in html and html.count("<math") >= 8
    for path in ("conv1d", "transposed", "grouped", "shuffle", "tiled", "flattened", "residual"):
        assert f"/api/family/{path}" in client.get("/openapi.json").json()["paths"]


def test_real_server_answers_the_worked_example_and_a_cost(http):
    r = http.post("/api/family/transposed", json=WORKED)
    assert r.status_code == 200 and r.json()["output"] == WORKED_OUTPUT
    depthwise = {"mode": "depthwise", "in_channels": 3, "out_channels": 6}
    assert http.post("/api/family/grouped", json=depthwise).json()["cost"]["layer"]["parameters"] == 6 * 9
    derivative = http.post("/api/family/conv1d", json={"signal": SIGNAL, "padding": 1}).json()
    assert derivative["output"] == DERIVATIVE_OUTPUT[0]
    assert_error(http.post("/api/family/shuffle", json={"channels": 6, "groups": 4}), 422, "groups", "6")
    assert http.get("/family").status_code == 200


# ---- refusals -----------------------------------------------------------------------------------------

LONG = [0] * (settings.max_signal_length + 1)
SIDE = settings.max_transposed_side
CROP = {"input": [[1]], "kernel": [[1]], "padding": 1}
DEPTHWISE_4_TO_6 = {"mode": "depthwise", "in_channels": 4, "out_channels": 6}
VALID_7_ON_5 = {"padding": "valid", "kernel_size": 7, "size": 5}
WIDE_ON_4 = {"horizontal": [1] * 7, "size": 4, "padding": 0}
BAD = {
    "signal_too_long": ("conv1d", {"signal": LONG}, "signal", str(settings.max_signal_length)),
    "signal_empty": ("conv1d", {"signal": []}, "signal", "1"),
    "kernel_too_long": ("conv1d", {"kernel": [1] * 10}, "kernel", str(settings.max_kernel_length)),
    "signal_1e300": ("conv1d", {"signal": [1e300]}, "signal", "1000000"),
    "stride_9": ("conv1d", {"stride": 9}, "stride", str(settings.max_stride)),
    "dilated_kernel_over_signal": ("conv1d", {"dilation": 8, "kernel": [1, 1, 1]}, "kernel", "covers 17"),
    "reflect_over_signal": ("conv1d", {"padding": 10, "padding_mode": "reflect"}, "padding", "10"),
    "input_too_tall": ("transposed", {"input": [[1]] * (SIDE + 1)}, "input", str(SIDE)),
    "kernel_too_wide": ("transposed", {"kernel": [[1] * (SIDE + 1)]}, "kernel", str(SIDE)),
    "ragged_input": ("transposed", {"input": [[1, 2], [3]]}, "input", "2 entries"),
    "transposed_stride_5": ("transposed", {"stride": 5}, "stride", str(settings.max_transposed_stride)),
    "transposed_padding_5": ("transposed", {"padding": 5}, "padding", str(settings.max_transposed_padding)),
    "output_padding_at_stride": ("transposed", {"output_padding": 1}, "output_padding", "stride"),
    "padding_crops_everything": ("transposed", CROP, "padding", "at most 0"),
    "groups_not_dividing": ("grouped", {"groups": 3}, "groups", "4"),
    "too_many_channels": ("grouped", {"in_channels": 13}, "in_channels", str(settings.max_family_channels)),
    "depthwise_not_multiple": ("grouped", DEPTHWISE_4_TO_6, "out_channels", "4"),
    "image_too_large": ("grouped", {"size": 64}, "size", str(settings.max_family_image_side)),
    "valid_kernel_over_image": ("grouped", VALID_7_ON_5, "kernel_size", "5"),
    "unknown_mode": ("grouped", {"mode": "dilated"}, "mode", "separable"),
    "shuffle_groups": ("shuffle", {"channels": 6, "groups": 4}, "groups", "6"),
    "tile_4": ("tiled", {"tile": [4, 1]}, "tile", str(settings.max_tile_side)),
    "tile_weight_shape": ("tiled", {"tile": [1, 2], "kernel_size": 1, "weight": [[[[1]]]]}, "weight", "1x2"),
    "tile_kernel_size": ("tiled", {"tile": [1, 1], "kernel_size": 2, "weight": [[[[1]]]]}, "weight", "2x2"),
    "tiled_kernel_over_image": ("tiled", {"kernel_size": 7, "size": 4}, "kernel_size", "4"),
    "channel_weights_for_gray": ("flattened", {"color": "gray"}, "channel", "1"),
    "vertical_too_long": ("flattened", {"vertical": [1] * 8}, "vertical", str(settings.max_kernel_side)),
    "horizontal_over_image": ("flattened", WIDE_ON_4, "horizontal", "covers 7"),
    "mid_channels_5": ("residual", {"mid_channels": 5}, "mid_channels", str(settings.max_mid_channels)),
    "scale_3": ("residual", {"scale": 3}, "scale", "2"),
    "unknown_field": ("residual", {"depth": 2}, "depth", None),
}


@pytest.mark.parametrize(("variant", "change", "field", "limit"), BAD.values(), ids=BAD.keys())
def test_bad_family_request_is_refused_naming_field_and_limit(client, variant, change, field, limit):
    assert_error(client.post(f"/api/family/{variant}", json=change), 422, field, limit)


def test_family_request_sent_as_form_data_is_refused_with_415(client):
    r = client.post("/api/family/conv1d", content=b"signal=1", headers={"content-type": "text/plain"})
    assert_error(r, 415, "body", "application/json")
