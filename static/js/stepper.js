// Play, pause, step, scrub and speed for any step-through, plus keyboard keys:
// left/right step (with Shift by 10), space plays or pauses, Home/End jump, and
// PageDown/PageUp (a presentation clicker) step too unless a lesson plays, whose player
// owns them. It owns the step index only; the page decides what a step shows.

import { registerKeys } from './classroom/keys.js';

const KEYS = {
  ArrowRight: 'next',
  ArrowLeft: 'prev',
  Home: 'first',
  End: 'last',
  ' ': 'play',
  PageDown: 'next',
  PageUp: 'prev',
};
const SHIFT_JUMP = 10;

export const STEP_KEYS = [
  ['→ / ←', 'next / previous step'],
  ['Shift+→ / Shift+←', `${SHIFT_JUMP} steps forward / back`],
  ['Home / End', 'first / last step'],
  ['Space', 'play / pause'],
  ['PageDown / PageUp', "next / previous step (a presentation clicker; in a lesson, the lesson's steps)"],
];

// Every stepper on the page, so other modules (the export) can drive the step-through.
const steppers = new Set();

// The stepper the page shows: the first one on screen, else the first one.
export function activeStepper() {
  const live = [...steppers].filter((s) => s.root.isConnected);
  return live.find((s) => s.root.getClientRects().length > 0) || live[0] || null;
}

// A key press that belongs to a field being typed in, or that carries a modifier: not a step key.
export function notForStepping(e) {
  const t = e.target;
  const typing = t instanceof HTMLInputElement && !['range', 'checkbox', 'radio'].includes(t.type);
  return (
    typing || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || e.ctrlKey || e.metaKey || e.altKey
  );
}

export class Stepper {
  constructor(root, { onStep }) {
    this.root = root;
    this.onStep = onStep;
    this.total = 0;
    this.index = 0;
    this.timer = null;
    this.scrub = root.querySelector('#scrub');
    this.speed = root.querySelector('#speed');
    this.playButton = root.querySelector('[data-act="play"]');
    root.addEventListener('click', (e) => {
      const act = e.target.closest('[data-act]')?.dataset.act;
      if (act) this.act(act);
    });
    this.scrub.addEventListener('input', () => this.go(Number(this.scrub.value)));
    this.speed.addEventListener('change', () => {
      if (this.timer) {
        this.pause();
        this.play();
      }
    });
    document.addEventListener('keydown', (e) => this._key(e));
    steppers.add(this);
    registerKeys('Step through', STEP_KEYS);
  }

  setTotal(total, index = this.index) {
    this.total = total;
    this.scrub.max = String(Math.max(0, total - 1));
    this.go(Math.min(Math.max(0, index), Math.max(0, total - 1)), true);
  }

  go(index, force = false) {
    const i = Math.min(Math.max(0, index), Math.max(0, this.total - 1));
    if (i === this.index && !force) return;
    this.index = i;
    this.scrub.value = String(i);
    this.onStep(i);
  }

  act(name) {
    if (name === 'play') this.timer ? this.pause() : this.play();
    else if (name === 'next') {
      this.pause();
      this.go(this.index + 1);
    } else if (name === 'prev') {
      this.pause();
      this.go(this.index - 1);
    } else if (name === 'first') {
      this.pause();
      this.go(0);
    } else if (name === 'last') {
      this.pause();
      this.go(this.total - 1);
    } else if (name === 'forward10') {
      this.pause();
      this.go(this.index + SHIFT_JUMP);
    } else if (name === 'back10') {
      this.pause();
      this.go(this.index - SHIFT_JUMP);
    }
  }

  play() {
    if (this.total <= 1) return;
    if (this.index >= this.total - 1) this.go(0);
    const interval = 1000 / Number(this.speed.value);
    let last = performance.now();
    const tick = (now) => {
      if (!this.timer) return;
      const due = Math.floor((now - last) / interval);
      if (due > 0) {
        last += due * interval;
        if (this.index + due >= this.total - 1) {
          this.go(this.total - 1);
          this.pause();
          return;
        }
        this.go(this.index + due);
      }
      this.timer = requestAnimationFrame(tick);
    };
    this.timer = requestAnimationFrame(tick);
    this.playButton.textContent = 'Pause';
    this.playButton.setAttribute('aria-pressed', 'true');
  }

  pause() {
    if (this.timer) cancelAnimationFrame(this.timer);
    this.timer = null;
    this.playButton.textContent = 'Play';
    this.playButton.setAttribute('aria-pressed', 'false');
  }

  get playing() {
    return this.timer !== null;
  }

  _key(e) {
    if (notForStepping(e)) return;
    const t = e.target;
    if (e.defaultPrevented || t.isContentEditable || t.closest?.('dialog')) return;
    if ((e.key === 'PageDown' || e.key === 'PageUp') && document.body.dataset.lesson) return;
    if (activeStepper() !== this) return; // one step-through answers, not every one on the page
    let act = KEYS[e.key];
    if (!act) return;
    if (e.shiftKey && act === 'next') act = 'forward10';
    else if (e.shiftKey && act === 'prev') act = 'back10';
    e.preventDefault();
    this.act(act);
  }
}
