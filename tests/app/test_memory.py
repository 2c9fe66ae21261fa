"""The server's allocator setting: freed trace memory stays in the heap for the next trace."""

from __future__ import annotations

import subprocess
import sys

from layerlab.app.config import ROOT

# five 224x224x3 conv traces recording every window (two 10 MB records each), then the minor page faults
# they cost
FAULTS = """
import resource, sys
import numpy as np
from layerlab.app.memory import keep_freed_memory
from layerlab.engine.conv import conv2d
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
x, w = np.ones((1, 3, 224, 224)), np.ones((1, 3, 3, 3))
conv2d(x, w, padding=1, record_steps=True)  # first use: the heap grows once either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    conv2d(x, w, padding=1, record_steps=True)  # every window recorded, as a whole trace asks
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", FAULTS, mode], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return int(run.stdout)


def test_keeping_freed_memory_spares_the_page_faults_of_every_later_trace():
    default, tuned = _faults("default"), _faults("tuned")
    assert default > 5 * 1000  # each trace maps its records afresh: ~2,600 faults of 4 KiB per 10 MB
    assert tuned < default / 10
