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

// The width a colour bar needs at `fontPx` for the range [lo, hi]. Text widths are kept per font
// and text: a live edit moves the range many times a second.
const widths = new Map();
function textWidth(g, font, text) {
  const key = `${font}|${text}`;
  let w = widths.get(key);
  if (w === undefined) {
    if (widths.size > 2000) widths.clear();
    g.font = font;
    w = g.measureText(text).width;
    widths.set(key, w);
  }
  return w;
}

export function colorbarWidth(g, lo, hi, signed, fontPx, barPx = BAR) {
  const font = `${fontPx}px system-ui, sans-serif`;
  const widest = Math.max(...colorbarTicks(lo, hi, signed).map((k) => textWidth(g, font, k.text)));
  return Math.ceil(GAP + barPx + GAP + widest + 2);
}

// The scale's gradient, one pixel wide and 256 tall (hi at the top), kept per LUT: a bar of any
// height is this strip stretched, one drawImage instead of a fillRect per row.
const strips = new WeakMap();
function gradientStrip(lut) {
  let strip = strips.get(lut);
  if (!strip) {
    strip = document.createElement('canvas');
    strip.width = 1;
    strip.height = 256;
    const image = new ImageData(1, 256);
    for (let y = 0; y < 256; y++) image.data.set(lut.subarray((255 - y) * 4, (256 - y) * 4), y * 4);
    strip.getContext('2d').putImageData(image, 0, 0);
    strips.set(lut, strip);
  }
  return strip;
}

// The page's ink colour, read once per view (a style read inside a live repaint forces a style
// recalculation); presenter view has its own.
const inks = new Map();
function inkColour() {
  const root = document.documentElement;
  const view = root.classList.contains('presenter');
  let ink = inks.get(view);
  if (ink === undefined) {
    ink = getComputedStyle(root).getPropertyValue('--ink').trim() || '#1b1f24';
    inks.set(view, ink);
  }
  return ink;
}

// Draw the bar on `canvas` (its CSS box is `width` x `height`): `lut` is the 256-entry RGBA
// table the map is painted with; the bar runs from hi (top) to lo (bottom).
export function drawColorbar(canvas, { lut, lo, hi, signed, fontPx, width, height, barPx = BAR }) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr),
    hPx = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== hPx) {
    canvas.width = w;
    canvas.height = hPx;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const pad = Math.ceil(fontPx / 2); // room for the top and bottom numbers, centred on the bar's ends
  const top = pad,
    h = Math.max(4, height - 2 * pad);
  g.imageSmoothingEnabled = true;
  g.drawImage(gradientStrip(lut), 0, 0, 1, 256, GAP, top, barPx, h);
  g.strokeStyle = '#555';
  g.lineWidth = 1;
  g.strokeRect(GAP + 0.5, top + 0.5, barPx - 1, h - 1);
  g.fillStyle = inkColour();
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
