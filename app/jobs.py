"""Heavy work off the event loop, a bounded number of jobs at once per worker process.

A job is a plain function (NumPy work, building and serializing a response) run in a worker thread, so the
event loop stays free for every other request: a cheap GET, a page, the next live edit. At most
`Settings.max_jobs` jobs compute at once per worker; up to `max_jobs_waiting` more queue for a slot, each
for at most `max_job_wait` seconds. Past either bound the answer is a 503 in the app's error shape naming
the `server` field, with a `Retry-After` header (whole seconds, estimated from recent jobs' durations),
rather than a queue that grows without bound while every client waits.

Use it from a handler with `await run_job(request, fn, *args)`, or turn a plain `def` handler into one
whose whole body is a job with `@heavy` (below its `@router.post`).

The endpoints that run as jobs, and why: every POST that computes with the engine, each able to take from
tens of milliseconds to seconds at its largest request and to answer up to megabytes of JSON (serialized
in the job too):
- `/api/pool/{trace,compare,shift}`, `/api/family/*`, `/api/norm/{apply,equation,stream}`,
  `/api/attention`, `/api/attention/additive`, `/api/activations/{curve,map,softmax,dead-relu}`,
  `/api/dense/{plane,linear,init}`, `/api/network/{forward,backward,link,circle}`,
  `/api/recurrent/{run,compare,gradients}`, `/api/calculator/analyse`;
- `/api/conv/trace` and `/api/conv/live`, wired by the conv routes themselves.
Not jobs: `/api/activations/point`, `/api/dense/point` and `/api/dense/parameters` (one point or a few
products, under a millisecond), the GET listings and the pages, which stay in FastAPI's thread pool or
on the loop as they are; uploads (`POST /api/images`) have their own bound on decodes (app/memory.py).
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
import typing
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from fastapi import Request
from starlette.requests import HTTPConnection

from layerlab.app.config import Settings
from layerlab.app.errors import ApiError

T = TypeVar("T")


class Jobs:
    """One worker process's job slots: `running` at once, `waiting` queued for up to `wait` seconds."""

    def __init__(self, running: int, waiting: int, wait: float) -> None:
        self.running, self.waiting, self.wait = max(1, running), max(0, waiting), wait
        self.queued = 0  # jobs waiting for a slot now
        self.mean_seconds = 0.1  # a moving average of jobs' durations, for Retry-After
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, config: Settings) -> Jobs:
        return cls(config.max_jobs, config.max_jobs_waiting, config.max_job_wait)

    def _bind(self) -> None:
        """Slots belong to the running event loop (a test client starts a new loop per client)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self.queued = loop, 0
            self._slots = asyncio.Semaphore(self.running)
            self._threads = anyio.CapacityLimiter(self.running)

    def _busy(self, why: str) -> ApiError:
        retry = max(1, math.ceil(self.mean_seconds * (self.queued + 1) / self.running))
        message = (
            f"busy: {why} (at most {self.running} heavy requests compute at once and {self.waiting} wait, "
            f"for at most {self.wait:g} s); retry in {retry} s"
        )
        return ApiError(503, "server", message, headers={"Retry-After": str(retry)}, kind="busy")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a worker thread once a slot is free; ApiError(503) past the bounds."""
        self._bind()
        if self._slots.locked():
            if self.queued >= self.waiting:
                raise self._busy(f"{self.queued} requests are already waiting")
            self.queued += 1
            try:
                async with asyncio.timeout(self.wait):
                    await self._slots.acquire()
            except TimeoutError:
                raise self._busy(f"no slot came free within {self.wait:g} s") from None
            finally:
                self.queued -= 1
        else:
            await self._slots.acquire()
        start = time.perf_counter()
        try:
            # not cancellable: a client that leaves does not free the slot before the thread is done
            return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self._threads)
        finally:
            self._slots.release()
            self.mean_seconds += 0.2 * (time.perf_counter() - start - self.mean_seconds)


def jobs_of(where: HTTPConnection | Any) -> Jobs:
    """The job slots of the app serving `where` (a request, a WebSocket, or the app itself)."""
    app = where.app if isinstance(where, HTTPConnection) else where
    return app.state.jobs


async def run_job(where: HTTPConnection | Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` as a job of `where`'s app (see Jobs.run); raises ApiError(503) when busy."""
    return await jobs_of(where).run(fn, *args, **kwargs)


def heavy(handler: Callable[..., T]) -> Callable[..., typing.Awaitable[T]]:
    """Make a plain `def` route handler run as a job: FastAPI sees the same parameters (plus the request,
    if the handler does not take it) and an async handler that awaits `run_job`."""
    hints = typing.get_type_hints(handler, include_extras=True)
    signature = inspect.signature(handler)
    params = [p.replace(annotation=hints.get(name, p.annotation)) for name, p in signature.parameters.items()]
    takes_request = "request" in signature.parameters
    if not takes_request:
        params.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    async def endpoint(**kwargs: Any) -> T:
        request = kwargs["request"] if takes_request else kwargs.pop("request")
        return await run_job(request, handler, **kwargs)

    # no __wrapped__: FastAPI would unwrap it and run the plain function in its own unbounded thread pool
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(endpoint, name, getattr(handler, name))
    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=hints.get("return", signature.return_annotation)
    )
    return endpoint
