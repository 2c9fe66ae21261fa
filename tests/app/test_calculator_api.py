"""POST /api/calculator/analyse and GET /api/calculator/presets: the seeds' numbers, field boxes,
formulas, and a 4xx (never a 500) for every stack, type or size the calculator refuses."""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict

import numpy as np
import pytest

from layerlab.app.config import settings
from layerlab.app.pages.calculator.request import KINDS
from layerlab.engine.calculator import PRESETS, Layer, StackError, analyse
from layerlab.engine.conv import conv2d
from tests.app.helpers import assert_error

URL = "/api/calculator/analyse"


def preset_body(name: str, **more) -> dict:
    p = PRESETS[name]
    layers = [{"kind": layer.kind, "args": layer.args} for layer in p["layers"]]
    return {"input_shape": list(p["input_shape"]), "layers": layers, **more}


def conv(out_channels: int, kernel_size, **more) -> dict:
    return {"kind": "Conv2d", "args": {"out_channels": out_channels, "kernel_size": kernel_size, **more}}


def math_text(mathml: str) -> str:
    """A MathML formula as plain text without spaces: '18\\,496' reads 18496."""
    return re.sub(r"\s", "", html.unescape(re.sub(r"<[^>]+>", "", mathml)))


def formula(body: dict, name: str) -> list[str]:
    return [math_text(f["mathml"]) for f in body["selected"]["formulas"] if f["name"] == name]


# ---- the seeds -----------------------------------------------------------------------------------

SEED002_ROWS = [
    ((32, 26, 26), 320),
    ((32, 26, 26), 0),
    ((32, 13, 13), 0),
    ((64, 11, 11), 18_496),
    ((64, 11, 11), 0),
    ((64, 5, 5), 0),
    ((1600,), 0),
    ((1600,), 0),
    ((10,), 16_010),
    ((10,), 0),
]


def test_seed002_over_the_wire_gives_the_seed_summary(http):
    r = http.post(URL, json=preset_body("seed002_mnist"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(tuple(x["output_shape"]), x["parameters"]) for x in body["layers"]] == SEED002_ROWS
    assert body["total_parameters"] == 34_826
    assert body["output_shape"] == [10]


@pytest.mark.parametrize(("name", "total"), [("seed001_mlp_3_4_2", 26), ("seed001_mlp_3_4_4_1", 41)])
def test_seed001_networks_have_26_and_41_parameters(client, name, total):
    body = client.post(URL, json=preset_body(name)).json()
    assert body["total_parameters"] == total
    assert [x["receptive_field"] for x in body["layers"]] == [None] * len(body["layers"])


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_layer_reports_the_engines_fields(client, name):
    body = client.post(URL, json=preset_body(name)).json()
    report = analyse(PRESETS[name]["input_shape"], PRESETS[name]["layers"])
    for got, expected in zip(body["layers"], report.layers, strict=True):
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(expected).items()}
        assert {k: got[k] for k in fields} == fields
    assert (body["total_parameters"], body["total_macs"]) == (report.total_parameters, report.total_macs)


def test_presets_endpoint_lists_the_engine_presets_ready_to_analyse(client):
    presets = client.get("/api/calculator/presets").json()
    assert [p["name"] for p in presets] == list(PRESETS)
    for p in presets:
        assert (p["label"], p["note"]) == (PRESETS[p["name"]]["label"], PRESETS[p["name"]]["note"])
        r = client.post(URL, json={"input_shape": p["input_shape"], "layers": p["layers"]})
        assert r.status_code == 200


# ---- receptive-field boxes -----------------------------------------------------------------------


