// The attention page: controls -> state (all of it in the URL) -> one engine request per edit
// -> the maps, and the stepper walking the (head, query) steps of the answer.

import { latest, postJSON } from '../api.js';
import { Stepper, notForStepping } from '../stepper.js';
import { copyText } from '../clipboard.js';
import { fmt } from '../format.js';
import { drawAll, drawHead, fitMaps, init, tokenLabels } from './views.js';
import { onRoomChange } from '../room.js';
import { writeStep } from './detail.js';
import { drawSqrtDk } from './sqrtdk.js';
import { drawAdditive, initAdditive, writeAdditiveStep } from './additive.js';
import { startPage } from '../kit/start.js';

const DATA = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);

// ---- state and URL -----------------------------------------------------------------------

function decode(search) {
  const q = new URLSearchParams(search);
  const d = DATA.defaults;
  const json = (key, fallback) => {
    try {
      return JSON.parse(q.get(key)) ?? fallback;
    } catch {
      return fallback;
    }
  };
  const overrides = q.has('ov') ? json('ov', {}) : {};
  const number = (key, fallback) => (q.has(key) && Number.isFinite(Number(q.get(key))) ? Number(q.get(key)) : fallback);
  return {
    sentence: q.has('s') ? q.get('s') : d.sentence,
    heads: number('heads', d.heads),
    causal: q.has('causal') ? q.get('causal') === '1' : d.causal,
    padding: number('pad', d.padding),
    scaled: q.has('scaled') ? q.get('scaled') === '1' : d.scaled,
    temperature: number('temp', d.temperature),
    overrides,
    weight_overrides: q.has('wov') ? json('wov', {}) : {},
    tab: q.get('tab') === 'additive' ? 'additive' : 'self',
    decoder: number('dec', DATA.additive_defaults.decoder),
    decoder_state: q.has('ds') ? json('ds', null) : null,
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
  if (Object.keys(s.weight_overrides).length) q.set('wov', JSON.stringify(s.weight_overrides));
  q.set('step', String(step));
  if (s.tab === 'additive') {
    q.set('tab', 'additive');
    q.set('dec', String(s.decoder));
    if (s.decoder_state) q.set('ds', JSON.stringify(s.decoder_state));
    q.set('astep', String(addStep));
  }
  return `?${q.toString()}`;
}

const state = decode(window.location.search);
let step = Math.max(0, Number(new URLSearchParams(window.location.search).get('step')) || 0);
let res = null;
let currentKey = '';
let editing = null; // {kind: 'embedding' | 'weight' | 'decoder', name?, r, c}: the cell being edited
let addStep = Math.max(0, Number(new URLSearchParams(window.location.search).get('astep')) || 0);
let addRes = null;
let addKey = '';

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
    fitMaps(res);
  },
  (err, req) => {
    if (req.key === currentKey) $('status').textContent = err.message || String(err);
  },
);

const runAdditive = latest(
  (req) => postJSON('/api/attention/additive', req.body),
  (answer, req) => {
    if (req.key !== addKey) return;
    $('status').textContent = '';
    addRes = answer;
    writeDecoderOptions();
    drawAdditive(addRes);
    goAdditive(addStep);
  },
  (err, req) => {
    if (req.key === addKey) $('status').textContent = err.message || String(err);
  },
);

function changed() {
  $('status').textContent = '';
  writeURL();
  if (state.tab === 'additive') {
    const body = { sentence: state.sentence, decoder: state.decoder, overrides: state.overrides };
    if (state.decoder_state) body.decoder_state = state.decoder_state;
    addKey = JSON.stringify(body);
    runAdditive({ key: addKey, body });
    return;
  }
  const { tab, decoder, decoder_state: ds, ...body } = structuredClone(state);
  currentKey = JSON.stringify(body);
  run({ key: currentKey, body });
}

// ---- the additive tab ----------------------------------------------------------------------

