// The weight tables: one per layer, a row per neuron (its weights, then its bias) and the layer's
// activation. Rebuilt only when the network's shape changes, so typing never loses focus.

import { PALETTE } from './plane.js';
import { sub } from './step.js';

export class LayerEditor {
  // onEdit(layer, neuron, column, value): column = in_features is the bias; onActivation(layer, name);
  // onResize(layer, delta): add (+1) or remove (−1) a neuron.
  constructor(el, activations, { onEdit, onActivation, onResize }) {
    this.el = el;
    this.activations = activations;
    this.shape = '';
    el.addEventListener('input', (e) => {
      const t = e.target;
      if (!t.dataset.cell) return;
      const [l, j, i] = t.dataset.cell.split(',').map(Number);
      const ok = t.value.trim() !== '' && Number.isFinite(t.valueAsNumber);
      t.classList.toggle('invalid', !ok);
      if (ok) onEdit(l, j, i, t.valueAsNumber);
    });
    el.addEventListener('change', (e) => {
      const layer = e.target.dataset.activation;
      if (layer !== undefined) onActivation(Number(layer), e.target.value);
    });
    el.addEventListener('click', (e) => {
      const b = e.target.closest('[data-resize]');
      if (b) onResize(Number(b.dataset.layer), Number(b.dataset.resize));
    });
  }

  show(layers) {
    const shape = layers.map((l) => `${l.weight.length}x${l.weight[0].length}`).join('-');
    if (shape !== this.shape) this._build(layers, shape);
    layers.forEach((layer, l) => {
      this.el.querySelector(`[data-activation="${l}"]`).value = layer.activation;
      layer.weight.forEach((row, j) =>
        [...row, layer.bias[j]].forEach((v, i) => {
          const input = this.el.querySelector(`[data-cell="${l},${j},${i}"]`);
          if (input !== document.activeElement && input.valueAsNumber !== v) input.value = String(v);
          input.classList.remove('invalid');
        }),
      );
    });
  }

  _build(layers, shape) {
    this.shape = shape;
    this.el.replaceChildren(
      ...layers.map((layer, l) => {
        const box = document.createElement('fieldset');
        box.className = 'layer-table';
        const legend = document.createElement('legend');
        legend.textContent = `Layer ${l + 1}`;
        const select = document.createElement('select');
        select.dataset.activation = String(l);
        select.setAttribute('aria-label', `Layer ${l + 1} activation`);
        select.append(...this.activations.map((name) => new Option(name, name)));
        const table = document.createElement('table');
        const inputs = layer.weight[0].length;
        const head = table.insertRow();
        head.insertCell().textContent = '';
        const names = l === 0 ? ['w₁ (x₁)', 'w₂ (x₂)'] : Array.from({ length: inputs }, (_, i) => `w${sub(i + 1)}`);
        for (const name of [...names, 'b']) {
          const th = document.createElement('th');
          th.textContent = name;
          head.append(th);
        }
        layer.weight.forEach((_row, j) => {
          const tr = table.insertRow();
          const th = document.createElement('th');
          th.textContent = `n${sub(j + 1)}`;
          // the neuron's line colour on the plane, as a swatch: the colour as text would be too faint
          if (l === 0) th.style.boxShadow = `inset 4px 0 0 ${PALETTE[j % PALETTE.length]}`;
          tr.append(th);
          for (let i = 0; i <= inputs; i++) {
            const input = document.createElement('input');
            input.type = 'number';
            input.step = '0.1';
            input.dataset.cell = `${l},${j},${i}`;
            input.setAttribute(
              'aria-label',
              `layer ${l + 1} neuron ${j + 1} ${i === inputs ? 'bias' : `weight ${i + 1}`}`,
            );
            tr.insertCell().append(input);
          }
        });
        const buttons = document.createElement('div');
        buttons.className = 'row';
        for (const [delta, text] of [
          [1, '+ neuron'],
          [-1, '− neuron'],
        ]) {
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = text;
          b.dataset.resize = String(delta);
          b.dataset.layer = String(l);
          buttons.append(b);
        }
        const label = document.createElement('label');
        label.append('Activation ', select);
        box.append(legend, label, table, buttons);
        return box;
      }),
    );
  }
}
