// A tensor's channels as a staggered 3-D stack: a column of small maps, each a little to
// the right of the one above, sharing one colour range so the channels compare fairly.
// The cards are also the anchors the link diagrams draw between.

import { addMap, extent } from './views.js';

export class ChannelStack {
  // el: container; prefix: MapView ids are `${prefix}-${channel}`
  constructor(el, prefix, { target = 64, stagger = 7, maxCell = 16, numbers = false } = {}) {
    this.el = el;
    this.prefix = prefix;
    this.opts = { target, maxCell, numbers };
    this.stagger = stagger;
    this.views = [];
    el.classList.add('channel-stack');
  }

  // maps: [C][H][W] numbers from the engine; names: one title per channel
  set(maps, names) {
    while (this.views.length > maps.length) this.views.pop().destroy();
    while (this.views.length < maps.length) {
      const c = this.views.length;
      const view = addMap(this.el, `${this.prefix}-${c}`, this.opts);
      view.el.style.marginLeft = `${c * this.stagger}px`;
      this.views.push(view);
    }
    const all = extent(maps.flat(2));
    maps.forEach((plane, c) => {
      const view = this.views[c];
      view.opts.signed = all.lo < 0; // images in [0, 1] in grey, signed maps in blue-white-red
      view.setData(plane.flat(), plane.length, plane[0].length, { ...all, title: names[c] });
    });
  }

  get cards() {
    return this.views.map((v) => v.el);
  }
}
