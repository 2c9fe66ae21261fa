// The pooling page: controls -> state (kept in the URL) -> engine requests -> drawings.
// One pooling is stepped window by window (or bin by bin) from /api/pool/trace, fetched a
// chunk of steps at a time as on the conv page; the side-by-side mode steps /api/pool/compare;
// the shift demo draws /api/pool/shift. Every number drawn comes from those answers.

import { latest } from '../api.js';
import { postJSON, upload } from '../uploads.js';
import { Stepper } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { encode, fromAddress } from '../typed-url.js';
import { $, bindControls, showControls } from './controls.js';
import { addMap } from './draw.js';
import { renderStep } from './step.js';
import { renderCompare } from './compare.js';
import { renderShift } from './shift.js';
import { layoutPool, windowShape } from './layout.js';
import { onRoomChange } from '../room.js';
import { renderSource } from './source.js';
import { fillTabs, markTab } from '../kit/tabs.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse($('page-data').textContent);
const DEFAULTS = { ...DATA.defaults, mode: 'single', step: 0 };
const state = fromAddress(DEFAULTS);
const uploads = new Map(); // upload id -> file name
const SOURCE_KEYS = ['source', 'matrix', 'image', 'size', 'conv', 'conv_filter'];
const COMPARE_KEYS = [...SOURCE_KEYS, ...DATA.compare_controls];
// the kinds of app/pages/pool/kinds.py: tabs, controls, and how a step is written out
const KINDS = new Map(DATA.kinds.map((kind) => [kind.id, kind]));
const COMPARED = DATA.kinds.filter((kind) => kind.compared);
const LEGEND = {
  window:
    'Orange: the window. Red: the winner (the first largest cell, as in PyTorch). Dashed: the ' +
    "input's edge; a “·” cell is padding, −∞ for max and +∞ for min, so it never wins.",
  draw:
    "Orange: the window. Red: the cell the seeded draw picked; a cell's chance is its share of the " +
    "window's positive values.",
  bins:
    'Blue dashed: the bins (for the pyramid, those of the current level; purple dashes: the ROI box). ' +
    'Orange: the current bin. Red: its maximum.',
  compare: 'Orange: the window. Red: the largest cell (max pooling). Blue: the smallest (min pooling).',
};

const compareMode = () => state.mode === 'compare';
const poolBody = () => {
  const { mode, step, shift, ...body } = state;
  return body;
};
const compareBody = () => Object.fromEntries(COMPARE_KEYS.map((k) => [k, state[k]]));

// ---- errors ----------------------------------------------------------------------------------

let currentKey = '';
function showError(err, req) {
  if (req && req.key !== currentKey) return; // overtaken: a fresher request follows
  $('status').textContent = err.message || String(err);
}
const clearError = () => {
  $('status').textContent = '';
};

// ---- requests ----------------------------------------------------------------------------------

let first = null; // the answer with stages for the current settings
let chunks = new Map(); // chunk number -> answer

const runTrace = latest(
  (req) => postJSON(req.url, req.body),
  (res, req) => {
    if (req.key !== currentKey) return;
    clearError();
    chunks.set(res.chunk, res);
    if (req.body.stages) {
      first = res;
      drawFirst(res);
      stepper.setTotal(res.num_steps, state.step);
    } else showStep(stepper.index);
  },
  showError,
);

const runShift = latest(
  (req) => postJSON('/api/pool/shift', req.body),
  (res, req) => {
    if (req.key === currentKey) renderShift(res, views.shift);
  },
  showError,
);

// withStages: the first request after a change, asked by step (the server clamps it).
function requestChunk(chunk, withStages) {
  const url = compareMode() ? '/api/pool/compare' : '/api/pool/trace';
  const where = withStages ? { step: state.step } : { chunk };
  const body = { ...(compareMode() ? compareBody() : poolBody()), ...where, stages: withStages };
  runTrace({ key: currentKey, url, body });
}

function changed() {
  clearError();
  writeURL();
  currentKey = JSON.stringify([state.mode, compareMode() ? compareBody() : poolBody(), state.shift]);
  chunks = new Map();
  first = null;
  requestChunk(null, true);
  $('shift-section').hidden = compareMode();
  if (!compareMode()) runShift({ key: currentKey, body: { ...poolBody(), shift: state.shift } });
}

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, DEFAULTS)), 150);
}

// ---- drawing -----------------------------------------------------------------------------------

const views = { shift: {} };

