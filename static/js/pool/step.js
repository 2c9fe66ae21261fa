// One step of a pooling trace: the window (or bin) on the input with the winner or the draw
// marked, its cells with their numbers, the output filling in, and the statistic written out.
// `kind` is the kind's entry in the page data (app/pages/pool/kinds.py): its `formula` says how a
// window is written out, `extra` which step column is drawn under it, `pad` how padding reads.

import { fmt, factor } from '../format.js';
import { MARKS, asNumber, drawGrid, shorten, span, terms } from './draw.js';

function crop(block, rows, cols) {
  return block.slice(0, rows).map((row) => row.slice(0, cols));
}

// Where (row, col) of the padded input sits in the window: the tap whose row and column it is.
function inWindow(mark, rows, cols) {
  const u = rows.indexOf(mark[0]),
    v = cols.indexOf(mark[1]);
  return u >= 0 && v >= 0 ? [{ rows: [u], cols: [v], ...MARKS.winner }] : [];
}

function windowed({ first, res, j, views, kind }) {
  const s = res.steps;
  const {
    pads,
    input_size: [h, w],
    kernel_size: [kh, kw],
  } = first.params;
  const [top, , left] = pads;
  const rows = s.rows[j],
    cols = s.cols[j];
  const padded = pads.some((p) => p > 0);
  drawGrid(views.input, first.padded, padded ? 'Input (padded)' : 'Input');
  const mark = (s.winner || s.draw)?.[j];
  const marked = Boolean(mark && mark[0] >= 0);
  const label = s.winner ? 'winner' : 'draw';
  const marks = [{ rows, cols, frame: [top, left, top + h, left + w], label: 'window' }];
  if (marked) marks.push({ rows: [mark[0]], cols: [mark[1]], ...MARKS.winner, label });
  views.input.setHighlights(marks);
  drawGrid(views.window, s.window[j], 'Window');
  views.window.setHighlights(marked ? inWindow(mark, rows, cols) : []);
  const extra = kind.extra && s[kind.extra.column];
  views.extra.el.hidden = !extra;
  if (extra) {
    const title = kind.extra.title.replace(/\{(\w+)\}/g, (_, key) => fmt(first.params[key]));
    drawGrid(views.extra, extra[j], title);
    views.extra.setHighlights(kind.extra.marked && marked ? inWindow(mark, rows, cols) : []);
  }
  const [r, c] = s.index[j];
  const cells = terms(s.window[j], s.valid[j], kind.pad);
  const y = `<span class="lhs">y[${r}, ${c}]</span>`;
  const result = `<strong>${fmt(asNumber(s.result[j]))}</strong>`;
  return WRITE[kind.formula]({ first, s, j, kind, cells, y, result, kh, kw, mark, marked });
}

// How one window is written out, by the kind's `formula`.
const WRITE = {
  extreme: ({ kind, cells, y, result }) => `${y} = ${kind.word}(${shorten(cells).join(', ')}) = ${result}`,
  divisor: ({ s, j, cells, y, result }) => `${y} = (${shorten(cells).join(' + ')}) / ${fmt(s.divisor[j])} = ${result}`,
  power: ({ first, s, j, cells, y, result, kh, kw }) => {
    const p = fmt(first.params.norm_type);
    const scale = s.divisor[j] === kh * kw ? '' : ` · ${kh * kw}/${fmt(s.divisor[j])}`;
    return `${y} = (${shorten(cells.map((v) => `${v}^${p}`)).join(' + ')}${scale})^(1/${p}) = ${result}`;
  },
  blend: ({ first, s, j, y, result }) => {
    const lam = first.params.mix;
    return `${y} = ${fmt(lam)}·max + ${fmt(1 - lam)}·avg = ${fmt(lam)}·${fmt(s.max[j])} + ${fmt(1 - lam)}·${fmt(s.avg[j])} = ${result}`;
  },
  draw,
};

