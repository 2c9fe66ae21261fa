"""The convolution-family page's words in code: PyTorch lines to copy and formulas with numbers.

Each `torch_*` function returns the PyTorch code that computes what the engine computed for a
request (bias=False wherever the page uses no bias); each `*_formulas` returns MathML strings.
"""

from __future__ import annotations

from layerlab.app.mathml import tex
from layerlab.app.pages.family.schemas import (
    Conv1dRequest,
    FlattenedRequest,
    GroupedRequest,
    ResidualRequest,
    ShuffleRequest,
    TiledRequest,
    TransposedRequest,
)

# fixed formulas, rendered in the template
DEFINITIONS = {
    "conv1d": r"y_i = \sum_{u=0}^{k-1} w_u\, x_{s\,i + d\,u}",
    "conv1d_size": r"L_{out} = \left\lfloor \frac{L + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1",
    "scatter": r"y_{\,i s - p + d u,\; j s - p + d v} \;\leftarrow\; y_{\,i s - p + d u,\; j s - p + d v}"
    r" + x_{i,j}\, w_{u,v}",
    "transposed_size": r"H_{out} = (H - 1)\,s - 2p + d\,(k - 1) + \text{output padding} + 1",
    "grouped": r"\text{parameters} = C_{out}\cdot \frac{C_{in}}{g}\cdot k_H\, k_W,\qquad "
    r"\text{MACs} = C_{out}\cdot H_{out} W_{out}\cdot \frac{C_{in}}{g}\cdot k_H\, k_W",
    "shuffle": r"\text{out}_{\,i\,g + j} = \text{in}_{\,j\,n + i},\qquad n = C / g",
    "tiled": r"y_{i,j} = \sum_{c,u,v} w^{(i \bmod t_H,\; j \bmod t_W)}_{c,u,v}\; x_{c,\; s i + u,\; s j + v}",
    "flattened": r"w_{c,u,v} = \alpha_c\,\beta_u\,\gamma_v",
    "residual": r"y = \operatorname{relu}\big(F(x) + x\big),\qquad "
    r"F(x) = \operatorname{conv}_2\big(\operatorname{relu}(\operatorname{conv}_1(x))\big)",
}


def _args(*positional: object, **named: object) -> str:
    """'a, b, k=v' with the named arguments that are not None."""
    parts = [str(p) for p in positional] + [f"{k}={v!r}" for k, v in named.items() if v is not None]
    return ", ".join(parts)


def _size(rows: int, cols: int) -> int | tuple[int, int]:
    return rows if rows == cols else (rows, cols)


def _unless(value: object, default: object) -> object | None:
    return None if value == default else value


def torch_conv1d(req: Conv1dRequest) -> str:
    mode = _unless(req.padding_mode, "zeros")
    named = {
        "kernel_size": len(req.kernel),
        "stride": _unless(req.stride, 1),
        "padding": _unless(req.padding, 0),
        "dilation": _unless(req.dilation, 1),
        "padding_mode": mode,
        "bias": False,
    }
    return f"nn.Conv1d({_args(1, 1, **named)})"


def torch_transposed(req: TransposedRequest) -> str:
    named = {
        "kernel_size": _size(len(req.kernel), len(req.kernel[0])),
        "stride": _unless(req.stride, 1),
        "padding": _unless(req.padding, 0),
        "output_padding": _unless(req.output_padding, 0),
        "dilation": _unless(req.dilation, 1),
        "bias": False,
    }
    return f"nn.ConvTranspose2d({_args(1, 1, **named)})"


def _conv2d(c_in: int, c_out: int, k: int, padding: str, groups: int, bias: bool) -> str:
    named = {
        "kernel_size": k,
        "padding": "same" if padding == "same" and k > 1 else None,
        "groups": _unless(groups, 1),
        "bias": _unless(bias, True),
    }
    return f"nn.Conv2d({_args(c_in, c_out, **named)})"


