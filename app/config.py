"""Settings: paths and every limit the app enforces, in one place.

An app holds its own (`create_app(Settings(max_kernel_side=3))`, kept as `app.state.settings`); while it
serves a request they are the settings in effect, which the request schemas and handlers read through
`in_effect` (`in_effect.max_kernel_side`), never the module's defaults, so two apps in one process
enforce each their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    template_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    # Plotly.js's cartesian partial bundle, vendored by `python -m layerlab.app.vendor` (pinned version,
    # checksum)
    plotly_js: Path = ROOT / "static" / "vendor" / "plotly-cartesian.min.js"
    # sizes
    image_sizes: tuple[int, ...] = (5, 8, 16, 28, 32, 64, 128, 256)  # sample images are square
    max_image_side: int = 256  # uploads are downscaled to fit; requests may not ask for more
    max_channels: int = 3
    max_kernel_side: int = 7
    max_filters: int = 8
    max_stride: int = 8
    max_dilation: int = 8
    max_padding: int = 16
    max_abs_value: float = 1e6  # kernel and bias entries; keeps every product finite
    # step traces are served in chunks so a 256x256 map never builds one huge response
    trace_chunk_steps: int = 1024
    # and a chunk carries at most this many numbers (engine.trace.chunk_length): a conv step with a 3x3
    # kernel over 3 channels carries 69 (window, products, rows, cols, sums...), so its chunk stays 1,024
    # steps; a 7x7 one carries 317 (232 steps), a linear step at 512 features 1,543 (47 steps)
    trace_chunk_values: int = 72 * 1024
    # the conv page's live edits (app/pages/conv/routes.py): a request this small computes on the event loop
    # (at most about 1 ms: a 256x256 map with a 3x3 kernel; a thread hand-off cost 2 ms more on a busy
    # machine), a larger one as a job (app/jobs.py)
    live_inline_work: int = 600_000  # multiply-adds: output cells x kernel taps x channels x filters
    max_socket_message_bytes: int = 512 * 1024  # one live edit over the WebSocket (~30 KB at the largest)
    # request heads: page URLs carry their whole state (the largest conv kernel set is ~20 KB of query)
    max_query_bytes: int = 32 * 1024  # longer query strings are refused (414) before any routing
    # request bodies (app/body_size.py), refused (413) before they are read: a JSON body, and a multipart
    # form (an upload: max_upload_bytes plus its part headers and boundaries)
    max_json_bytes: int = 512 * 1024  # the largest conv request (8 filters x 3 x 7x7) is ~30 KB
    max_form_overhead_bytes: int = 64 * 1024
    # heavy work (traces, every page's computing POST) runs in worker threads, a bounded number at once per
    # worker process; past the running and waiting bounds the answer is 503 with Retry-After
    max_jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # jobs computing at once
    max_jobs_waiting: int = 32  # jobs queued for a slot; one more is refused at once
    max_job_wait: float = 10.0  # seconds a job may queue for a slot before it is refused
    # the event loop shares the GIL with the job threads: Python hands it over after this many seconds (5 ms
    # by default), so each step of a cheap request could wait that long behind a job's Python code
    gil_switch_interval: float = 0.001
    compress_inline_bytes: int = 32 * 1024  # gzip bodies up to this size inline, larger in a thread
    # the server (app/server.py): a request's head and body must arrive within these, else the connection
    # is closed (a half-open or trickling client holds no connection for long)
    max_request_line_bytes: int = 40 * 1024  # method, path and query: past it a JSON 414 before routing
    request_read_timeout: float = 10.0  # seconds from a request's first byte to its last
    max_header_bytes: int = 32 * 1024  # all header lines of a request together: past it a JSON 431
    # uploads
    max_upload_bytes: int = 8 * 1024 * 1024
    max_upload_pixels: int = 50_000_000  # declared size checked before decoding (decompression bombs)
    # a JPEG decodes at 1/8 scale when that suffices, a PNG decodes whole (up to 8 bytes a pixel at
    # its peak, for RGBA): 8 MP keeps one upload under ~65 MB of memory
    max_png_pixels: int = 8_000_000
    max_uploads_kept: int = 64  # uploads live in memory, least recently used dropped first
    # decoding an upload (app/uploads.py decode_bytes estimates its memory from the header): at most
    # max_decodes at once per worker, each within max_decode_bytes, so decodes hold at most ~512 MiB
    max_decode_bytes: int = 256 * 2**20  # a 7000x7000 progressive JPEG takes 143 MiB (4:2:0), 283 (4:4:4)
    max_decodes: int = 2  # uploads decoding at once per worker (decoding is CPU-bound: one per core)
    max_decodes_waiting: int = 32  # uploads queued for a decode; one more is refused (503, Retry-After)
    max_decode_wait: float = 20.0  # seconds an upload may queue for a decode before it is refused
    upload_types: tuple[str, ...] = field(default=("image/png", "image/jpeg"))
    # the convolution-family page (/family): small inputs, since every step and stage is sent at once
    max_signal_length: int = 64  # entries of a 1-D signal
    max_kernel_length: int = 9  # taps of a 1-D kernel
    max_transposed_side: int = 5  # rows and columns of the transposed view's input and of its kernel
    max_transposed_stride: int = 4  # with the sides above the output stays within 32x32
    max_transposed_dilation: int = 3
    max_transposed_padding: int = 4
    max_family_channels: int = 12  # C_in and C_out of the grouped and shuffle views (12 named channels)
    max_family_image_side: int = 32  # channel maps are drawn small, many side by side
    max_tile_side: int = 3  # tile rows and columns of the tiled view (up to 9 kernels to edit)
    max_mid_channels: int = 4  # middle channels of the residual block
    # the layer calculator (/calculator): only arithmetic per layer, so the limits keep every
    # number exact in JavaScript and every receptive-field picture drawable
    max_layers: int = 32  # layers in one stack
    max_layer_size: int = 65_536  # channels or features of the input, out_channels, out_features, groups
    max_stack_side: int = 1024  # height, width or length of the input and of every layer's output
    max_window_arg: int = 256  # kernel_size, stride, padding, dilation and output_padding
    # the pooling page (/pool): inputs as large as the conv page's, steps sent in chunks as there
    max_pool_kernel: int = 8  # kernel_size per axis of the windowed poolings
    max_pool_matrix_side: int = 12  # rows and columns of the editable matrix
    max_pool_cells: int = 1_000_000  # window cells over all windows (output elements x kernel cells)
    max_divisor: int = 256  # divisor_override of average pooling
    max_lp_norm_type: float = 16.0  # p of Lp pooling: large enough to look like max, x^p stays finite
    max_pool_seed: int = 2**31 - 1  # stochastic pooling's seed
    max_pool_output: int = 16  # output_size per axis of adaptive and ROI pooling
    max_pyramid_level: int = 8  # the finest spatial pyramid level (an l x l grid)
    max_pyramid_levels: int = 4  # how many levels
    max_shift: int = 3  # pixels the shift-robustness demo moves the input
    # the normalization page (/norm): an (N, C, H, W) tensor small enough to draw every plane at once
    max_norm_batch: int = 8  # N
    max_norm_channels: int = 8  # C
    max_norm_side: int = 8  # H = W
    max_norm_abs: float = 1000.0  # offsets, scales, gamma, beta and the change added to one sample
    max_norm_eps: float = 10.0  # larger than any variance here would only flatten every group
    max_norm_seed: int = 2**31 - 1  # the input generator's seed
    max_norm_batches: int = 200  # training batches streamed through batch norm before evaluation
    max_norm_large_batch: int = 64  # the large batch of the small-batch comparison (seed 003: 2 vs 64)
    max_norm_trials: int = 100  # batches drawn per batch size there (each costs a batch_norm call)
    norm_histogram_bins: int = 20  # bins of every histogram (shared by all series of one chart)
    max_lrn_size: int = 8  # channels in a local response normalization window
    max_lrn_beta: float = 4.0  # the exponent of its denominator; with k >= 1e-3 it stays above 1e-12
    # the attention page (/attention): a sentence over the 8 named features, every stage sent at once
    max_attention_tokens: int = 16  # tokens of the typed sentence (L)
    max_sentence_chars: int = 200  # characters typed, before tokenizing
    max_attention_overrides: int = 16  # edited embeddings (one per word)
    max_embedding_abs: float = 10.0  # |value| of an edited embedding entry
    max_temperature: float = 10.0  # softmax temperature; from min_temperature, weights stay finite
    min_temperature: float = 0.05
    max_weight_overrides: int = 64  # edited cells of W_Q, W_K, W_V and W_O together
    max_weight_abs: float = 10.0  # |value| of an edited weight cell
    additive_dim: int = 8  # A, the attention dimension of the additive tab's W1, W2 and v
    # the trained-transformer page (/transformer): the shipped tiny language model, edited cells on a copy
    max_tinylm_edits: int = 32  # edited cells of its parameters in one request
    max_tinylm_edit_abs: float = 10.0  # |value| of an edited cell
    min_tinylm_temperature: float = 0.05  # next-token softmax temperature
    max_tinylm_temperature: float = 5.0
    max_tinylm_seed: int = 2**31 - 1  # the sampling seed
    # the activations page (/activations)
    max_curve_points: int = 2001  # x samples of one plotted curve
    max_curve_x: float = 50.0  # |x| of the plotted range and of a probed point
    max_activation_param: float = 10.0  # |negative_slope|, alpha, PReLU weight, maxout w and b
    max_saturation_threshold: float = 1.0  # |f'| below it counts as saturated (f' of these is at most ~1.13)
    max_maxout_pieces: int = 4  # linear pieces of the 1-D maxout
    max_activation_image_side: int = 128  # conv map, activated map and derivative map are sent at once
    max_softmax_length: int = 16  # entries of the softmax vector (its Jacobian is n x n)
    max_softmax_abs: float = 100.0  # |entry| of that vector
    min_softmax_temperature: float = 0.05  # x / T stays within 2000 in size: e^(x - max) is still exact
    max_softmax_temperature: float = 10.0
    max_dead_neurons: int = 64  # hidden units of the dead-ReLU network
    max_dead_steps: int = 500  # gradient-descent steps recorded
    max_dead_lr: float = 2.0  # learning rate (larger only diverges, and the server says so)
    max_dead_bias_shift: float = 5.0  # |shift| of every initial hidden bias
    max_dead_seed: int = 2**31 - 1
    # (end of the activations page's limits)
    # the dense-layers page (/dense)
    max_dense_layers: int = 3  # layers of the network drawn over the plane (seed 003 goes up to three)
    max_dense_neurons: int = 8  # neurons per layer of that network
    max_dense_weight: float = 100.0  # |weight| and |bias| there; keeps every activation finite
    max_plane_extent: float = 10.0  # the plane is [-extent, extent]^2
    max_plane_resolution: int = 101  # grid points per axis (every layer's maps are sent at once)
    max_linear_features: int = 16  # in_features and out_features of /api/dense/linear
    max_linear_rows: int = 64  # samples in its input (the product of the leading axes)
    max_linear_dims: int = 4  # axes of its input, the feature axis included
    max_count_layers: int = 16  # layer sizes in the parameter count
    max_count_size: int = 100_000  # neurons per layer there (counts stay exact in JavaScript)
    max_init_hidden: int = 8  # hidden neurons of the initialization demo
    max_init_points: int = 400  # toy-set points
    max_init_epochs: int = 1000  # gradient-descent steps per run (every epoch is sent)
    max_init_lr: float = 10.0  # learning rate
    max_init_constant: float = 5.0  # |the constant| every weight starts at
    max_init_seed: int = 2**31 - 1  # the toy set's and the random weights' seed
    # (end of the dense page's limits)
    # the small-CNN page (/network)
    min_network_matrix_side: int = 8  # rows and columns of a drawing sent as a matrix (ink 0..1)
    max_network_matrix_side: int = 112  # 112 x 112 is ~60 KB of JSON; the drawing is fitted to 28x28
    max_network_seed: int = 2**31 - 1  # the digit generator's seed for a sample digit
    network_upload_side: int = 112  # uploads are downscaled to this side before fitting to 28x28
    # (end of the network page's limits)
    # the recurrent page (/recurrent): every stage of every step is sent at once, so all stay small
    max_rnn_hidden: int = 8  # hidden_size (H); the cell diagram draws one cell per unit
    max_rnn_layers: int = 3  # num_layers of a stacked RNN
    max_rnn_seq_len: int = 24  # time steps (T) of the typed, generated or sentence input
    max_rnn_input_abs: float = 100.0  # |x_t| of a typed number
    max_rnn_period: float = 64.0  # period of the sine input, in time steps (at least 2)
    min_rnn_scale: float = 0.05  # weight scale: every weight is U(-1/sqrt(H), 1/sqrt(H)) times it
    max_rnn_scale: float = 5.0
    max_rnn_seed: int = 2**31 - 1  # the weights' (and the gradient view's inputs') seed
    max_rnn_grad_len: int = 60  # T of the vanishing-gradient view (its norms are sent as float64)
    max_rnn_input_size: int = 8  # I of the vanishing-gradient view's random inputs
    max_rnn_forget_bias: float = 10.0  # |the LSTM's forget-gate bias| there
    # (end of the recurrent page's limits)
    # a learner's own model (/model, `layerlab.models`): a model file is read whole into memory, so
    # every bound is checked from its header or its declared sizes before the tensors are built
    max_model_bytes: int = 64 * 2**20  # an ONNX, safetensors or .npz file (ResNet-18's ONNX is 45 MiB)
    max_model_nodes: int = 400  # operators in the graph (ResNet-18 exported: about 70)
    max_model_tensor_elements: int = 16_000_000  # one initializer, or one value computed while running
    max_model_parameters: int = 40_000_000  # all initializers together
    max_model_products: int = (
        2_000_000_000  # multiply-adds of one node, so its time (ResNet-18's largest: 118 M)
    )
    max_model_layer_list: int = 256  # entries of the layer list paired with a state_dict
    max_models_kept: int = 8  # opened models held in memory per worker, least recently used dropped first
    max_model_maps: int = 16  # channels of one layer drawn as maps (the rest are named, not drawn)
    max_model_input_side: int = 256  # the image a model runs on is resized to its input's H x W, at most this
    # origins (scheme://host[:port]) allowed to show the pages in a frame: a course site, a notebook's
    # server; `layerlab --embed-origin URL` sets them (the Content-Security-Policy's frame-ancestors)
    embed_origins: tuple[str, ...] = ()


EMBED_ORIGINS_ENV = "LAYERLAB_EMBED_ORIGINS"  # how `layerlab --embed-origin` reaches every worker process


def from_environment() -> Settings:
    """The settings a server process starts with: the defaults, plus the embedding origins the command
    line gave (passed to uvicorn's workers in the environment, space-separated)."""
    return Settings(embed_origins=tuple(os.environ.get(EMBED_ORIGINS_ENV, "").split()))


settings = from_environment()


_in_effect: ContextVar[Settings] = ContextVar("layerlab_settings", default=settings)


@contextmanager
def settings_in_effect(config: Settings) -> Iterator[Settings]:
    """Make `config` the settings in effect within the block (a request being served, a test)."""
    token = _in_effect.set(config)
    try:
        yield config
    finally:
        _in_effect.reset(token)


# the settings of the app serving this request (the defaults, `settings`, outside any request): a C-level
# call, since request-time bounds (app/fields.py) read it once per validated number
current_settings = _in_effect.get


class _InEffect:
    """Reads each limit from the settings in effect when it is read (`in_effect.max_filters`), so a
    handler or a validator that reads it at request time sees the limits of the app serving it."""

    def __getattr__(self, name: str) -> object:
        return getattr(_in_effect.get(), name)

    def __repr__(self) -> str:
        return f"in_effect({_in_effect.get()!r})"


in_effect = _InEffect()
