"""The trace: an operation's output plus the record of how it was computed.

Every engine operation returns a `Trace`. Per-step data is columnar: `steps`
maps a field name to one array whose first axis is the step number, so a
trace of 50 000 windows is a handful of arrays, not 50 000 small dicts.

A trace behaves as its output: `np.asarray(t)`, `t.shape`, `t[0]`, `t + 1`,
`np.exp(t)` and every engine operation read `t.output`, so operations compose
(`max_pool2d(relu(conv2d(x, w)), 2)`). Arithmetic returns plain arrays.

Steps are recorded on demand by default: the trace keeps a recorder (a function
from a range of flat step indices to the columnar step dict, holding only the
small inputs it reads) and the step count. `t.steps` builds and caches every
step on first access, `t.step(i)` builds one, `t.steps_between(a, b)` a chunk.
`chunk_length(t, max_steps, max_values)` sizes such a chunk by its steps and by the numbers they carry
(`t.values_per_step`).
A trace holds the arrays it was called with as given, without a defensive copy (a stage may be a
read-only view of an input): change an input in place after the call and the steps read later
follow it; copy it first, or record eagerly with record_steps=True.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

Recorder = Callable[[range], dict[str, np.ndarray]]
RecordSteps = bool | slice | Literal["lazy"]


def pick_steps(record_steps: RecordSteps, steps_total: int) -> range | None:
    """The flat step indices to record now (None: record nothing now).

    False records nothing, True every step, a slice (step 1) just those steps
    (a page fetches a long trace a chunk at a time); "lazy" records nothing now.
    """
    if record_steps is False or record_steps == "lazy":
        return None
    if record_steps is True:
        return range(steps_total)
    if not isinstance(record_steps, slice):
        raise ValueError(f"record_steps must be a bool, a slice or 'lazy', got {record_steps!r}")
    picked = range(steps_total)[record_steps]
    if picked.step != 1:
        raise ValueError(f"record_steps must be a bool or a slice with step 1, got {record_steps!r}")
    return picked


def recorded_trace(
    op: str,
    params: dict[str, Any],
    output: np.ndarray,
    stages: dict[str, np.ndarray],
    record_steps: RecordSteps,
    recorder: Recorder,
    total: int,
) -> Trace:
    """The trace of a step-recording operation, its steps recorded as `record_steps` asks."""
    if record_steps == "lazy":
        return Trace(op, params, output, stages, recorder=recorder, total_steps=total)
    picked = pick_steps(record_steps, total)
    return Trace(op, params, output, stages, {} if picked is None else recorder(picked))


def chunk_length(trace: Trace, max_steps: int, max_values: int) -> int:
    """Steps in one chunk of `trace`: at most `max_steps`, and at most `max_values` numbers in all
    (a step of a wide kernel or a large bin carries hundreds); never fewer than one step."""
    per_step = trace.values_per_step
    if per_step == 0:
        return max(1, max_steps)
    return max(1, min(max_steps, max_values // per_step))


class Held:
    """A recorder over step columns the output's computation already holds (few steps, e.g. one per
    group or time step): its chunks are slices of them. Given a function instead, it builds the
    columns on first access."""

    def __init__(self, columns: dict[str, np.ndarray] | Callable[[], dict[str, np.ndarray]]):
        self.columns = columns

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        if callable(self.columns):
            self.columns = self.columns()
        return {name: column[steps.start : steps.stop] for name, column in self.columns.items()}


class _Mapped:
    """A recorder whose chunks pass through `convert` (a derived operation's view of another's steps)."""

    def __init__(self, recorder: Recorder, convert: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]):
        self.recorder, self.convert = recorder, convert

    def __call__(self, steps: range) -> dict[str, np.ndarray]:
        return self.convert(self.recorder(steps))


def _unwrap(value: Any) -> Any:
    """A Trace's output; tuples and lists unwrapped element by element; anything else as is."""
    if isinstance(value, Trace):
        return value.output
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v) for v in value)
    return value


