"""POST /api/calculator/analyse with a graph: named inputs, a residual Add, 422s naming the join."""

from __future__ import annotations

from tests.app.helpers import assert_error

URL = "/api/calculator/analyse"


def conv(name: str, out: int, stride: int = 1, inputs: list[str] | None = None) -> dict:
    args = {"out_channels": out, "kernel_size": 3, "stride": stride, "padding": 1, "bias": False}
    return {"name": name, "kind": "Conv2d", "args": args, **({"inputs": inputs} if inputs else {})}


def block(stride: int = 1, skip: list[dict] | None = None) -> list[dict]:
    """A BasicBlock on (8, 16, 16): conv-bn-relu-conv-bn, plus the input (or `skip`'s last layer), relu."""
    branch = [conv("conv1", 8, stride, ["input"]), {"name": "bn1", "kind": "BatchNorm2d"}]
    branch += [{"name": "relu1", "kind": "ReLU"}, conv("conv2", 8), {"name": "bn2", "kind": "BatchNorm2d"}]
    join = {"name": "add", "kind": "Add", "inputs": ["bn2", skip[-1]["name"] if skip else "input"]}
    return branch + (skip or []) + [join, {"name": "relu2", "kind": "ReLU"}]


def test_a_residual_block_is_analysed_as_a_graph_with_names_inputs_and_outputs(client):
    answer = client.post(URL, json={"input_shape": [8, 16, 16], "layers": block(), "selected": 5})
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    add = body["layers"][5]
    assert add["name"] == "add" and add["inputs"] == ["bn2", "input"]
    assert add["input_shapes"] == [[8, 16, 16], [8, 16, 16]] and add["torch"] == "bn2 + input"
    assert add["receptive_field"] == [5, 5]  # two 3x3 convs; the skip's 1x1 field lies inside
    assert body["total_parameters"] == 2 * (8 * 8 * 9 + 16)
    assert body["outputs"] == {"relu2": [8, 16, 16]}
    plain = client.post(URL, json={"input_shape": [8, 16, 16], "layers": [conv("c", 8)]}).json()
    assert "outputs" in plain and "name" in plain["layers"][0]  # naming one layer makes a graph
    chain = client.post(URL, json={"input_shape": [8, 16, 16], "layers": [{"kind": "ReLU"}]}).json()
    assert "outputs" not in chain and "name" not in chain["layers"][0]


def test_a_strided_block_without_a_downsample_is_a_422_naming_the_add(client):
    layers = block(stride=2)
    answer = client.post(URL, json={"input_shape": [8, 16, 16], "layers": layers})
    assert_error(answer, 422, "layers[5]", "adds inputs of one shape, but 'bn2' is (8, 8, 8)")
    downsample = [
        {
            "name": "down",
            "kind": "Conv2d",
            "args": {"out_channels": 8, "kernel_size": 1, "stride": 2},
            "inputs": ["input"],
        }
    ]
    fixed = client.post(URL, json={"input_shape": [8, 16, 16], "layers": block(2, downsample)})
    assert fixed.status_code == 200 and fixed.json()["output_shape"] == [8, 8, 8]


def test_unknown_inputs_and_oversized_wiring_are_422s(client):
    body = {"input_shape": [8, 16, 16], "layers": [{"name": "r", "kind": "ReLU", "inputs": ["nowhere"]}]}
    assert_error(client.post(URL, json=body), 422, "layers[0]", "'nowhere', which is neither an input")
    body["layers"][0]["inputs"] = ["input"] * 9
    assert_error(client.post(URL, json=body), 422, "layers[0]")
    body["layers"][0]["inputs"] = []
    assert_error(client.post(URL, json=body), 422, "layers[0]")
