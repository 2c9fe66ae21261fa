// A grid of number cells per input channel for one filter's kernel.
// Rebuilt only when the shape changes, so typing never loses focus. Cells are as wide as the
// settings panel allows (a 7x7 kernel fits without scrolling); a focused cell shows its full
// value, the others a short form that fits (full value in the title, a dotted underline when
// the short form is rounded). A cell whose text is not a number is marked and reported.

import { markField, numberField, parseNumber } from './kit/fields.js';

// The shortest faithful text for v that `fits`: the full number when it fits, then without its
// leading zero (.0625), then rounded to fewer digits, then in e-notation.
export function shortNumber(v, fits) {
  const full = String(v);
  if (fits(full)) return full;
  const bare = (s) => s.replace(/^(-?)0\./, '$1.').replace('e+', 'e');
  for (let digits = 6; digits >= 1; digits--) {
    const s = bare(String(Number(v.toPrecision(digits))));
    if (fits(s)) return s;
  }
  return bare(v.toExponential(0));
}

let measure = null;
// Whether a text fits an input's text box at its own font (true while the box is not laid out).
function fitter(input) {
  const style = getComputedStyle(input);
  const inner = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  if (!(inner > 0)) return () => true;
  measure ??= document.createElement('canvas').getContext('2d');
  measure.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  return (text) => measure.measureText(text).width <= inner - 1;
}

export class KernelEditor {
  // onEdit(channel, row, col, value): value is null when the cell's text is not a number
  constructor(el, onEdit) {
    this.el = el;
    this.onEdit = onEdit;
    this.shape = '';
    this.names = [];
    el.addEventListener('input', (e) => {
      const t = e.target;
      if (!t.dataset.cell) return;
      const [ch, r, c] = t.dataset.cell.split(',').map(Number);
      const { value } = parseNumber(t.value);
      if (value !== undefined) t.dataset.value = String(value);
      this.onEdit(ch, r, c, value ?? null);
    });
    el.addEventListener('focusin', (e) => {
      const t = e.target;
      if (t.dataset.cell && !t.classList.contains('invalid')) t.value = t.dataset.value;
    });
    el.addEventListener('focusout', (e) => {
      if (e.target.dataset.cell) this._fit(e.target);
    });
    // the panel's width (normal or presenter view, window size) decides how many digits show
    new ResizeObserver(() => {
      for (const input of this.cells()) this._fit(input);
    }).observe(el);
  }

  cells() {
    return [...this.el.querySelectorAll('input[data-cell]')];
  }

  // kernels: [channel][row][col]; names: a label per channel. Every cell but the focused one
  // shows the given numbers (and loses any invalid mark: it shows a number again).
  show(kernels, names) {
    const shape = `${kernels.length}x${kernels[0].length}x${kernels[0][0].length}`;
    if (shape !== this.shape || names.join() !== this.names.join()) this._build(kernels, names, shape);
    for (const input of this.cells()) {
      if (input === document.activeElement) continue;
      const [ch, r, c] = input.dataset.cell.split(',').map(Number);
      input.dataset.value = String(kernels[ch][r][c]);
      markField(input, '');
      this._fit(input);
    }
  }

  // A sentence naming each cell whose text is not a number; marks those cells and unmarks the rest.
  problems(filter) {
    const found = [];
    for (const input of this.cells()) {
      const { why } = parseNumber(input.value);
      const [ch, r, c] = input.dataset.cell.split(',').map(Number);
      const channel = this.names.length > 1 ? `, channel ${this.names[ch]}` : '';
      const message = why ? `Kernel cell [${r}, ${c}] of filter ${filter + 1}${channel} ${why}.` : '';
      const was = input.classList.contains('invalid');
      markField(input, message);
      if (message) found.push(message);
      else if (was) this._fit(input);
    }
    return found;
  }

  // A cell not being edited shows the short form of its value that fits it.
  _fit(input) {
    if (input === document.activeElement || input.classList.contains('invalid')) return;
    const full = input.dataset.value;
    if (full === undefined) return;
    const text = shortNumber(Number(full), fitter(input));
    input.value = text;
    input.title = full;
    input.classList.toggle('rounded', text !== full);
  }

  _build(kernels, names, shape) {
    this.shape = shape;
    this.names = names;
    const cols = kernels[0][0].length;
    this.el.replaceChildren(
      ...kernels.map((k, ch) => {
        const box = document.createElement('fieldset');
        box.className = 'kernel-grid';
        box.dataset.cols = String(cols);
        const legend = document.createElement('legend');
        legend.textContent = names[ch];
        const grid = document.createElement('div');
        grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 3.6em))`;
        k.forEach((row, r) =>
          row.forEach((_, c) => {
            const input = numberField(document.createElement('input'));
            input.dataset.cell = `${ch},${r},${c}`;
            input.setAttribute('aria-label', `${names[ch]} kernel row ${r} column ${c}`);
            grid.append(input);
          }),
        );
        box.append(legend, grid);
        return box;
      }),
    );
  }
}