class Trace(NDArrayOperatorsMixin):
    """An operation's output, its named intermediates and its (possibly lazy) step record."""

    __slots__ = ("op", "params", "output", "stages", "_steps", "_recorder", "_total")

    def __init__(
        self,
        op: str,  # the torch.nn.functional name, e.g. "conv2d"
        params: dict[str, Any],  # the call's arguments, normalised plus derived sizes
        output: np.ndarray,  # exactly what the torch function returns
        stages: dict[str, np.ndarray] | None = None,  # named intermediates, e.g. "padded"
        steps: dict[str, np.ndarray] | None = None,  # field -> array of shape (S, ...)
        *,
        recorder: Recorder | None = None,  # range of flat step indices -> columnar steps
        total_steps: int = 0,  # how many steps the recorder can build
    ) -> None:
        self.op, self.params, self.output = op, params, output
        self.stages = {} if stages is None else stages
        self._steps = {} if steps is None and recorder is None else steps
        self._recorder, self._total = recorder, total_steps

    # --- the step record -------------------------------------------------------------------

    @property
    def steps(self) -> dict[str, np.ndarray]:
        """Every step, columnar; a lazy trace builds (and keeps) them on first access."""
        if self._steps is None:
            self._steps = self._recorder(range(self._total))
        return self._steps

    @property
    def lazy(self) -> bool:
        """True while the steps have not been built."""
        return self._steps is None

    @property
    def num_steps(self) -> int:
        """Number of steps (0 when the trace holds no step record); never builds them."""
        if self._steps is None:
            return self._total
        return len(next(iter(self._steps.values()))) if self._steps else 0

    def steps_between(self, start: int | None = None, stop: int | None = None) -> dict[str, np.ndarray]:
        """Steps start..stop (Python slice rules), building only those when lazy."""
        picked = range(self.num_steps)[start:stop]
        if self._steps is None:
            return self._recorder(picked)
        return {name: column[picked.start : picked.stop] for name, column in self._steps.items()}

    @property
    def values_per_step(self) -> int:
        """How many numbers one step carries, summed over its fields (0 without steps).

        Every field is a column, so each step has the same shape in it: a lazy trace's recorder may
        declare the count (a `values_per_step` attribute, from the shapes it knows: nothing built);
        else it is read from a chunk of no steps (a lazy trace gathers nothing for it), else from step 0.
        """
        if self.num_steps == 0:
            return 0
        declared = getattr(self._recorder, "values_per_step", None) if self._steps is None else None
        if declared is not None:
            return declared
        try:
            columns = self.steps_between(0, 0)
        except (ValueError, IndexError):  # a recorder that cannot build an empty chunk
            columns = {}
        columns = columns or self.steps_between(0, 1)
        return sum(math.prod(np.shape(column)[1:]) for column in columns.values())

    def step(self, i: int) -> dict[str, np.ndarray]:
        """One step's fields, for tests and debugging (a lazy trace builds just that step)."""
        i = range(self.num_steps)[i]  # negative indices and the bounds check
        if self._steps is None:
            return {name: column[0] for name, column in self._recorder(range(i, i + 1)).items()}
        return {name: column[i] for name, column in self._steps.items()}

    def select_steps(self, index: slice | np.ndarray) -> Trace:
        """A copy of this trace keeping only the steps picked by `index` (a lazy trace builds only those)."""
        if self._steps is None and isinstance(index, slice):
            steps = self.steps_between(index.start, index.stop)
            if index.step not in (None, 1):
                steps = {name: column[:: index.step] for name, column in steps.items()}
        elif self._steps is None:
            picked = np.arange(self._total)[index]
            lo = int(picked.min()) if len(picked) else 0
            hi = int(picked.max()) + 1 if len(picked) else 0
            steps = {name: column[picked - lo] for name, column in self._recorder(range(lo, hi)).items()}
        else:
            steps = {name: column[index] for name, column in self._steps.items()}
        return Trace(self.op, self.params, self.output, self.stages, steps)

    def derive(
        self,
        op: str,
        params: dict[str, Any],
        output: np.ndarray,
        stages: dict[str, np.ndarray],
        convert: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
    ) -> Trace:
        """A trace built on this one's steps, passed through `convert`; lazy stays lazy.

        An empty record stays empty (convert is not called on it).
        """
        if self._steps is None:
            recorder = self._recorder if convert is None else _Mapped(self._recorder, convert)
            return Trace(op, params, output, stages, recorder=recorder, total_steps=self._total)
        steps = self._steps if convert is None or not self._steps else convert(self._steps)
        return Trace(op, params, output, stages, steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain containers (NumPy arrays left as arrays: orjson writes them natively)."""
        return {
            "op": self.op,
            "params": self.params,
            "output": self.output,
            "stages": self.stages,
            "steps": self.steps,
            "num_steps": self.num_steps,
        }

    def __repr__(self) -> str:
        out = np.asarray(self.output)
        if self._steps is None:
            record = f"{self._total} steps on demand"
        else:
            record = f"{self.num_steps} steps recorded"
        stages = ", ".join(self.stages)
        if len(stages) > 120:
            stages = stages[:117] + "..."
        output = f"output {out.dtype} {tuple(out.shape)}"
        return f"Trace({self.op}, {output}, {record}, stages: {stages or 'none'})"

    # --- behaving as the output ------------------------------------------------------------

    __hash__ = None  # type: ignore[assignment]  # == compares outputs element-wise, as arrays do

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.asarray(self.output)
        if dtype is not None and out.dtype != np.dtype(dtype):
            if copy is False:
                raise ValueError(f"converting a {out.dtype} trace output to {np.dtype(dtype)} needs a copy")
            return out.astype(dtype)
        return out.copy() if copy else out

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"])
        return getattr(ufunc, method)(*_unwrap(inputs), **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.output)

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self.output).dtype

    @property
    def ndim(self) -> int:
        return np.ndim(self.output)

    @property
    def size(self) -> int:
        return int(np.size(self.output))

    def __len__(self) -> int:
        return len(self.output)

    def __getitem__(self, index: Any) -> Any:
        return self.output[_unwrap(index)]

    def __iter__(self) -> Any:
        return iter(self.output)

    def __bool__(self) -> bool:
        return bool(self.output)