function makeViews() {
  const jump = (view) => (r, c, kind) => {
    if (kind !== 'click') return;
    stepper.pause();
    stepper.go(r * view().cols + c); // steps run in row-major order of the output
  };
  views.input = addMap($('input-view'), 'pool-input', { target: 300 });
  views.window = addMap($('window-view'), 'pool-window', { target: 160, numbers: true });
  views.extra = addMap($('window-view'), 'pool-extra', { target: 160, numbers: true });
  views.output = addMap($('output-view'), 'pool-output', { target: 260, onCell: jump(() => views.output) });
  views.outputs = Object.fromEntries(
    COMPARED.map(({ id }) => [
      id,
      addMap($('output-view'), `compare-${id}`, { target: 200, onCell: jump(() => views.outputs[id]) }),
    ]),
  );
  views.conv = addMap($('source-maps'), 'conv-output', { target: 200 });
  views.relu = addMap($('source-maps'), 'conv-relu', { target: 200 });
  for (const keys of [
    ['input', 'shifted', 'changedInput'],
    ['pooled', 'pooledShifted', 'changedPooled'],
  ]) {
    const row = document.createElement('div');
    row.className = 'shift-row';
    $('shift-maps').append(row);
    for (const key of keys) {
      views.shift[key] = addMap(row, `shift-${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`, { target: 180 });
    }
  }
}

// Size the step's maps to the room they have (after a new answer, and when the room changes).
let laidOut = false;
function relayout() {
  if (!first) return;
  const compare = compareMode();
  layoutPool({
    input: views.input,
    windows: [views.window, ...(views.extra.el.hidden ? [] : [views.extra])],
    outputs: compare ? Object.values(views.outputs) : [views.output],
    across: compare ? 2 : 1,
    win: windowShape(first, compare),
  });
  laidOut = true;
}

function drawFirst(res) {
  laidOut = false;
  const compare = compareMode();
  views.output.el.hidden = compare;
  $('output-view').classList.toggle('compare', compare);
  for (const view of Object.values(views.outputs)) view.el.hidden = !compare;
  $('torch-line').textContent = compare ? COMPARED.map(({ id }) => res.torch[id]).join('\n') : res.torch;
  const formulas = res.formulas;
  for (const key of ['height', 'width', 'statistic']) {
    $(`formula-${key}`).innerHTML = formulas[key] || '';
    $(`formula-${key}`).hidden = !formulas[key];
  }
  renderSource($('source-section'), state, res.source, res.input, views);
  const bins = !compare && !res.padded;
  $('step-title').textContent = bins ? 'Step through the bins' : 'Step through the windows';
  const drawn = !compare && res.steps.draw;
  $('legend').textContent = LEGEND[compare ? 'compare' : bins ? 'bins' : drawn ? 'draw' : 'window'];
}

function showStep(i) {
  state.step = i;
  if (!stepper.playing) writeURL();
  if (!first) return;
  const chunk = Math.floor(i / first.chunk_steps);
  const res = chunks.get(chunk);
  if (!res) {
    requestChunk(chunk, false);
    $('step-label').textContent = `step ${i + 1} of ${first.num_steps} (loading…)`;
    return;
  }
  if (compareMode()) renderCompare({ first, res, i, views, kinds: COMPARED });
  else renderStep({ first, res, i, views, kind: KINDS.get(first.kind) });
  if (!laidOut) relayout();
  const next = chunk + 1; // fetch ahead of playback so stepping never waits at a chunk boundary
  if (i - res.step_offset > 0.75 * first.chunk_steps && next * first.chunk_steps < first.num_steps && !chunks.has(next))
    requestChunk(next, false);
}

const stepper = new Stepper($('stepper'), { onStep: showStep });

// ---- controls ----------------------------------------------------------------------------------

let editor = null;

function update() {
  showControls(state, DATA, editor, uploads);
  markTab($('kind-tabs'), 'kind', compareMode() ? null : state.kind);
  changed();
}

function bindPage() {
  fillTabs($('kind-tabs'), DATA.kinds, 'kind', (id) => {
    Object.assign(state, { kind: id, mode: 'single', step: 0 });
    update();
  });
  $('presets').replaceChildren(
    ...DATA.presets.map((preset) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = preset.label;
      b.dataset.preset = preset.id;
      b.addEventListener('click', () => {
        Object.assign(state, structuredClone(DEFAULTS), structuredClone(preset.state));
        $('example-note').textContent = preset.note;
        update();
      });
      return b;
    }),
  );
  editor = bindControls({ state, data: DATA, changed, update, uploads, showError, upload });
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch line copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, DEFAULTS));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function start() {
  makeViews();
  onRoomChange(document.querySelector('.pool-page > .stage'), relayout);
  bindPage();
  update();
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
