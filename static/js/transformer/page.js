// The trained-transformer page: controls -> state (all of it in the URL) -> one engine request per
// change -> the maps; the stepper walks the queries of the answer without asking again.

import { latest, postJSON } from '../api.js';
import { Stepper } from '../stepper.js';
import { onRoomChange } from '../room.js';
import { startPage } from '../kit/start.js';
import { drawAll, drawQuery, fitRows, init, tableGrew } from './views.js';
import { writeNext, writeSoftmax } from './detail.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);

// ---- state and URL -----------------------------------------------------------------------

function decode(search) {
  const q = new URLSearchParams(search);
  const d = DATA.defaults;
  const int = (key, fallback) => (q.has(key) && Number.isInteger(Number(q.get(key))) ? Number(q.get(key)) : fallback);
  let edits = [];
  try {
    edits = q.has('edits') ? JSON.parse(q.get('edits')) : [];
  } catch {
    edits = [];
  }
  const temperature = Number(q.get('temp'));
  return {
    sentence: q.has('s') ? q.get('s') : d.sentence,
    layer: int('layer', d.layer),
    head: int('head', d.head),
    temperature: q.has('temp') && Number.isFinite(temperature) ? temperature : d.temperature,
    top_k: q.has('k') ? int('k', null) : d.top_k,
    seed: int('seed', d.seed),
    edits: Array.isArray(edits) ? edits : [],
  };
}

function encode(s, q) {
  const p = new URLSearchParams();
  p.set('s', s.sentence);
  p.set('layer', String(s.layer));
  p.set('head', String(s.head));
  p.set('temp', String(s.temperature));
  if (s.top_k !== null) p.set('k', String(s.top_k));
  p.set('seed', String(s.seed));
  if (s.edits.length) p.set('edits', JSON.stringify(s.edits));
  p.set('step', String(q));
  return `?${p.toString()}`;
}

const state = decode(window.location.search);
// the last word by default: what a sentence is about (its next word) is read there
const asked = new URLSearchParams(window.location.search).get('step');
let step = asked === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(asked) || 0);
let res = null;
let currentKey = '';
let editing = null; // {param, row, col}: the cell being edited

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, step)), 150);
}

// ---- requests ------------------------------------------------------------------------------

const run = latest(
  (req) => postJSON('/api/transformer/run', req.body),
  (answer, req) => {
    if (req.key !== currentKey) return;
    $('status').textContent = '';
    res = answer;
    $('torch-line').textContent = res.torch;
    drawAll(res);
    stepper.setTotal(res.tokens.length, Math.min(step, res.tokens.length - 1));
    fitRows();
  },
  (err, req) => {
    if (req.key === currentKey) $('status').textContent = err.message || String(err);
  },
);

function changed() {
  $('status').textContent = '';
  writeURL();
  const body = structuredClone(state);
  currentKey = JSON.stringify(body);
  run({ key: currentKey, body });
}

// ---- stepping over the queries -------------------------------------------------------------

function onStep(i) {
  if (!res) return;
  step = i;
  drawQuery(res, i);
  writeSoftmax(res, i);
  writeNext(res, i);
  if (tableGrew()) fitRows();
  $('step-label').textContent = `query ${i} of ${res.tokens.length - 1}: “${res.tokens[i]}”`;
  if (!stepper.playing) writeURL();
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- controls ------------------------------------------------------------------------------

function show() {
  const set = (id, v) => {
    if ($(id) !== document.activeElement) $(id).value = String(v);
  };
  set('tf-sentence', state.sentence);
  set('tf-layer', state.layer);
  set('tf-head', state.head);
  set('tf-temperature', state.temperature);
  $('tf-temperature-value').textContent = String(state.temperature);
  set('tf-topk', state.top_k ?? '');
  set('tf-seed', state.seed);
  $('tf-edits').textContent = state.edits.length
    ? `Edited: ${state.edits.map((e) => `${e.param}[${e.row}, ${e.col}] = ${e.value}`).join('; ')}`
    : '';
}

function pick(layer, head) {
  state.layer = layer;
  state.head = head;
  show();
  changed();
}

function openEditor(cell) {
  editing = cell;
  $('tf-edit').hidden = false;
  $('tf-edit-label').textContent = cell.label;
  $('tf-edit-value').value = String(Number(cell.value.toFixed(4)));
  $('tf-edit-value').focus();
}

function applyEdit(value) {
  const { param, row, col } = editing;
  const others = state.edits.filter((e) => e.param !== param || e.row !== row || e.col !== col);
  state.edits = [...others, { param, row, col, value }];
}

function number(id, key, { empty = undefined } = {}) {
  $(id).addEventListener('input', (e) => {
    if (e.target.value === '' && empty !== undefined) {
      state[key] = empty;
    } else {
      const v = e.target.valueAsNumber;
      e.target.classList.toggle('invalid', !Number.isFinite(v));
      if (!Number.isFinite(v)) return;
      state[key] = v;
    }
    show();
    changed();
  });
}

function bind() {
  $('tf-sentence').addEventListener('input', (e) => {
    state.sentence = e.target.value;
    step = Number.POSITIVE_INFINITY;
    changed();
  });
  $('tf-preset').addEventListener('change', (e) => {
    if (!e.target.value) return;
    state.sentence = e.target.value;
    step = Number.POSITIVE_INFINITY; // the last word: what the preset is about
    e.target.value = '';
    show();
    changed();
  });
  $('tf-layer').addEventListener('change', (e) => pick(Number(e.target.value), state.head));
  $('tf-head').addEventListener('change', (e) => pick(state.layer, Number(e.target.value)));
  number('tf-temperature', 'temperature');
  number('tf-topk', 'top_k', { empty: null });
  number('tf-seed', 'seed');
  $('tf-edit-value').addEventListener('change', (e) => {
    const v = e.target.valueAsNumber;
    if (!editing || !Number.isFinite(v)) return;
    applyEdit(v);
    show();
    changed();
  });
  $('tf-reset').addEventListener('click', () => {
    state.edits = [];
    $('tf-edit').hidden = true;
    show();
    changed();
  });
}

onRoomChange(document.querySelector('.transformer-page .stage'), () => {
  if (res) fitRows();
});

function start() {
  init(DATA.config, DATA.roles, pick, openEditor);
  bind();
  show();
  changed();
}

startPage(start);