def torch_grouped(req: GroupedRequest, kernel: int, groups: int) -> str:
    if req.mode == "separable":
        depthwise = _conv2d(req.in_channels, req.in_channels, kernel, req.padding, groups, req.bias)
        pointwise = _conv2d(req.in_channels, req.out_channels, 1, req.padding, 1, req.bias)
        return f"nn.Sequential({depthwise}, {pointwise})"
    return _conv2d(req.in_channels, req.out_channels, kernel, req.padding, groups, req.bias)


def torch_shuffle(req: ShuffleRequest) -> str:
    return f"nn.ChannelShuffle({req.groups})"


def torch_tiled(req: TiledRequest, out_size: tuple[int, int]) -> str:
    """PyTorch has no tiled layer: one strided conv per tile position, interleaved."""
    (th, tw), k, s, p = req.tile, req.kernel_size, req.stride, req.padding
    conv = _args(1, 1, kernel_size=k, stride=_size(th * s, tw * s), bias=False)
    crop = f"[..., a * {s}:, b * {s}:]" if s > 1 else "[..., a:, b:]"
    padded = f"F.pad(x, ({p}, {p}, {p}, {p}))" if p else "x"
    return (
        f"# no tiled layer in PyTorch: one conv per tile position (a, b), strided by the tile\n"
        f"convs = nn.ModuleList(nn.Conv2d({conv}) for _ in range({th * tw}))\n"
        f"y = torch.zeros(1, 1, {out_size[0]}, {out_size[1]})\n"
        f"for a in range({th}):\n"
        f"    for b in range({tw}):\n"
        f"        y[..., a::{th}, b::{tw}] = convs[a * {tw} + b]({padded}{crop})"
    )


def torch_flattened(req: FlattenedRequest) -> str:
    c, kh, kw, p = len(req.channel), len(req.vertical), len(req.horizontal), req.padding
    layers = (
        f"nn.Conv2d({_args(c, 1, kernel_size=1, bias=False)})",
        f"nn.Conv2d({_args(1, 1, kernel_size=(kh, 1), padding=_unless((p, p), (0, 0)), bias=False)})",
        f"nn.Conv2d({_args(1, 1, kernel_size=(1, kw), bias=False)})",
    )
    return "nn.Sequential(\n    " + ",\n    ".join(layers) + ",\n)"


def torch_residual(req: ResidualRequest) -> str:
    c, m, k = (3 if req.color == "rgb" else 1), req.mid_channels, req.kernel_size
    same = "same" if k > 1 else None
    return (
        f"conv1 = nn.Conv2d({_args(c, m, kernel_size=k, padding=same, bias=False)})\n"
        f"conv2 = nn.Conv2d({_args(m, c, kernel_size=k, padding=same, bias=False)})\n"
        "y = F.relu(conv2(F.relu(conv1(x))) + x)"
    )


# ---- formulas with this request's numbers -----------------------------------------------------


def conv1d_size(params: dict) -> str:
    (length,), (k,), (s,), (d,) = (
        params["input_size"],
        params["kernel_size"],
        params["stride"],
        params["dilation"],
    )
    left, right = params["pads"]
    pad = f"2\\cdot {left}" if left == right else f"{left} + {right}"
    (out,) = params["output_size"]
    fraction = rf"\frac{{{length} + {pad} - {d}\cdot({k} - 1) - 1}}{{{s}}}"
    return str(tex(rf"L_{{out}} = \left\lfloor {fraction} \right\rfloor + 1 = {out}"))


def transposed_sizes(params: dict) -> dict[str, str]:
    s, p, o, d = params["stride"], params["padding"], params["output_padding"], params["dilation"]
    formulas = {}
    for a, (name, letter) in enumerate((("height", "H"), ("width", "W"))):
        size, k, out = params["input_size"][a], params["kernel_size"][a], params["output_size"][a]
        formulas[name] = str(
            tex(
                rf"{letter}_{{out}} = ({size} - 1)\cdot {s[a]} - 2\cdot {p[a]} + {d[a]}\cdot ({k} - 1)"
                rf" + {o[a]} + 1 = {out}"
            )
        )
    return formulas


