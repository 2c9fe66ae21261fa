// A tensor's channels as a row or a column of maps, aligned (no stagger, so link lines meet
// them square), sharing one colour range shown by one colour bar at the end, so the channels
// compare fairly. The cards are also the anchors the link diagrams draw between.

import { Colorbar } from '../colorbar.js';
import { presenter } from '../classroom/mode.js';
import { col, fixed, map, row } from '../figure.js';
import { addMap, extent } from './views.js';

const GAP = 6; // px between two maps of a stack

export class ChannelStack {
  // el: container; prefix: MapView ids are `${prefix}-${channel}`; dir: 'col' or 'row'
  constructor(el, prefix, { dir = 'col', target = 64, maxCell = 16, numbers = false } = {}) {
    this.el = el;
    this.prefix = prefix;
    this.dir = dir;
    this.opts = { target, maxCell, numbers, colorbar: false };
    this.views = [];
    el.classList.add('channel-stack');
    this.cardsEl = document.createElement('div');
    this.cardsEl.className = `stack-cards ${dir}`;
    this.cardsEl.style.gap = `${GAP}px`;
    el.append(this.cardsEl);
    this.bar = new Colorbar(el);
  }

  // maps: [C][H][W] numbers from the engine; names: one title per channel
  set(maps, names) {
    while (this.views.length > maps.length) this.views.pop().destroy();
    while (this.views.length < maps.length) {
      this.views.push(addMap(this.cardsEl, `${this.prefix}-${this.views.length}`, this.opts));
    }
    const all = extent(maps.flat(2));
    maps.forEach((plane, c) => {
      this.views[c].setData(plane.flat(), plane.length, plane[0].length, { ...all, title: names[c] });
    });
    this.drawBar();
  }

  // The shared colour bar, as tall as one map's cells (a row) or the whole column.
  drawBar() {
    const first = this.views[0];
    if (!first?.lut) return;
    const cells = first.rows * first.cell;
    const height = this.dir === 'row' ? cells : this.cardsEl.offsetHeight - (first.el.offsetHeight - cells);
    const { lut, lo, hi, signed } = first;
    this.bar.set({ lut, lo, hi, signed, height: Math.max(48, height), fontPx: presenter() ? 16 : 10 });
    this.bar.canvas.style.marginTop = `${first.margin.t}px`;
  }

  // The stack as a layout node for mapfit (weight k).
  node(k = 1) {
    const maps = this.views.map((v) => map(v, k));
    const cards = this.dir === 'row' ? row(maps, GAP) : col(maps, GAP);
    return row([cards, fixed(this.bar.canvas.offsetWidth + 4, 0)]);
  }

  get cards() {
    return this.views.map((v) => v.el);
  }
}
