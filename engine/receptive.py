"""Geometry of one spatial axis through a window layer: output length and receptive field.

Convention: input pixel centres sit at integer coordinates 0, 1, 2, ... Every
position of a feature map is described on the input by three numbers per axis
(Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019):

- size r: the extent, in input pixels, of the pixels that can influence it;
- jump j: the input distance between two adjacent positions;
- start s: the input coordinate of the centre of position 0's field, so
  position i is centred at s + i*j.

The input itself has r = 1, j = 1, s = 0. A window layer (convolution or
pooling) with kernel k, stride st, padding p before the first element and
dilation d, k_eff = d*(k - 1) + 1, maps

    r' = r + (k_eff - 1)*j,   j' = j*st,   s' = s + ((k_eff - 1)/2 - p)*j.

Near a border part of a field lies on padding; the formulas still give its
full extent. Element-wise layers (activations, BatchNorm, Dropout) keep the
field; Flatten and Linear mix every position, so a field no longer applies.

A transposed convolution is a stride-1 convolution over its input with st - 1
zeros inserted between elements (spacing j/st) and padding k_eff - 1 - p, so
the same rule gives

    r' = r + (k_eff - 1)*j/st,   j' = j/st,   s' = s + (p - (k_eff - 1)/2)*j/st.

The jump becomes a fraction of an input pixel, and r' is then an upper bound:
an output position reads only the taps that line up with its phase (k=3, st=2
outputs read 2 and 1 input pixels in turn; r' = 2), but every pixel it reads
lies inside [s' + i*j' - (r' - 1)/2, s' + i*j' + (r' - 1)/2]. Values are kept
as exact fractions.

Output lengths follow the torch docs (a convolution's is engine.conv.output_size).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class AxisField:
    """Receptive field of every position of a feature map along one axis, in input pixels."""

    size: Fraction = Fraction(1)  # extent of the input pixels that can influence one position
    jump: Fraction = Fraction(1)  # input distance between adjacent positions
    start: Fraction = Fraction(0)  # input coordinate of the centre of position 0's field

    def window(self, kernel: int, stride: int, padding: int, dilation: int) -> AxisField:
        """Field after a convolution or pooling window; padding is the amount before the first element."""
        span = dilation * (kernel - 1)
        return AxisField(
            self.size + span * self.jump,
            self.jump * stride,
            self.start + (Fraction(span, 2) - padding) * self.jump,
        )

    def transposed(self, kernel: int, stride: int, padding: int, dilation: int) -> AxisField:
        """Field after a transposed convolution (output_padding only adds positions at the end)."""
        step = self.jump / stride
        span = dilation * (kernel - 1)
        return AxisField(self.size + span * step, step, self.start + (padding - Fraction(span, 2)) * step)


def pool_length(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Output length of MaxPool/AvgPool, torch's pooling_output_shape.

    floor (or ceil) of (size + 2p - d*(k - 1) - 1)/s, plus 1; with ceil_mode a last, partial
    window is kept only if it starts inside the input or the left padding, never in the right.
    """
    out = (size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= size + padding else out


def transposed_length(size: int, kernel: int, stride: int, padding: int, dilation: int, extra: int) -> int:
    """Output length of ConvTranspose: (size - 1)*s - 2p + d*(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + extra + 1


def pairs(fields: tuple[AxisField, ...] | None) -> tuple:
    """(sizes, jumps, starts) as (H, W) pairs, None for a flat shape; a 1-D field gets a height of 1."""
    if fields is None:
        return None, None, None
    axes = fields if len(fields) == 2 else (AxisField(), *fields)
    return (
        tuple(_whole(a.size) for a in axes),
        tuple(_whole(a.jump) for a in axes),
        tuple(float(a.start) for a in axes),
    )


def _whole(value: Fraction) -> int | float:
    """An int when value is whole (the usual case), else a float."""
    return int(value) if value.denominator == 1 else float(value)
