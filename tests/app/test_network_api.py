"""POST /api/network/{forward,backward,link,circle} and the /network page: every number equals the engine's,
the links really open the same maps on /conv and /pool, and every refusal names its field and limit."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from layerlab.app.config import settings
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.data import draw_digit, fit_digit, sample_digit
from layerlab.engine.cnn.model import backward, forward, load_weights
from tests.app.helpers import assert_error, encode, live_maps

PARAMS = load_weights()
F32 = {"rtol": 1e-5, "atol": 1e-6}  # arrays travel as float32


def drawing(digit: int, seed: int, scale: int = 2) -> np.ndarray:
    """A generated digit enlarged `scale` times, as the page's 56x56 canvas raster would be."""
    return np.kron(draw_digit(digit, np.random.default_rng(seed)), np.ones((scale, scale)))


def post(client, url: str, **body) -> dict:
    r = client.post(url, json=body)
    assert r.status_code == 200, r.text[:300]
    return r.json()


# ---- forward -------------------------------------------------------------------------------------


def test_default_forward_is_the_engines_pass_over_a_generated_three(client):
    body = post(client, "/api/network/forward")
    x = sample_digit(3, 1)
    t = forward(x, PARAMS)
    np.testing.assert_allclose(body["input"], x, **F32)
    for name in ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2"):
        np.testing.assert_allclose(body["maps"][name], t.stages[name][0], **F32, err_msg=name)
    np.testing.assert_allclose(body["flatten"], t.stages["flatten"][0], **F32)
    np.testing.assert_allclose(body["logits"], t.stages["logits"][0], **F32)
    np.testing.assert_allclose(body["probs"], t.output[0], **F32)
    assert body["predicted"] == int(t.output.argmax())
    assert body["shapes"]["conv2"] == [1, 16, 11, 11] and body["shapes"]["flatten"] == [1, 400]
    assert body["source"] == "generated digit 3, seed 1" and body["blank"] is False


def test_a_drawn_matrix_is_fitted_like_the_training_digits_and_classified(client):
    matrix = drawing(7, 11)
    body = post(client, "/api/network/forward", source="matrix", matrix=matrix.tolist())
    fitted = fit_digit(matrix)
    np.testing.assert_allclose(body["input"], fitted, **F32)
    np.testing.assert_allclose(body["probs"], forward(fitted, PARAMS).output[0], **F32)
    assert body["predicted"] == 7


def test_a_blank_drawing_is_all_zeros_and_says_so(client):
    body = post(client, "/api/network/forward", source="matrix", matrix=np.zeros((20, 30)).tolist())
    assert body["blank"] is True and not np.any(body["input"])
    np.testing.assert_allclose(body["probs"], forward(np.zeros((28, 28)), PARAMS).output[0], **F32)


def test_an_upload_of_dark_ink_on_paper_is_turned_over_and_classified(client):
    ink = drawing(4, 3, scale=3)  # 84x84
    paper = Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8), "L").convert("RGB")
    upload = client.post("/api/images", files={"file": ("four.png", encode(paper, "PNG"), "image/png")})
    assert upload.status_code == 201, upload.text
    image = upload.json()["id"]
    body = post(client, "/api/network/forward", source="image", image=image)
    expected = fit_digit(1 - np.round(255 * (1 - ink)) / 255)
    np.testing.assert_allclose(body["input"], expected, atol=1e-6)
    assert body["predicted"] == 4
    kept = post(client, "/api/network/forward", source="image", image=image, invert="no")
    assert not np.allclose(kept["input"], body["input"])  # white paper read as ink: a filled square


def test_the_built_in_digit_sample_reads_as_a_three(client):
    assert post(client, "/api/network/forward", source="image", image="digit")["predicted"] == 3


def test_real_server_forward_gives_the_engines_probabilities(http):
    r = http.post("/api/network/forward", json={"digit": 8, "seed": 5})
    assert r.status_code == 200
    np.testing.assert_allclose(r.json()["probs"], forward(sample_digit(8, 5), PARAMS).output[0], **F32)


# ---- backward ------------------------------------------------------------------------------------


