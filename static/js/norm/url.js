// The normalization page's state in the URL: only the settings that differ from the defaults.
// Each is read back as the type of its default: numbers, strings, booleans ('1'/'0'), and
// lists (the per-channel offsets and scales) as comma-separated numbers.

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function encode(state, defaults) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (same(value, defaults[key])) continue;
    if (typeof value === 'boolean') q.set(key, value ? '1' : '0');
    else if (Array.isArray(value)) q.set(key, value.join(','));
    else q.set(key, String(value));
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
    else if (Array.isArray(fallback)) {
      const values = raw.split(',').map(Number);
      if (raw !== '' && values.every(Number.isFinite)) state[key] = values;
    } else state[key] = raw;
  }
  return state;
}
