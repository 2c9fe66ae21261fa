// The stack as a table: a row per layer with its kind, its arguments as small inputs, the
// engine's numbers and buttons to move or remove it. Rows are rebuilt only when the stack's
// structure changes (add, remove, move, kind, preset), so typing never loses focus.

import { argText, fieldText, grouped, parseArg, sameValue, shapeCHW, shapeHWC } from './text.js';

// Short labels for the argument inputs; the full torch name is the tooltip and the aria label.
const SHORT = {
  out_channels: 'out',
  out_features: 'out',
  kernel_size: 'k',
  output_padding: 'out pad',
  dilation: 'dil',
  padding: 'pad',
  ceil_mode: 'ceil',
};
const COLUMNS = 9;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, act, label) {
  const b = el('button', act === 'select' ? 'pick' : 'small', text);
  b.type = 'button';
  b.dataset.act = act;
  b.setAttribute('aria-label', label);
  b.title = label;
  return b;
}

export class StackTable {
  // body: the <tbody> for layer rows; kinds: {kind: [{name, widget, default, required}]};
  // on: {edit(i, name, value or undefined to drop it), kind(i, kind), move(i, delta), remove(i), select(i)}
  constructor(body, kinds, on) {
    this.body = body;
    this.kinds = kinds;
    this.on = on;
    this.errorRow = el('tr', 'row-error');
    this.errorCell = el('td');
    this.errorCell.colSpan = COLUMNS;
    this.errorRow.append(this.errorCell);
    const edited = (e) => this._edited(e.target);
    body.addEventListener('input', edited);
    body.addEventListener('change', (e) => {
      if (e.target.matches('select')) on.kind(this._index(e.target), e.target.value);
    });
    body.addEventListener('click', (e) => {
      const row = e.target.closest('tr.layer-row');
      if (!row) return;
      const i = Number(row.dataset.index);
      const act = e.target.closest('button')?.dataset.act;
      if (act === 'up' || act === 'down') on.move(i, act === 'up' ? -1 : 1);
      else if (act === 'remove') on.remove(i);
      else if (act === 'select' || !e.target.closest('input, select, button, label')) on.select(i);
    });
  }

  _index(target) {
    return Number(target.closest('tr.layer-row').dataset.index);
  }

  _edited(input) {
    if (!input.dataset.arg) return;
    const spec = this.specs[this._index(input)].find((a) => a.name === input.dataset.arg);
    const value = parseArg(spec.widget, input);
    const bad = value === undefined || (value === null && spec.required);
    input.classList.toggle('invalid', bad);
    if (bad) return;
    const drop = value === null || (!spec.required && sameValue(value, spec.default));
    this.on.edit(this._index(input), spec.name, drop ? undefined : value);
  }

  // Rebuild every row for `layers` ([{kind, args}]).
  render(layers) {
    this.specs = layers.map((l) => this.kinds[l.kind] || []);
    this.body.replaceChildren(...layers.map((layer, i) => this._row(layer, i, layers.length)));
  }

  _row(layer, i, n) {
    const tr = el('tr', 'layer-row');
    tr.dataset.index = String(i);
    const kind = el('select');
    kind.setAttribute('aria-label', `Kind of layer ${i}`);
    const names = Object.keys(this.kinds);
    if (!names.includes(layer.kind)) names.unshift(layer.kind); // from a link; the server names the problem
    kind.append(...names.map((k) => new Option(k, k, false, k === layer.kind)));
    const args = el('td', 'args');
    for (const spec of this.specs[i]) args.append(this._arg(layer, spec, i));
    const out = el('td', 'out');
    out.append(el('span', 'hwc'), ' ', el('span', 'chw'));
    const rf = el('td', 'rf');
    rf.append(el('span', 'rf-size'), ' ', el('span', 'rf-more'));
    const torch = el('td', 'torch');
    torch.append(el('code'));
    const actions = el('td', 'actions');
    const up = button('↑', 'up', `Move layer ${i} up`);
    const down = button('↓', 'down', `Move layer ${i} down`);
    up.disabled = i === 0;
    down.disabled = i === n - 1;
    actions.append(up, down, button('✕', 'remove', `Remove layer ${i}`));
    const idx = el('td', 'idx');
    idx.append(button(String(i), 'select', `Select layer ${i}`));
    const kindCell = el('td', 'kind');
    kindCell.append(kind);
    tr.append(idx, kindCell, args, out, el('td', 'num params'), el('td', 'num macs'), rf, torch, actions);
    return tr;
  }

  _arg(layer, spec, i) {
    const label = el('label', 'arg');
    label.title = spec.name;
    const input = el('input');
    input.dataset.arg = spec.name;
    input.setAttribute('aria-label', `${spec.name} of layer ${i}`);
    const value = spec.name in layer.args ? layer.args[spec.name] : spec.default;
    if (spec.widget === 'flag') {
      input.type = 'checkbox';
      input.checked = Boolean(value);
    } else {
      input.type = spec.widget === 'int' || spec.widget === 'prob' ? 'number' : 'text';
      if (spec.widget === 'prob') input.step = '0.1';
      input.value = argText(value);
      if (spec.widget === 'size' || spec.widget === 'pad') input.size = 4;
      if (value === null) input.placeholder = '= k';
    }
    label.append(el('span', null, SHORT[spec.name] || spec.name), input);
    return label;
  }

  // Write the engine's numbers: report (may cover only the rows before a failing one) and
  // failure {index, message} (null when the stack is fine).
  fill(report, failure, oneD) {
    const rows = [...this.body.querySelectorAll('tr.layer-row')];
    rows.forEach((tr, i) => {
      const layer = report?.layers[i];
      const field = layer ? fieldText(layer, oneD) : { size: '·', more: '' };
      tr.querySelector('.hwc').textContent = layer ? shapeHWC(layer.output_shape) : '·';
      tr.querySelector('.chw').textContent = layer ? shapeCHW(layer.output_shape) : '';
      tr.querySelector('.params').textContent = layer ? grouped(layer.parameters) : '·';
      tr.querySelector('.macs').textContent = layer ? grouped(layer.macs) : '·';
      tr.querySelector('.rf-size').textContent = field.size;
      tr.querySelector('.rf-more').textContent = field.more;
      tr.querySelector('.torch code').textContent = layer ? layer.torch : '';
      tr.classList.toggle('failed', failure?.index === i);
      tr.classList.toggle('unreached', failure !== null && failure.index >= 0 && i > failure.index);
    });
    const failed = failure && rows[failure.index];
    if (failed) {
      this.errorCell.textContent = failure.message;
      failed.after(this.errorRow);
    } else {
      this.errorRow.remove();
    }
  }

  select(i) {
    for (const tr of this.body.querySelectorAll('tr.layer-row')) {
      const on = Number(tr.dataset.index) === i;
      tr.classList.toggle('selected', on);
      tr.querySelector('.pick').setAttribute('aria-pressed', String(on));
    }
  }
}
