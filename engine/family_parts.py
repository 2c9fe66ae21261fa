"""Pieces the convolution-family page shows beside its engine calls (seed 003): the scatter
reading's partial outputs, a joint step schedule for two readings, rank-one kernels, kernels
fitted to a size, which group each channel belongs to, and seeded kernels (seed 003's weights
the page does not let the user type)."""

from __future__ import annotations

import zlib

import numpy as np


def scatter_partials(steps: dict[str, np.ndarray], out_size: tuple[int, int]) -> np.ndarray:
    """(S, OH, OW): the scatter reading's output after each step, its stamps added one by one.

    steps : conv_transpose2d steps of a one-channel input and weight (rows (S, kH), cols (S, kW),
        stamp (S, 1, kH, kW), inside (S, kH, kW) the taps that land on the output).
    """
    running = np.zeros(out_size)
    partial = np.empty((len(steps["stamp"]), *out_size))
    for s, (rows, cols, stamp, inside) in enumerate(
        zip(steps["rows"], steps["cols"], steps["stamp"][:, 0], steps["inside"], strict=True)
    ):
        r, c = np.nonzero(inside)  # the taps the padding crops are skipped
        running[rows[r], cols[c]] += stamp[r, c]
        partial[s] = running
    return partial


def joint_schedule(first_steps: int, second_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Which step of each of two readings to show at each of T = max(S1, S2) joint steps.

    Joint step t shows step ceil((t + 1) * S / T) - 1 of a reading with S steps, so the reading
    with fewer steps advances evenly and both show their complete output at the last step.
    """
    total = max(first_steps, second_steps)
    t = np.arange(1, total + 1)
    return -(-t * first_steps // total) - 1, -(-t * second_steps // total) - 1


def rank_one_kernel(channel: np.ndarray, vertical: np.ndarray, horizontal: np.ndarray) -> np.ndarray:
    """(C_in, kH, kW) the kernel channel[c] * vertical[u] * horizontal[v] (a flattened convolution's)."""
    return np.einsum("c,u,v->cuv", channel, vertical, horizontal)


def fit_kernel(kernel: np.ndarray, k: int) -> np.ndarray:
    """A square kernel (n, n) cropped or zero-padded to (k, k) about its centre."""
    out = np.zeros((k, k))
    n = kernel.shape[0]
    src, dst = max(0, (n - k) // 2), max(0, (k - n) // 2)
    m = min(n, k)
    out[dst : dst + m, dst : dst + m] = kernel[src : src + m, src : src + m]
    return out


def channel_groups(channels: int, groups: int) -> np.ndarray:
    """(C,) the group of each channel when C channels split into `groups` contiguous groups."""
    return np.arange(channels) // (channels // groups)


def seeded_kernel(
    seed: int, salt: str, out_channel: int, in_channel: int, kh: int, kw: int, std: float
) -> np.ndarray:
    """(kH, kW) weights ~ N(0, std) rounded to 2 decimals, drawn from a generator seeded by
    (seed, crc32(salt), out_channel, in_channel, kH, kW): the same arguments give the same kernel."""
    key = [seed, zlib.crc32(salt.encode()), out_channel, in_channel, kh, kw]
    return np.round(np.random.default_rng(key).normal(0.0, std, (kh, kw)), 2)


def seeded_weight(seed: int, salt: str, c_out: int, c_in: int, groups: int, k: int, std: float) -> np.ndarray:
    """(C_out, C_in/groups, k, k): output o's j-th kernel is seeded by o and its global input channel,
    so adding a channel leaves the other channels' kernels as they were."""
    per_in, per_out = c_in // groups, c_out // groups
    weight = np.empty((c_out, per_in, k, k))
    for o in range(c_out):
        for j in range(per_in):
            weight[o, j] = seeded_kernel(seed, salt, o, (o // per_out) * per_in + j, k, k, std)
    return weight


def seeded_bias(seed: int, salt: str, c_out: int, std: float) -> np.ndarray:
    """(C_out,) biases, seeded like the kernels (salt + "-bias", input channel 0, a 1x1 kernel)."""
    return np.array([seeded_kernel(seed, salt + "-bias", o, 0, 1, 1, std)[0, 0] for o in range(c_out)])
