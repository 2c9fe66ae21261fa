// A MapView without its Plotly frame: a bare heatmap for small multiples. Laying out one
// framed plot per (sample, channel) would take seconds for 64 maps; these tiles keep
// MapView's painting, numbers, highlights, tooltips and registry entry (window.__layerlab.maps).
// The tiles of a grid share one range, so the grid shows one colour bar for all of them
// (`data-colorbar="shared"` says so to the legibility tests).

import { MapView } from '../mapview.js';

export class Tile extends MapView {
  constructor(el, opts) {
    super(el, { colorbar: false, ...opts });
    el.dataset.colorbar = 'shared';
  }

  _layout(rows, cols, title) {
    this.rows = rows;
    this.cols = cols;
    this.title = title;
    this.margin = { l: 0, r: 0, t: 0, b: 0 };
    const cell = Math.max(1, Math.min(this.opts.maxCell, Math.floor(this.opts.target / Math.max(rows, cols))));
    this.cell = cell;
    const w = cols * cell,
      h = rows * cell;
    for (const c of [this.canvas, this.overlay]) {
      c.style.left = '0px';
      c.style.top = '0px';
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.canvas.width = cols;
    this.canvas.height = rows;
    const dpr = window.devicePixelRatio || 1;
    this.overlay.width = Math.round(w * dpr);
    this.overlay.height = Math.round(h * dpr);
    this.octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.el.style.width = `${w}px`;
    this.el.style.height = `${h}px`;
    this.plot.hidden = true;
  }
}
