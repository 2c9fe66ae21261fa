// A page's settings in the URL, each read back as the type of its default: numbers,
// strings, booleans ('1'/'0'), and anything else (pairs, lists, matrices, null) as JSON.

import { keepClassroomKeys } from './classroom/url-keys.js';

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Write `state` into the URLSearchParams `q`; with `defaults`, only the settings that differ.
export function writeParams(q, state, defaults = null) {
  for (const [key, value] of Object.entries(state)) {
    if (defaults && same(value, defaults[key])) continue;
    if (typeof value === 'boolean') q.set(key, value ? '1' : '0');
    else if (typeof value === 'number' || typeof value === 'string') q.set(key, String(value));
    else q.set(key, JSON.stringify(value));
  }
  return q;
}

// Missing or unreadable fields fall back to `defaults`; the server validates the rest.
export function readParams(q, defaults) {
  const state = structuredClone(defaults);
  for (const [key, fallback] of Object.entries(defaults)) {
    if (!q.has(key)) continue;
    const raw = q.get(key);
    if (typeof fallback === 'boolean') state[key] = raw === '1';
    else if (typeof fallback === 'number')
      state[key] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : fallback;
    else if (typeof fallback === 'string') state[key] = raw;
    else {
      try {
        state[key] = JSON.parse(raw);
      } catch {
        /* keep the default */
      }
    }
  }
  return state;
}

// The query string of the settings that differ from the defaults (the bare path when none do),
// plus the classroom keys (presenter view, hidden controls, lesson) the address already has.
export function encode(state, defaults) {
  const text = keepClassroomKeys(writeParams(new URLSearchParams(), state, defaults)).toString();
  return text ? `?${text}` : window.location.pathname;
}

export function decode(search, defaults) {
  return readParams(new URLSearchParams(search), defaults);
}
