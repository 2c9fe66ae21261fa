// Presenter view's page furniture: the top-bar toggle, the controls aside collapsed to a
// slim bar that expands, and "arrange" mode, in which each control group gets a hide
// toggle. The hidden groups travel in the address (?hide=<ids>) and stay hidden in
// presenter view; leaving presenter view shows everything again.

import { presenter, setPresenter } from './mode.js';
import { setAddressKey } from './url-keys.js';

const HIDDEN = 'data-teacher-hidden';
// On a phone the settings start folded behind their button, so the page's picture comes first.
const PHONE = window.matchMedia('(max-width: 700px)');
const $ = (id) => document.getElementById(id);

// The groups a teacher may hide: each direct child of the controls aside and of the stage,
// the stepper bar and the tab rows. A page without that skeleton offers its top-level parts.
// Each gets a stable id: its own id, else its aria-label as a slug, else its place
// (a3 = the aside's 4th child, s2 = the stage's 3rd).
export function hideables() {
  const found = new Map();
  // a visually hidden heading is for screen readers only: nothing a teacher sees to hide
  const skip = 'script, template, .controls-toggle, .visually-hidden, [role="alert"], .tooltip';
  const add = (el, fallback) => {
    if ([...found.values()].includes(el)) return;
    const label = (el.getAttribute('aria-label') || '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    const id = [el.id, label, fallback].find((k) => k && !found.has(k));
    if (id) found.set(id, el);
  };
  const kids = (parent) => [...parent.children].filter((el) => el instanceof HTMLElement && !el.matches(skip));
  const aside = document.querySelector('.page > aside.controls');
  const stage = document.querySelector('.page > .stage');
  if (aside) kids(aside).forEach((el, i) => add(el, `a${i}`));
  if (stage) {
    kids(stage).forEach((el, i) => add(el, `s${i}`));
    stage.querySelectorAll('.stepper, [role="tablist"]').forEach((el, i) => add(el, `t${i}`));
  }
  if (!aside && !stage) {
    const top = document.querySelector('main > *');
    if (top) kids(top).forEach((el, i) => add(el, `m${i}`));
  }
  return found;
}

function groupName(el, id) {
  const label = el.getAttribute('aria-label');
  const heading = el.querySelector('h2, h3, legend');
  const text = label || heading?.textContent || el.querySelector('label, button')?.textContent || id;
  return text.replace(/\s+/g, ' ').trim().slice(0, 40);
}

export class Presenter {
  constructor() {
    this.toggle = $('presenter-toggle');
    this.arrangeButton = $('arrange-toggle');
    this.layer = null;
    this.arranging = false;
    const q = new URLSearchParams(window.location.search);
    this.hidden = new Set((q.get('hide') || '').split(',').filter((s) => /^[\w-]+$/.test(s)));
    this.page = document.querySelector('.page');
    this.aside = document.querySelector('.page > aside.controls');
    if (this.aside) this._slimBar();
    this.toggle?.addEventListener('click', () => this.set(!presenter()));
    this.arrangeButton?.addEventListener('click', () => this.arrange(!this.arranging));
    window.addEventListener('resize', () => this._place());
    PHONE.addEventListener('change', () => this.show());
    this.applyHidden();
    this.show();
  }

  set(on) {
    setPresenter(on);
    setAddressKey('present', on ? '1' : null);
    if (!on) this.arrange(false);
    this.show();
  }

  // Reflect the mode in the buttons and the aside.
  show() {
    const on = presenter();
    if (this.toggle) {
      this.toggle.setAttribute('aria-pressed', String(on));
      this.toggle.textContent = on ? 'Presenter: on' : 'Presenter';
    }
    if (this.arrangeButton) this.arrangeButton.hidden = !on;
    this._openAside((!on && !PHONE.matches) || this.arranging);
  }

  // The aside's own toggle, shown only in presenter view.
  _slimBar() {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'controls-toggle';
    b.setAttribute('aria-expanded', 'false');
    b.textContent = 'Settings';
    b.title = 'Show or hide the settings';
    b.addEventListener('click', () => this._openAside(!this.page.classList.contains('controls-open')));
    this.aside.prepend(b);
    this.slimButton = b;
  }

  _openAside(open) {
    if (!this.page || !this.aside) return;
    this.page.classList.toggle('controls-open', Boolean(open));
    this.slimButton.setAttribute('aria-expanded', String(Boolean(open)));
    this.slimButton.textContent = open ? 'Hide settings' : 'Settings';
    this._place();
  }

  applyHidden() {
    for (const [id, el] of hideables()) el.toggleAttribute(HIDDEN, this.hidden.has(id));
    document.body.dataset.hidden = [...this.hidden].join(',');
  }

  hide(id, on) {
    if (on) this.hidden.add(id);
    else this.hidden.delete(id);
    this.applyHidden();
    setAddressKey('hide', [...this.hidden].sort().join(',') || null);
    this._renderLayer();
  }

  // Arrange mode: a hide toggle over the corner of each group; hidden groups show dimmed.
  arrange(on) {
    this.arranging = on && presenter();
    document.documentElement.classList.toggle('arranging', this.arranging);
    if (this.arrangeButton) {
      this.arrangeButton.setAttribute('aria-pressed', String(this.arranging));
      this.arrangeButton.textContent = this.arranging ? 'Done hiding' : 'Hide controls';
    }
    this._openAside(this.arranging || (!presenter() && !PHONE.matches));
    this._renderLayer();
  }

  _renderLayer() {
    if (!this.arranging) {
      this.layer?.remove();
      this.layer = null;
      return;
    }
    if (!this.layer) {
      this.layer = document.createElement('div');
      this.layer.className = 'arrange-layer';
      this.layer.setAttribute('role', 'group');
      this.layer.setAttribute('aria-label', 'Hide or show each part of the page');
      document.body.append(this.layer);
    }
    const buttons = [];
    for (const [id, el] of hideables()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'hide-toggle';
      b.dataset.target = id;
      const hidden = this.hidden.has(id);
      const name = groupName(el, id);
      b.setAttribute('aria-pressed', String(hidden));
      b.setAttribute('aria-label', `${hidden ? 'Show' : 'Hide'} ${name}`);
      b.textContent = hidden ? 'show' : 'hide';
      b.addEventListener('click', () => {
        this.hide(id, !this.hidden.has(id));
        this.layer?.querySelector(`[data-target="${id}"]`)?.focus();
      });
      b._for = el;
      buttons.push(b);
    }
    this.layer.replaceChildren(...buttons);
    this._place();
  }

  // Each toggle sits on the top-right corner of its group, in page coordinates.
  _place() {
    if (!this.layer) return;
    for (const b of this.layer.children) {
      const box = b._for.getBoundingClientRect();
      b.hidden = box.width === 0 && box.height === 0;
      b.style.left = `${Math.max(0, box.right + window.scrollX - 56)}px`;
      b.style.top = `${box.top + window.scrollY}px`;
    }
  }
}
