// Point at a step's subject. Once the page has drawn, scroll so the step's focus elements (and
// what a predict step covers) sit in the space between the lesson bar and the window's bottom,
// ring each focus element and dim the rest of the page. The marks follow the page as it redraws.

import { PRESENTER_EVENT } from '../classroom/mode.js';
import { probe } from '../probe.js';

const SVG = 'http://www.w3.org/2000/svg';
const GAP = 8; // px kept free above and below the subject
const PAD = 5; // px between an element and its ring
const WAIT_MS = 15_000; // give up waiting for the page after this long and point at what is there
const SETTLE_MS = 1_500; // re-place the subject while late layout moves it, unless the user scrolls

const drawn = (el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
};
const matches = (selectors) => selectors.flatMap((s) => [...document.querySelectorAll(s)]).filter(drawn);
const union = (rects) => ({
  top: Math.min(...rects.map((r) => r.top)),
  bottom: Math.max(...rects.map((r) => r.bottom)),
});

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export class Spotlight {
  // bar: the lesson bar (the subject goes below it); focus: selectors ringed; also: selectors kept
  // on screen and undimmed (a predict step's cover), not ringed.
  constructor(bar, focus, also = []) {
    this.bar = bar;
    this.focus = focus;
    this.also = also;
    this.marked = [];
    this.frame = 0;
    this.settleUntil = 0;
    this.layer = this.buildLayer();
    this.schedule = () => {
      if (!this.frame) this.frame = requestAnimationFrame(() => this.update());
    };
    this.stopSettling = () => {
      this.settleUntil = 0;
    };
    // Presenter view on or off resizes the bar and the figures: place the subject again once
    // the page has laid itself out for the new view.
    this.replace = () => requestAnimationFrame(() => requestAnimationFrame(() => this.place()));
  }

  buildLayer() {
    const layer = svgEl('svg', { class: 'lesson-spotlight', 'aria-hidden': 'true', 'data-state': 'waiting' });
    const mask = svgEl('mask', { id: 'lesson-spot-mask', maskUnits: 'userSpaceOnUse' });
    this.holes = svgEl('g', { fill: '#000' });
    mask.append(svgEl('rect', { x: 0, y: 0, width: '100%', height: '100%', fill: '#fff' }), this.holes);
    const defs = svgEl('defs', {});
    defs.append(mask);
    this.rings = svgEl('g', { class: 'lesson-rings' });
    const dim = svgEl('rect', { class: 'lesson-dim', width: '100%', height: '100%', mask: 'url(#lesson-spot-mask)' });
    layer.append(defs, dim, this.rings);
    return layer;
  }

  // Wait for the page to draw: no request in flight and every focus selector matching a drawn
  // element, two frames in a row; then place the subject and mark it.
  start() {
    const deadline = performance.now() + WAIT_MS;
    let calm = 0;
    const wait = () => {
      if (this.stopped) return;
      const ok = probe.busy === 0 && this.focus.every((s) => matches([s]).length > 0);
      calm = ok ? calm + 1 : 0;
      if (calm >= 2 || performance.now() > deadline) this.show();
      else requestAnimationFrame(wait);
    };
    requestAnimationFrame(wait);
  }

  show() {
    document.body.append(this.layer);
    this.place();
    this.update();
    this.layer.dataset.state = 'ready';
    this.settleUntil = performance.now() + SETTLE_MS;
    for (const type of ['wheel', 'touchstart', 'pointerdown', 'keydown'])
      window.addEventListener(type, this.stopSettling, { capture: true, passive: true });
    window.addEventListener('scroll', this.schedule, { capture: true, passive: true });
    window.addEventListener('resize', this.schedule);
    document.addEventListener(PRESENTER_EVENT, this.replace);
    this.mutations = new MutationObserver((records) => {
      if (records.some((r) => !this.layer.contains(r.target))) this.schedule();
    });
    this.mutations.observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['hidden', 'class', 'style'],
    });
    this.sizes = new ResizeObserver(this.schedule);
    this.sizes.observe(document.body);
  }

  // The rectangle to bring into view: focus and cover together if they fit below the bar,
  // else the first focus element alone.
  target(room) {
    const all = matches([...this.focus, ...this.also]).map((el) => el.getBoundingClientRect());
    if (!all.length) return null;
    const whole = union(all);
    if (whole.bottom - whole.top <= room) return whole;
    const first = matches(this.focus)[0] || matches(this.also)[0];
    return first.getBoundingClientRect();
  }

  // Scroll as little as it takes; a few passes, since the sticky bar moves while the page is near its top.
  // Whether the subject fits is judged against the room left once the bar has stuck to the top of
  // the window (near the page's top it still sits lower, under the header, and the scroll lifts it).
  place() {
    const bar = this.bar.getBoundingClientRect();
    const stuck = (Number.parseFloat(getComputedStyle(this.bar).top) || 0) + bar.height + GAP;
    for (let pass = 0; pass < 4; pass++) {
      const top = this.bar.getBoundingClientRect().bottom + GAP;
      const bottom = window.innerHeight - GAP;
      const t = this.target(bottom - Math.min(top, stuck));
      if (!t) return;
      let delta = 0;
      if (t.top < top) delta = t.top - top;
      else if (t.bottom > bottom) delta = Math.min(t.bottom - bottom, t.top - top);
      if (Math.abs(delta) < 1) return;
      const before = window.scrollY;
      window.scrollBy({ top: delta, behavior: 'instant' });
      if (window.scrollY === before) return; // the page cannot scroll further
    }
  }

  // Re-find the elements (a redraw may replace them) and move the holes and rings onto them.
  update() {
    this.frame = 0;
    if (this.stopped) return;
    if (performance.now() < this.settleUntil) this.place();
    const focus = matches(this.focus);
    const also = matches(this.also).filter((el) => !focus.includes(el));
    for (const el of this.marked) if (!focus.includes(el)) delete el.dataset.lessonFocus;
    for (const el of focus) el.dataset.lessonFocus = '';
    this.marked = focus;
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return {
        x: r.left - PAD,
        y: r.top - PAD,
        width: r.width + 2 * PAD,
        height: r.height + 2 * PAD,
        rx: 6,
      };
    };
    this.holes.replaceChildren(...[...focus, ...also].map((el) => svgEl('rect', box(el))));
    this.rings.replaceChildren(
      ...focus.flatMap((el) => [
        svgEl('rect', { ...box(el), class: 'lesson-halo' }),
        svgEl('rect', { ...box(el), class: 'lesson-ring' }),
      ]),
    );
  }

  stop() {
    this.stopped = true;
    cancelAnimationFrame(this.frame);
    for (const type of ['wheel', 'touchstart', 'pointerdown', 'keydown'])
      window.removeEventListener(type, this.stopSettling, { capture: true });
    window.removeEventListener('scroll', this.schedule, { capture: true });
    window.removeEventListener('resize', this.schedule);
    document.removeEventListener(PRESENTER_EVENT, this.replace);
    this.mutations?.disconnect();
    this.sizes?.disconnect();
    for (const el of this.marked) delete el.dataset.lessonFocus;
    this.marked = [];
    this.layer.remove();
  }
}
