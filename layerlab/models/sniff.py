"""Which kind of model file some bytes are, checked against the limits before anything is built.

Three kinds open: "onnx" (a ModelProto, parsed by the `onnx` package), "safetensors" (an 8-byte
little-endian header length, then a JSON header, then the raw tensors) and "npz" (a zip of `.npy`
arrays, as `np.savez` writes). Nothing is ever unpickled: a pickle (its protocol byte 0x80 first),
a torch.save zip (one holding `data.pkl`) and a `.pt` / `.pth` / `.ckpt` name are refused with how
to export the model instead.

Every size is checked from what the file declares before it is read: the file against
`max_model_bytes`; a safetensors header's length, each tensor's shape x dtype size against
`max_model_tensor_elements` and against the bytes that are really there; an npz's member count,
each member's uncompressed size (the zip bomb) and each `.npy` header's shape and dtype (no object
arrays) before the member is loaded.
"""

from __future__ import annotations

import io
import json
import lzma
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from layerlab.app.config import Settings, settings
from layerlab.models.errors import ModelFileError

KINDS = ("onnx", "safetensors", "npz")
NEVER_UNPICKLED = (
    "Layerlab never unpickles a file: export it with torch.onnx.export(model, example, 'model.onnx') "
    "or save the weights with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
)
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
MAX_HEADER_BYTES = 1 << 20  # a safetensors JSON header (a 256-layer state_dict's is under 100 KiB)
MAX_NPY_HEADER = 10_000  # bytes of one .npy header (numpy's own default bound)
KEYS_PER_LAYER = 5  # weight, bias, running_mean, running_var, num_batches_tracked
# the safetensors dtypes NumPy holds, as NumPy names them (BF16 has no NumPy type)
ST_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# what reading a damaged zip or .npy raises (NotImplementedError: an unknown zip version or method)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)


@dataclass(frozen=True)
class TensorInfo:
    """What a file declares about one tensor, before it is read."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # NumPy's name, e.g. "float32"


def max_keys(config: Settings) -> int:
    """Tensors a state_dict may hold: every entry of the longest layer list with all its keys."""
    return KEYS_PER_LAYER * config.max_model_layer_list


def kind_of(data: bytes, filename: str | None = None, *, config: Settings | None = None) -> str:
    """ "onnx", "safetensors" or "npz"; ModelFileError (field "file", or the tensor at fault) otherwise.

    A safetensors or npz file is checked whole here (header, every tensor's declared size); an ONNX
    file is parsed, and `read_onnx` checks its limits.
    """
    config = config or settings
    check_size(len(data), config)
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in PICKLE_SUFFIXES:
        raise ModelFileError("file", f"{filename} is a PyTorch checkpoint (a pickle). {NEVER_UNPICKLED}")
    if data[:1] == b"\x80":
        raise ModelFileError("file", f"the file is a Python pickle. {NEVER_UNPICKLED}")
    if data[:4] in _ZIP_MAGIC:
        npz_tensors(data, config)
        return "npz"
    if suffix == ".safetensors" or data[8:9] == b"{":
        safetensors_header(data, config)
        return "safetensors"
    if _parses_as_onnx(data):
        return "onnx"
    if suffix == ".onnx":
        raise ModelFileError("file", "the file is not a valid ONNX model (the protobuf does not parse)")
    raise ModelFileError(
        "file",
        "the file is not an ONNX model, a safetensors file or an .npz archive "
        f"(it starts with the bytes {data[:8].hex(' ')})",
    )


def check_size(size: int, config: Settings) -> None:
    """The file's size against max_model_bytes (and not empty)."""
    if size == 0:
        raise ModelFileError("file", "the file is empty")
    if size > config.max_model_bytes:
        raise ModelFileError(
            "file", f"the file is {size:,} bytes; the limit is {config.max_model_bytes:,} (max_model_bytes)"
        )


def _parses_as_onnx(data: bytes) -> bool:
    import onnx  # imported here: only ONNX files need it
    from google.protobuf.message import DecodeError

    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError):
        return False
    return model.ir_version > 0 and model.HasField("graph")


# ---- safetensors ---------------------------------------------------------------------------------