def test_backward_gives_the_engines_gradients_and_the_transposed_convolution_identity(client):
    body = post(client, "/api/network/backward", digit=2, seed=4, target=5)
    t = backward(sample_digit(2, 4), 5, PARAMS)
    for name in ("input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2"):
        np.testing.assert_allclose(body["grads"][name], t.stages[f"grad_{name}"][0], rtol=1e-5, atol=1e-9)
    probs = np.array(body["probs"])
    np.testing.assert_allclose(body["grad_logits"], probs - np.eye(10)[5], atol=1e-6)
    assert body["loss"] == pytest.approx(-np.log(probs[5]), rel=1e-5)
    ident = body["transposed"]
    np.testing.assert_allclose(ident["grad_pool1"], body["grads"]["pool1"], rtol=1e-5, atol=1e-9)
    assert ident["max_abs_diff"]["conv2"] < 1e-12 and ident["max_abs_diff"]["conv1"] < 1e-12
    cell = ident["cell"]
    g = np.abs(np.array(body["grads"]["pool1"]))
    assert g[cell["channel"], cell["row"], cell["col"]] == pytest.approx(g.max())
    assert cell["backward"] == pytest.approx(cell["transposed"], abs=1e-12)
    assert "conv_transpose2d" in ident["formula"] and ident["formula"].startswith("<math")


def test_real_server_backward(http):
    r = http.post("/api/network/backward", json={"target": 0})
    assert r.status_code == 200 and r.json()["target"] == 0


# ---- links to the conv and pooling pages ---------------------------------------------------------------