function writeDecoderOptions() {
  const sel = $('add-decoder');
  const options = addRes.tokens.map((t, i) => `<option value="${i}">${i}: “${t}”</option>`);
  if (state.decoder_state) options.push('<option value="edited">edited vector</option>');
  sel.innerHTML = options.join('');
  sel.value = state.decoder_state ? 'edited' : String(state.decoder);
}

function goAdditive(j) {
  if (!addRes) return;
  addStep = Math.min(Math.max(0, j), addRes.num_steps - 1);
  writeAdditiveStep(addRes, addStep);
  writeURL();
}

function showTab() {
  for (const name of ['self', 'additive']) {
    $(`tab-${name}`).setAttribute('aria-selected', String(state.tab === name));
    $(`att-panel-${name}`).hidden = state.tab !== name;
  }
  // heads, masks, √d_k and temperature belong to dot-product attention only
  $('att-self-controls').hidden = state.tab !== 'self';
}

// While the additive tab shows, ←/→ step over the encoder states instead of the queries.
function additiveKeys(e) {
  if (state.tab !== 'additive' || notForStepping(e)) return;
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity, ' ': 0 };
  if (!(e.key in moves)) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  const d = moves[e.key];
  if (addRes && d) goAdditive(Number.isFinite(d) ? addStep + d : d < 0 ? 0 : addRes.num_steps - 1);
}

function writeSense() {
  const s = res.sense;
  if (!s) {
    $('att-sense').textContent = '';
    return;
  }
  const cos = Object.entries(s.cosine)
    .map(([name, v]) => `${name} sense ${fmt(v)}`)
    .join(', ');
  $('att-sense').textContent =
    `“${s.word}” (token ${s.index}) leans to its ${s.leans} sense: cosine of its ` +
    `context Σⱼ wⱼ·xⱼ with each sense: ${cos}.`;
}

// ---- stepping ------------------------------------------------------------------------------

function onStep(i) {
  if (!res) return;
  step = i;
  const h = res.steps.head[i],
    q = res.steps.query[i];
  drawHead(res, h, q);
  writeStep(res, i, tokenLabels(res));
  $('att-head-title').textContent =
    res.params.heads > 1 ? `Head ${h + 1} of ${res.params.heads}, stage by stage` : 'One head, stage by stage';
  $('step-label').textContent = `step ${i + 1} of ${res.num_steps}: head ${h + 1}, query ${q} “${res.tokens[q]}”`;
  if (!stepper.playing) writeURL();
}

const stepper = new Stepper($('stepper'), { onStep });

// ---- controls ------------------------------------------------------------------------------

function show() {
  const set = (id, v) => {
    if ($(id) !== document.activeElement) $(id).value = String(v);
  };
  set('att-sentence', state.sentence);
  set('att-heads', state.heads);
  set('att-padding', state.padding);
  set('att-temperature', state.temperature);
  $('att-causal').checked = state.causal;
  $('att-scaled').checked = state.scaled;
  const edited = Object.keys(state.overrides);
  for (const [name, cells] of Object.entries(state.weight_overrides)) {
    edited.push(...cells.map(([r, c]) => `${name}[${r}, ${c}]`));
  }
  if (state.decoder_state) edited.push('decoder state');
  $('att-overrides').textContent = edited.length ? `Edited: ${edited.join(', ')}` : '';
}

function openEditor(cell, label, value) {
  editing = cell;
  $('att-edit').hidden = false;
  $('att-edit-label').textContent = label;
  $('att-edit-value').value = String(Number(value.toFixed(4)));
  $('att-edit-value').focus();
}

function editEmbedding(r, c) {
  if (res) openEditor({ kind: 'embedding', r, c }, `“${res.tokens[r]}”, ${res.features[c]}`, res.embeddings[r][c]);
}

function editWeight(name, r, c) {
  if (res) openEditor({ kind: 'weight', name, r, c }, `${name}[${r}, ${c}]`, res.weights[name][r][c]);
}

