// Drawing helpers shared by the family views: maps from nested arrays, and sums written
// out with the engine's numbers. Display only: every value arrives from the server.

import { MapView, extent } from '../mapview.js';

export { extent };
import { factor, fmt } from '../format.js';
import { narrow, roomBelow } from '../room.js';

const MAX_TERMS = 27;
export const GAP = 12; // px between the maps of a figure (the CSS uses the same, see family.css)

// The height a figure starting at `el` may take: down to the bottom of the first screen with
// `below` px kept for what must show under it; on a phone, which scrolls, most of a screen.
export function room(el, below = 0) {
  const r = roomBelow(el, below + 8);
  return narrow() ? Math.max(r, 0.8 * window.innerHeight) : Math.max(r, 140);
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
