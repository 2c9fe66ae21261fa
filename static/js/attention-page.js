// The attention page: controls -> state (all of it in the URL) -> one engine request per edit
// -> the maps, and the stepper walking the (head, query) steps of the answer.

import { latest, postJSON } from './api.js';
import { Stepper } from './stepper.js';
import { copyText } from './clipboard.js';
import { fmt } from './format.js';
import { drawAll, drawHead, init, tokenLabels } from './attention/views.js';
import { writeStep } from './attention/detail.js';
import { drawSqrtDk } from './attention/sqrtdk.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);

// ---- state and URL -----------------------------------------------------------------------

function decode(search) {
  const q = new URLSearchParams(search);
  const d = DATA.defaults;
  let overrides = {};
  try { overrides = JSON.parse(q.get('ov') || '{}') || {}; } catch { /* keep none */ }
  const number = (key, fallback) => (q.has(key) && Number.isFinite(Number(q.get(key))) ? Number(q.get(key)) : fallback);
  return {
    sentence: q.has('s') ? q.get('s') : d.sentence,
    heads: number('heads', d.heads),
    causal: q.has('causal') ? q.get('causal') === '1' : d.causal,
    padding: number('pad', d.padding),
    scaled: q.has('scaled') ? q.get('scaled') === '1' : d.scaled,
    temperature: number('temp', d.temperature),
    overrides,
  };
}

function encode(s, step) {
  const q = new URLSearchParams();
  q.set('s', s.sentence);
  q.set('heads', String(s.heads));
  q.set('causal', s.causal ? '1' : '0');
  q.set('pad', String(s.padding));
  q.set('scaled', s.scaled ? '1' : '0');
  q.set('temp', String(s.temperature));
  if (Object.keys(s.overrides).length) q.set('ov', JSON.stringify(s.overrides));
  q.set('step', String(step));
  return `?${q.toString()}`;
}

const state = decode(window.location.search);
let step = Math.max(0, Number(new URLSearchParams(window.location.search).get('step')) || 0);
let res = null;
let currentKey = '';
let editing = null; // [row, col] of the embedding being edited

let urlTimer = null;
function writeURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => window.history.replaceState(null, '', encode(state, step)), 150);
}

// ---- requests ------------------------------------------------------------------------------

const run = latest(
  (req) => postJSON('/api/attention', req.body),
  (answer, req) => {
    if (req.key !== currentKey) return;
    $('status').textContent = '';
    res = answer;
    $('torch-line').textContent = res.torch;
    $('att-formula').innerHTML = res.formulas.attention;
    $('att-unknown').textContent = res.unknown.length
      ? `Not in the vocabulary: ${res.unknown.join(', ')}. Each gets a fixed pseudo-random vector (the same every time).`
      : '';
    drawAll(res);
    writeSense();
    stepper.setTotal(res.num_steps, step);
  },
  (err, req) => { if (req.key === currentKey) $('status').textContent = err.message || String(err); },
);

function changed() {
  $('status').textContent = '';
  writeURL();
  const body = structuredClone(state);
  currentKey = JSON.stringify(body);
  run({ key: currentKey, body });
}

function writeSense() {
  const s = res.sense;
  if (!s) { $('att-sense').textContent = ''; return; }
  const cos = Object.entries(s.cosine).map(([name, v]) => `${name} sense ${fmt(v)}`).join(', ');
  $('att-sense').textContent = `“${s.word}” (token ${s.index}) leans to its ${s.leans} sense: cosine of its `
    + `context Σⱼ wⱼ·xⱼ with each sense: ${cos}.`;
}

// ---- stepping ------------------------------------------------------------------------------

function onStep(i) {
  if (!res) return;
  step = i;
  const h = res.steps.head[i], q = res.steps.query[i];
  drawHead(res, h, q);
  writeStep(res, i, tokenLabels(res));
  $('att-head-title').textContent = res.params.heads > 1 ? `Head ${h + 1} of ${res.params.heads}, stage by stage` : 'One head, stage by stage';
  $('step-label').textContent = `step ${i + 1} of ${res.num_steps}: head ${h + 1}, query ${q} “${res.tokens[q]}”`;
  if (!stepper.playing) writeURL();
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- controls ------------------------------------------------------------------------------

function show() {
  const set = (id, v) => { if ($(id) !== document.activeElement) $(id).value = String(v); };
  set('att-sentence', state.sentence);
  set('att-heads', state.heads);
  set('att-padding', state.padding);
  set('att-temperature', state.temperature);
  $('att-causal').checked = state.causal;
  $('att-scaled').checked = state.scaled;
  const edited = Object.keys(state.overrides);
  $('att-overrides').textContent = edited.length ? `Edited: ${edited.join(', ')}` : '';
}

function editEmbedding(r, c) {
  if (!res) return;
  editing = [r, c];
  $('att-edit').hidden = false;
  $('att-edit-label').textContent = `“${res.tokens[r]}”, ${res.features[c]}`;
  $('att-edit-value').value = String(Number(res.embeddings[r][c].toFixed(4)));
  $('att-edit-value').focus();
}

function bind() {
  $('att-sentence').addEventListener('input', (e) => { state.sentence = e.target.value; step = 0; changed(); });
  $('att-preset').addEventListener('change', (e) => {
    if (!e.target.value) return;
    state.sentence = e.target.value;
    state.padding = 0;
    step = 0;
    e.target.value = '';
    show();
    changed();
  });
  $('att-heads').addEventListener('change', (e) => { state.heads = Number(e.target.value); changed(); });
  $('att-causal').addEventListener('change', (e) => { state.causal = e.target.checked; changed(); });
  $('att-scaled').addEventListener('change', (e) => { state.scaled = e.target.checked; changed(); });
  for (const [id, key] of [['att-padding', 'padding'], ['att-temperature', 'temperature']]) {
    $(id).addEventListener('input', (e) => {
      const v = e.target.valueAsNumber;
      e.target.classList.toggle('invalid', !Number.isFinite(v));
      if (Number.isFinite(v)) { state[key] = v; changed(); }
    });
  }
  $('att-edit-value').addEventListener('change', (e) => {
    const v = e.target.valueAsNumber;
    if (!editing || !res || !Number.isFinite(v)) return;
    const [r, c] = editing;
    const word = res.tokens[r];
    const row = res.embeddings[r].map((x) => Number(x.toFixed(6)));
    row[c] = v;
    state.overrides[word] = row;
    show();
    changed();
  });
  $('att-reset').addEventListener('click', () => { state.overrides = {}; $('att-edit').hidden = true; show(); changed(); });
  $('copy-torch').addEventListener('click', () => copyText($('torch-line').textContent, $('copied'), 'PyTorch code copied.'));
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, step));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

function start() {
  init(editEmbedding);
  bind();
  show();
  drawSqrtDk(DATA.sqrt_dk);
  changed();
}

if (window.Plotly) start();
else window.addEventListener('load', start);
