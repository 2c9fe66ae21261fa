"""How the server's allocator treats freed memory: keep it for the next trace.

A full trace allocates a few megabytes of records (a 224x224x3 conv: two 10 MB arrays) and frees them
once the answer is sent. glibc gives any block over its mmap threshold (128 KiB, growing) back to the
system on free, so the next trace gets fresh pages from the kernel again: about 2,400 page faults and
5 ms for that conv, more than twice the arithmetic. Raising the thresholds keeps the pages in the heap.
The bound stays: blocks of MMAP_THRESHOLD and more are still mapped and unmapped per use, and free heap
beyond TRIM_THRESHOLD is still returned.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 2**20  # larger blocks come from (and go back to) the kernel as before
TRIM_THRESHOLD = 256 * 2**20  # at most this much free heap is kept


@cache  # once per process: find_library runs ldconfig, and every app the tests build calls this
def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
