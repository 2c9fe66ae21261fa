// Maps that fill the room they have: a page measures the room its step composition leaves
// (the width of a row, the height down to the bottom of the first screen) and sets each
// MapView's cell size to fit it, again whenever the window, presenter view or the settings
// bar changes that room. Sizes only: MapView still draws everything.

import { PRESENTER_EVENT, SCALE, presenter } from './classroom/mode.js';

// Phones scroll: there a composition fits the width only.
export const narrow = () => window.innerWidth <= 700;

// Draw `view` with cells of `px` pixels; rows x cols is the largest shape it will show at that
// size (a window whose shape changes per step keeps its cell size).
export function setCell(view, px, rows = view.rows, cols = view.cols) {
  const k = presenter() ? SCALE.cell : 1; // MapView scales target and maxCell by this
  const cell = Math.max(1, Math.floor(px));
  view.opts.maxCell = cell / k;
  view.opts.target = ((cell + 0.5) * Math.max(rows, cols / 1.8, 1)) / k;
  view.redraw();
}

// The pixels a drawn map adds around its cells (frame, ticks, title, colour bar).
export function frame(view) {
  if (!view.rows || !view.cell) return { w: 0, h: 0 };
  return { w: view.el.offsetWidth - view.cols * view.cell, h: view.el.offsetHeight - view.rows * view.cell };
}

// The room from the top of `el` (where it sits on the page as it opens) to the bottom of the
// first screen, less `below` pixels kept for what must show under it.
export function roomBelow(el, below = 0) {
  const top = el.getBoundingClientRect().top + window.scrollY;
  return Math.max(0, window.innerHeight - top - below);
}

// Call `fn` once per frame after the room may have changed: the window resized, presenter view
// toggled, or `el` changed width (the presenter's settings bar opened, say).
export function onRoomChange(el, fn) {
  let queued = false;
  let width = el.clientWidth;
  const later = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
  window.addEventListener('resize', later);
  document.addEventListener(PRESENTER_EVENT, later);
  new ResizeObserver(() => {
    if (el.clientWidth === width) return;
    width = el.clientWidth;
    later();
  }).observe(el);
}
