// Small maps of every neuron over the plane, one row per layer: what each neuron's activation (or
// its plane before the activation) looks like. Rows are rebuilt only when the network's shape changes.

import { MapView } from '../mapview.js';

// Engine rows run from x2 = −extent upwards; a map draws row 0 at the top, so the rows are flipped.
const flipped = (map) => map.slice().reverse().flat();

function extent(values) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

export class LayerMaps {
  constructor(el, onPick) {
    this.el = el;
    this.onPick = onPick; // (layer, neuron) when a map is clicked
    this.shape = '';
    this.views = [];
  }

  draw(res, show, picked) {
    const shape = res.sizes.join('-');
    if (shape !== this.shape) this._build(res);
    res.layers.forEach((layer, l) => {
      this.el.querySelector(`[data-layer-title="${l}"]`).textContent =
        `Layer ${l + 1}: ${layer.activation}${show === 'pre' ? ' (before the activation)' : ''}`;
      layer[show].forEach((map, j) => {
        const view = this.views[l][j];
        const values = flipped(map);
        const range = extent(values);
        view.opts.signed = true; // white at 0, as on the plane: blue below, red above
        view.setData(values, map.length, map[0].length, { ...range, title: `neuron ${j + 1}` });
        view.el.classList.toggle('picked', picked.layer === l && picked.neuron === j);
      });
    });
  }

  _build(res) {
    for (const row of this.views) for (const view of row) view.destroy();
    this.el.replaceChildren();
    this.views = res.layers.map((layer, l) => {
      const row = document.createElement('div');
      row.className = 'layer-row';
      const title = document.createElement('h3');
      title.dataset.layerTitle = String(l);
      row.append(title);
      const maps = document.createElement('div');
      maps.className = 'layer-row-maps';
      row.append(maps);
      this.el.append(row);
      return layer.post.map((_, j) => {
        const box = document.createElement('div');
        maps.append(box);
        const view = new MapView(box, {
          id: `dense-l${l}-n${j}`,
          target: 130,
          maxCell: 4,
          numbers: false,
          onCell: (_r, _c, kind) => {
            if (kind === 'click') this.onPick(l, j);
          },
        });
        return view;
      });
    });
    this.shape = res.sizes.join('-');
  }
}
