// Accessibility for whatever a page draws, on every page (classroom.js imports it):
// - a box that scrolls sideways (a wide formula or table on a phone) becomes keyboard-focusable,
//   so it can be scrolled without a mouse; one that fits leaves the tab order again;
// - every map (MapView) gets role="img" and a label naming it, its size and its value range,
//   and every Plotly chart role="figure" and a label from its title and axes, so a screen
//   reader announces what a picture shows. The numbers themselves stay text elsewhere: the
//   cells' numbers, the hover/tap tooltip and the equations under each step-through.
// Checked a moment after the page changes (not on every frame of a step-through).

import { fmt } from './format.js';
import { probe } from './probe.js';

const SCROLLERS = [
  '.formula',
  '.rnn-formulas > div',
  '.table-wrap',
  'main table',
  '.layer-table table',
  '.api-model',
  '.torch-code pre',
  '.torch-block pre',
  '#add-equation',
  '.kernel-editor',
  '.rnn-cell',
  '.channel-flow',
  '.residual-flow',
  '.norm-grid',
  '.js-plotly-plot',
  '.step-views > *',
  '.chart-row > *',
  '.maps > *',
].join(', ');
const DELAY_MS = 200;

const plain = (html) =>
  String(html ?? '')
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

function scrollers() {
  const boxes = new Set([...document.querySelectorAll('.mapview')].map((m) => m.parentElement));
  for (const el of [...document.querySelectorAll(SCROLLERS), ...boxes]) {
    const style = getComputedStyle(el);
    const wide = el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(style.overflowX);
    const ours = el.dataset.a11yScroll === '1';
    if (wide && !el.hasAttribute('tabindex')) {
      el.tabIndex = 0;
      el.dataset.a11yScroll = '1';
    } else if (!wide && ours) {
      el.removeAttribute('tabindex');
      delete el.dataset.a11yScroll;
    }
  }
}

function mapLabel(el) {
  const view = Object.values(probe.maps).find((m) => m.el === el);
  const title = plain(view?.title || el.querySelector('.gtitle')?.textContent) || 'map';
  if (!view?.rows) return title;
  const range = view.values ? `, colour scale ${fmt(view.lo)} to ${fmt(view.hi)}` : '';
  return `${title}: ${view.rows} by ${view.cols} map${range}`;
}

function chartLabel(gd) {
  const { layout = {} } = gd;
  const text = (t) => plain(typeof t === 'string' ? t : t?.text);
  const title = text(layout.title) || plain(gd.querySelector('.gtitle')?.textContent) || 'chart';
  const x = text(layout.xaxis?.title),
    y = text(layout.yaxis?.title);
  const axes = [x && `x: ${x}`, y && `y: ${y}`].filter(Boolean).join(', ');
  return axes ? `${title} (${axes})` : title;
}

function pictures() {
  for (const el of document.querySelectorAll('.mapview')) {
    setAttr(el, 'role', 'img');
    setAttr(el, 'aria-label', mapLabel(el));
  }
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd.closest('.mapview')) continue;
    if (!gd.hasAttribute('role')) gd.setAttribute('role', 'figure');
    if (!gd.dataset.a11yLabel && gd.getAttribute('aria-label')) gd.dataset.a11yLabel = 'own';
    if (gd.dataset.a11yLabel !== 'own') {
      gd.dataset.a11yLabel = 'auto';
      setAttr(gd, 'aria-label', chartLabel(gd));
    }
  }
}

// probe.a11yPending: a check is due (tests wait for it before auditing)
let timer = null;
function soon() {
  if (timer) return;
  probe.a11yPending = true;
  timer = setTimeout(() => {
    timer = null;
    scrollers();
    pictures();
    probe.a11yPending = false;
  }, DELAY_MS);
}

// Our own attribute changes do not retrigger: only child lists and text are watched.
new MutationObserver(soon).observe(document.body, { childList: true, subtree: true, characterData: true });
window.addEventListener('resize', soon);
soon();
