// The step's composition sized to its room: the input, the window (with Lp's powers or the
// draw's probabilities under it) and the output side by side, as big as the row's width and the
// first screen's height allow once the written-out reduction below them is kept in view. The
// input and the output share one cell size so their cells line up by eye; a window too small to
// read at that size gets bigger cells of its own.

import { presenter } from '../classroom/mode.js';
import { frame, narrow, roomBelow, setCell } from '../room.js';

const $ = (id) => document.getElementById(id);
const SAFE = 4; // px kept free on each map so rounding never wraps the row

// The largest window (or bin) the steps of `first` show, as [rows, cols].
export function windowShape(first, compare) {
  if (compare || first.padded) return first.params.kernel_size;
  const boxes = first.bins?.boxes || [];
  return [Math.max(1, ...boxes.map((b) => b[1] - b[0])), Math.max(1, ...boxes.map((b) => b[3] - b[2]))];
}

const shape = (view) => [view.rows, view.cols];

// maps: {input, windows: [views stacked], outputs: [views in a grid of `across` columns], win: [r, c]}
export function layoutPool({ input, windows, outputs, across, win }) {
  if (!input.rows || outputs.some((v) => !v.rows)) return;
  const row = $('pool-maps');
  const style = getComputedStyle(row);
  const gap = Number.parseFloat(style.columnGap) || 16;
  const vgap = Number.parseFloat(style.rowGap) || 8;
  const W = row.clientWidth;
  const on = presenter();
  const cap = on ? 150 : 110;
  const readable = on ? 44 : 30; // a window cell that holds its number
  const fi = frame(input),
    fw = frame(windows[0]),
    fo = frame(outputs[0]);
  const [ri, ci] = shape(input);
  const [rw, cw] = win;
  const nw = windows.length;
  const down = Math.ceil(outputs.length / across);
  const [ro, co] = shape(outputs[0]);
  const eq = $('equation');
  const below = eq.offsetHeight + Number.parseFloat(getComputedStyle(eq).marginTop) + 8;
  if (narrow()) {
    // one map a line (outputs two a line): as wide as the screen
    const fit = (f, cols, n = 1) => Math.floor(Math.min(cap, (W - n * (f.w + SAFE) - (n - 1) * gap) / (n * cols)));
    setCell(input, fit(fi, ci));
    for (const v of windows) setCell(v, fit(fw, cw), rw, cw);
    for (const v of outputs) setCell(v, fit(fo, co, across));
    return;
  }
  const H = roomBelow(row, below);
  const tall = {
    input: (H - fi.h - SAFE) / ri,
    window: (H - nw * (fw.h + SAFE) - (nw - 1) * vgap) / (nw * rw),
    output: (H - down * (fo.h + SAFE) - (down - 1) * vgap) / (down * ro),
  };
  const fixed = fi.w + fw.w + across * fo.w + (1 + across) * gap + (2 + across) * SAFE;
  const shared = Math.min(cap, tall.input, tall.window, tall.output, (W - fixed) / (ci + cw + across * co));
  let c = shared,
    cwin = shared;
  if (shared < readable && shared < Math.min(cap, tall.window)) {
    cwin = Math.max(shared, Math.min(cap, tall.window, (0.34 * W - fw.w - SAFE) / cw, readable * 1.5));
    const rest = W - fixed - cwin * cw;
    c = Math.min(cap, tall.input, tall.output, rest / (ci + across * co));
  }
  const px = Math.max(1, Math.floor(c));
  setCell(input, px);
  for (const v of windows) setCell(v, Math.max(1, Math.floor(cwin)), rw, cw);
  for (const v of outputs) setCell(v, px);
}
