// The `?` overlay: a modal dialog listing every key section registered with keys.js.
// Escape closes it (the dialog's own cancel); focus stays inside while it is open and goes
// back where it was when it closes.

import { keySections } from './keys.js';

let dialog = null;
let returnTo = null;

function build() {
  dialog = document.createElement('dialog');
  dialog.id = 'keys-overlay';
  dialog.className = 'keys-overlay';
  dialog.setAttribute('aria-labelledby', 'keys-overlay-title');
  dialog.addEventListener('close', () => {
    if (returnTo?.isConnected) returnTo.focus();
    returnTo = null;
  });
  // a click on the backdrop (outside the dialog's box) closes it too
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener('keydown', trapTab);
  document.body.append(dialog);
}

// Tab and Shift+Tab cycle through the dialog's own buttons, never out to the browser.
function trapTab(e) {
  if (e.key !== 'Tab') return;
  const stops = [...dialog.querySelectorAll('button, [href], [tabindex]:not([tabindex="-1"])')];
  if (!stops.length) return;
  const i = stops.indexOf(document.activeElement);
  const next = e.shiftKey ? (i <= 0 ? stops.length - 1 : i - 1) : (i + 1) % stops.length;
  e.preventDefault();
  stops[next].focus();
}

function fill() {
  const head = document.createElement('div');
  head.className = 'keys-head';
  const title = document.createElement('h2');
  title.id = 'keys-overlay-title';
  title.textContent = 'Keyboard keys';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'keys-close';
  close.textContent = 'Close';
  close.setAttribute('aria-label', 'Close the list of keys (Escape)');
  close.addEventListener('click', () => dialog.close());
  head.append(title, close);
  const body = document.createElement('div');
  body.className = 'keys-sections';
  for (const [section, entries] of keySections()) {
    const part = document.createElement('section');
    const h = document.createElement('h3');
    h.textContent = section;
    const list = document.createElement('dl');
    for (const [key, what] of entries) {
      const dt = document.createElement('dt');
      for (const [i, k] of key.split(' / ').entries()) {
        if (i) dt.append(' / ');
        const kbd = document.createElement('kbd');
        kbd.textContent = k;
        dt.append(kbd);
      }
      const dd = document.createElement('dd');
      dd.textContent = what;
      list.append(dt, dd);
    }
    part.append(h, list);
    body.append(part);
  }
  dialog.replaceChildren(head, body);
  return close;
}

export function openKeys() {
  if (!dialog) build();
  if (dialog.open) return;
  returnTo = document.activeElement;
  const close = fill(); // built now: modules register their keys until the page is used
  dialog.showModal();
  close.focus();
}

export function keysOpen() {
  return Boolean(dialog?.open);
}
