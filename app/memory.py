"""How the server's memory is bounded and given back: freed trace memory stays for the next trace,
a bounded number of images decode at once, and a burst of decodes hands its memory back when it ends.

A full trace allocates a few megabytes of records (a 224x224x3 conv: two 10 MB arrays) and frees them
once the answer is sent. glibc gives any block over its mmap threshold (128 KiB, growing) back to the
system on free, so the next trace gets fresh pages from the kernel again: about 2,400 page faults and
5 ms for that conv, more than twice the arithmetic. Raising the thresholds keeps the pages in the heap.
The bound stays: blocks of MMAP_THRESHOLD and more are still mapped and unmapped per use, and free heap
beyond TRIM_THRESHOLD is still returned.

An upload's decode is far larger (tens to hundreds of megabytes, app/uploads.py decode_bytes) and
rare, and it runs in a worker thread, whose glibc arena keeps what it freed up to TRIM_THRESHOLD each:
after a burst of uploads a worker stayed 1.8 GB over its start. So decodes are bounded (`Decodes`), and
when the last decode of a burst ends `malloc_trim(0)` returns every arena's free pages to the system;
the heap the traces reuse is faulted in again once, on the next trace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import anyio
from starlette.requests import HTTPConnection

from layerlab.app.config import Settings
from layerlab.app.jobs import Jobs

T = TypeVar("T")

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 2**20  # larger blocks come from (and go back to) the kernel as before
TRIM_THRESHOLD = 256 * 2**20  # at most this much free heap is kept


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None where the C library is another (find_library runs ldconfig: once per process)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc's own functions)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


@cache  # once per process: every app the tests build calls this
def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process; False where the C library is not glibc."""
    libc = _libc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_freed_memory() -> bool:
    """Return the free pages of every glibc arena to the system (malloc_trim(0)); False if none went back."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


class Decodes:
    """One worker's image decodes: at most `running` at once and `waiting` queued, each for at most `wait`
    seconds, past that a 503 with Retry-After (app/jobs.py's bound); when the last one in progress ends,
    the memory the burst freed goes back to the system."""

    def __init__(self, running: int, waiting: int, wait: float) -> None:
        self._slots = Jobs(running, waiting, wait)
        self.inside = 0  # decodes waiting or running now

    @classmethod
    def from_settings(cls, config: Settings) -> Decodes:
        return cls(config.max_decodes, config.max_decodes_waiting, config.max_decode_wait)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread once a decode slot is free; ApiError(503) past the bounds."""
        self.inside += 1
        try:
            return await self._slots.run(fn, *args)
        finally:
            self.inside -= 1
            if self.inside == 0:
                await anyio.to_thread.run_sync(release_freed_memory)


def decodes_of(where: HTTPConnection) -> Decodes:
    """The decode slots of the app serving `where`, made on first use from the app's settings."""
    state = where.app.state
    if getattr(state, "decodes", None) is None:
        state.decodes = Decodes.from_settings(state.settings)
    return state.decodes