function editDecoder(c) {
  if (addRes) openEditor({ kind: 'decoder', c }, `decoder state, ${addRes.features[c]}`, addRes.decoder_state[c]);
}

function applyEdit(v) {
  const { kind, r, c, name } = editing;
  if (kind === 'weight') {
    const cells = (state.weight_overrides[name] || []).filter(([i, j]) => i !== r || j !== c);
    state.weight_overrides[name] = [...cells, [r, c, v]];
  } else if (kind === 'decoder') {
    const row = addRes.decoder_state.map((x) => Number(x.toFixed(6)));
    row[c] = v;
    state.decoder_state = row;
  } else {
    const row = res.embeddings[r].map((x) => Number(x.toFixed(6)));
    row[c] = v;
    state.overrides[res.tokens[r]] = row;
  }
}

function bind() {
  $('att-sentence').addEventListener('input', (e) => {
    state.sentence = e.target.value;
    step = 0;
    addStep = 0;
    state.decoder = 0;
    changed();
  });
  $('att-preset').addEventListener('change', (e) => {
    if (!e.target.value) return;
    state.sentence = e.target.value;
    state.padding = 0;
    step = 0;
    addStep = 0;
    state.decoder = 0;
    e.target.value = '';
    show();
    changed();
  });
  $('att-heads').addEventListener('change', (e) => {
    state.heads = Number(e.target.value);
    changed();
  });
  $('att-causal').addEventListener('change', (e) => {
    state.causal = e.target.checked;
    changed();
  });
  $('att-scaled').addEventListener('change', (e) => {
    state.scaled = e.target.checked;
    changed();
  });
  for (const [id, key] of [
    ['att-padding', 'padding'],
    ['att-temperature', 'temperature'],
  ]) {
    $(id).addEventListener('input', (e) => {
      const v = e.target.valueAsNumber;
      e.target.classList.toggle('invalid', !Number.isFinite(v));
      if (Number.isFinite(v)) {
        state[key] = v;
        changed();
      }
    });
  }
  $('att-edit-value').addEventListener('change', (e) => {
    const v = e.target.valueAsNumber;
    if (!editing || !Number.isFinite(v) || !(editing.kind === 'decoder' ? addRes : res)) return;
    applyEdit(v);
    show();
    changed();
  });
  $('att-reset').addEventListener('click', () => {
    state.overrides = {};
    state.weight_overrides = {};
    state.decoder_state = null;
    $('att-edit').hidden = true;
    show();
    changed();
  });
  for (const name of ['self', 'additive']) {
    $(`tab-${name}`).addEventListener('click', () => {
      state.tab = name;
      $('att-edit').hidden = true;
      showTab();
      changed();
    });
  }
  $('add-decoder').addEventListener('change', (e) => {
    if (e.target.value === 'edited') return;
    state.decoder = Number(e.target.value);
    state.decoder_state = null;
    show();
    changed();
  });
  $('add-prev').addEventListener('click', () => goAdditive(addStep - 1));
  $('add-next').addEventListener('click', () => goAdditive(addStep + 1));
  window.addEventListener('keydown', additiveKeys, true);
  $('copy-torch').addEventListener('click', () =>
    copyText($('torch-line').textContent, $('copied'), 'PyTorch code copied.'),
  );
  $('copy-link').addEventListener('click', () => {
    window.history.replaceState(null, '', encode(state, step));
    copyText(window.location.href, $('copied'), 'Link copied: it reopens this exact view.');
  });
}

onRoomChange(document.querySelector('.attention-page .stage'), () => {
  if (res && state.tab === 'self') fitMaps(res);
});

function start() {
  init(editEmbedding, editWeight);
  initAdditive(editDecoder);
  bind();
  show();
  showTab();
  drawSqrtDk(DATA.sqrt_dk);
  changed();
}

// maps paint from the engine's numbers without waiting for Plotly.js (kit/start.js)
startPage(start);
