"""A learner's own model: ResNet-18 from an ONNX file, run layer by layer by Layerlab, against onnxruntime.

The file is built here (bench/resnet18_onnx.py: torchvision's resnet18 graph, 11,689,512 parameters,
He-normal weights, seeded) and given to both sides as the same bytes. Rows, on one 1x3x224x224 float32
image (seeded):
- load: `layerlab.models.onnx_file.read_onnx` (parse, check, limits, arrays) against onnxruntime's
  `InferenceSession` on the same bytes (graph optimisations included, one thread);
- run: `layerlab.engine.graph.run.run`, which keeps every node's output (the maps the page draws) and each
  conv, pool and norm's lazy trace, against `InferenceSession.run` with one intra-op thread and with
  onnxruntime's default thread count (CPU).
Each run's process CPU time is noted too: on a shared machine it moves less than the wall clock.
Before timing, Layerlab's logits are checked against onnxruntime's (float64 against float32: 1e-5 of
the largest logit). One untimed pass then adds up Layerlab's time per ONNX operator type, to show where
the run goes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict

import numpy as np
import onnxruntime as ort

from bench.common import Section, measure, ms, ratio
from bench.resnet18_onnx import INPUT, OUTPUT, PARAMETERS, file_bytes
from layerlab.app.config import settings
from layerlab.engine.graph.ops import apply
from layerlab.engine.graph.run import layer_table
from layerlab.engine.graph.run import run as run_graph
from layerlab.models.onnx_file import read_onnx


def _session(data: bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: onnxruntime's default (one per physical core)
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _cpu_ms(fn, repeats: int) -> float:
    """Median process CPU time of fn in ms: what the work costs however busy the machine is."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        samples.append((time.process_time() - start) * 1e3)
    return float(np.median(samples))


def _per_op(graph, feeds: dict[str, np.ndarray]) -> dict[str, float]:
    """Milliseconds per ONNX op type over one pass, node by node as run() goes."""
    known = {**graph.initializers, **feeds}
    spent: dict[str, float] = defaultdict(float)
    for node in graph.nodes:
        start = time.perf_counter()
        outputs, _ = apply(node, [known[v] if v else None for v in node.inputs])
        spent[node.op] += (time.perf_counter() - start) * 1e3
        known.update(zip(node.outputs, outputs, strict=False))
    return dict(sorted(spent.items(), key=lambda item: -item[1]))


def run(quick: bool) -> Section:
    engine_repeats, ort_repeats = (2, 5) if quick else (7, 40)
    data = file_bytes(seed=0)
    image = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    feeds = {INPUT: image}
    graph = read_onnx(data, settings)
    assert sum(row.parameters for row in layer_table(graph, image.shape)) == PARAMETERS
    ours = run_graph(graph, feeds).values[OUTPUT]
    theirs = _session(data, 1).run(None, feeds)[0]
    worst = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    assert worst < 1e-5, worst

    load_ours = measure(lambda: read_onnx(data, settings), engine_repeats, warmup=1)
    load_ort = measure(lambda: _session(data, 1), engine_repeats, warmup=1)
    ours_run = measure(lambda: run_graph(graph, feeds), engine_repeats, warmup=1)
    ort_runs = {}
    for label, threads in (("1 thread", 1), ("default threads", 0)):
        session = _session(data, threads)
        ort_runs[label] = measure(lambda s=session: s.run(None, feeds), ort_repeats)

    section = Section(
        "Your own model: ResNet-18 (ONNX, 69 nodes, 11.7 M parameters) on one 1x3x224x224 image",
        ["row", "median ms", "p95 ms", "median / onnxruntime", "p95 / onnxruntime p95"],
    )
    rows = [
        ("load: onnxruntime InferenceSession (1 thread)", load_ort, load_ort),
        ("load: read_onnx", load_ours, load_ort),
        *((f"run: onnxruntime, {label}", t, t) for label, t in ort_runs.items()),
        ("run: Layerlab, every map kept / ort 1 thread", ours_run, ort_runs["1 thread"]),
        ("run: Layerlab / ort default threads", ours_run, ort_runs["default threads"]),
    ]
    for name, t, base in rows:
        ratios = t.median_ms / base.median_ms, t.p95_ms / base.p95_ms
        section.rows.append([name, ms(t.median_ms), ms(t.p95_ms), *map(ratio, ratios)])
        section.data[name] = {**asdict(t), "median_ratio": ratios[0], "p95_ratio": ratios[1]}
    one = _session(data, 1)
    cpu = (
        _cpu_ms(lambda: run_graph(graph, feeds), engine_repeats),
        _cpu_ms(lambda: one.run(None, feeds), ort_repeats),
    )
    section.notes.append(
        f"CPU time per run (process_time, median; robust to load): Layerlab {cpu[0]:.0f} ms, "
        f"onnxruntime 1 thread {cpu[1]:.1f} ms: {cpu[0] / cpu[1]:.0f}x"
    )
    section.data["cpu_ms"] = {"layerlab": cpu[0], "onnxruntime_1_thread": cpu[1]}
    spent = _per_op(graph, feeds)
    total = sum(spent.values())
    section.notes.append(
        f"logits agree with onnxruntime to {worst:.1e} of the largest; {len(data) / 1e6:.1f} MB file; "
        f"values kept by run(): {len(run_graph(graph, feeds).values)}"
    )
    section.notes.append(
        "Layerlab's time by operator (one pass): "
        + ", ".join(f"{op} {t:.0f} ms ({t / total:.0%})" for op, t in spent.items())
    )
    section.data["per_op_ms"] = spent
    section.data["max_relative_difference"] = worst
    return section
