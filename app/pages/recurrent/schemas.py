"""Requests of the recurrent page (/recurrent): RNN, LSTM and GRU unrolled through time."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from layerlab.app.fields import Field, limit

Kind = Literal["rnn", "lstm", "gru"]
Source = Literal["numbers", "sine", "step", "sentence"]
InputValue = Annotated[
    float, Field(allow_inf_nan=False, ge=-limit.max_rnn_input_abs, le=limit.max_rnn_input_abs)
]
Scale = Annotated[float, Field(allow_inf_nan=False, ge=limit.min_rnn_scale, le=limit.max_rnn_scale)]
Seed = Annotated[int, Field(ge=0, le=limit.max_rnn_seed)]
HiddenSize = Annotated[int, Field(ge=1, le=limit.max_rnn_hidden)]


class SequenceRequest(BaseModel):
    """The input sequence and the layer's shape, shared by every cell kind."""

    model_config = ConfigDict(extra="forbid")

    source: Source = "sine"  # where x comes from; sine and step are generated on the server
    numbers: Annotated[list[InputValue], Field(min_length=1, max_length=limit.max_rnn_seq_len)] = [
        0.5,
        -1.0,
        1.0,
        0.0,
        2.0,
    ]  # source "numbers": one x_t per entry (input_size 1)
    length: int = Field(12, ge=1, le=limit.max_rnn_seq_len)  # T of the sine and step signals
    period: float = Field(8.0, ge=2, le=limit.max_rnn_period, allow_inf_nan=False)  # of the sine, in steps
    sentence: str = Field("the dog ran to the cat", max_length=limit.max_sentence_chars)  # source "sentence"
    hidden_size: HiddenSize = 4
    num_layers: int = Field(1, ge=1, le=limit.max_rnn_layers)
    bidirectional: bool = False
    nonlinearity: Literal["tanh", "relu"] = "tanh"  # the simple RNN's f
    seed: Seed = 0
    scale: Scale = 1.0


class RunRequest(SequenceRequest):
    """One kind of cell over the sequence: every gate of every step."""

    kind: Kind = "lstm"


class GradientRequest(BaseModel):
    """‖∂h_T/∂x_t‖ for the three kinds on one random sequence (engine.recurrent_grad.vanishing_gradients)."""

    model_config = ConfigDict(extra="forbid")

    seq_len: int = Field(30, ge=2, le=limit.max_rnn_grad_len)
    input_size: int = Field(4, ge=1, le=limit.max_rnn_input_size)
    hidden_size: HiddenSize = 8
    scale: Scale = 1.0
    forget_bias: float = Field(
        3.0, ge=-limit.max_rnn_forget_bias, le=limit.max_rnn_forget_bias, allow_inf_nan=False
    )  # the LSTM's forget gate starts this open
    seed: Seed = 0
