// The pooling page's state in the URL: only the settings that differ from the defaults.
// Each is read back as the type of its default: numbers, strings, booleans ('1'/'0'), and
// anything else (pairs, the matrix, the conv settings, null) as JSON.

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function encode(state, defaults) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (same(value, defaults[key])) continue;
    if (typeof value === 'boolean') q.set(key, value ? '1' : '0');
    else if (typeof value === 'number' || typeof value === 'string') q.set(key, String(value));
    else q.set(key, JSON.stringify(value));
  }
  const text = q.toString();
  return text ? `?${text}` : window.location.pathname;
}

// Missing or unreadable fields fall back to `defaults`; the server validates the rest.
export function decode(search, defaults) {
  const q = new URLSearchParams(search);
  const state = structuredClone(defaults);
  for (const [key, fallback] of Object.entries(defaults)) {
    if (!q.has(key)) continue;
    const raw = q.get(key);
    if (typeof fallback === 'boolean') state[key] = raw === '1';
    else if (typeof fallback === 'number') state[key] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : fallback;
    else if (typeof fallback === 'string') state[key] = raw;
    else {
      try { state[key] = JSON.parse(raw); } catch { /* keep the default */ }
    }
  }
  return state;
}
