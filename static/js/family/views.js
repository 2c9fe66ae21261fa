// Drawing helpers shared by the family views: maps from nested arrays, and sums written
// out with the engine's numbers. Display only: every value arrives from the server.

import { MapView } from '../mapview.js';
import { factor, fmt } from '../format.js';

const MAX_TERMS = 27;

export function extent(values) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

// A MapView in a new box appended to `parent`.
export function addMap(parent, id, opts = {}) {
  const box = document.createElement('div');
  parent.append(box);
  return new MapView(box, { id, ...opts });
}

// Draw a matrix (rows of numbers) or a vector (one row) on a view.
export function drawMatrix(view, matrix, title, extra = {}) {
  const rows = Array.isArray(matrix[0]) ? matrix : [matrix];
  const values = rows.flat();
  view.setData(values, rows.length, rows[0].length, { ...extent(values), title, ...extra });
}

// "lhs = w·x + w·x + … = result", long sums shortened in the middle.
export function sumText(lhs, weights, values, result) {
  const terms = weights.map((w, i) => `${factor(w)}·${factor(values[i])}`);
  const shown = terms.length > MAX_TERMS ? [...terms.slice(0, 9), '…', ...terms.slice(-3)] : terms;
  return `<span class="lhs">${lhs}</span> = ${shown.join(' + ')} = <strong>${fmt(result)}</strong>`;
}
