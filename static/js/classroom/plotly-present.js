// Plotly figures in presenter view: every figure a page draws with Plotly.newPlot or
// Plotly.react gets bigger, black type and wider margins to hold it, and is drawn again
// when the view is toggled. MapView frames are left alone: MapView sizes its own.

import { PRESENTER_EVENT, SCALE, presenter } from './mode.js';

const BASE_FONT = 12; // Plotly's default layout.font.size
const MARGIN = 1.5; // margins grow with the type they hold
const FONT_KEYS = new Set(['font', 'tickfont', 'titlefont']);
const figures = new WeakMap(); // graph div -> {layout, config} as the page last gave them

const own = (gd) => (typeof gd === 'string' ? document.getElementById(gd) : gd);
const skip = (el) => !el?.closest || Boolean(el.closest('.mapview'));

// Presenter's version of a layout (a copy; the page's object is not touched).
export function presentLayout(layout) {
  const out = structuredClone(layout || {});
  const walk = (obj) => {
    for (const [key, value] of Object.entries(obj)) {
      if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) continue;
      if (FONT_KEYS.has(key) && !Array.isArray(value) && typeof value.size === 'number') {
        value.size = Math.round(value.size * SCALE.font);
      }
      walk(value);
    }
  };
  walk(out);
  out.font = { ...(out.font || {}), color: '#000' };
  if (typeof layout?.font?.size !== 'number') out.font.size = Math.round(BASE_FONT * SCALE.font);
  if (out.margin) {
    for (const side of ['l', 'r', 't', 'b']) {
      if (typeof out.margin[side] === 'number') out.margin[side] = Math.round(out.margin[side] * MARGIN);
    }
  }
  return out;
}

function shown(layout) {
  if (!presenter()) return layout;
  try {
    return presentLayout(layout);
  } catch {
    return layout;
  }
}

// Wrap Plotly's two whole-figure calls (array form and figure-object form).
export function installPlotlyPresenter() {
  const P = window.Plotly;
  if (!P || P.__layerlabPresenter) return;
  P.__layerlabPresenter = true;
  for (const name of ['newPlot', 'react']) {
    const original = P[name].bind(P);
    P[name] = (gd, data, layout, config) => {
      const el = own(gd);
      if (skip(el)) return original(gd, data, layout, config);
      if (data && !Array.isArray(data) && typeof data === 'object') {
        figures.set(el, { layout: data.layout, config: data.config });
        return original(gd, { ...data, layout: shown(data.layout) });
      }
      figures.set(el, { layout, config });
      return original(gd, data, shown(layout), config);
    };
  }
  document.addEventListener(PRESENTER_EVENT, redrawAll);
  if (presenter()) redrawAll(); // figures the page drew before this module ran
}

// Draw every Plotly figure on the page again in the current view.
function redrawAll() {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (skip(gd) || !gd.data) continue;
    const fig = figures.get(gd) || { layout: gd.layout, config: undefined };
    figures.set(gd, fig);
    window.Plotly.react(gd, gd.data, fig.layout, fig.config);
  }
}
