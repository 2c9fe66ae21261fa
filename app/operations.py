"""The pages the index lists, one card each (lessons may open only these)."""

from __future__ import annotations

OPERATIONS = [
    {
        "name": "Convolution",
        "href": "/conv",
        "live": True,
        "blurb": "Slide a kernel over an image one window at a time; edit it and watch the maps change.",
    },
    {
        "name": "Convolution family",
        "href": "/family",
        "live": True,
        "blurb": "1-D and transposed, stepped; grouped, separable, shuffle, tiled, flattened, residual.",
    },
    {
        "name": "Layer calculator",
        "href": "/calculator",
        "live": True,
        "blurb": "Stack layers and read each one's output shape, parameters, MACs and receptive field.",
    },
    {
        "name": "Pooling",
        "href": "/pool",
        "live": True,
        "blurb": "Max, average, min, Lp, stochastic, pyramid and ROI pooling.",
    },
    {
        "name": "Normalization",
        "href": "/norm",
        "live": True,
        "blurb": "Which numbers share a mean and variance: BN, LN, IN, GN, RMS; running statistics; weights.",
    },
    {
        "name": "Attention",
        "href": "/attention",
        "live": True,
        "blurb": "From tokens to softmax(QKᵀ/√d_k)·V, one head and many.",
    },
    {
        "name": "Trained transformer",
        "href": "/transformer",
        "live": True,
        "blurb": "A tiny language model trained by Layerlab: every head's attention, every number, editable.",
    },
    {
        "name": "Activations",
        "href": "/activations",
        "live": True,
        "blurb": "Sigmoid to GELU with their derivatives: where gradients vanish, and a ReLU that dies.",
    },
    {
        "name": "Dense layers",
        "href": "/dense",
        "live": True,
        "blurb": "Neurons as lines that fold the plane; regions from layers; why weights start random.",
    },
    {
        "name": "A small CNN",
        "href": "/network",
        "live": True,
        "blurb": "Draw a digit and watch every layer of a trained network, forward and backward.",
    },
    {
        "name": "Your model",
        "href": "/model",
        "live": True,
        "blurb": "Open an ONNX file or a state_dict and see every layer's maps on your own image.",
    },
    {
        "name": "Recurrent cells",
        "href": "/recurrent",
        "live": True,
        "blurb": "RNN, LSTM and GRU unrolled through time: gates, cell state and vanishing gradients.",
    },
]