def test_seed002_centre_boxes_have_the_field_size(client):
    report = analyse(PRESETS["seed002_mnist"]["input_shape"], PRESETS["seed002_mnist"]["layers"])
    body = client.post(URL, json=preset_body("seed002_mnist")).json()
    for got, layer in zip(body["layers"], report.layers, strict=True):
        if layer.receptive_field is None:
            assert got["box"] is None
            continue
        box, (r, _) = got["box"], layer.receptive_field
        assert box["position"] == [(n - 1) // 2 for n in layer.output_shape[1:]]
        assert box["rows"] == box["cols"] and box["rows"][1] - box["rows"][0] + 1 == r
        assert not box["clipped"]
    assert body["layers"][3]["box"]["rows"] == [10, 17]  # centre (5, 5): 3.5 + 5*2 = 13.5, 8 wide


def _influence(layers: list[dict], size: int) -> np.ndarray:
    """mask[y, x, oy, ox]: does input pixel (y, x) reach output (oy, ox)? All-ones kernels on deltas."""
    x = np.eye(size * size).reshape(size * size, 1, size, size)
    for layer in layers:
        a = layer["args"]
        weight = np.ones((1, 1, a["kernel_size"], a["kernel_size"]))
        x = conv2d(x, weight, None, a.get("stride", 1), a.get("padding", 0), record_steps=False).output
    return (x[:, 0] > 0).reshape(size, size, *x.shape[2:])


@pytest.mark.parametrize(
    "layers",
    [
        [conv(1, 3, padding=1), conv(1, 3, stride=2, padding=1)],
        [conv(1, 3, stride=2), conv(1, 2, stride=2), conv(1, 3, padding=2)],
        [conv(1, 3, stride=2), conv(1, 2), conv(1, 3, padding=1)],
        [conv(1, 5, stride=3, padding=2)],
    ],
)
def test_box_holds_every_pixel_that_reaches_its_position_and_no_more_away_from_the_border(client, layers):
    """Near a border the box is the field's full extent clipped to the input: some of it may be
    padding, as the engine's fields are (a superset); away from it, exactly the pixels that reach."""
    size, exact = 13, 0
    mask = _influence(layers, size)
    for oy, ox in np.ndindex(*mask.shape[2:]):
        body = {"input_shape": [1, size, size], "layers": layers, "selected": len(layers) - 1}
        box = client.post(URL, json={**body, "position": [oy, ox]}).json()["layers"][-1]["box"]
        ys, xs = np.nonzero(mask[:, :, oy, ox])
        reach = ([int(ys.min()), int(ys.max())], [int(xs.min()), int(xs.max())])
        assert box["position"] == [oy, ox]
        assert box["rows"][0] <= reach[0][0] and reach[0][1] <= box["rows"][1], (oy, ox)
        assert box["cols"][0] <= reach[1][0] and reach[1][1] <= box["cols"][1], (oy, ox)
        assert box["clipped"] == (box["extent"] != [box["rows"], box["cols"]])
        if not box["clipped"]:
            assert (box["rows"], box["cols"]) == reach, (oy, ox)
            exact += 1
    assert exact > 0 or layers[-1]["args"].get("padding") == 2  # (a 3x3 window padded by 2 on a 3x3 map)


def test_a_one_d_stack_has_boxes_of_height_one(client):
    body = {
        "input_shape": [2, 20],
        "layers": [{"kind": "Conv1d", "args": {"out_channels": 4, "kernel_size": 5}}],
    }
    box = client.post(URL, json={**body, "selected": 0, "position": [0, 15]}).json()["layers"][0]["box"]
    assert (box["rows"], box["cols"], box["extent"]) == ([0, 0], [15, 19], [[0, 0], [15, 19]])


def test_a_field_wholly_on_padding_has_no_clipped_box(client):
    body = {"input_shape": [1, 4, 4], "layers": [conv(1, 1, padding=3)], "selected": 0, "position": [0, 0]}
    box = client.post(URL, json=body).json()["layers"][0]["box"]
    assert (box["rows"], box["extent"], box["clipped"]) == (None, [[-3, -3], [-3, -3]], True)


# ---- formulas ------------------------------------------------------------------------------------


def test_seed002_formulas_plug_in_the_selected_layers_numbers(client):
    second_conv = client.post(URL, json=preset_body("seed002_mnist", selected=3)).json()
    assert second_conv["selected"]["index"] == 3
    # the fraction's bar is lost in plain text: (13 + 2*0 - 1*(3 - 1) - 1) over 1
    assert formula(second_conv, "size") == ["Hout=⌊13+2·0−1·(3−1)−11⌋+1=11", "Wout=⌊13+2·0−1·(3−1)−11⌋+1=11"]
    assert formula(second_conv, "parameters") == ["parameters=Cout·Cing·kHkW+Cout=64·32·3·3+64=18496"]
    assert formula(second_conv, "macs") == ["MACs=Cout·HoutWout·Cing·kHkW=64·11·11·32·3·3=2230272"]
    assert formula(second_conv, "field") == ["rout=rin+(k−1)·jin=4+(3−1)·2=8", "jout=jin·s=2·1=2"]
    pool = client.post(URL, json=preset_body("seed002_mnist", selected=5)).json()
    assert formula(pool, "size")[0] == "Hout=⌊11+2·0−1·(2−1)−12⌋+1=5"  # the stride is the kernel size
    assert formula(pool, "field") == ["rout=rin+(k−1)·jin=8+(2−1)·2=10", "jout=jin·s=2·2=4"]
    dense = client.post(URL, json=preset_body("seed002_mnist", selected=8)).json()
    assert formula(dense, "parameters") == ["parameters=Fin·Fout+Fout=1600·10+10=16010"]
    flatten = client.post(URL, json=preset_body("seed002_mnist", selected=6)).json()
    assert formula(flatten, "size") == ["F=C·H·W=64·5·5=1600"]


EVERY_KIND = [
    {"kind": "Conv2d", "args": {"out_channels": 6, "kernel_size": [3, 2], "padding": "same", "groups": 2}},
    {"kind": "BatchNorm2d"},
    {"kind": "MaxPool2d", "args": {"kernel_size": 3, "stride": 2, "ceil_mode": True, "dilation": 2}},
    {
        "kind": "ConvTranspose2d",
        "args": {"out_channels": 4, "kernel_size": 3, "stride": 2, "output_padding": 1},
    },
    {"kind": "AvgPool2d", "args": {"kernel_size": 2, "padding": 1, "ceil_mode": True}},
    conv(4, 3, dilation=2, bias=False),
    {"kind": "Tanh"},
    {"kind": "Flatten"},
    {"kind": "Dropout", "args": {"p": 0.2}},
    {"kind": "Linear", "args": {"out_features": 5, "bias": False}},
    {"kind": "BatchNorm1d", "args": {"affine": False}},
    {"kind": "Sigmoid"},
]
ARITHMETIC = re.compile(r"[\d+\-*/().]+")


def assert_adds_up(text: str) -> None:
    """'... = 64·32·3·3+64 = 18496': the plugged-in numbers give the result written after them."""
    *_, expression, result = text.replace("·", "*").replace("−", "-").split("=")
    assert ARITHMETIC.fullmatch(expression), text
    assert eval(expression, {"__builtins__": {}}) == pytest.approx(float(result)), text  # noqa: S307


@pytest.mark.parametrize("index", range(len(EVERY_KIND)))
def test_formulas_of_every_kind_add_up_to_the_engines_numbers(client, index):
    body = client.post(URL, json={"input_shape": [2, 17, 15], "layers": EVERY_KIND, "selected": index}).json()
    layer = body["layers"][index]
    for name, value in (("parameters", layer["parameters"]), ("macs", layer["macs"])):
        for text in formula(body, name):
            assert text.endswith(f"={value}")
            assert_adds_up(text)
    sizes = [text.rsplit("=", 1)[1] for text in formula(body, "size")]
    assert sizes in ([], [str(n) for n in layer["output_shape"][1:]], [str(layer["output_shape"][0])])
    fields = formula(body, "field")
    assert bool(fields) == (layer["receptive_field"] is not None)
    for text in fields:
        if "," not in text:  # an element-wise layer keeps r and j: nothing to compute
            assert_adds_up(text)


def test_conv1d_formulas_name_the_length(client):
    layers = [{"kind": "Conv1d", "args": {"out_channels": 4, "kernel_size": 5, "stride": 2}}]
    body = client.post(URL, json={"input_shape": [2, 21], "layers": layers, "selected": 0}).json()
    assert formula(body, "size") == ["Lout=⌊21+2·0−1·(5−1)−12⌋+1=9"]
    assert formula(body, "macs") == ["MACs=Cout·Lout·Cing·k=4·9·2·5=360"]
    assert formula(body, "field") == ["rout=rin+(k−1)·jin=1+(5−1)·1=5", "jout=jin·s=1·2=2"]


# ---- refusals: 422 naming the layer or field, never a 500 -------------------------------------------

FLAT = {"kind": "Flatten"}


@pytest.mark.parametrize(
    ("shape", "layers", "field", "words"),
    [
        (
            [1, 28, 28],
            [{"kind": "Linear", "args": {"out_features": 10}}],
            "layers[0]",
            "add Flatten before it",
        ),
        ([1, 5, 5], [conv(4, 3), conv(4, 5)], "layers[1]", "larger than the input 3x3"),
        ([4, 8, 8], [conv(6, 3, groups=4)], "layers[0]", "groups=4 must divide"),
        ([1, 8, 8], [FLAT, conv(2, 3)], "layers[1]", "a flat shape has no spatial axes"),
        ([1, 8, 8], [conv(2, 3), {"kind": "Lstm"}], "layers[1]", "unknown kind"),
        ([1, 8, 8], [conv(2, 3, stride=2, padding="same")], "layers[0]", "padding='same' needs stride 1"),
        ([1, 8, 8], [conv(2, 3, strides=2)], "layers[0]", "unexpected argument 'strides'"),
        (
            [1, 8, 8],
            [{"kind": "Conv2d", "args": {"kernel_size": 3}}],
            "layers[0]",
            "missing required argument",
        ),
        ([1, 8, 8], [conv(2, 3, bias="yes")], "layers[0].args", "bias must be"),
        ([1, 8, 8], [conv(2, 3.5)], "layers[0]", "kernel_size must be an int"),
        ([1, 8, 8], [{"kind": "Dropout", "args": {"p": 2}}], "layers[0]", "probability"),
    ],
)
def test_a_stack_torch_rejects_is_a_422_naming_the_layer(client, shape, layers, field, words):
    r = client.post(URL, json={"input_shape": shape, "layers": layers})
    assert_error(r, 422, field, words)
    assert r.json()["message"].startswith(f"{field}: ")


WEIRD = ["3", 3.5, -1, 0, True, None, [1, 2, 3], [1, "a"], {"a": 1}, [], 1e300, 10**6, "same", [[1, 2], 3]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_weird_argument_values_never_crash_the_calculator(client, kind):
    base = {spec[0]: spec[2] for spec in KINDS[kind] if spec[3]}
    shape = [4, 12, 12] if "2d" in kind else [4, 12] if kind in ("Conv1d", "BatchNorm1d") else [4]
    for name in [spec[0] for spec in KINDS[kind]] + ["unknown"]:
        for value in WEIRD:
            body = {
                "input_shape": shape,
                "layers": [{"kind": kind, "args": {**base, name: value}}],
                "selected": 0,
            }
            r = client.post(URL, json=body)
            assert r.status_code in (200, 422), (kind, name, value, r.text[:200])
            if r.status_code == 422:
                assert r.json()["message"].startswith("layers[0]"), (kind, name, value, r.json())


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"input_shape": []}, "input_shape", None),
        ({"input_shape": [1, 2, 3, 4]}, "input_shape", "at most 3"),
        ({"input_shape": [0, 5, 5]}, "input_shape[0]", None),
        ({"input_shape": ["one"]}, "input_shape[0]", None),
        ({"input_shape": [1, settings.max_stack_side + 1, 5]}, "input_shape", str(settings.max_stack_side)),
        ({"input_shape": [settings.max_layer_size + 1]}, "input_shape", f"{settings.max_layer_size:,}"),
        (
            {"input_shape": [1, 8, 8], "layers": [FLAT] * (settings.max_layers + 1)},
            "layers",
            str(settings.max_layers),
        ),
        (
            {"input_shape": [1, 8, 8], "layers": [conv(settings.max_layer_size + 1, 3)]},
            "layers[0].args",
            "65,536",
        ),
        (
            {"input_shape": [1, 8, 8], "layers": [conv(2, settings.max_window_arg + 1)]},
            "layers[0].args",
            "256",
        ),
        ({"input_shape": [1, 8, 8], "layers": [{"kind": "x" * 33}]}, "layers[0].kind", "32"),
        (
            {
                "input_shape": [1, 8, 8],
                "layers": [{"kind": "Flatten", "args": {str(i): 1 for i in range(13)}}],
            },
            "layers[0].args",
            None,
        ),
        ({"input_shape": [1, 8, 8], "layers": [FLAT], "extra": 1}, "extra", None),
        ({"input_shape": [1, 8, 8], "layers": [FLAT], "selected": 1}, "selected", "1 layers"),
        ({"input_shape": [1, 8, 8], "layers": [conv(1, 3)], "position": [0, 0]}, "position", "selected"),
        (
            {"input_shape": [1, 8, 8], "layers": [conv(1, 3)], "selected": 0, "position": [6, 0]},
            "position",
            "6x6",
        ),
        (
            {"input_shape": [1, 8, 8], "layers": [FLAT], "selected": 0, "position": [0, 0]},
            "position",
            "spatial",
        ),
    ],
)
def test_bad_or_oversized_requests_are_refused_with_the_field_named(client, body, field, limit):
    assert_error(client.post(URL, json=body), 422, field, limit)


