// The family page's state in the URL: ?variant=<tab>&<that tab's settings>&step=<n>.
// Each setting is read back as the type of its default: numbers, strings, booleans
// ('1'/'0'), and anything else (lists, matrices, null) as JSON.

export function encode(variant, state, step) {
  const q = new URLSearchParams();
  q.set('variant', variant);
  for (const [key, value] of Object.entries(state)) {
    if (typeof value === 'boolean') q.set(key, value ? '1' : '0');
    else if (typeof value === 'number' || typeof value === 'string') q.set(key, String(value));
    else q.set(key, JSON.stringify(value));
  }
  if (step !== null) q.set('step', String(step));
  return `?${q.toString()}`;
}

// Missing or unreadable fields fall back to `defaults`; the server validates the rest.
export function decode(q, defaults) {
  const state = structuredClone(defaults);
  for (const [key, fallback] of Object.entries(defaults)) {
    if (!q.has(key)) continue;
    const raw = q.get(key);
    if (typeof fallback === 'boolean') state[key] = raw === '1';
    else if (typeof fallback === 'number') state[key] = Number.isFinite(Number(raw)) && raw !== '' ? Number(raw) : fallback;
    else if (typeof fallback === 'string') state[key] = raw;
    else {
      try { state[key] = JSON.parse(raw); } catch { /* keep the default */ }
    }
  }
  return state;
}