def _query(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def test_conv1_links_open_the_same_maps_on_the_conv_and_pooling_pages(client):
    link = post(client, "/api/network/link", digit=6, seed=2, layer="relu1", channel=5)
    conv_href, pool_href = (entry["href"] for entry in link["links"])
    assert conv_href.startswith("/conv?") and pool_href.startswith("/pool?")
    t = forward(sample_digit(6, 2), PARAMS)
    q = _query(conv_href)
    assert q["f"] == "5" and q["relu"] == "1" and q["size"] == "28" and q["pad"] == "0,0"
    conv = {
        "image": q["image"],
        "size": int(q["size"]),
        "weight": json.loads(q["w"]),
        "bias": [float(v) for v in q["b"].split(",")],
        "relu": True,
    }
    maps = live_maps(client.post("/api/conv/live", json=conv))  # (2, 8, 26, 26): conv and its ReLU
    np.testing.assert_allclose(maps[0], t.stages["conv1"][0], **F32)
    np.testing.assert_allclose(maps[1], t.stages["relu1"][0], **F32)
    p = _query(pool_href)
    pool = {"source": p["source"], "conv": json.loads(p["conv"]), "conv_filter": int(p["conv_filter"])}
    pool |= {
        "kernel_size": json.loads(p["kernel_size"]),
        "stride": json.loads(p["stride"]),
        "kind": p["kind"],
    }
    pooled = post(client, "/api/pool/trace", **pool)["output"]
    np.testing.assert_allclose(pooled, t.stages["pool1"][0, 5], **F32)
    assert "upload" in link["note"]


def test_conv2_links_carry_the_map_to_the_pooling_page_as_a_matrix(client):
    link = post(client, "/api/network/link", digit=9, seed=1, layer="pool2", channel=12)
    assert [entry["page"] for entry in link["links"]] == ["pool"]
    p = _query(link["links"][0]["href"])
    t = forward(sample_digit(9, 1), PARAMS)
    matrix = json.loads(p["matrix"])
    np.testing.assert_array_equal(matrix, t.stages["relu2"][0, 12])
    assert len(matrix) <= settings.max_pool_matrix_side
    pooled = post(
        client, "/api/pool/trace", source="matrix", matrix=matrix, kernel_size=[2, 2], stride=[2, 2]
    )
    np.testing.assert_allclose(pooled["output"], t.stages["pool2"][0, 12], atol=1e-12)
    assert "8" in link["note"]  # why conv2 cannot open on the conv page: it reads 8 channels


# ---- seed 000's circle detector ---------------------------------------------------------------------------


def test_circle_detector_fires_for_the_circle_and_not_for_the_others(client):
    for name in circle.SHAPES:
        body = post(client, "/api/network/circle", shape=name)
        t = circle.detect(circle.SHAPES[name])
        assert body["fires"] is (name == "circle"), name
        assert body["output"] == t.output.item()
        np.testing.assert_array_equal(body["parts"], t.stages["parts"])
    body = post(client, "/api/network/circle")
    assert np.array(body["parts"]).shape == (5, 2, 2) and np.array(body["kernels"]).shape == (5, 3, 3)
    assert body["formula"].startswith("<math")


def test_an_edited_circle_missing_one_arc_does_not_fire(client):
    grid = np.array(circle.SHAPES["circle"])
    grid[0, 1] = grid[1, 0] = 0  # rub out the top-left arc
    body = post(client, "/api/network/circle", matrix=grid.tolist())
    assert body["shape"] == "edited" and body["fires"] is False
    assert body["output"] == circle.detect(grid).output.item()


# ---- the page ----------------------------------------------------------------------------------------------


def test_page_carries_formulas_the_torch_model_and_its_defaults(client):
    r = client.get("/network")
    assert r.status_code == 200
    assert "nn.Conv2d(8, 16, kernel_size=3)" in r.text and "5,258 parameters" in r.text
    assert r.text.count("<math") >= 15 and "4x2x2" in r.text
    data = json.loads(
        r.text.split('<script id="page-data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["defaults"]["source"] == "sample" and data["total_parameters"] == 5258


# ---- refusals ---------------------------------------------------------------------------------------

SIDE_MAX, SIDE_MIN = settings.max_network_matrix_side, settings.min_network_matrix_side


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"source": "matrix"}, "matrix", "needs the drawing"),
        ({"source": "matrix", "matrix": [[0.0] * 10] * 9 + [[0.0] * 9]}, "matrix", "10 entries"),
        ({"source": "matrix", "matrix": [[0.0] * 5] * 5}, "matrix", str(SIDE_MIN)),
        ({"source": "matrix", "matrix": [[0.0] * 10] * (SIDE_MAX + 1)}, "matrix", str(SIDE_MAX)),
        ({"source": "matrix", "matrix": [[1.5] * 10] * 10}, "matrix", "less than or equal to 1"),
        ({"source": "matrix", "matrix": [[-0.1] * 10] * 10}, "matrix", "greater than or equal to 0"),
        ({"digit": 10}, "digit", "9"),
        ({"seed": settings.max_network_seed + 1}, "seed", str(settings.max_network_seed)),
        ({"source": "image", "image": "moon"}, "image", "unknown sample"),
        ({"invert": "maybe"}, "invert", "auto"),
        ({"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_bad_forward_inputs_are_refused_naming_field_and_limit(client, body, field, limit):
    assert_error(client.post("/api/network/forward", json=body), 422, field, limit)


def test_nan_in_the_drawing_is_refused(client):
    raw = '{"source": "matrix", "matrix": [' + ",".join(["[NaN" + ", 0" * 9 + "]"] * 10) + "]}"
    r = client.post("/api/network/forward", content=raw, headers={"content-type": "application/json"})
    assert_error(r, 422, "matrix", "finite")


def test_an_upload_no_longer_on_the_server_is_a_404_naming_image(client):
    r = client.post("/api/network/forward", json={"source": "image", "image": "upload:0123456789abcdef"})
    assert_error(r, 404, "image", str(settings.max_uploads_kept))


@pytest.mark.parametrize("target", [-1, 10, "five"])
def test_a_bad_target_class_is_refused(client, target):
    assert_error(client.post("/api/network/backward", json={"target": target}), 422, "target")


def test_bad_links_and_circles_are_refused(client):
    assert_error(client.post("/api/network/link", json={"layer": "conv1", "channel": 8}), 422, "channel", "8")
    assert_error(client.post("/api/network/link", json={"layer": "fc"}), 422, "layer")
    assert_error(client.post("/api/network/circle", json={"shape": "moon"}), 422, "shape", "circle")
    assert_error(client.post("/api/network/circle", json={"matrix": [[0] * 5] * 4}), 422, "matrix", "5")


def test_real_server_refuses_a_ragged_drawing(http):
    r = http.post("/api/network/forward", json={"source": "matrix", "matrix": [[0.0] * 9, [0.0] * 8] * 5})
    assert_error(r, 422, "matrix", "9 entries")
