// The (N, C, H, W) tensor as a grid of small maps: a row per sample, a column per channel, all
// on one colour range. A group is highlighted from the engine's group_of (which group each
// element belongs to); this module only draws what it is given.

import { Colorbar } from '../colorbar.js';
import { DIVERGING, GREY, range as colourRange } from '../colors.js';
import { Tile } from './tile.js';

const WINDOW = { colour: '#3b6ea5', fill: 'rgba(59,110,165,0.16)', width: 1.5 };

// lrn's neighbouring channel, a whole h x w plane: tinted blue and framed, no box per cell
function windowMarks(h, w) {
  const all = (n) => Array.from({ length: n }, (_, k) => k);
  return [
    { ...WINDOW, colour: 'rgba(0,0,0,0)', rows: all(h), cols: all(w), window: true },
    { ...WINDOW, fill: null, rows: [], cols: [], frame: [0, 0, h, w], window: true },
  ];
}
const WHOLE = { colour: 'rgba(0,0,0,0)' };
const PART = { colour: '#ffb000', width: 1 };

// Grid-cell size before the page fits it to its room: the more channels side by side, the smaller.
const target = (channels) => (channels <= 3 ? 176 : channels <= 5 ? 144 : 104);

// The cells of one (H, W) plane in group g, as MapView highlights (whole rows merged into one).
export function planeHighlights(plane, g) {
  const rows = [];
  let all = true;
  plane.forEach((row, r) => {
    const cols = [];
    row.forEach((id, c) => {
      if (id === g) cols.push(c);
    });
    if (cols.length !== row.length) all = false;
    if (cols.length) rows.push({ rows: [r], cols, ...PART });
  });
  // a whole plane: tinted, its tile outlined (.in-group), no box per cell to hide the colours
  if (all) return [{ rows: plane.map((_, r) => r), cols: plane[0].map((_, c) => c), ...WHOLE }];
  return rows;
}

export class TensorGrid {
  // el: container; onCell(n, c, r, col) when a cell is clicked
  constructor(el, onCell) {
    this.el = el;
    this.onCell = onCell;
    this.views = [];
    this.shape = null;
    this.bar = null; // one colour bar beside the grid: every map shares its range
  }

  _build(n, c, names) {
    for (const row of this.views) for (const v of row) v.destroy();
    this.el.replaceChildren();
    this.el.style.gridTemplateColumns = `auto repeat(${c}, auto)`;
    const head = (text, cls) => {
      const div = document.createElement('div');
      div.className = cls;
      div.textContent = text;
      this.el.append(div);
    };
    // many columns: the word once in the corner, the numbers over the columns, so narrow tiles fit
    const short = c > 4;
    head(short ? `${names.col} →` : '', 'grid-corner');
    for (let k = 0; k < c; k++) head(short ? String(k) : `${names.col} ${k}`, 'grid-col');
    this.views = [];
    for (let i = 0; i < n; i++) {
      head(`${names.row} ${i}`, 'grid-row');
      const row = [];
      for (let k = 0; k < c; k++) {
        const box = document.createElement('div');
        this.el.append(box);
        row.push(
          new Tile(box, {
            id: `norm-${i}-${k}`,
            target: target(c),
            maxCell: 44,
            onCell: (r, col, kind) => {
              if (kind === 'click') this.onCell(i, k, r, col);
            },
          }),
        );
      }
      this.views.push(row);
    }
    this.shape = `${n},${c},${names.row}`;
  }

  // tensor: [N][C][H][W]; range: [lo, hi] shared by every map; names: {row, col} header words
  set(tensor, range, names) {
    const n = tensor.length,
      c = tensor[0].length;
    if (this.shape !== `${n},${c},${names.row}`) this._build(n, c, names);
    tensor.forEach((sample, i) =>
      sample.forEach((plane, k) => {
        const title = `${names.row} ${i}, ${names.col} ${k}`;
        this.views[i][k].setData(plane.flat(), plane.length, plane[0].length, { lo: range[0], hi: range[1], title });
      }),
    );
    if (!this.bar) {
      const box = document.createElement('div');
      box.className = 'grid-colorbar';
      this.el.after(box);
      this.bar = new Colorbar(box, { height: 160 });
    }
    const signed = range[0] < 0;
    const [lo, hi] = colourRange(range[0], range[1], signed);
    this.barScale = { lut: signed ? DIVERGING : GREY, lo, hi, signed };
    this.bar.set(this.barScale);
  }

  // What the grid adds around its tiles: the row labels' width, the header's height, the gaps.
  chrome() {
    const style = getComputedStyle(this.el);
    return {
      label: this.el.querySelector('.grid-row')?.offsetWidth || 0,
      head: this.el.querySelector('.grid-col')?.offsetHeight || 0,
      colGap: Number.parseFloat(style.columnGap) || 0,
      rowGap: Number.parseFloat(style.rowGap) || 0,
      bar: this.bar ? this.bar.canvas.offsetWidth + 12 : 0,
    };
  }

  // Draw every tile with cells of `px` pixels, the colour bar as tall as the tiles' column.
  fit(px) {
    for (const row of this.views) {
      for (const view of row) {
        if (view.cell === px) continue;
        view.opts.maxCell = px;
        view.opts.target = px * Math.max(view.rows, view.cols) + 0.5;
        view.redraw();
      }
    }
    if (this.bar && this.barScale) {
      const tiles = this.el.offsetHeight - this.chrome().head;
      this.bar.set({ ...this.barScale, height: Math.max(120, Math.min(tiles, 420)) });
    }
  }

  // groupOf: [N][C][H][W] group ids; g: the stepped group; window: lrn's channels (C,) in g's window
  highlight(groupOf, g, window = null) {
    this.views.forEach((row, i) =>
      row.forEach((view, k) => {
        const own = planeHighlights(groupOf[i][k], g);
        const near = window?.[k] && !own.length ? windowMarks(groupOf[i][k].length, groupOf[i][k][0].length) : [];
        view.setHighlights([...own, ...near]);
        view.el.classList.toggle('in-group', own.length > 0);
      }),
    );
  }
}
