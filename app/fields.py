"""Field types shared by the request models; every limit comes from `app.config.settings`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from layerlab.app.config import settings as S

Number = Annotated[float, Field(allow_inf_nan=False, ge=-S.max_abs_value, le=S.max_abs_value)]
Stride = Annotated[int, Field(ge=1, le=S.max_stride)]
Dilation = Annotated[int, Field(ge=1, le=S.max_dilation)]
Pad = Annotated[int, Field(ge=0, le=S.max_padding)]
Kernel2d = Annotated[
    list[Annotated[list[Number], Field(min_length=1, max_length=S.max_kernel_side)]],
    Field(min_length=1, max_length=S.max_kernel_side),
]
ImageName = Annotated[str, Field(max_length=64, pattern=r"^(upload:[0-9a-f]{16}|[a-z0-9_]+)$")]


def rectangular(matrix: list[list[float]]) -> list[list[float]]:
    """The matrix, if every row is as long as the first (a field validator's body)."""
    if any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError(f"every row must have {len(matrix[0])} entries, like the first")
    return matrix
