"""Which kind a model file is, and every refusal before anything is built, each naming its field."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from layerlab.models.errors import ModelFileError
from layerlab.models.sniff import MAX_HEADER_BYTES, kind_of, load_npz, load_safetensors
from tests.models.helpers import CONFIG, npz_bytes, safetensors_bytes, state_dict, zip_bytes

EXPORT_HINT = ("torch.onnx.export", "safetensors.torch.save_file")


def refused(data: bytes, filename: str | None = None) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        kind_of(data, filename, config=CONFIG)
    return caught.value


def tiny_onnx() -> bytes:
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])],
    )
    return helper.make_model(graph).SerializeToString()


def test_the_three_kinds_are_told_apart():
    tensors = state_dict()
    assert kind_of(safetensors_bytes(tensors), config=CONFIG) == "safetensors"
    assert kind_of(npz_bytes(tensors), "weights.npz", config=CONFIG) == "npz"
    assert kind_of(tiny_onnx(), "model.onnx", config=CONFIG) == "onnx"
    assert onnx.load_model_from_string(tiny_onnx()).graph.node[0].op_type == "Relu"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (pickle.dumps({"0.weight": [1.0, 2.0]}), None),  # a pickle, never loaded
        (b"PK\x03\x04 anything", "model.pt"),  # the name alone is enough
        (safetensors_bytes(state_dict()), "model.pth"),
        (zip_bytes({"archive/data.pkl": b"\x80\x02}q\x00.", "archive/data/0": b"\0" * 16}), None),
        (zip_bytes({"data.pkl": b"\x80\x02}q\x00."}), "weights.bin"),
    ],
    ids=["pickle", "pt-name", "pth-name", "torch-save-zip", "torch-zip-root"],
)
def test_pickles_and_torch_checkpoints_are_refused_with_how_to_export(data, filename):
    error = refused(data, filename)
    assert error.field == "file"
    assert "never unpickles" in str(error) and all(hint in str(error) for hint in EXPORT_HINT)


def test_a_file_over_the_size_limit_or_empty_is_refused():
    error = refused(b"\0" * (CONFIG.max_model_bytes + 1))
    assert error.field == "file" and "max_model_bytes" in str(error)
    assert refused(b"").field == "file"


def test_bytes_of_no_known_kind_are_refused():
    assert "not an ONNX model, a safetensors file or an .npz" in str(refused(b"hello, not a model at all"))
    assert refused(b"\xff\xff\xff garbage", "model.onnx").field == "file"


# ---- safetensors ---------------------------------------------------------------------------------


def header_file(header: dict, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_a_truncated_safetensors_file_is_refused():
    whole = safetensors_bytes(state_dict())
    cut_in_the_data = refused(whole[:-10])
    assert cut_in_the_data.field in state_dict() and "truncated" in str(cut_in_the_data)
    cut_in_the_header = refused(whole[:40], "weights.safetensors")
    assert cut_in_the_header.field == "file" and "truncated" in str(cut_in_the_header)
    assert refused(whole[:5], "weights.safetensors").field == "file"


def test_a_safetensors_header_lying_about_sizes_is_refused_before_reading():
    # the shape says 4 floats (16 bytes) but the offsets give 8 bytes
    lying = header_file({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, b"\0" * 8)
    error = refused(lying)
    assert error.field == "w" and "(2, 2)" in str(error)
    # a shape far over the element limit, whatever the offsets say
    huge = header_file({"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4]}}, b"\0" * 4)
    error = refused(huge)
    assert error.field == "w" and "max_model_tensor_elements" in str(error)
    # a header length far past the file and the bound
    error = refused(struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}")
    assert error.field == "file" and f"{MAX_HEADER_BYTES:,}" in str(error)
    # a dtype NumPy does not hold
    bf16 = header_file({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)
    assert "float32" in str(refused(bf16))


def test_safetensors_tensors_load_after_the_checks():
    tensors = load_safetensors(safetensors_bytes(state_dict()), CONFIG)
    assert all(np.array_equal(tensors[k], v) for k, v in state_dict().items())


# ---- npz -----------------------------------------------------------------------------------------


def npy(array: np.ndarray) -> bytes:
    return npz_bytes({"x": array})  # np.savez's one member, read back below


def test_an_npz_with_an_object_array_is_refused_without_unpickling():
    data = npz_bytes({"0.weight": np.ones(2), "0.bias": np.array([{"a": 1}, None], dtype=object)})
    error = refused(data)
    assert error.field == "0.bias" and "object array" in str(error)


def test_an_npz_bomb_member_is_refused_from_its_declared_size():
    header = zipfile.ZipFile(io.BytesIO(npy(np.zeros(2)))).read("x.npy")[:128]
    bomb = zip_bytes(
        {"x.npy": header + b"\0" * (CONFIG.max_model_tensor_elements * 8 * 4)}, zipfile.ZIP_DEFLATED
    )
    assert len(bomb) < CONFIG.max_model_bytes // 10  # small on disk, large unpacked
    error = refused(bomb)
    assert error.field == "x" and "max_model_tensor_elements" in str(error)


def test_an_npz_member_whose_header_lies_or_is_too_big_is_refused():
    member = zipfile.ZipFile(io.BytesIO(npy(np.zeros((3, 4))))).read("x.npy")
    error = refused(zip_bytes({"x.npy": member[:-8]}))  # the header says 12 float64s, 11 are there
    assert error.field == "x" and "(3, 4)" in str(error)
    big = npz_bytes({"x": np.zeros(CONFIG.max_model_tensor_elements + 1, dtype=np.uint8)})
    error = refused(big)
    assert error.field == "x" and "max_model_tensor_elements" in str(error)


def test_an_npz_of_other_members_or_too_many_is_refused():
    error = refused(zip_bytes({"notes.txt": b"hello"}))
    assert error.field == "notes.txt" and ".npy" in str(error)
    many = npz_bytes({f"{i}.weight": np.zeros(1) for i in range(5 * CONFIG.max_model_layer_list + 1)})
    error = refused(many)
    assert error.field == "file" and "max_model_layer_list" in str(error)


def test_npz_arrays_load_after_the_checks():
    tensors = load_npz(npz_bytes(state_dict()), CONFIG)
    assert all(np.array_equal(tensors[k], v) for k, v in state_dict().items())