def _cost_latex(
    c_in: int, c_out: int, k: int, out: tuple[int, int], groups: int, cost: dict
) -> tuple[str, ...]:
    """The parameter and MAC products for one conv2d, ending in the engine's totals (`cost`)."""
    share = rf"\frac{{{c_in}}}{{{groups}}}" if groups > 1 else str(c_in)
    weights = rf"{c_out}\cdot {share}\cdot {k}\cdot {k}"
    bias = f" + {c_out}" if cost["parameters"] > c_out * (c_in // groups) * k * k else ""
    macs = rf"{c_out}\cdot {out[0]}\cdot {out[1]}\cdot {share}\cdot {k}\cdot {k}"
    return rf"{weights}{bias} = {cost['parameters']}", rf"{macs} = {cost['macs']}"


def grouped_formulas(req: GroupedRequest, kernel: int, out: tuple[int, int], cost: dict) -> dict[str, str]:
    """Parameters and MACs of this layer and of a standard conv2d of the same shape, MathML.

    cost : the engine's counts, {"layer", "standard"} and for "separable" {"depthwise", "pointwise"}.
    """
    c_in, c_out = req.in_channels, req.out_channels
    std_params, std_macs = _cost_latex(c_in, c_out, kernel, out, 1, cost["standard"])
    if req.mode == "separable":
        dw_p, dw_m = _cost_latex(c_in, c_in, kernel, out, c_in, cost["depthwise"])
        pw_p, pw_m = _cost_latex(c_in, c_out, 1, out, 1, cost["pointwise"])
        both = r"\text{{depthwise }} {},\quad \text{{pointwise }} {}".format
        layer = {"parameters": both(dw_p, pw_p), "macs": both(dw_m, pw_m)}
    else:
        groups = {"grouped": req.groups, "depthwise": c_in}.get(req.mode, 1)
        lp, lm = _cost_latex(c_in, c_out, kernel, out, groups, cost["layer"])
        layer = {"parameters": rf"\text{{parameters}} = {lp}", "macs": rf"\text{{MACs}} = {lm}"}
    return {
        "parameters": str(tex(layer["parameters"])),
        "macs": str(tex(layer["macs"])),
        "standard_parameters": str(tex(rf"\text{{standard parameters}} = {std_params}")),
        "standard_macs": str(tex(rf"\text{{standard MACs}} = {std_macs}")),
    }


def shuffle_formula(channels: int, groups: int) -> str:
    n = channels // groups
    mapping = rf"\text{{out}}_{{\,{groups} i + j}} = \text{{in}}_{{\,{n} j + i}}"
    return str(tex(rf"n = {channels} / {groups} = {n},\qquad {mapping}"))


def tiled_formulas(params: dict, plain_parameters: int) -> dict[str, str]:
    (th, tw), (k, _) = params["tile"], params["kernel_size"]
    return {
        "tiled": str(
            tex(rf"\text{{tiled}} = {th}\cdot {tw}\cdot 1\cdot 1\cdot {k}\cdot {k} = {params['parameters']}")
        ),
        "plain": str(tex(rf"\text{{plain conv}} = 1\cdot 1\cdot {k}\cdot {k} = {plain_parameters}")),
    }


def flattened_formulas(params: dict, channels: int) -> dict[str, str]:
    (oh, ow), (kh, kw), ops = params["output_size"], params["kernel_size"], params["operations"]
    return {
        "full": str(
            tex(rf"\text{{full}} = {oh}\cdot {ow}\cdot ({channels}\cdot {kh}\cdot {kw}) = {ops['full']}")
        ),
        "flattened": str(
            tex(rf"\text{{flattened}} = {oh}\cdot {ow}\cdot ({channels} + {kh} + {kw}) = {ops['flattened']}")
        ),
    }
