// The classroom's own keys in a page's address: presenter view, hidden controls and the
// lesson being played. Pages rewrite their address from their settings; these keys are not
// settings, so every rewrite must carry them over or a reload would lose the slide.

export const CLASSROOM_KEYS = ['present', 'hide', 'lesson', 'ls'];

// Copy the classroom keys of the current address into `q` (URLSearchParams) where `q` lacks
// them. For a link to another page (`samePage` false) only `present` travels: hidden
// controls and the lesson step belong to the page they were set on.
export function keepClassroomKeys(q, samePage = true) {
  const here = new URLSearchParams(window.location.search);
  for (const key of samePage ? CLASSROOM_KEYS : ['present']) {
    if (here.has(key) && !q.has(key)) q.set(key, here.get(key));
  }
  return q;
}

// Pages with their own address code (not typed-url.js or urlstate.js) still keep the keys:
// every same-page history.replaceState/pushState passes through keepClassroomKeys. The
// lesson keys are kept only while a lesson plays, so leaving a lesson can drop them.
const raw = { replaceState: (...args) => window.history.replaceState(...args) };

export function guardHistory() {
  for (const name of ['replaceState', 'pushState']) {
    const original = window.history[name].bind(window.history);
    raw[name] = original;
    window.history[name] = (data, unused, url) => {
      if (url === undefined || url === null) return original(data, unused, url);
      const next = new URL(String(url), window.location.href);
      if (next.origin === window.location.origin && next.pathname === window.location.pathname) {
        const kept = keepClassroomKeys(new URLSearchParams(), true);
        if (!document.body.dataset.lesson) {
          kept.delete('lesson');
          kept.delete('ls');
        }
        for (const [key, value] of kept) if (!next.searchParams.has(key)) next.searchParams.set(key, value);
        return original(data, unused, next.pathname + next.search + next.hash);
      }
      return original(data, unused, url);
    };
  }
}

// Set (or, with null, remove) one classroom key in the address without a history entry,
// past the guard (which would put a removed key back).
export function setAddressKey(key, value) {
  const url = new URL(window.location.href);
  if (value === null || value === '') url.searchParams.delete(key);
  else url.searchParams.set(key, value);
  raw.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}
