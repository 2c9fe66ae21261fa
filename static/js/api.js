// Talking to the engine over HTTP. Every number drawn arrives through here.

import { probe } from './probe.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

async function check(res) {
  if (res.ok) return res;
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  throw new ApiError(res.status, body);
}

// `signal` (an AbortSignal) cancels the request: the server stops work for a client that left.
export async function postJSON(url, body, { signal } = {}) {
  const res = await check(
    await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    }),
  );
  return res.json();
}

// Binary maps: float32 data plus shape and range headers.
export async function postMaps(url, body) {
  const res = await check(
    await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  const shape = res.headers.get('X-Shape').split(',').map(Number);
  const lo = res.headers.get('X-Min').split(',').map(Number);
  const hi = res.headers.get('X-Max').split(',').map(Number);
  return { shape, lo, hi, data: new Float32Array(await res.arrayBuffer()) };
}

export async function upload(url, file) {
  const form = new FormData();
  form.append('file', file);
  probe.busy += 1;
  try {
    const res = await check(await fetch(url, { method: 'POST', body: form }));
    return await res.json();
  } finally {
    probe.busy -= 1;
  }
}

// Runs `task(arg, signal)` at most once at a time; calls made meanwhile collapse into one
// run with the latest argument, so rapid edits never queue stale work. The returned function's
// `cancel()` drops the waiting call and aborts the running one (its AbortSignal `signal`): an
// aborted run reports neither result nor error.
export function latest(task, onResult, onError) {
  let running = null; // the AbortController of the run in flight
  let pending = null;
  async function run(arg) {
    const controller = new AbortController();
    running = controller;
    probe.busy += 1;
    try {
      const result = await task(arg, controller.signal);
      if (!controller.signal.aborted) onResult(result, arg);
    } catch (err) {
      if (!controller.signal.aborted) onError(err, arg);
    } finally {
      probe.busy -= 1;
      running = null;
      if (pending) {
        const next = pending.arg;
        pending = null;
        run(next);
      }
    }
  }
  const call = (arg) => {
    if (running) pending = { arg };
    else run(arg);
  };
  call.cancel = () => {
    pending = null;
    running?.abort();
  };
  return call;
}
