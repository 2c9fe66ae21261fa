// The normalization page: a tab per kind, the settings in the URL, one engine request per edit
// (/api/norm/apply), one per step for the written-out equation (/api/norm/equation), and for
// batch norm the stream of training batches (/api/norm/stream). Modules under norm/ draw.

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { $, bindControls, reconcile, showControls } from './controls.js';
import { TensorGrid } from './grid.js';
import { drawHistograms, drawRunning, drawSmallBatch } from './charts.js';
import { drawDependence } from './dependence.js';
import { statsHTML } from './stats.js';
import { presenter } from '../classroom/mode.js';
import { narrow, onRoomChange, roomBelow } from '../room.js';
import { encode, fromAddress } from '../typed-url.js';
import { fillTabs, markTab } from '../kit/tabs.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse($('page-data').textContent);
const DEFAULTS = { ...DATA.defaults, view: 'input' };
const KIND_NAMES = Object.fromEntries(DATA.kinds.map(({ id, label }) => [id, label]));
const WORDS = {
  layer: 'layer norm',
  instance: 'instance norm',
  group: 'group norm',
  rms: 'RMS norm',
  lrn: 'local response norm',
};
const NOTES = {
  stats: 'the highlighted cells share one mean and one variance.',
  lrn: 'the highlighted channel is divided using the squares of the channels in its window (blue) at the same position.',
  weight_norm: "the highlighted cells are one output channel's weights: one length ‖v‖, rescaled to g.",
};
const state = fromAddress(DEFAULTS);
reconcile(state, DATA);

let answer = null; // the latest /api/norm/apply answer for the current settings
let currentKey = '';
let streamKey = '';

const pick = (keys, extra = {}) => ({ ...Object.fromEntries(keys.map((k) => [k, state[k]])), ...extra });

// ---- errors ------------------------------------------------------------------------------------

// Errors of the stream go beside its charts: the main answer arriving must not hide them.
const showError = (where) => (err, req) => {
  if (req && req.key !== currentKey && req.key !== streamKey) return; // overtaken by a fresher request
  $(where).textContent = err.message || String(err);
};

// ---- requests ------------------------------------------------------------------------------------

const runApply = latest(
  (req) => postJSON('/api/norm/apply', req.body),
  (res, req) => {
    if (req.key !== currentKey) return;
    $('status').textContent = '';
    answer = res;
    draw(res);
    stepper.setTotal(res.num_steps, state.group);
  },
  showError('status'),
);

const runEquation = latest(
  (req) => postJSON('/api/norm/equation', req.body),
  (res, req) => {
    if (req.key === currentKey && res.group === state.group) $('equation').innerHTML = res.lines.join('');
  },
  showError('status'),
);

const runStream = latest(
  (req) => postJSON('/api/norm/stream', req.body),
  (res, req) => {
    if (req.key !== streamKey) return;
    $('stream-status').textContent = '';
    $('stream-count').textContent = String(res.params.num_batches);
    drawRunning(res);
    $('running-formula').innerHTML = res.formula;
    $('stream-torch').textContent = res.torch;
    drawSmallBatch(res.small_batch);
  },
  showError('stream-status'),
);

function changed() {
  $('status').textContent = '';
  reconcile(state, DATA);
  showControls(state);
  writeURL();
  const body = pick(DATA.apply_keys, { group: 0 });
  currentKey = JSON.stringify(body);
  runApply({ key: currentKey, body: { ...body, group: state.group } });
  if (state.kind === 'batch') {
    const stream = pick(DATA.stream_keys);
    const key = JSON.stringify(stream);
    if (key !== streamKey) {
      streamKey = key;
      $('stream-status').textContent = '';
      runStream({ key, body: stream });
    }
  }
}

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, DEFAULTS)), 150);
}

// ---- drawing -------------------------------------------------------------------------------------

const grid = new TensorGrid($('norm-grid'), (n, c, r, col) => {
  if (!answer) return;
  stepper.pause();
  stepper.go(answer.group_of[n][c][r][col]);
});

