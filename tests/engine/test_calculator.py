"""engine.calculator: the seeds' numbers, torch's size formulas, receptive fields by brute force, errors."""

from __future__ import annotations

import numpy as np
import pytest

from layerlab.engine.calculator import PRESETS, Layer, StackError, analyse
from layerlab.engine.conv import conv2d


def conv(out_channels: int, kernel_size, **more) -> Layer:
    return Layer("Conv2d", {"out_channels": out_channels, "kernel_size": kernel_size, **more})


def conv_t(out_channels: int, kernel_size, **more) -> Layer:
    return Layer("ConvTranspose2d", {"out_channels": out_channels, "kernel_size": kernel_size, **more})


def pool(kernel_size, kind: str = "MaxPool2d", **more) -> Layer:
    return Layer(kind, {"kernel_size": kernel_size, **more})


def run_preset(name: str):
    preset = PRESETS[name]
    return analyse(preset["input_shape"], preset["layers"])


# --- the seeds ---------------------------------------------------------------------------------


def test_seed002_preset_matches_the_seed_summary_layer_by_layer():
    report = run_preset("seed002_mnist")
    rows = [(layer.kind, layer.output_shape, layer.parameters) for layer in report.layers]
    assert rows == [
        ("Conv2d", (32, 26, 26), 320),
        ("ReLU", (32, 26, 26), 0),
        ("MaxPool2d", (32, 13, 13), 0),
        ("Conv2d", (64, 11, 11), 18_496),
        ("ReLU", (64, 11, 11), 0),
        ("MaxPool2d", (64, 5, 5), 0),
        ("Flatten", (1600,), 0),
        ("Dropout", (1600,), 0),
        ("Linear", (10,), 16_010),
        ("Softmax", (10,), 0),
    ]
    assert report.total_parameters == 34_826
    assert report.output_shape == (10,)


def test_seed002_macs_count_one_product_per_weight_per_output_element():
    layers = run_preset("seed002_mnist").layers
    assert layers[0].macs == 32 * 26 * 26 * 9
    assert layers[3].macs == 64 * 11 * 11 * 32 * 9
    assert layers[8].macs == 1600 * 10
    assert [layer.macs for i, layer in enumerate(layers) if i not in (0, 3, 8)] == [0] * 7
    assert run_preset("seed002_mnist").total_macs == 32 * 26 * 26 * 9 + 64 * 11 * 11 * 32 * 9 + 1600 * 10


def test_seed002_torch_lines_fill_in_channels_and_leave_out_defaults():
    assert [layer.torch for layer in run_preset("seed002_mnist").layers] == [
        "nn.Conv2d(1, 32, kernel_size=3)",
        "nn.ReLU()",
        "nn.MaxPool2d(kernel_size=2)",
        "nn.Conv2d(32, 64, kernel_size=3)",
        "nn.ReLU()",
        "nn.MaxPool2d(kernel_size=2)",
        "nn.Flatten()",
        "nn.Dropout()",
        "nn.Linear(1600, 10)",
        "nn.Softmax(dim=1)",
    ]


@pytest.mark.parametrize(
    ("name", "stated", "seed_sum"),
    [
        ("seed001_mlp_3_4_2", 26, 3 * 4 + 4 + 4 * 2 + 2),
        ("seed001_mlp_3_4_4_1", 41, 3 * 4 + 4 + 4 * 4 + 4 + 4 * 1 + 1),
    ],
)
def test_seed001_parameter_counts_match_the_seed(name, stated, seed_sum):
    assert run_preset(name).total_parameters == stated == seed_sum


