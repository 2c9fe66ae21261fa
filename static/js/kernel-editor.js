// A grid of number inputs per input channel for one filter's kernel.
// Rebuilt only when the shape changes, so typing never loses focus.

export class KernelEditor {
  constructor(el, onEdit) {
    this.el = el;
    this.onEdit = onEdit; // (channel, row, col, value)
    this.shape = '';
    el.addEventListener('input', (e) => {
      const t = e.target;
      if (!t.dataset.cell) return;
      const [ch, r, c] = t.dataset.cell.split(',').map(Number);
      const v = t.valueAsNumber;
      const ok = t.value.trim() !== '' && Number.isFinite(v);
      t.classList.toggle('invalid', !ok);
      if (ok) this.onEdit(ch, r, c, v);
    });
  }

  // kernels: [channel][row][col]; names: a label per channel
  show(kernels, names) {
    const shape = `${kernels.length}x${kernels[0].length}x${kernels[0][0].length}`;
    if (shape !== this.shape) this._build(kernels, names, shape);
    kernels.forEach((k, ch) =>
      k.forEach((row, r) =>
        row.forEach((v, c) => {
          const input = this.el.querySelector(`[data-cell="${ch},${r},${c}"]`);
          if (input !== document.activeElement && input.valueAsNumber !== v) input.value = String(v);
        }),
      ),
    );
  }

  _build(kernels, names, shape) {
    this.shape = shape;
    this.el.replaceChildren(
      ...kernels.map((k, ch) => {
        const box = document.createElement('fieldset');
        box.className = 'kernel-grid';
        const legend = document.createElement('legend');
        legend.textContent = names[ch];
        const grid = document.createElement('div');
        grid.style.gridTemplateColumns = `repeat(${k[0].length}, 3.6em)`;
        k.forEach((row, r) =>
          row.forEach((_, c) => {
            const input = document.createElement('input');
            input.type = 'number';
            input.step = '0.1';
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
