// Classroom mode on every page: presenter view (p, ?present=1), hidden controls (?hide=),
// a link to the exact view, the keys (with the `?` overlay) and export (PNG, SVG, WebM).
// Loaded by base.html after the page's own module.

import './a11y.js'; // every page's maps and charts labelled, wide boxes scrollable by keyboard
import { activeStepper } from './stepper.js';
import { copyText } from './clipboard.js';
import { canRecord, download, SIZE, stepVideo, viewPNG, viewSVG } from './classroom/export.js';
import { registerKeys } from './classroom/keys.js';
import { presenter } from './classroom/mode.js';
import { keysOpen, openKeys } from './classroom/overlay.js';
import { installPlotlyPresenter } from './classroom/plotly-present.js';
import { Presenter } from './classroom/presenter.js';
import { guardHistory } from './classroom/url-keys.js';
import { onPlotly } from './kit/plotly-ready.js';

const $ = (id) => document.getElementById(id);
const status = $('classroom-status');

guardHistory();
onPlotly(installPlotlyPresenter); // Plotly.js loads after the page's first picture
const view = new Presenter();

function say(text, data = {}) {
  if (!status) return;
  status.textContent = text;
  for (const [key, value] of Object.entries(data)) status.dataset[key] = value;
}

// ---- the link to this exact view --------------------------------------------------------

// The page's own "copy link" first writes its settings into the address (its address
// updates are otherwise a moment late); the guarded address keeps present and hide.
async function copyLink() {
  $('copy-link')?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  const link = window.location.href;
  say('', { link });
  await copyText(link, status, 'Link copied: it reopens this exact view.');
}

// ---- export -----------------------------------------------------------------------------

const slug = () => window.location.pathname.replace(/^\/|\/$/g, '').replace(/\W+/g, '-') || 'index';
const stepPart = () => {
  const s = activeStepper();
  return s?.total ? `-step${s.index + 1}` : '';
};

let busy = false;
async function exportAs(kind) {
  if (busy) return;
  busy = true;
  closeMenu();
  document.body.dataset.exporting = kind;
  try {
    const name = `layerlab-${slug()}${stepPart()}`;
    if (kind === 'png') {
      say('Drawing the PNG…');
      download(await viewPNG(), `${name}.png`);
      say(`PNG saved (${SIZE.width}×${SIZE.height}).`, { exported: 'png' });
    } else if (kind === 'svg') {
      say('Drawing the SVG…');
      download(await viewSVG(), `${name}.svg`);
      say(`SVG saved (${SIZE.width}×${SIZE.height}).`, { exported: 'svg' });
    } else if (kind === 'webm') {
      const stepper = activeStepper();
      if (!stepper || !canRecord()) {
        say(stepper ? 'This browser cannot record video.' : 'This page has no step-through to record.');
        return;
      }
      const blob = await stepVideo(stepper, (k, n) => say(`Recording step ${k} of ${n}…`));
      download(blob, `layerlab-${slug()}-steps.webm`);
      say(`Video saved (${SIZE.width}×${SIZE.height}, WebM).`, { exported: 'webm' });
    }
  } catch (err) {
    say(`Export failed: ${err.message || err}`);
  } finally {
    busy = false;
    delete document.body.dataset.exporting;
  }
}

const menuButton = $('export-toggle');
const menu = $('export-list');

function closeMenu() {
  if (!menu || menu.hidden) return;
  menu.hidden = true;
  menuButton.setAttribute('aria-expanded', 'false');
}

function setUpMenu() {
  if (!menu || !menuButton) return;
  const video = menu.querySelector('[data-export="webm"]');
  if (video) video.hidden = !activeStepper() || !canRecord();
  menuButton.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    menuButton.setAttribute('aria-expanded', String(open));
    if (video) video.hidden = !activeStepper() || !canRecord();
    if (open) menu.querySelector('button:not([hidden])')?.focus();
  });
  menu.addEventListener('click', (e) => {
    const kind = e.target.closest('[data-export]')?.dataset.export;
    if (kind) exportAs(kind);
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      closeMenu();
      menuButton.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!e.target.closest('.export-menu')) closeMenu();
  });
}

// ---- keys -------------------------------------------------------------------------------

// The page's first tab row: [ and ] move to the previous / next tab, 1–9 pick one, each a click.
function switchTab(e) {
  const tabs = [...(document.querySelector('[role="tablist"]')?.querySelectorAll('button, [role="tab"]') || [])].filter(
    (b) => !b.disabled && b.getClientRects().length,
  );
  if (!tabs.length) return false;
  const now = Math.max(
    0,
    tabs.findIndex((b) => b.getAttribute('aria-selected') === 'true' || b.getAttribute('aria-pressed') === 'true'),
  );
  let next;
  if (e.key === ']') next = (now + 1) % tabs.length;
  else if (e.key === '[') next = (now - 1 + tabs.length) % tabs.length;
  else next = Number(e.key) - 1;
  if (!(next >= 0 && next < tabs.length)) return false;
  tabs[next].click();
  return true;
}

const ACTIONS = {
  p: () => view.set(!presenter()),
  P: () => view.set(!presenter()),
  a: () => {
    if (!presenter()) return false;
    view.arrange(!view.arranging);
    return true;
  },
  '?': () => openKeys(),
};

function onKey(e) {
  const t = e.target;
  const typing =
    t instanceof HTMLElement &&
    (t.isContentEditable ||
      t.matches('input:not([type=checkbox]):not([type=radio]):not([type=range]):not([type=button]), textarea, select'));
  if (typing || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || keysOpen()) return;
  let done;
  if (ACTIONS[e.key]) done = ACTIONS[e.key]() !== false;
  else if (e.key === '[' || e.key === ']' || /^[1-9]$/.test(e.key)) done = switchTab(e);
  else if (e.key === 'Escape' && view.arranging) {
    view.arrange(false);
    done = true;
  }
  if (done) e.preventDefault();
}

registerKeys('Page', [
  ['[ / ]', 'previous / next tab of the page'],
  ['1 … 9', 'pick a tab by its number'],
]);
registerKeys('Classroom', [
  ['p', 'presenter view on / off'],
  ['a', 'in presenter view: choose controls to hide (Escape: done)'],
  ['?', 'this list of keys (Escape closes it)'],
]);

document.addEventListener('keydown', onKey);
$('keys-help')?.addEventListener('click', () => openKeys());
$('classroom-copy-link')?.addEventListener('click', copyLink);
setUpMenu();
