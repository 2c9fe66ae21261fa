// The convolution-family page: a tab per variant, its settings in the URL, one engine
// request per edit, and the shared stepper for the variants that have steps (1-D and
// transposed). Each variant module under family/ owns its controls and drawings:
//   endpoint, stepped, init(ctx), show(state), draw(res), step(i) (stepped only), fit() (sizes
//   its maps to the room the page has).

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { $ } from './controls.js';
import { decode, encode } from './url.js';
import oned from './oned.js';
import transposed from './transposed.js';
import grouped from './grouped.js';
import shuffle from './shuffle.js';
import tiled from './tiled.js';
import flattened from './flattened.js';
import residual from './residual.js';
import { copyText } from '../clipboard.js';
import { onRoomChange } from '../room.js';
import { fillTabs, markTab } from '../kit/tabs.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse($('page-data').textContent);
const VARIANTS = { '1d': oned, transposed, grouped, shuffle, tiled, flattened, residual };

const query = new URLSearchParams(window.location.search);
let current = query.get('variant') in VARIANTS ? query.get('variant') : '1d';
const states = Object.fromEntries(Object.keys(VARIANTS).map((id) => [id, structuredClone(DATA.defaults[id])]));
Object.assign(states[current], decode(query, DATA.defaults[current]));
const steps = Object.fromEntries(Object.keys(VARIANTS).map((id) => [id, 0]));
steps[current] = Math.max(0, Number(query.get('step')) || 0);
const started = new Set();
const answers = {}; // variant -> its latest answer for the current settings
let currentKey = '';

// ---- errors ------------------------------------------------------------------------------

function showError(err, req) {
  if (req && req.key !== currentKey) return; // overtaken: a fresher request follows
  $('status').textContent = err.message || String(err);
}

const clearError = () => {
  $('status').textContent = '';
};

// ---- requests ------------------------------------------------------------------------------

const run = latest(
  (req) => postJSON(VARIANTS[req.variant].endpoint, req.body),
  (res, req) => {
    if (req.key !== currentKey) return;
    clearError();
    const variant = VARIANTS[req.variant];
    answers[req.variant] = res;
    $('torch-line').textContent = res.torch;
    variant.draw(res);
    if (variant.stepped) stepper.setTotal(res.num_steps, steps[req.variant]);
    fit();
  },
  showError,
);

function changed() {
  clearError();
  writeURL();
  const body = structuredClone(states[current]);
  currentKey = JSON.stringify([current, body]);
  run({ key: currentKey, variant: current, body });
}

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', urlNow()), 150);
}

const urlNow = () => encode(current, states[current], VARIANTS[current].stepped ? steps[current] : null);

// ---- stepping --------------------------------------------------------------------------------

function onStep(i) {
  const variant = VARIANTS[current];
  if (!variant.stepped || !answers[current]) return;
  steps[current] = i;
  variant.step(i);
  if (!stepper.playing) writeURL();
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- tabs ----------------------------------------------------------------------------------

function select(id) {
  stepper.pause();
  current = id;
  markTab($('variant-tabs'), 'variant', id);
  for (const el of document.querySelectorAll('[data-variant-part]')) el.hidden = el.dataset.variantPart !== id;
  $('stepper-section').hidden = !VARIANTS[id].stepped;
  const variant = VARIANTS[id];
  if (!started.has(id)) {
    started.add(id);
    variant.init({ state: states[id], defaults: DATA.defaults[id], limits: DATA.limits, data: DATA, changed });
  }
  variant.show(states[id]);
  $('torch-line').textContent = answers[id] ? answers[id].torch : '';
  changed();
}

function bindPage() {
  fillTabs($('variant-tabs'), DATA.variants, 'variant', (id) => {
    if (id !== current) select(id);
  });
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch code copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', urlNow());
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

// Each variant sizes its maps to the room its step has (and redraws its link diagrams), after
// every answer and whenever the window, presenter view or the settings bar change that room.
function fit() {
  if (answers[current]) VARIANTS[current].fit();
}

onRoomChange(document.querySelector('.family-page .stage'), fit);

function start() {
  bindPage();
  select(current);
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
