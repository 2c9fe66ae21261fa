// What the page exposes for tests and the benchmark: drawn maps by id, a repaint
// counter and the number of requests in flight. Read-only for anything outside.

export const probe = { maps: {}, paints: 0, busy: 0 };
window.__layerlab = probe;
