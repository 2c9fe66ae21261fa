// How a page starts: once every script of the document has run, so the classroom's address guard
// (classroom/url-keys.js) and the lesson player have read and guarded the address before the page
// first rewrites it; without waiting for Plotly.js, which maps do not need to paint (kit/plotly-ready.js).
// That is DOMContentLoaded: module scripts run before it, Plotly.js is never among them.

import { whenPlotly } from './plotly-ready.js';

const scriptsRan = () => (performance.getEntriesByType('navigation')[0]?.domContentLoadedEventStart ?? 0) > 0;
const loaded = new Promise((resolve) => {
  if (scriptsRan()) resolve();
  else document.addEventListener('DOMContentLoaded', () => resolve(), { once: true });
});

// Run `start` once the document's scripts have run; with `plotly`, once Plotly.js is there too (a page
// whose first picture is a Plotly chart), asking for Plotly.js at once.
export function startPage(start, { plotly = false } = {}) {
  const ready = plotly ? Promise.all([loaded, whenPlotly()]) : loaded;
  return ready.then(() => start());
}
