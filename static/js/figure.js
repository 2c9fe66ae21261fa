// A step's figure as a small layout tree (rows and columns of MapViews, fixed boxes such as a
// link diagram's band), sized to its room: the largest cell at which the whole tree fits a
// width x height box, every map then drawn at that cell times its own weight. A figure may
// offer several arrangements; the one with the biggest cells wins. The pixels around each
// map's cells (title, ticks, colour bar) are read from the map as drawn (room.js frame).

import { frame, setCell } from './room.js';

export const map = (view, k = 1) => ({ view, k });
export const row = (children, gap = 0) => ({ dir: 'row', children, gap });
export const col = (children, gap = 0) => ({ dir: 'col', children, gap });
export const fixed = (width, height) => ({ fixed: [width, height] });

function maps(node, out = []) {
  if (node.view) out.push(node);
  else if (node.children) for (const child of node.children) maps(child, out);
  return out;
}

const cellOf = (node, c) => Math.max(1, Math.floor(node.k * c));
const shown = (view) => view.rows > 0 && view.el.isConnected && view.el.getClientRects().length > 0;

// [width, height] of a node when the base cell is c.
function size(node, c) {
  if (node.fixed) return node.fixed;
  if (node.view) {
    if (!shown(node.view)) return [0, 0];
    const cell = cellOf(node, c);
    return [node.view.cols * cell + node.frame.w, node.view.rows * cell + node.frame.h];
  }
  const sizes = node.children.map((child) => size(child, c)).filter(([w, h]) => w > 0 || h > 0);
  const gaps = node.gap * Math.max(0, sizes.length - 1);
  const along = (i) => sizes.reduce((s, x) => s + x[i], 0) + gaps;
  const across = (i) => Math.max(0, ...sizes.map((x) => x[i]));
  return node.dir === 'row' ? [along(0), across(1)] : [across(0), along(1)];
}

// The largest base cell in [1, max] at which `tree` fits {width, height}, nothing changed yet;
// `fits` false when even 1 px cells do not.
export function largestCell(tree, { width, height }, max = 60) {
  for (const node of maps(tree)) node.frame = frame(node.view);
  const fits = (c) => {
    const [w, h] = size(tree, c);
    return w <= width && h <= height;
  };
  let lo = 1,
    hi = Math.max(1, Math.floor(max));
  if (!fits(lo)) return { c: 1, fits: false };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return { c: lo, fits: true };
}

// Draw every map of `tree` with its cell for the base cell c.
export function applyCell(tree, c) {
  for (const node of maps(tree)) {
    if (shown(node.view) && node.view.cell !== cellOf(node, c)) setCell(node.view, cellOf(node, c));
  }
}

// arrangements: {name: tree}; box: {width, height}; max: the largest base cell worth drawing.
// The arrangement with the biggest cells that fits is drawn; returns its name and base cell.
export function fitFigure(arrangements, box, max = 60) {
  let best = null;
  for (const [name, tree] of Object.entries(arrangements)) {
    const found = largestCell(tree, box, max);
    const score = (found.fits ? 1e6 : 0) + found.c;
    if (!best || score > best.score) best = { name, tree, c: found.c, score };
  }
  if (!best) return null;
  applyCell(best.tree, best.c);
  return { name: best.name, c: best.c };
}