def test_maps_that_outgrow_the_page_are_refused_naming_the_layer(client):
    grow = {"kind": "ConvTranspose2d", "args": {"out_channels": 1, "kernel_size": 2, "stride": 2}}
    r = client.post(URL, json={"input_shape": [1, 300, 300], "layers": [grow, grow]})
    assert_error(r, 422, "layers[1]", "over 1024 per side")


def test_counts_past_what_a_browser_holds_exactly_are_refused_naming_the_layer(client):
    # a stride of 256 with as much padding keeps a 3x3 map while the jump multiplies by 256 a layer
    hop = conv(1, 1, stride=settings.max_window_arg, padding=settings.max_window_arg)
    r = client.post(URL, json={"input_shape": [1, 3, 3], "layers": [hop] * 8})
    assert_error(r, 422, "layers[6]", "2^53")


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_request_object_is_a_4xx(client, content):
    r = client.post(URL, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["message"]


def test_over_the_wire_a_failing_stack_is_a_json_422(http):
    r = http.post(URL, json={"input_shape": [1, 28, 28], "layers": [FLAT, conv(1, 3)]})
    assert_error(r, 422, "layers[1]", "layer 1 (Conv2d)")


# ---- the page's argument table agrees with the engine ----------------------------------------------


def test_kinds_are_the_engines_kinds():
    with pytest.raises(StackError) as caught:
        analyse((1,), [Layer("?")])
    assert set(str(caught.value).split("one of ")[1].split(", ")) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_default_argument_values_are_the_engines(kind):
    """Passing every default explicitly gives the same torch line: the engine leaves defaults out."""
    shape = (4, 12, 12) if "2d" in kind else (4, 12) if kind in ("Conv1d", "BatchNorm1d") else (4,)
    required = {name: default for name, _, default, needed in KINDS[kind] if needed}
    everything = {name: default for name, _, default, _ in KINDS[kind]}
    lines = [analyse(shape, [Layer(kind, args)]).layers[0].torch for args in (required, everything)]
    assert lines[0] == lines[1]


def test_calculator_page_hands_over_kinds_in_order_presets_and_limits(client):
    r = client.get("/calculator")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    data = json.loads(
        re.search(r'<script id="page-data" type="application/json">(.*?)</script>', r.text, re.S)[1]
    )
    assert [k["kind"] for k in data["kinds"]] == list(KINDS)
    assert [p["name"] for p in data["presets"]] == list(PRESETS)
    assert data["limits"]["max_layers"] == settings.max_layers
    assert r.text.count("<math") >= 6 and 'href="/vendor/plotly-cartesian.min.js"' in r.text


def test_page_explanation_quotes_the_engines_seed002_numbers(client):
    report = analyse(PRESETS["seed002_mnist"]["input_shape"], PRESETS["seed002_mnist"]["layers"])
    conv2, dense = report.layers[3], report.layers[8]
    page = re.sub(r"\s+", " ", client.get("/calculator").text)
    for number in (conv2.parameters, conv2.macs, dense.parameters, dense.macs):
        assert f"{number:,}" in page
    fields = sorted({layer.receptive_field[0] for layer in report.layers if layer.receptive_field})
    assert f"the fields are {', '.join(map(str, fields[:-1]))} and {fields[-1]} pixels wide" in page


def test_index_links_the_calculator_and_the_schema_lists_only_its_api(client):
    assert 'href="/calculator"' in client.get("/").text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/calculator/analyse", "/api/calculator/presets"} <= paths.keys()
    assert "/calculator" not in paths
