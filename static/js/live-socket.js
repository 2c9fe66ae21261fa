// Live edits over one WebSocket, so an edit costs one small message each way and no HTTP request.
// Each message is the POST body plus `seq`; the answer is binary (app/pages/conv/request.py live_frame):
// seq, layers, filters, rows, cols (uint32), each map's minimum, then maximum (float32), then the
// maps (float32), read in place as a Float32Array. A refused edit is answered with the app's error
// body (plus seq and status), thrown as the HTTP path throws it. While the socket is not open (at
// start, after a close, while it reconnects) requests go by POST to `fallback` instead; a socket
// that never opened in three tries (a proxy that does not pass WebSockets) is not tried again.

import { ApiError, postMaps } from './api.js';

const HEADER_WORDS = 5;
const RETRY_MS = [200, 1000, 3000]; // after the first close, the second, and every later one

// {shape, lo, hi, data} from one binary answer, as postMaps gives them.
export function readFrame(buffer) {
  const [, layers, filters, rows, cols] = new Uint32Array(buffer, 0, HEADER_WORDS);
  const n = layers * filters;
  const floats = new Float32Array(buffer, HEADER_WORDS * 4);
  return {
    shape: [layers, filters, rows, cols],
    lo: floats.subarray(0, n),
    hi: floats.subarray(n, 2 * n),
    data: floats.subarray(2 * n),
  };
}

export class LiveSocket {
  // path: the socket's path on this origin; fallback: the POST endpoint with the same body.
  constructor(path, fallback) {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${window.location.host}${path}`;
    this.fallback = fallback;
    this.seq = 0;
    this.waiting = null; // {seq, resolve, reject, body} of the edit in flight on the socket
    this.closes = 0; // closes since the socket was last open
    this.opened = false;
    this._connect();
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  // The maps for `body`. The caller sends one edit at a time (api.js latest); an edit that finds the
  // socket closed or busy goes by POST.
  request(body) {
    if (!this.open || this.waiting) return postMaps(this.fallback, body);
    this.seq = (this.seq + 1) % 2 ** 32;
    const seq = this.seq;
    return new Promise((resolve, reject) => {
      this.waiting = { seq, resolve, reject, body };
      this.ws.send(JSON.stringify({ ...body, seq }));
    });
  }

  _connect() {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => {
      this.closes = 0;
      this.opened = true;
    });
    ws.addEventListener('message', (e) => this._answer(e.data));
    ws.addEventListener('close', () => {
      this.ws = null;
      const w = this.waiting;
      this.waiting = null;
      if (w) postMaps(this.fallback, w.body).then(w.resolve, w.reject); // its answer will not come now
      if (!this.opened && this.closes >= RETRY_MS.length - 1) return;
      setTimeout(() => this._connect(), RETRY_MS[Math.min(this.closes, RETRY_MS.length - 1)]);
      this.closes += 1;
    });
    this.ws = ws;
  }

  // Decoded and handed over in the task the message arrived in, so the caller paints before the next
  // frame. An answer to anything but the edit in flight is dropped: a newer edit has been sent.
  _answer(data) {
    const w = this.waiting;
    if (typeof data === 'string') {
      const body = JSON.parse(data);
      if (!w || (body.seq !== null && body.seq !== w.seq)) return;
      this.waiting = null;
      w.reject(new ApiError(body.status, body));
      return;
    }
    if (!w || new Uint32Array(data, 0, 1)[0] !== w.seq) return;
    this.waiting = null;
    w.resolve(readFrame(data));
  }
}