function viewRadios(views) {
  const box = $('view-radios');
  const wanted = views.map(([key]) => key).join(',');
  if (box.dataset.views !== wanted) {
    box.dataset.views = wanted;
    box.replaceChildren(
      ...views.map(([key, label]) => {
        const el = document.createElement('label');
        el.innerHTML = `<input type="radio" name="view" value="${key}"> `;
        el.append(label);
        el.firstChild.addEventListener('change', () => {
          state.view = key;
          writeURL();
          drawGrid();
        });
        return el;
      }),
    );
  }
  if (!views.some(([key]) => key === state.view)) state.view = views[0][0];
  box.querySelector(`input[value="${state.view}"]`).checked = true;
}

function drawGrid() {
  const res = answer;
  const weights = res.kind.startsWith('weight');
  grid.set(
    res.tensors[state.view],
    res.ranges[state.view],
    weights ? { row: 'out', col: 'in' } : { row: 'sample', col: 'channel' },
  );
  relayout();
  highlight();
}

// The grid's tiles as big as the room beside the statistics (below them on a phone) allows.
function relayout() {
  if (!grid.views.length) return;
  const compose = document.querySelector('.norm-compose');
  const side = document.querySelector('.norm-side');
  const rem = Number.parseFloat(getComputedStyle(document.documentElement).fontSize);
  const gap = Number.parseFloat(getComputedStyle(compose).columnGap) || 0;
  const { label, head, colGap, rowGap, bar } = grid.chrome();
  const n = grid.views.length,
    c = grid.views[0].length;
  const first = grid.views[0][0];
  const phone = narrow();
  const width = compose.clientWidth - (phone ? 0 : Number.parseFloat(getComputedStyle(side).minWidth) + gap) - bar;
  const height = phone ? Number.POSITIVE_INFINITY : roomBelow($('norm-grid'), rem);
  const tile = Math.min((width - label - c * colGap - 8) / c, (height - head - n * rowGap - 8) / n);
  const cap = presenter() ? 60 : 44;
  grid.fit(Math.max(2, Math.min(cap, Math.floor(tile / Math.max(first.rows, first.cols)))));
}

function highlight() {
  if (!answer) return;
  const g = Math.min(state.group, answer.num_steps - 1);
  grid.highlight(answer.group_of, g, answer.window ? answer.window[g] : null);
}

function draw(res) {
  $('torch-line').textContent = res.torch;
  const [n, c, h, w] = res.shape;
  $('grid-title').textContent = res.kind.startsWith('weight')
    ? `The weight (${n}, ${c}, ${h}, ${w}): a row per output channel, a column per input channel`
    : `The tensor (${n}, ${c}, ${h}, ${w}): a row per sample, a column per channel`;
  $('grid-note').textContent =
    `${KIND_NAMES[res.kind]}: ${res.num_steps} groups; ${NOTES[res.kind] || NOTES.stats} ` +
    'Click a cell to step to its group.';
  viewRadios(res.views);
  drawGrid();
  drawHistograms(res, Math.min(state.group, res.num_steps - 1));
  const training = res.params.training ? 'batch norm in training' : 'batch norm in evaluation';
  drawDependence(res, res.kind === 'batch' ? training : WORDS[res.kind]);
  if (res.equation.group === state.group) $('equation').innerHTML = res.equation.lines.join('');
}

function onStep(i) {
  state.group = i;
  if (!stepper.playing) writeURL();
  if (!answer) return;
  $('step-label').textContent = `step ${i + 1} of ${answer.num_steps}: ${answer.labels[i]}`;
  highlight();
  $('group-stats').innerHTML = statsHTML(answer, i);
  if (answer.histograms.by === 'group') drawHistograms(answer, i);
  if (answer.equation.group === i) $('equation').innerHTML = answer.equation.lines.join('');
  else runEquation({ key: currentKey, body: pick(DATA.apply_keys, { group: i }) });
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- tabs and links ------------------------------------------------------------------------------

function bindPage() {
  fillTabs($('kind-tabs'), DATA.kinds, 'kind', (id) => {
    if (id === state.kind) return;
    Object.assign(state, { kind: id, group: 0 });
    selectTab();
    changed();
  });
  bindControls(state, DATA, changed);
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch code copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, DEFAULTS));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function selectTab() {
  markTab($('kind-tabs'), 'kind', state.kind);
}

function start() {
  onRoomChange(document.querySelector('.norm-page > .stage'), relayout);
  bindPage();
  selectTab();
  changed();
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
