// Plotly.js, loaded when a page first needs it and, for maps, only after their first picture is on
// screen. The page's head preloads the file (templates/macros.html: the bytes arrive early, nothing
// is evaluated); evaluating it is one long task (~0.5 s on a slow machine), so a map paints its
// canvas from the engine's numbers first and gets Plotly's frame (title, axes) a frame later.
// While Plotly.js is asked for and not yet evaluated the page counts as busy (probe.busy), so
// "settled" still means "drawn with its frame".

import { probe } from '../probe.js';

let resolve, reject;
const ready = new Promise((yes, no) => {
  resolve = yes;
  reject = no;
});
let asked = false; // the load has been asked for (busy counted)
let injected = false; // the <script> element is in the document

const source = () => document.querySelector('link[rel="preload"][as="script"][href*="plotly"]')?.href;

function inject() {
  if (injected) return;
  injected = true;
  if (window.Plotly) {
    done();
    return;
  }
  const script = document.createElement('script');
  script.src = source();
  script.addEventListener('load', done);
  script.addEventListener('error', () => {
    probe.busy -= 1;
    reject(new Error(`Plotly.js could not be loaded from ${script.src}`));
  });
  document.head.append(script);
}

function done() {
  probe.busy -= 1;
  resolve(window.Plotly);
}

function ask(afterPaint) {
  if (!asked) {
    asked = true;
    probe.busy += 1;
  }
  // the frame being drawn reaches the screen before Plotly's evaluation blocks the page
  if (afterPaint && !document.hidden) requestAnimationFrame(() => setTimeout(inject, 0));
  else inject();
  return ready;
}

// Plotly.js, loading it now if nothing has asked yet (pages whose first picture is a Plotly chart).
export const whenPlotly = () => (window.Plotly && injected ? ready : ask(false));

// Plotly.js, loading it once the frame being drawn is on screen (a map's frame after its canvas).
export const whenPlotlyAfterPaint = () => (window.Plotly && injected ? ready : ask(true));

// Call `fn(Plotly)` once Plotly.js is there, without asking for it (e.g. a wrapper around its calls).
export const onPlotly = (fn) => ready.then(fn);

// A chart drawn late takes room the page laid out without it: pages that size their figures to the room
// left (room.js onRoomChange) measure again, as after a resize, once per frame of late charts.
let remeasure = false;
function roomChanged() {
  if (remeasure) return;
  remeasure = true;
  probe.busy += 1; // not settled before the page has measured again
  requestAnimationFrame(() => {
    remeasure = false;
    window.dispatchEvent(new Event('resize'));
    probe.busy -= 1;
  });
}

// Plotly.react now when Plotly.js is there, else once it is (the latest figure given for `el` wins).
const waiting = new Map();
export function react(el, data, layout, config) {
  if (window.Plotly && injected) return window.Plotly.react(el, data, layout, config);
  const queued = waiting.has(el);
  waiting.set(el, [data, layout, config]);
  if (!queued) {
    whenPlotly().then((P) => {
      const args = waiting.get(el);
      waiting.delete(el);
      if (!args) return; // purged meanwhile
      roomChanged();
      return P.react(el, ...args);
    });
  }
  return ready;
}

// Plotly.purge now when Plotly.js is there; before it, only forget a figure still waiting for it.
export function purge(el) {
  waiting.delete(el);
  if (window.Plotly && injected) window.Plotly.purge(el);
}
