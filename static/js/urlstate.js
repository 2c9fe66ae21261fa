// The conv page's whole state lives in the URL, so a copied link reopens the same view.
// Kernels travel as JSON (w=); everything else as short plain fields (stride=2,1). Read by the
// shared decoder (typed-url.js): a hand-written link may give any subset, and what it gives
// that cannot be used is named in a note while the rest is applied.

import { keepClassroomKeys } from './classroom/url-keys.js';
import { withChannels } from './kernels.js';
import { fromAddress, writeParams } from './typed-url.js';

// 'a,b,c' -> numbers; throws (with the reason and an example) on anything else
function numbers(raw, example = '0,0.5') {
  const parts = raw.replace(/^\[|\]$/g, '').split(',');
  if (parts.some((p) => p.trim() === '' || !Number.isFinite(Number(p))))
    throw new Error(`expected numbers such as ${example}`);
  return parts.map(Number);
}

// '2' or '2,1' (or '[2,1]') -> [rows, cols]
function pair(raw) {
  const v = numbers(raw, '2 or 2,1');
  if (v.length === 1) return [v[0], v[0]];
  if (v.length !== 2) throw new Error('expected one or two numbers: rows,cols');
  return v;
}

const joined = (v) => v.join(',');

// Why a kernel list is not [filters][channels][rows][cols] within the limits ('' when it is).
function kernelProblem(w, limits) {
  if (w.length < 1 || w.length > limits.max_filters) return `1 to ${limits.max_filters} filters`;
  const [channels, rows, cols] = [w[0].length, w[0][0]?.length, w[0][0]?.[0]?.length];
  if (![1, 3].includes(channels)) return '1 or 3 channels per filter';
  if (!rows || !cols || rows > limits.max_kernel_side || cols > limits.max_kernel_side)
    return `kernel sides are 1 … ${limits.max_kernel_side}`;
  const flat = w.flat(2);
  if (
    w.some((f) => f.length !== channels) ||
    flat.some((row) => row.length !== cols) ||
    flat.length !== w.length * channels * rows
  )
    return 'every kernel must have the same shape';
  return '';
}

// How each setting is written and checked; `data` is the page's data (samples, sizes, limits).
function fields(data) {
  const L = data.limits;
  const images = data.samples.map((s) => s.name);
  return {
    image: {
      check: (v) => (images.includes(v) || v.startsWith('upload:') ? '' : `images are ${images.join(', ')}`),
    },
    size: { oneOf: data.sizes, hint: `sizes are ${data.sizes[0]} … ${data.sizes.at(-1)}` },
    color: { oneOf: ['gray', 'rgb'] },
    weight: { param: 'w', check: (w) => kernelProblem(w, L) },
    bias: { param: 'b', read: numbers, write: joined },
    stride: { read: pair, write: joined, int: true, min: 1, max: L.max_stride },
    padding: {
      param: 'pad',
      read: (raw) => (raw === 'same' || raw === 'valid' ? raw : pair(raw)),
      write: (v) => (typeof v === 'string' ? v : joined(v)),
      int: true,
      min: 0,
      max: L.max_padding,
    },
    padding_mode: { param: 'mode', oneOf: ['zeros', 'reflect', 'replicate', 'circular'] },
    dilation: { param: 'dil', read: pair, write: joined, int: true, min: 1, max: L.max_dilation },
    relu: {},
    filter: { param: 'f', int: true, min: 0 },
    step: { int: true, min: 0 },
  };
}

// Writers only (no checks): what encode needs, also when another page links to /conv.
const WRITERS = fields({ limits: {}, samples: [], sizes: [0] });

// The classroom keys of the current address travel too (only `present` when another page
// builds a link to /conv).
export function encode(state) {
  const q = writeParams(new URLSearchParams(), state, null, WRITERS);
  keepClassroomKeys(q, /\/conv\/?$/.test(window.location.pathname));
  return `?${q.toString()}`;
}

// The settings that depend on each other, made consistent: kernels with one channel per input
// channel (a link with RGB kernels and no colour means RGB), one bias per filter, a filter
// that exists. `ignored` gets what had to be dropped.
function reconcile(state, q, ignored) {
  const channels = state.weight[0].length;
  if (!q.has('color') && channels === 3) state.color = 'rgb';
  state.weight = state.weight.map((k) => withChannels(k, state.color === 'rgb' ? 3 : 1));
  const n = state.weight.length;
  if (state.bias.length !== n) {
    if (q.has('b'))
      ignored.push({ name: 'b', raw: q.get('b'), why: `expected ${n} number${n > 1 ? 's' : ''}, one per filter` });
    state.bias = state.weight.map(() => 0);
  }
  if (state.filter >= n) {
    ignored.push({
      name: 'f',
      raw: q.get('f'),
      why: `there ${n > 1 ? `are ${n} filters` : 'is 1 filter'}, counted from 0`,
    });
    state.filter = 0;
  }
  return state;
}

// The page's state from its own address, with a note naming whatever the link gave that
// could not be used.
export function decode(defaults, data) {
  return fromAddress(defaults, fields(data), { strict: true, reconcile });
}
