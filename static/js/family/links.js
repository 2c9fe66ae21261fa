// Lines between two rows of channel cards, drawn in an SVG band that lies between them: from
// the bottom edge of a source card, under the middle of its cells, to the top edge of a target
// card, so every line meets both maps. Which channels are linked (and each line's group colour)
// comes from the engine's answer. A figure of rows and bands sizes itself with `fitFlow`.

import { col, fitFigure, fixed } from '../figure.js';
import { room } from './views.js';

// Okabe-Ito, safe for colour-blind readers; group g gets colour g mod 8
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const BAND = { min: 56, max: 220 }; // px: a band between two rows of cards

// The x of a card's cells' middle and its top and bottom edges, in the band's coordinates.
function anchor(el, box) {
  const cells = el.querySelector('canvas.cells').getBoundingClientRect();
  const card = el.getBoundingClientRect();
  return { x: cells.left + cells.width / 2 - box.left, top: card.top - box.top, bottom: card.bottom - box.top };
}

// pairs: [[from, to, group], ...]
export function drawLinks(svg, fromCards, toCards, pairs) {
  const box = svg.getBoundingClientRect();
  svg.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  const from = fromCards.map((el) => anchor(el, box)),
    to = toCards.map((el) => anchor(el, box));
  svg.replaceChildren(
    ...pairs.map(([a, b, group]) => {
      const line = document.createElementNS(svg.namespaceURI, 'line'); // the page's inline <svg> namespace
      line.setAttribute('x1', String(from[a].x));
      line.setAttribute('y1', String(from[a].bottom));
      line.setAttribute('x2', String(to[b].x));
      line.setAttribute('y2', String(to[b].top));
      line.setAttribute('stroke', PALETTE[group % PALETTE.length]);
      line.dataset.from = String(a);
      line.dataset.to = String(b);
      return line;
    }),
  );
}

// Rows of channel stacks (each under its heading) and the bands between them, sized
// so the rows fill the figure's width and the bands take the height left on the first screen.
export function fitFlow(figure, stacks, bands) {
  const shown = stacks.filter((s) => s.el.getClientRects().length > 0);
  const rows = shown.map((s) => col([fixed(0, s.el.previousElementSibling.offsetHeight), s.node()]));
  const height = room(figure, 8);
  const band = (n) => Array.from({ length: n }, () => fixed(0, BAND.min));
  const parts = rows.flatMap((r, i) => (i ? [...band(1), r] : [r]));
  fitFigure({ rows: col(parts) }, { width: figure.clientWidth, height }, 24);
  for (const s of shown) s.drawBar();
  const used = shown.reduce((sum, s) => sum + s.el.parentElement.offsetHeight, 0);
  const each = Math.floor((height - used) / Math.max(1, shown.length - 1));
  for (const b of bands) b.style.height = `${Math.min(BAND.max, Math.max(BAND.min, each))}px`;
}

// The pairs of a (C_to, C_from) connection matrix, coloured by the source's group.
export function matrixPairs(matrix, groupOfSource) {
  const pairs = [];
  matrix.forEach((row, to) =>
    row.forEach((linked, from) => {
      if (linked) pairs.push([from, to, groupOfSource[from]]);
    }),
  );
  return pairs;
}
