// The mask of one head: every entry is 0 (the score kept) or −∞ (the key masked), nothing
// between, so its map is drawn white where 0 and dark where −∞, and a key under it names the two
// in place of a colour bar.

import { SCALE, presenter } from '../classroom/mode.js';

export const MASKED = '#3b3b3b';

// Highlights filling the masked (null, −∞) cells of `mask`, one per row that has any.
export function maskHighlights(mask) {
  const out = [];
  mask.forEach((entries, r) => {
    const cols = entries.flatMap((v, c) => (v === null ? [c] : []));
    if (cols.length) out.push({ rows: [r], cols, fill: MASKED, colour: MASKED, width: 1 });
  });
  return out;
}

// The key: a white swatch “0 kept” and a dark one “−∞ masked” (dimmed when nothing is masked).
export function drawMaskKey(canvas, masked) {
  const px = Math.round(11 * (presenter() ? SCALE.font : 1));
  const font = `${px}px system-ui, sans-serif`;
  const g = canvas.getContext('2d');
  g.font = font;
  const items = [
    ['#f7f7f7', '0 kept', true],
    [MASKED, '−∞ masked', masked],
  ];
  const sw = Math.round(px * 0.9),
    pad = Math.round(px * 0.3),
    space = Math.round(px * 0.9);
  const widths = items.map(([, text]) => sw + pad + Math.ceil(g.measureText(text).width));
  const width = widths.reduce((a, b) => a + b, 0) + space + 2,
    height = Math.ceil(px * 1.4);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = font;
  g.textBaseline = 'middle';
  let x = 1;
  items.forEach(([colour, text, on], i) => {
    g.globalAlpha = on ? 1 : 0.4;
    g.fillStyle = colour;
    g.fillRect(x, (height - sw) / 2, sw, sw);
    g.strokeStyle = '#555';
    g.lineWidth = 1;
    g.strokeRect(x + 0.5, (height - sw) / 2 + 0.5, sw - 1, sw - 1);
    g.fillStyle = '#222';
    g.fillText(text, x + sw + pad, height / 2 + 0.5);
    x += widths[i] + space;
  });
  g.globalAlpha = 1;
}
