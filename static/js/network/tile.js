// A small feature map without axes: one canvas pixel per cell, scaled up by CSS, for the rows of
// dozens of channels where a Plotly frame per map would cost seconds. It exposes the fields the
// page's tests read from MapView (values, rows, cols, filled, highlights, title, canvas, overlay)
// and registers itself in the same probe. Drawing only: the values come from the engine.

import { DIVERGING, GREY, paint, range } from '../colors.js';
import { fmtCell } from '../format.js';
import { probe } from '../probe.js';

export class Tile {
  // el: container; opts: {id, cell (px per cell), signed, onCell(r, c, kind)}.
  constructor(el, opts) {
    this.el = el;
    this.opts = { cell: 4, signed: true, ...opts };
    this.rows = 0;
    this.cols = 0;
    this.values = null;
    this.filled = 0;
    this.highlights = [];
    this.title = '';
    el.classList.add('net-tile');
    el.dataset.colorbar = 'shared'; // its row draws one colour bar for all its channels
    this.label = document.createElement('span');
    this.canvas = document.createElement('canvas');
    this.overlay = this.canvas; // where the cells are, for pointers and tests
    el.append(this.label, this.canvas);
    this.canvas.addEventListener('mousemove', (e) => this._pointer(e, 'hover'));
    this.canvas.addEventListener('click', (e) => this._pointer(e, 'click'));
    this.canvas.addEventListener('mouseleave', () => {
      const tip = document.getElementById('tooltip');
      if (tip) tip.hidden = true;
    });
    if (opts.id) probe.maps[opts.id] = this;
  }

  setData(values, rows, cols, { lo, hi, title } = {}) {
    if (rows !== this.rows || cols !== this.cols) {
      this.rows = rows;
      this.cols = cols;
      this.canvas.width = cols;
      this.canvas.height = rows;
      this.canvas.style.width = `${cols * this.opts.cell}px`;
      this.canvas.style.height = `${rows * this.opts.cell}px`;
    }
    this.title = title ?? this.title;
    this.label.textContent = this.title;
    this.values = values;
    this.filled = rows * cols;
    const [a, b] = range(lo, hi, this.opts.signed);
    const g = this.canvas.getContext('2d');
    const image = g.createImageData(cols, rows);
    paint(image.data, values, a, b, this.opts.signed ? DIVERGING : GREY);
    g.putImageData(image, 0, 0);
    probe.paints += 1;
  }

  _pointer(e, kind) {
    if (!this.values) return;
    const box = this.canvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - box.left) / box.width) * this.cols);
    const r = Math.floor(((e.clientY - box.top) / box.height) * this.rows);
    if (r < 0 || c < 0 || r >= this.rows || c >= this.cols) return;
    const tip = document.getElementById('tooltip');
    if (tip) {
      tip.textContent = `${this.opts.name || ''} ${this.title} [${r}, ${c}] = ${fmtCell(this.values[r * this.cols + c])}`;
      tip.hidden = false;
      tip.style.left = `${e.clientX + 12}px`;
      tip.style.top = `${e.clientY + 12}px`;
    }
    if (this.opts.onCell) this.opts.onCell(r, c, kind);
  }
}
