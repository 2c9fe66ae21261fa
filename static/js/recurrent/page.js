// The recurrent page: controls -> state (all of it in the URL) -> one engine request per edit for
// the chosen kind (/api/recurrent/run), one for the three kinds side by side (/compare) and one for
// the gradient chart (/gradients); the stepper walks the cell evaluations of the answer.

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { fmt } from '../format.js';
import { encode, fromAddress } from '../typed-url.js';
import { drawCell, equations } from './cell.js';
import { drawChain, drawMaps, highlightMaps } from './unrolled.js';
import { drawCompare, drawGradients, initCompare } from './charts.js';
import { narrow, onRoomChange, roomBelow } from '../room.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);
const G = DATA.gradient_defaults;
const DEFAULTS = { ...DATA.defaults, step: 0, gscale: G.scale, gbias: G.forget_bias, glen: G.seq_len };
const SEQUENCE_KEYS = Object.keys(DATA.defaults).filter((k) => k !== 'kind');
const state = fromAddress(DEFAULTS);

let res = null;
let compareRes = null;
let runKey = '';
let compareKey = '';
let gradKey = '';

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, DEFAULTS)), 150);
}

// ---- requests ------------------------------------------------------------------------------

const failed = (where, key) => (err, req) => {
  if (req.key === key()) $(where).textContent = err.message || String(err);
};

const run = latest(
  (req) => postJSON('/api/recurrent/run', req.body),
  (answer, req) => {
    if (req.key !== runKey) return;
    $('status').textContent = '';
    res = answer;
    $('torch-line').textContent = res.torch;
    drawMaps(res);
    zoomed = false;
    stepper.setTotal(res.num_steps, state.step);
  },
  failed('status', () => runKey),
);

const compare = latest(
  (req) => postJSON('/api/recurrent/compare', req.body),
  (answer, req) => {
    if (req.key !== compareKey) return;
    compareRes = answer;
    drawComparison();
  },
  failed('status', () => compareKey),
);

const gradients = latest(
  (req) => postJSON('/api/recurrent/gradients', req.body),
  (answer, req) => {
    if (req.key !== gradKey) return;
    $('grad-status').textContent = '';
    drawGradients(answer);
    $('grad-torch').textContent = answer.torch;
    const first = answer.kinds.map((k) => `${k.toUpperCase()} ${fmt(answer.norms[k][0])}`).join(', ');
    $('grad-summary').textContent = `‖∂h_T/∂x_1‖, the first input’s pull on the last state: ${first}.`;
  },
  failed('grad-status', () => gradKey),
);

function changed() {
  $('status').textContent = '';
  showControls();
  writeURL();
  const body = Object.fromEntries(SEQUENCE_KEYS.map((k) => [k, state[k]]));
  const runBody = { ...body, kind: state.kind };
  if (JSON.stringify(runBody) !== runKey) {
    runKey = JSON.stringify(runBody);
    run({ key: runKey, body: runBody });
  }
  if (JSON.stringify(body) !== compareKey) {
    compareKey = JSON.stringify(body);
    compare({ key: compareKey, body });
  }
  const grad = { ...G, scale: state.gscale, forget_bias: state.gbias, seq_len: state.glen };
  if (JSON.stringify(grad) !== gradKey) {
    gradKey = JSON.stringify(grad);
    gradients({ key: gradKey, body: grad });
  }
}

// ---- sizing --------------------------------------------------------------------------------

// The sequence and the cell drawn as wide as the stage (no wider than 1.6 times their own size),
// the cell no taller than the first screen leaves above the state update; a phone scrolls them
// sideways rather than shrink their numbers below reading size.
const zoom = { chain: 1, cell: 1 };
let zoomed = false;

const svgSize = (id) => {
  const svg = $(id).querySelector('svg');
  return svg ? [Number(svg.getAttribute('width')), Number(svg.getAttribute('height'))] : null;
};

function applyZoom() {
  for (const id of ['rnn-chain', 'rnn-cell']) {
    const svg = $(id).querySelector('svg');
    const size = svgSize(id);
    if (!size) continue;
    const k = zoom[id === 'rnn-chain' ? 'chain' : 'cell'];
    svg.style.width = `${Math.floor(size[0] * k)}px`;
    svg.style.height = `${Math.floor(size[1] * k)}px`;
  }
}

function relayout() {
  const chain = svgSize('rnn-chain'),
    cell = svgSize('rnn-cell');
  if (!chain || !cell) return;
  const width = $('rnn-cell').clientWidth;
  const least = narrow() ? 0.6 : 0.5;
  const clamp = (k) => Math.max(least, Math.min(k, 1.6));
  const update = document.querySelector('.rnn-equations');
  const below = update.offsetHeight + Number.parseFloat(getComputedStyle(update).marginTop) + 8;
  // the cell first (the sequence kept at 0.8 of its size at least), the sequence gets what is left
  const room = narrow() ? Number.POSITIVE_INFINITY : roomBelow($('rnn-chain'), below) - 12;
  zoom.cell = clamp(Math.min(width / cell[0], (room - 0.8 * chain[1]) / cell[1]));
  zoom.chain = clamp(Math.min(1.2, width / chain[0], (room - zoom.cell * cell[1]) / chain[1]));
  applyZoom();
  zoomed = true;
}