def test_seed000_circle_keeps_five_part_channels_and_sees_the_whole_image():
    report = run_preset("seed000_circle")
    parts, detector = report.layers
    assert parts.output_shape == (5, 2, 2)  # five kernels, five channels; stride 2 gives 2x2
    assert parts.parameters == 5 * 3 * 3 + 5
    assert detector.output_shape == (1, 1, 1)
    assert detector.parameters == 5 * 2 * 2 + 1  # the 5x2x2 detector kernel and its bias
    assert detector.receptive_field == (5, 5)
    assert detector.start == (2.0, 2.0)  # centred on the 5x5 image
    note = PRESETS["seed000_circle"]["note"]
    assert "stride 2" in note and "should be 5" in note


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_chain_their_shapes_and_cite_their_seed(name):
    preset = PRESETS[name]
    report = run_preset(name)
    shapes = [preset["input_shape"]] + [layer.output_shape for layer in report.layers]
    assert [layer.input_shape for layer in report.layers] == shapes[:-1]
    assert f"seed {name[4:7]}" in preset["note"].lower()
    assert preset["label"]


# --- output sizes against torch's definitions -------------------------------------------------------


def test_conv2d_shape_parameters_and_macs_match_engine_conv2d_over_random_settings():
    rng = np.random.default_rng(2)
    compared = rejected = 0
    for _ in range(80):
        height, width = (int(v) for v in rng.integers(1, 12, size=2))
        kernel, stride, dilation = (tuple(int(v) for v in rng.integers(1, top, size=2)) for top in (5, 4, 3))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        groups = int(rng.choice([1, 2]))
        c_in, c_out = 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
        layer = conv(c_out, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
        weight = np.zeros((c_out, c_in // groups, *kernel))
        try:
            report = analyse((c_in, height, width), [layer]).layers[0]
        except StackError:
            rejected += 1
            with pytest.raises(ValueError, match="more than the padded input"):
                conv2d(np.zeros((c_in, height, width)), weight, None, stride, padding, dilation, groups)
            continue
        out = conv2d(
            np.zeros((c_in, height, width)),
            weight,
            np.zeros(c_out),
            stride,
            padding,
            dilation,
            groups,
            record_steps=False,
        ).output
        assert report.output_shape == out.shape
        assert report.parameters == weight.size + c_out
        assert report.macs == out.size * weight[0].size
        compared += 1
    assert compared > 40 and rejected > 5


def test_conv1d_is_conv2d_on_a_height_of_one():
    report = analyse(
        (4, 50), [Layer("Conv1d", {"out_channels": 8, "kernel_size": 5, "stride": 2, "dilation": 2})]
    )
    (layer,) = report.layers
    out = conv2d(
        np.zeros((4, 1, 50)), np.zeros((8, 4, 1, 5)), stride=(1, 2), dilation=(1, 2), record_steps=False
    )
    assert layer.output_shape == (8, out.output.shape[-1]) == (8, 21)
    assert layer.parameters == 8 * 4 * 5 + 8
    assert layer.macs == 8 * 21 * 4 * 5
    assert (layer.receptive_field, layer.jump, layer.start) == ((1, 9), (1, 2), (0.0, 4.0))
    assert layer.torch == "nn.Conv1d(4, 8, kernel_size=5, stride=2, dilation=2)"


def test_padding_same_keeps_the_size_and_puts_the_extra_row_of_an_even_kernel_last():
    (layer,) = analyse((3, 7, 9), [conv(6, 4, padding="same")]).layers
    assert layer.output_shape == (6, 7, 9)
    # torch pads 1 before and 2 after: the first window covers input -1..2, centred at 0.5
    assert layer.start == (0.5, 0.5)
    assert layer.torch == "nn.Conv2d(3, 6, kernel_size=4, padding='same')"


def _pool_windows_reference(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool
) -> int:
    """How many windows torch's pooling keeps, from the definition in its docs.

    Windows start at -p, -p + s, ... Floor mode keeps those that fit in the padded input;
    ceil mode adds one more when a remainder of the padded input is left uncovered, then
    ignores any window that would start in the right padding.
    """
    span = dilation * (kernel - 1) + 1
    starts = [-padding]
    while starts[-1] + stride + span <= size + padding:
        starts.append(starts[-1] + stride)
    if ceil and starts[-1] + span < size + padding:
        starts.append(starts[-1] + stride)
    while ceil and starts[-1] >= size:
        starts.pop()
    return len(starts)


@pytest.mark.parametrize("kind", ["MaxPool2d", "AvgPool2d"])
def test_pool_output_size_matches_the_window_definition_in_both_ceil_modes(kind):
    rng = np.random.default_rng(5)
    compared = 0
    for _ in range(150):
        size, kernel, stride = int(rng.integers(1, 13)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
        dilation = int(rng.integers(1, 3)) if kind == "MaxPool2d" else 1
        padding = int(rng.integers(0, kernel // 2 + 1))  # torch: at most half the kernel, not dilated
        if dilation * (kernel - 1) + 1 > size + 2 * padding:
            continue
        extra = {"dilation": dilation} if kind == "MaxPool2d" else {}
        for ceil in (False, True):
            layer = pool(kernel, kind, stride=stride, padding=padding, ceil_mode=ceil, **extra)
            expected = _pool_windows_reference(size, kernel, stride, padding, dilation, ceil)
            assert analyse((2, size, size), [layer]).output_shape == (2, expected, expected)
            compared += 1
    assert compared > 150


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "floor_size", "ceil_size"),
    [
        (5, 2, 2, 0, 2, 3),  # ceil keeps a partial window over the last column
        (6, 3, 2, 1, 3, 4),  # the partial window starts at column 5, inside the input: kept
        (5, 2, 2, 1, 3, 3),  # ceil((5 + 2 - 2)/2) + 1 = 4, but window 4 would start in the right padding
    ],
)
def test_maxpool_ceil_mode_keeps_only_windows_starting_inside_the_input_or_left_padding(
    size, kernel, stride, padding, floor_size, ceil_size
):
    for ceil, expected in ((False, floor_size), (True, ceil_size)):
        layer = pool(kernel, stride=stride, padding=padding, ceil_mode=ceil)
        assert analyse((1, size, size), [layer]).output_shape == (1, expected, expected)


def _reach_window(reach: list[set], kernel: int, stride: int, padding: int, dilation: int) -> list[set]:
    """Input pixels reaching each output of a conv or pool along one axis: output o reads o*s - p + t*d."""
    outputs = []
    while len(outputs) * stride - padding + dilation * (kernel - 1) <= len(reach) - 1 + padding:
        taps = (len(outputs) * stride - padding + t * dilation for t in range(kernel))
        outputs.append(set().union(*(reach[q] for q in taps if 0 <= q < len(reach))))
    return outputs


def _reach_transposed(reach: list[set], kernel: int, stride: int, padding: int, dilation: int, extra: int):
    """The same for a transposed conv, by scattering: input i adds into position i*s + t*d of the full
    result, which loses padding at each end and gains output_padding positions at the end."""
    full = [set() for _ in range((len(reach) - 1) * stride + dilation * (kernel - 1) + 1 + extra)]
    for i, pixels in enumerate(reach):
        for t in range(kernel):
            full[i * stride + t * dilation] |= pixels
    return full[padding : len(full) - padding]


def test_receptive_field_of_two_stacked_3x3_convs_is_5():
    (_, second) = analyse((1, 9, 9), [conv(1, 3), conv(1, 3)]).layers
    assert (second.receptive_field, second.jump, second.start) == ((5, 5), (1, 1), (2.0, 2.0))


def test_receptive_field_of_3x3_convs_with_stride_2_first_is_7_with_jump_2():
    # layer 1 positions sit 2 pixels apart (centres 1, 3, 5, ...) and each sees 3 pixels;
    # output 0 of layer 2 reads layer-1 positions 0..2, so input pixels 0..6: size 7, centre 3
    (_, second) = analyse((1, 9, 9), [conv(1, 3, stride=2), conv(1, 3)]).layers
    assert (second.receptive_field, second.jump, second.start) == ((7, 7), (2, 2), (3.0, 3.0))


def _influence(layers: list[Layer], size: int) -> np.ndarray:
    """mask[y, x, oy, ox]: does perturbing input pixel (y, x) change output (oy, ox)?

    Every layer runs as engine.conv.conv2d with all-ones weights (a pool has the same window
    geometry) on a batch of delta images, one per input pixel; all values stay non-negative,
    so an output changes exactly when it is positive.
    """
    x = np.eye(size * size).reshape(size * size, 1, size, size)
    for layer in layers:
        a = layer.args
        k, stride = a["kernel_size"], a.get("stride") or a["kernel_size"]
        x = conv2d(
            x, np.ones((1, 1, k, k)), None, stride, a["padding"], a["dilation"], record_steps=False
        ).output
    return (x[:, 0] > 0).reshape(size, size, *x.shape[2:])


def test_receptive_field_matches_brute_force_influence_of_single_pixels():
    rng = np.random.default_rng(11)
    size, stacks, exact = 16, 0, 0
    for _ in range(40):
        layers = []
        for _ in range(int(rng.integers(1, 4))):
            k, s, d = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
            args = {
                "kernel_size": k,
                "stride": s,
                "padding": int(rng.integers(0, (d * (k - 1) + 1) // 2 + 1)),
            }
            kind = str(rng.choice(["Conv2d", "MaxPool2d"]))
            layers.append(
                Layer(kind, {**args, "dilation": d, **({"out_channels": 1} if kind == "Conv2d" else {})})
            )
        try:
            last = analyse((1, size, size), layers).layers[-1]
        except StackError:
            continue
        mask, stacks = _influence(layers, size), stacks + 1
        (r, _), (j, _), (s0, _) = last.receptive_field, last.jump, last.start
        for oy, ox in np.ndindex(*mask.shape[2:]):
            hit = mask[:, :, oy, ox]
            for pixels, o in ((np.flatnonzero(hit.any(axis=1)), oy), (np.flatnonzero(hit.any(axis=0)), ox)):
                centre = s0 + o * j
                low, high = centre - (r - 1) / 2, centre + (r - 1) / 2
                assert low <= pixels.min() and pixels.max() <= high  # nothing outside the field
                if 0 <= low and high <= size - 1:  # the field lies inside the image: no padding edge
                    assert (pixels.max() - pixels.min() + 1, (pixels.min() + pixels.max()) / 2) == (r, centre)
                    exact += 1
    assert stacks > 25 and exact > 100


@pytest.mark.parametrize(
    "stack",
    [
        [("T", 3, 2, 1, 1, 0)],
        [("T", 2, 2, 0, 1, 0)],
        [("T", 4, 2, 1, 1, 1)],
        [("W", 3, 2, 1, 1), ("T", 3, 2, 1, 1, 1)],
        [("T", 3, 3, 1, 2, 2), ("W", 3, 1, 1, 1)],
        [("T", 3, 2, 0, 1, 1), ("T", 2, 2, 0, 1, 0), ("W", 2, 1, 0, 2)],
    ],
)
def test_transposed_conv_field_contains_every_input_pixel_that_reaches_an_output(stack):
    size, reach, layers = 6, [{i} for i in range(6)], []
    for kind, k, s, p, d, *extra in stack:
        if kind == "T":
            reach = _reach_transposed(reach, k, s, p, d, extra[0])
            layers.append(conv_t(1, k, stride=s, padding=p, dilation=d, output_padding=extra[0]))
        else:
            reach = _reach_window(reach, k, s, p, d)
            layers.append(conv(1, k, stride=s, padding=p, dilation=d))
    last = analyse((1, size, size), layers).layers[-1]
    assert last.output_shape == (1, len(reach), len(reach))
    (r, _), (j, _), (s0, _) = last.receptive_field, last.jump, last.start
    for o, pixels in enumerate(reach):
        if pixels:
            centre = s0 + o * j
            assert centre - (r - 1) / 2 - 1e-9 <= min(pixels) and max(pixels) <= centre + (r - 1) / 2 + 1e-9
    assert max(max(p) - min(p) + 1 for p in reach if p) <= r


def test_transposed_conv_3x3_stride_2_reads_two_then_one_input_pixels_centred_on_its_field():
    (layer,) = analyse((8, 7, 7), [conv_t(4, 3, stride=2, padding=1, output_padding=1)]).layers
    reach = _reach_transposed([{i} for i in range(7)], 3, 2, 1, 1, 1)
    assert layer.output_shape == (4, 14, 14) == (4, len(reach), len(reach))
    assert layer.parameters == 8 * 4 * 9 + 4
    assert layer.macs == 8 * 7 * 7 * 4 * 9
    assert (layer.receptive_field, layer.jump, layer.start) == ((2, 2), (0.5, 0.5), (0.0, 0.0))
    assert [len(p) for p in reach[:4]] == [1, 2, 1, 2]
    assert [sum(p) / len(p) for p in reach[:13]] == [0.5 * o for o in range(13)]


# --- other layers and the torch lines ------------------------------------------------------------


def test_grouped_conv_batchnorm_and_flatten_counts():
    report = analyse(
        (3, 8, 8),
        [
            conv(6, 3, groups=3),
            Layer("BatchNorm2d"),
            Layer("BatchNorm2d", {"affine": False}),
            Layer("Flatten"),
            Layer("BatchNorm1d"),
            Layer("Linear", {"out_features": 5, "bias": False}),
        ],
    )
    assert [layer.parameters for layer in report.layers] == [6 * 1 * 9 + 6, 2 * 6, 0, 0, 2 * 216, 216 * 5]
    assert report.layers[0].macs == 6 * 6 * 6 * 1 * 9
    assert report.layers[2].receptive_field == (3, 3)  # BatchNorm keeps the field
    assert report.layers[3].receptive_field is None and report.layers[3].output_shape == (216,)


@pytest.mark.parametrize(
    ("shape", "layer", "line"),
    [
        (
            (4, 9, 9),
            conv(8, (3, 5), stride=(2, 2), padding=(1, 2), groups=2, bias=False),
            "nn.Conv2d(4, 8, kernel_size=(3, 5), stride=2, padding=(1, 2), groups=2, bias=False)",
        ),
        ((1, 9, 9), conv(32, (3, 3), stride=1, padding=0), "nn.Conv2d(1, 32, kernel_size=3)"),
        (
            (8, 7, 7),
            conv_t(4, 3, stride=2, padding=1, output_padding=1),
            "nn.ConvTranspose2d(8, 4, kernel_size=3, stride=2, padding=1, output_padding=1)",
        ),
        (
            (2, 9, 9),
            pool(3, stride=2, ceil_mode=True),
            "nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)",
        ),
        ((2, 9, 9), pool(2, "AvgPool2d", padding=1), "nn.AvgPool2d(kernel_size=2, padding=1)"),
        ((16, 4, 4), Layer("BatchNorm2d", {"affine": False}), "nn.BatchNorm2d(16, affine=False)"),
        ((16,), Layer("Dropout", {"p": 0.25}), "nn.Dropout(p=0.25)"),
        ((1600,), Layer("Linear", {"out_features": 10, "bias": False}), "nn.Linear(1600, 10, bias=False)"),
        (
            (4, 50),
            Layer("Conv1d", {"out_channels": 8, "kernel_size": 5, "padding": "same"}),
            "nn.Conv1d(4, 8, kernel_size=5, padding='same')",
        ),
    ],
)
def test_torch_line_names_the_non_default_arguments_in_torch_order(shape, layer, line):
    assert analyse(shape, [layer]).layers[0].torch == line


# --- errors ----------------------------------------------------------------------------------------------


def test_kernel_larger_than_the_input_names_the_layer_and_sizes():
    stack = [conv(4, 3), pool(2), conv(4, 2), conv(4, 3)]  # 8 -> 6 -> 3 -> 2, then 3x3 on 2x2
    with pytest.raises(StackError) as caught:
        analyse((1, 8, 8), stack)
    assert caught.value.index == 3
    assert str(caught.value) == "layer 3 (Conv2d): kernel 3 is larger than the input 2x2 (padding 0)"


@pytest.mark.parametrize(
    ("shape", "layers", "index", "fragment"),
    [
        ((1, 0, 28), [], None, "sizes > 0"),
        ((1, 2, 3, 4), [], None, "(C, H, W)"),
        ((1, 5, 5), [conv(1, 3, dilation=3)], 0, "kernel 3 (dilated to 7) is larger than the input 5x5"),
        (
            (1, 8, 8),
            [pool(9)],
            0,
            "pooling window 9x9 (dilation included) is larger than the padded input 8x8",
        ),
        ((1, 28, 28), [conv(8, 3), Layer("Linear", {"out_features": 10})], 1, "add Flatten"),
        ((10,), [conv(4, 3)], 0, "flat shape has no spatial axes"),
        ((4, 50), [conv(4, 3)], 0, "use Conv1d"),
        ((4, 5, 5), [Layer("Conv1d", {"out_channels": 4, "kernel_size": 3})], 0, "use Conv2d"),
        ((4, 50), [Layer("BatchNorm2d")], 0, "use BatchNorm1d"),
        ((4, 5, 5), [Layer("BatchNorm1d")], 0, "use BatchNorm2d"),
        ((3, 8, 8), [conv(4, 3, groups=2)], 0, "groups=2 must divide both in_channels=3"),
        ((1, 8, 8), [conv(4, 3), Layer("Conv3d", {"out_channels": 1})], 1, "unknown kind"),
        ((1, 8, 8), [Layer("Conv2d", {"out_channels": 4})], 0, "missing required argument 'kernel_size'"),
        ((1, 8, 8), [Layer("Conv2d", {"out_channels": 4, "kernel": 3})], 0, "unexpected argument 'kernel'"),
        ((1, 8, 8), [conv(4, 3, stride=0)], 0, "stride must be"),
        ((1, 8, 8), [conv(4, (3, 3, 3))], 0, "kernel_size must be"),
        ((1, 8, 8), [conv(0, 3)], 0, "out_channels must be"),
        ((1, 8, 8), [conv(4, 3, padding=-1)], 0, "padding must be"),
        ((1, 8, 8), [conv(4, 3, bias="yes")], 0, "bias must be True or False"),
        ((1, 8, 8), [conv(4, 3, stride=2, padding="same")], 0, "padding='same' needs stride 1"),
        ((1, 8, 8), [Layer("Dropout", {"p": 1.5})], 0, "p must be a probability"),
        ((16,), [Layer("Linear", {"out_features": 0})], 0, "out_features must be"),
        ((1, 8, 8), [pool(2, padding=2)], 0, "pad should be at most half of kernel size"),
        ((1, 8, 8), [pool(2, ceil_mode=1)], 0, "ceil_mode must be True or False"),
        ((1, 8, 8), [conv_t(4, 3, stride=2, output_padding=2)], 0, "output_padding 2 must be smaller"),
        ((1, 1, 1), [conv_t(1, 1, padding=1)], 0, "output size -1x-1 is not positive"),
        (
            (4, 50),
            [Layer("Conv1d", {"out_channels": 4, "kernel_size": 3}), pool(2)],
            1,
            "expects a (C, H, W)",
        ),
    ],
)
def test_invalid_stacks_raise_stack_error_naming_the_layer_and_the_problem(shape, layers, index, fragment):
    with pytest.raises(StackError) as caught:
        analyse(shape, layers)
    assert caught.value.index == index
    assert fragment in str(caught.value)
    prefix = "input: " if index is None else f"layer {index} ({layers[index].kind}): "
    assert str(caught.value).startswith(prefix)
    assert isinstance(caught.value, ValueError)
