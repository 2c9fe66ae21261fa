// A page's settings in the URL, each read back as the type of its default: numbers,
// strings, booleans ('1'/'0'), and anything else (pairs, lists, matrices, null) as JSON.
// Any subset of settings may be given; each missing one keeps its default, and each one that
// cannot be read keeps its default too and is named (with its raw text and why) so the page
// can say so instead of dropping it in silence.
//
// A page may describe a setting further in `spec[key]`, all optional:
//   param   its name in the address when it differs from the state's key (conv's 'w')
//   read    raw text -> value; throws an Error whose message says why it cannot be read
//   write   value -> raw text
//   oneOf   the allowed values;   int, min, max   for numbers (and every number of a list)
//   check   value -> why it is not allowed, or '' when it is
//   hint    what to say when a value is refused ('sizes are 5 … 256')

import { keepClassroomKeys, CLASSROOM_KEYS } from './classroom/url-keys.js';
import { noteIgnored } from './kit/notice.js';

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Write `state` into the URLSearchParams `q`; with `defaults`, only the settings that differ.
export function writeParams(q, state, defaults = null, spec = {}) {
  for (const [key, value] of Object.entries(state)) {
    if (defaults && same(value, defaults[key])) continue;
    const s = spec[key] || {};
    const name = s.param || key;
    if (s.write) q.set(name, s.write(value));
    else if (typeof value === 'boolean') q.set(name, value ? '1' : '0');
    else if (typeof value === 'number' || typeof value === 'string') q.set(name, String(value));
    else q.set(name, JSON.stringify(value));
  }
  return q;
}

// A list's allowed values in a few words: 'one of a, b, c', or 'one of 5, 8 … 256' for a long list.
export function allowedText(values) {
  const shown = values.map(String);
  return `one of ${shown.length > 6 ? `${shown[0]}, ${shown[1]} … ${shown.at(-1)}` : shown.join(', ')}`;
}

// Why a parsed JSON value does not have the shape of its default ('' when it does): the same
// kind at every level (list, object, number, text, true/false); a null default takes anything.
export function shapeProblem(value, fallback) {
  if (fallback === null || fallback === undefined) return '';
  // one number for both sides where the default is a pair (as torch takes kernel_size=3)
  const flat = Array.isArray(fallback) && fallback.every((v) => typeof v === 'number');
  if (flat && typeof value === 'number') return Number.isFinite(value) ? '' : 'expected a number';
  const kind = (v) => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v);
  const words = { list: 'a list', object: 'an object', number: 'a number', string: 'text', boolean: 'true or false' };
  if (kind(value) !== kind(fallback)) return `expected ${words[kind(fallback)] || kind(fallback)}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return 'expected a number';
  if (Array.isArray(value) && fallback.length) {
    for (const item of value) {
      const why = shapeProblem(item, fallback[0]);
      if (why) return `${why} in the list`;
    }
  }
  return '';
}

// Why a number (or every number of a nested list) breaks `int`/`min`/`max` ('' when none does).
function rangeProblem(value, { int, min, max }) {
  if (Array.isArray(value)) {
    for (const item of value) {
      const why = rangeProblem(item, { int, min, max });
      if (why) return why;
    }
    return '';
  }
  if (typeof value !== 'number') return '';
  if (int && !Number.isInteger(value)) return 'expected a whole number';
  if (min !== undefined && value < min) return `at least ${min}`;
  if (max !== undefined && value > max) return `at most ${max}`;
  return '';
}

// One raw value as the type of `fallback`; throws an Error saying why it cannot be.
function readOne(raw, fallback, s) {
  if (s.read) return s.read(raw);
  if (typeof fallback === 'boolean') {
    if (raw === '1' || raw === 'true') return true;
    if (raw === '0' || raw === 'false') return false;
    throw new Error('expected 1 or 0');
  }
  if (typeof fallback === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new Error('expected a number');
    return v;
  }
  if (typeof fallback === 'string') return raw;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('not readable as a list or value');
  }
  const why = shapeProblem(value, fallback);
  if (why) throw new Error(why);
  return value;
}

// The settings in `q` (URLSearchParams) over `defaults`: { state, ignored }, where `ignored`
// lists {name, raw, why} for each parameter that could not be read. With `strict`, parameters
// that are no setting of the page (a typo such as 'sise') are named too; the classroom keys
// and `known` ones (read elsewhere by the page) never are. `reconcile(state, q, ignored)`, when
// given, makes settings that depend on each other agree (and names what it had to drop).
export function readParams(q, defaults, spec = {}, { strict = false, known = [], reconcile = null } = {}) {
  const state = structuredClone(defaults);
  const ignored = [];
  const names = new Set([...CLASSROOM_KEYS, ...known]);
  for (const [key, fallback] of Object.entries(defaults)) {
    const s = spec[key] || {};
    const name = s.param || key;
    names.add(name);
    if (!q.has(name)) continue;
    const raw = q.get(name);
    try {
      const value = readOne(raw, fallback, s);
      let why = rangeProblem(value, s);
      if (!why && s.oneOf && !s.oneOf.some((v) => same(v, value))) why = s.hint || allowedText(s.oneOf);
      if (!why && s.check) why = s.check(value);
      if (why) throw new Error(why);
      state[key] = value;
    } catch (err) {
      ignored.push({ name, raw, why: err.message });
    }
  }
  if (strict) {
    for (const [name, raw] of q) {
      if (!names.has(name)) ignored.push({ name, raw, why: 'not a setting of this page' });
    }
  }
  return { state: reconcile ? reconcile(state, q, ignored) : state, ignored };
}

// The page's settings from its own address, with a note on the page naming whatever was
// ignored: the one call a page makes to read its link.
export function fromAddress(defaults, spec = {}, options = {}, search = window.location.search) {
  const { state, ignored } = readParams(new URLSearchParams(search), defaults, spec, options);
  noteIgnored(ignored);
  return state;
}

// The query string of the settings that differ from the defaults (the bare path when none do),
// plus the classroom keys (presenter view, hidden controls, lesson) the address already has.
export function encode(state, defaults) {
  const text = keepClassroomKeys(writeParams(new URLSearchParams(), state, defaults)).toString();
  return text ? `?${text}` : window.location.pathname;
}
