// Drawing helpers for the pooling page: maps from nested arrays (null, how JSON carries the
// +-inf of max/min padding, drawn as an empty '·' cell), the marks on them, and sums written
// out with the engine's numbers. Display only: every value arrives from the server.

import { MapView } from '../mapview.js';
import { fmt } from '../format.js';

const MAX_TERMS = 27;
export const MARKS = {
  winner: { colour: '#d62728', fill: 'rgba(214,39,40,0.35)', width: 3 },
  current: { fill: null, colour: '#111' },
  bin: { rows: [], cols: [], colour: '#1f6feb', width: 1 },
  roi: { rows: [], cols: [], colour: '#762a83', width: 3 }, // purple: apart from the red winner for every eye
};

export const asNumber = (v) => (v === null ? NaN : v);

export function extent(values) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 1 };
}

// A MapView in a new box appended to `parent`.
export function addMap(parent, id, opts = {}) {
  const box = document.createElement('div');
  parent.append(box);
  return new MapView(box, { id, target: 260, maxCell: 44, ...opts });
}

// Draw a matrix (rows of numbers) or a vector (one row); signed colours when a value is negative
// (or `signed` says so).
export function drawGrid(view, matrix, title, { signed, ...extra } = {}) {
  const rows = Array.isArray(matrix[0]) ? matrix : [matrix];
  const values = rows.flat().map(asNumber);
  const ext = extent(values.filter(Number.isFinite));
  view.opts.signed = signed ?? ext.lo < 0;
  view.setData(values, rows.length, rows[0].length, { ...ext, title, ...extra });
}

// The rows r0..r1-1 (or columns) of a half-open range, for a highlight.
export const span = (from, to) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);

// The window's values in reading order, padding written as `fill` ('−∞' for max).
export function terms(window, valid, fill) {
  const out = [];
  window.forEach((row, u) => row.forEach((v, w) => out.push(valid && !valid[u][w] && fill ? fill : fmt(asNumber(v)))));
  return out;
}

// Long lists shortened in the middle, as the conv page writes long sums.
export function shorten(items) {
  return items.length > MAX_TERMS ? [...items.slice(0, 9), '…', ...items.slice(-3)] : items;
}