// ---- stepping ------------------------------------------------------------------------------

function drawComparison() {
  if (compareRes) drawCompare(compareRes, state.kind, res ? res.steps.time[stepper.index] : 0);
}

function onStep(i) {
  if (!res) return;
  state.step = i;
  const s = res.steps;
  const p = res.params;
  const t = s.time[i];
  const dir = p.directions[s.direction[i]];
  const where = [p.num_layers > 1 ? `layer ${s.layer[i] + 1}` : '', p.bidirectional ? dir : ''].filter(Boolean);
  $('step-label').textContent =
    `step ${i + 1} of ${res.num_steps}: ${where.length ? `${where.join(', ')}, ` : ''}` +
    `t = ${t + 1} (x = ${res.labels[t]})`;
  $('rnn-cell-title').textContent =
    `One ${res.kind.toUpperCase()} cell at t = ${t + 1}${where.length ? ` (${where.join(', ')})` : ''}`;
  drawCell($('rnn-cell'), res, i);
  const [first, second] = equations(res, i);
  $('eq-state').textContent = first;
  $('eq-hidden').textContent = second;
  drawChain(res, i);
  if (zoomed) applyZoom();
  else relayout();
  highlightMaps(res, i);
  drawComparison();
  if (!stepper.playing) writeURL();
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- controls ------------------------------------------------------------------------------

function showControls() {
  const set = (id, v) => {
    if ($(id) !== document.activeElement) $(id).value = String(v);
  };
  set('rnn-source', state.source);
  set('rnn-numbers', state.numbers.join(', '));
  set('rnn-length', state.length);
  set('rnn-period', state.period);
  set('rnn-sentence', state.sentence);
  set('rnn-hidden', state.hidden_size);
  set('rnn-layers', state.num_layers);
  set('rnn-nonlin', state.nonlinearity);
  set('rnn-seed', state.seed);
  set('rnn-scale', state.scale);
  $('rnn-scale-out').textContent = fmt(state.scale, 2);
  $('rnn-bidir').checked = state.bidirectional;
  set('grad-scale', state.gscale);
  $('grad-scale-out').textContent = fmt(state.gscale, 2);
  set('grad-bias', state.gbias);
  set('grad-len', state.glen);
  for (const box of document.querySelectorAll('[data-source]')) {
    box.hidden = !box.dataset.source.split(' ').includes(state.source);
  }
  for (const box of document.querySelectorAll('[data-only-kind]')) box.hidden = box.dataset.onlyKind !== state.kind;
  for (const tab of document.querySelectorAll('#rnn-kinds [data-kind]')) {
    tab.setAttribute('aria-selected', String(tab.dataset.kind === state.kind));
  }
  $('rnn-bidir-formula').hidden = !state.bidirectional;
  $('rnn-bidir-note').hidden = !state.bidirectional;
}

// Numbers typed with commas or spaces; null when any entry is not a number.
function parseNumbers(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const values = parts.map(Number);
  return parts.length && values.every(Number.isFinite) ? values : null;
}

function pickKind(kind) {
  state.kind = kind;
  state.step = Math.min(state.step, res ? res.num_steps - 1 : 0);
  changed();
}

function bind() {
  const numeric = [
    ['rnn-length', 'length'],
    ['rnn-period', 'period'],
    ['rnn-hidden', 'hidden_size'],
    ['rnn-layers', 'num_layers'],
    ['rnn-seed', 'seed'],
    ['rnn-scale', 'scale'],
    ['grad-scale', 'gscale'],
    ['grad-bias', 'gbias'],
    ['grad-len', 'glen'],
  ];
  for (const [id, key] of numeric) {
    $(id).addEventListener('input', (e) => {
      const v = e.target.valueAsNumber;
      e.target.classList.toggle('invalid', !Number.isFinite(v));
      if (Number.isFinite(v)) {
        state[key] = v;
        changed();
      }
    });
  }
  $('rnn-numbers').addEventListener('input', (e) => {
    const values = parseNumbers(e.target.value);
    e.target.classList.toggle('invalid', values === null);
    if (values) {
      state.numbers = values;
      changed();
    }
  });
  $('rnn-sentence').addEventListener('input', (e) => {
    state.sentence = e.target.value;
    changed();
  });
  $('rnn-preset').addEventListener('change', (e) => {
    if (!e.target.value) return;
    state.sentence = e.target.value;
    e.target.value = '';
    changed();
  });
  $('rnn-source').addEventListener('change', (e) => {
    state.source = e.target.value;
    state.step = 0;
    changed();
  });
  $('rnn-nonlin').addEventListener('change', (e) => {
    state.nonlinearity = e.target.value;
    changed();
  });
  $('rnn-bidir').addEventListener('change', (e) => {
    state.bidirectional = e.target.checked;
    changed();
  });
  for (const tab of document.querySelectorAll('#rnn-kinds [data-kind]')) {
    tab.addEventListener('click', () => pickKind(tab.dataset.kind));
  }
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch code copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, DEFAULTS));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function start() {
  onRoomChange(document.querySelector('.recurrent-page > .stage'), relayout);
  initCompare(DATA.kinds, pickKind);
  bind();
  changed();
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