function draw({ first, s, j, y, result, mark, marked }) {
  const p = s.probabilities[j].flat().map((v) => fmt(v));
  if (!first.params.training) {
    const parts = s.probabilities[j].flat().map((pv, k) => `${fmt(pv)}·${factor(asNumber(s.window[j].flat()[k]))}`);
    return `${y} = Σ p·x = ${shorten(parts).join(' + ')} = ${result}`;
  }
  const drawn = marked ? `the draw picks row ${mark[0]}, column ${mark[1]}` : 'no positive cell: 0';
  return `p = (${shorten(p).join(', ')}); ${drawn}: ${y} = ${result}`;
}

function binned({ first, res, j, views }) {
  const s = res.steps;
  const [r0, r1, c0, c1] = s.box[j];
  const bins = first.bins;
  const level = s.level ? s.level[j] : null;
  drawGrid(views.input, first.input, 'Input');
  const frames = bins.boxes
    .map((b, k) => ({ b, k }))
    .filter(({ k }) => level === null || bins.level[k] === level)
    .map(({ b }) => ({ ...MARKS.bin, frame: [b[0], b[2], b[1], b[3]], label: 'bin' }));
  if (bins.box) {
    const [y0, y1, x0, x1] = bins.box;
    frames.push({ ...MARKS.roi, frame: [y0, x0, y1, x1], label: 'box' });
  }
  const marks = [...frames, { rows: span(r0, r1), cols: span(c0, c1), label: 'window' }];
  const mark = s.winner?.[j];
  if (mark && mark[0] >= 0) marks.push({ rows: [mark[0]], cols: [mark[1]], ...MARKS.winner, label: 'winner' });
  views.input.setHighlights(marks);
  // the bin's cells: the trace's block cropped to the bin, or (pyramid) the input under the box
  const cells = s.window
    ? crop(s.window[j], r1 - r0, c1 - c0)
    : first.input.slice(r0, r1).map((row) => row.slice(c0, c1));
  drawGrid(views.window, cells, 'Bin');
  views.window.setHighlights(
    mark && mark[0] >= 0 ? [{ rows: [mark[0] - r0], cols: [mark[1] - c0], ...MARKS.winner }] : [],
  );
  views.extra.el.hidden = true;
  const values = shorten(cells.flat().map((v) => fmt(asNumber(v))));
  const [r, c] = s.index[j];
  const isMax = s.winner !== undefined;
  const lhs = level === null ? `y[${r}, ${c}]` : `level ${level} [${r}, ${c}] → feature ${s.feature[j]}`;
  const stat = isMax ? `max(${values.join(', ')})` : `(${values.join(' + ')}) / ${s.count[j]}`;
  return `<span class="lhs">${lhs}</span> = ${stat} = <strong>${fmt(asNumber(s.result[j]))}</strong>`;
}

export function renderStep({ first, res, i, views, kind }) {
  const j = i - res.step_offset;
  const text = first.padded ? windowed({ first, res, j, views, kind }) : binned({ first, res, j, views, kind });
  const vector = !Array.isArray(first.output[0]);
  const cell = vector ? [0, res.steps.feature[j]] : res.steps.index[j];
  drawGrid(views.output, first.output, vector ? `Output vector (${first.output.length})` : 'Output', { filled: i + 1 });
  views.output.setHighlights([{ rows: [cell[0]], cols: [cell[1]], ...MARKS.current }]);
  const [r, c] = res.steps.index[j];
  const where = first.padded
    ? 'window'
    : `bin (rows ${res.steps.box[j][0]}–${res.steps.box[j][1] - 1}, ` +
      `columns ${res.steps.box[j][2]}–${res.steps.box[j][3] - 1})`;
  document.getElementById('step-label').textContent =
    `step ${i + 1} of ${first.num_steps}: ${where} for output [${r}, ${c}]`;
  document.getElementById('equation').innerHTML = text;
}
