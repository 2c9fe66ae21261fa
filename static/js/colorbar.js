// A colour bar: the scale a map is painted with, drawn on one canvas (a vertical gradient with
// its range written beside it: top, bottom, and 0 for a signed scale), so an export picks it up
// like any other canvas. MapView draws one beside every map; a group of small maps that share
// one range (norm's tensor grid, the CNN's channel rows) shows one `Colorbar` for the group.

import { fmt } from './format.js';

const BAR = 12; // the gradient's width in px (presenter view: ×1.4)
const GAP = 6; // between the map and the bar, and between the bar and its numbers

// The numbers written beside the bar: the top, the bottom and, on a diverging scale, 0.
export function colorbarTicks(lo, hi, signed) {
  const ticks = [
    { v: hi, t: 0 },
    { v: lo, t: 1 },
  ];
  if (signed && lo < 0 && hi > 0) ticks.push({ v: 0, t: hi / (hi - lo) });
  return ticks.map(({ v, t }) => ({ text: fmt(v, 3), t }));
}

// The width a colour bar needs at `fontPx` for the range [lo, hi].
export function colorbarWidth(g, lo, hi, signed, fontPx, barPx = BAR) {
  g.font = `${fontPx}px system-ui, sans-serif`;
  const widest = Math.max(...colorbarTicks(lo, hi, signed).map((k) => g.measureText(k.text).width));
  return Math.ceil(GAP + barPx + GAP + widest + 2);
}

// Draw the bar on `canvas` (its CSS box is `width` x `height`): `lut` is the 256-entry RGBA
// table the map is painted with; the bar runs from hi (top) to lo (bottom).
export function drawColorbar(canvas, { lut, lo, hi, signed, fontPx, width, height, barPx = BAR }) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const pad = Math.ceil(fontPx / 2); // room for the top and bottom numbers, centred on the bar's ends
  const top = pad,
    h = Math.max(4, height - 2 * pad);
  for (let y = 0; y < h; y++) {
    const k = Math.round((1 - y / Math.max(1, h - 1)) * 255) * 4;
    g.fillStyle = `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})`;
    g.fillRect(GAP, top + y, barPx, 1);
  }
  g.strokeStyle = '#555';
  g.lineWidth = 1;
  g.strokeRect(GAP + 0.5, top + 0.5, barPx - 1, h - 1);
  g.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--ink') || '#1b1f24';
  g.font = `${fontPx}px system-ui, sans-serif`;
  g.textBaseline = 'middle';
  g.textAlign = 'left';
  for (const { text, t } of colorbarTicks(lo, hi, signed)) {
    const y = top + t * (h - 1);
    g.fillText(text, GAP + barPx + GAP, y);
    g.fillRect(GAP + barPx, Math.round(y), 3, 1);
  }
}

// A stand-alone bar for a group of maps on one range; `el` is the element it is appended to.
export class Colorbar {
  constructor(el, { height = 120, fontPx = 11 } = {}) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'colorbar';
    this.canvas.setAttribute('role', 'img');
    this.height = height;
    this.fontPx = fontPx;
    el.append(this.canvas);
  }

  set({ lut, lo, hi, signed, height = this.height, fontPx = this.fontPx }) {
    const g = this.canvas.getContext('2d');
    const width = colorbarWidth(g, lo, hi, signed, fontPx);
    drawColorbar(this.canvas, { lut, lo, hi, signed, fontPx, width, height });
    this.canvas.setAttribute('aria-label', `colour scale from ${fmt(lo, 3)} to ${fmt(hi, 3)}`);
  }
}