def safetensors_header(data: bytes, config: Settings) -> list[TensorInfo]:
    """The tensors a safetensors file declares, every size checked against the limits and the data."""
    if len(data) < 8:
        raise ModelFileError(
            "file", f"the safetensors file is truncated: {len(data)} bytes, no header length"
        )
    (length,) = struct.unpack("<Q", data[:8])
    if length > MAX_HEADER_BYTES:
        raise ModelFileError(
            "file", f"the safetensors header declares {length:,} bytes; the limit is {MAX_HEADER_BYTES:,}"
        )
    if 8 + length > len(data):
        raise ModelFileError(
            "file",
            f"the safetensors file is truncated: its header declares {length:,} bytes, "
            f"but only {len(data) - 8:,} follow the length",
        )
    try:
        header = json.loads(data[8 : 8 + length])
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFileError("file", f"the safetensors header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ModelFileError("file", "the safetensors header is not a JSON object")
    header.pop("__metadata__", None)
    _check_count(len(header), config)
    available = len(data) - 8 - length
    tensors, total = [], 0
    for name, entry in header.items():
        info, (begin, end) = _st_entry(name, entry, config)
        size = math.prod(info.shape) * np.dtype(info.dtype).itemsize
        if not (0 <= begin <= end <= available):
            raise ModelFileError(
                name,
                f"{name!r} declares bytes {begin:,} to {end:,}, but the data holds {available:,}: "
                "the file is truncated or its header is wrong",
            )
        if end - begin != size:
            raise ModelFileError(
                name,
                f"{name!r} declares shape {info.shape} of {entry['dtype']} ({size:,} bytes) "
                f"but {end - begin:,} bytes of data",
            )
        total += math.prod(info.shape)
        tensors.append(info)
    _check_total(total, config)
    return tensors


def _st_entry(name: str, entry: object, config: Settings) -> tuple[TensorInfo, tuple[int, int]]:
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("dtype"), str)
        or entry["dtype"] not in ST_DTYPES
    ):
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        hint = " (convert it to float32 first)" if dtype == "BF16" else ""
        raise ModelFileError(
            name, f"{name!r} has dtype {dtype!r}{hint}; Layerlab reads {', '.join(ST_DTYPES)}"
        )
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and len(shape) <= 8 and all(_count(v) for v in shape)):
        raise ModelFileError(name, f"{name!r} has shape {shape!r}: not a list of at most 8 sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(v) for v in offsets)):
        raise ModelFileError(name, f"{name!r} has data_offsets {offsets!r}: not two byte offsets")
    info = TensorInfo(name, tuple(shape), ST_DTYPES[entry["dtype"]])
    _check_elements(info, config)
    return info, (offsets[0], offsets[1])


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# ---- npz -----------------------------------------------------------------------------------------


def npz_tensors(data: bytes, config: Settings) -> list[TensorInfo]:
    """The arrays an .npz declares, each member's size and .npy header checked before it is loaded."""
    with _zip(data) as archive:
        members = archive.infolist()
        names = [m.filename for m in members]
        if any(PurePath(n).name == "data.pkl" for n in names):
            raise ModelFileError(
                "file", f"the file is a torch.save archive (a pickle inside a zip). {NEVER_UNPICKLED}"
            )
        _check_count(len(members), config)
        tensors, total = [], 0
        for member in members:
            info = _npy_member(archive, member, config)
            total += math.prod(info.shape)
            tensors.append(info)
    _check_total(total, config)
    return tensors


def _zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as e:
        raise ModelFileError("file", f"the .npz file is not a readable zip: {e}") from None


def _npy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, config: Settings) -> TensorInfo:
    name = member.filename.removesuffix(".npy")
    if not member.filename.endswith(".npy") or member.is_dir():
        raise ModelFileError(
            member.filename, f"{member.filename!r} is not a .npy array: an .npz state_dict holds arrays only"
        )
    # the declared uncompressed size bounds what reading the member can produce (zipfile stops there)
    largest = config.max_model_tensor_elements * 8 + MAX_NPY_HEADER
    if member.file_size > largest:
        raise ModelFileError(
            name,
            f"{name!r} unpacks to {member.file_size:,} bytes, more than a tensor of "
            f"{config.max_model_tensor_elements:,} elements (max_model_tensor_elements)",
        )
    try:
        with archive.open(member) as stream:
            shape, dtype, header_bytes = _npy_header(stream)
    except _ZIP_ERRORS as e:
        raise ModelFileError(name, f"{name!r} is not a readable .npy array: {e}") from None
    if dtype.hasobject:
        raise ModelFileError(
            name, f"{name!r} is an object array (Python objects, a pickle): Layerlab loads numbers only"
        )
    if dtype.kind not in "fiub":
        raise ModelFileError(name, f"{name!r} has dtype {dtype}; Layerlab reads real numbers only")
    info = TensorInfo(name, shape, str(dtype))
    _check_elements(info, config)
    if header_bytes + math.prod(shape) * dtype.itemsize != member.file_size:
        raise ModelFileError(
            name,
            f"{name!r} declares shape {shape} of {dtype} but holds "
            f"{member.file_size - header_bytes:,} bytes of data",
        )
    return info


def _npy_header(stream: io.BufferedIOBase) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, bytes before the data) of a .npy stream, reading its header only."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_NPY_HEADER)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_NPY_HEADER)
    else:
        raise ValueError(f"unknown .npy version {version}")
    return tuple(int(v) for v in shape), dtype, stream.tell()


def load_npz(data: bytes, config: Settings) -> dict[str, np.ndarray]:
    """Every array of an .npz, after npz_tensors' checks; never unpickling (allow_pickle=False)."""
    npz_tensors(data, config)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except _ZIP_ERRORS as e:  # e.g. a member whose data fails its CRC
        raise ModelFileError("file", f"the .npz file does not read: {e}") from None


def load_safetensors(data: bytes, config: Settings) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file, after safetensors_header's checks."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    safetensors_header(data, config)
    try:
        return load(data)
    except (SafetensorError, ValueError, TypeError) as e:
        raise ModelFileError("file", f"the safetensors file does not read: {e}") from None


def tensors(data: bytes, kind: str, config: Settings) -> dict[str, np.ndarray]:
    """A state_dict's tensors from a safetensors or npz file of the given kind."""
    return (load_safetensors if kind == "safetensors" else load_npz)(data, config)


# ---- the limits ----------------------------------------------------------------------------------


def _check_count(count: int, config: Settings) -> None:
    if count > max_keys(config):
        raise ModelFileError(
            "file",
            f"the file holds {count:,} tensors; the limit is {max_keys(config):,} "
            f"({KEYS_PER_LAYER} per layer of max_model_layer_list {config.max_model_layer_list})",
        )


def _check_elements(info: TensorInfo, config: Settings) -> None:
    elements = math.prod(info.shape)
    if elements > config.max_model_tensor_elements:
        raise ModelFileError(
            info.name,
            f"{info.name!r} has shape {info.shape}, {elements:,} elements; the limit is "
            f"{config.max_model_tensor_elements:,} (max_model_tensor_elements)",
        )


def _check_total(total: int, config: Settings) -> None:
    if total > config.max_model_parameters:
        raise ModelFileError(
            "file",
            f"the file holds {total:,} numbers; the limit is {config.max_model_parameters:,} "
            "(max_model_parameters)",
        )
