"""Forward and backward of the small CNN's layers, written out in NumPy (pure functions).

Layouts follow torch: activations (N, C, H, W), conv weights (C_out, C_in, kH, kW), linear weights
(out, in). Convolution is cross-correlation with stride 1 and no padding (Keras' default in seed 002's
model); pooling is 2x2 with stride 2, dropping an odd last row and column as torch's floor mode does.
Each backward takes the upstream gradient and returns the gradients of the layer's inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from layerlab.engine.activations import softmax_parts


def _windows(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Every kh x kw window of x (N, C, H, W) as a view (N, C, OH, OW, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))


def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """y[n, o, i, j] = sum_{c,u,v} w[o, c, u, v] x[n, c, i + u, j + v] + b[o]; (N, C_out, OH, OW)."""
    kh, kw = weight.shape[2:]
    y = np.tensordot(_windows(x, kh, kw), weight, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, C_out)
    return y.transpose(0, 3, 1, 2) + bias[None, :, None, None]


def conv2d_backward(
    x: np.ndarray, weight: np.ndarray, grad_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dL/dx (N, C_in, H, W), dL/dw (C_out, C_in, kH, kW), dL/db (C_out,)) from dL/dy (N, C_out, OH, OW).

    dL/dx is the "full" correlation of dL/dy with the kernel turned 180 degrees: each output cell sends
    its gradient back through the kH x kW inputs it read, weighted by the kernel. That is exactly a
    transposed convolution of dL/dy with the same weight (seed 003's transposed convolution).
    """
    kh, kw = weight.shape[2:]
    grad_w = np.tensordot(grad_y, _windows(x, kh, kw), axes=([0, 2, 3], [0, 2, 3]))  # (C_out, C_in, kh, kw)
    grad_b = grad_y.sum(axis=(0, 2, 3))
    full = np.pad(grad_y, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = weight[:, :, ::-1, ::-1]
    grad_x = np.tensordot(_windows(full, kh, kw), flipped, axes=([1, 4, 5], [0, 2, 3]))  # (N, H, W, C_in)
    return grad_x.transpose(0, 3, 1, 2), grad_w, grad_b


def relu_forward(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def relu_backward(x: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
    """The gradient passes where the input was positive (torch takes 0 at exactly 0, as here)."""
    return grad_y * (x > 0)


def max_pool2x2_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pooling, stride 2: (values (N, C, H//2, W//2), argmax 0..3 of each window in reading order).

    The first largest cell wins a tie, as in torch.
    """
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2
    blocks = x[:, :, : 2 * oh, : 2 * ow].reshape(n, c, oh, 2, ow, 2).transpose(0, 1, 2, 4, 3, 5)
    blocks = blocks.reshape(n, c, oh, ow, 4)  # (N, C, OH, OW, 4): the window, row-major
    argmax = blocks.argmax(axis=-1)
    return np.take_along_axis(blocks, argmax[..., None], axis=-1)[..., 0], argmax


def max_pool2x2_backward(argmax: np.ndarray, grad_y: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Route each window's gradient to the cell that won it; every other cell gets 0. (N, C, H, W)."""
    n, c, h, w = input_shape
    oh, ow = argmax.shape[2:]
    blocks = np.zeros((n, c, oh, ow, 4))
    np.put_along_axis(blocks, argmax[..., None], grad_y[..., None], axis=-1)
    grad = np.zeros(input_shape)
    grad[:, :, : 2 * oh, : 2 * ow] = (
        blocks.reshape(n, c, oh, ow, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * oh, 2 * ow)
    )
    return grad


def flatten_forward(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C*H*W) in C order, as torch.flatten(x, 1)."""
    return x.reshape(x.shape[0], -1)


def flatten_backward(grad_y: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    return grad_y.reshape(input_shape)


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """y = x W^T + b: x (N, in), W (out, in), b (out,) -> (N, out)."""
    return x @ weight.T + bias


def linear_backward(
    x: np.ndarray, weight: np.ndarray, grad_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dL/dx (N, in), dL/dW (out, in), dL/db (out,))."""
    return grad_y @ weight, grad_y.T @ x, grad_y.sum(axis=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis (the engine's one softmax, `softmax_parts`)."""
    return softmax_parts(logits, -1)["output"]


def cross_entropy_forward(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean of -log p[target] over the batch, p (N, classes)): torch's F.cross_entropy on logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    loss = -log_p[np.arange(len(target)), target].mean()
    return float(loss), np.exp(log_p)


def cross_entropy_backward(probs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dlogits = (p - onehot(target)) / N for the mean loss."""
    grad = probs.copy()
    grad[np.arange(len(target)), target] -= 1.0
    return grad / len(target)
