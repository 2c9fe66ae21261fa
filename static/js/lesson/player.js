// The lesson player: a narration bar over the page, the lesson keys, and predict-then-reveal.
// A step is a page URL; moving to another step loads that page with lesson=<id>&ls=<k> added
// (k counts from 1), so every step is also a link a teacher can share. Each step names the
// elements it is about (`focus`): the player brings them into view below the bar and marks them.

import { probe } from '../probe.js';
import { Cover } from './cover.js';
import { Spotlight } from './focus.js';
import { narrationHTML } from './markup.js';

const KEEP = ['present']; // presenter view stays on from step to step

export const LESSON_KEYS = [
  ['PageDown / n', 'next step (on a prediction step: reveal first)'],
  ['PageUp / b', 'previous step'],
];

export function stepURL(lesson, index) {
  const url = new URL(lesson.steps[index].page, window.location.origin);
  const here = new URLSearchParams(window.location.search);
  for (const key of KEEP) if (here.has(key)) url.searchParams.set(key, here.get(key));
  url.searchParams.set('lesson', lesson.id);
  url.searchParams.set('ls', String(index + 1));
  return url.pathname + url.search;
}

function button(id, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.id = id;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

function buildBar() {
  const bar = document.createElement('aside');
  bar.id = 'lesson-bar';
  bar.className = 'lesson-bar';
  bar.setAttribute('aria-label', 'Lesson');
  bar.innerHTML = `
    <div class="lesson-head">
      <div class="lesson-where"><span id="lesson-title" class="lesson-title"></span>
        <span id="lesson-counter" class="lesson-counter" aria-live="polite"></span></div>
      <div class="lesson-buttons"></div></div>
    <div class="lesson-body">
      <div class="lesson-lead"><h2 id="lesson-step-title" class="lesson-step-title"></h2>
        <span id="lesson-narration" class="lesson-narration"></span></div>
      <p id="lesson-question" class="lesson-question" hidden></p>
      <p id="lesson-answer" class="lesson-answer" aria-live="polite" hidden></p>
    </div>`;
  const header = document.querySelector('header.topbar');
  if (header) header.after(bar);
  else document.body.prepend(bar);
  return bar;
}

export class LessonPlayer {
  constructor(id, stepNumber) {
    this.id = id;
    this.requested = stepNumber;
    this.lesson = null;
    this.index = 0;
    this.cover = null;
    this.spotlight = null;
    this.revealed = true;
    document.body.dataset.lesson = id;
    this.bar = buildBar();
    this.onKey = (e) => this.key(e);
    window.addEventListener('keydown', this.onKey, true);
  }

  async load() {
    probe.busy += 1;
    try {
      const res = await fetch(`/api/lessons/${encodeURIComponent(this.id)}`);
      const body = await res.json();
      if (!res.ok) throw new Error(body.message || `lesson ${this.id}: ${res.status}`);
      this.show(body);
    } catch (err) {
      this.bar.querySelector('#lesson-title').textContent = `Lesson ${this.id}`;
      this.bar.querySelector('#lesson-narration').textContent = `This lesson could not be opened: ${err.message}`;
      this.bar.querySelector('.lesson-buttons').replaceChildren(button('lesson-exit', 'Exit', () => this.exit()));
    } finally {
      probe.busy -= 1;
    }
  }

  show(lesson) {
    this.lesson = lesson;
    const n = lesson.steps.length;
    this.index = Math.min(Math.max(Number.isInteger(this.requested) ? this.requested - 1 : 0, 0), n - 1);
    const step = lesson.steps[this.index];
    const $ = (id) => this.bar.querySelector(`#${id}`);
    $('lesson-title').textContent = lesson.title;
    $('lesson-counter').textContent = `step ${this.index + 1} of ${n}`;
    $('lesson-step-title').textContent = step.title;
    $('lesson-narration').innerHTML = narrationHTML(step.narration);
    this.prev = button('lesson-prev', '← Previous', () => this.back());
    this.prev.disabled = this.index === 0;
    this.next = button('lesson-next', this.index === n - 1 ? 'End of lesson' : 'Next →', () => this.forward());
    this.next.disabled = this.index === n - 1;
    const buttons = [this.prev];
    if (step.predict) {
      this.revealed = false;
      $('lesson-question').innerHTML = `<strong>Predict:</strong> ${narrationHTML(step.predict.question)}`;
      $('lesson-question').hidden = false;
      this.cover = new Cover(step.predict.cover, step.predict.question);
      this.revealButton = button('lesson-reveal', 'Reveal', () => this.reveal());
      this.next.disabled = false; // the first press reveals, even on the last step
      buttons.push(this.revealButton);
    }
    buttons.push(
      this.next,
      button('lesson-exit', 'Exit lesson', () => this.exit()),
    );
    this.bar.querySelector('.lesson-buttons').replaceChildren(...buttons);
    // The filled bar is taller than the empty one: pages that size their figure to the room left
    // on the first screen (room.js) measure again, as after any resize.
    window.dispatchEvent(new Event('resize'));
    this.spotlight = new Spotlight(this.bar, step.focus, step.predict ? step.predict.cover : []);
    this.spotlight.start();
  }

  reveal() {
    if (this.revealed) return;
    this.revealed = true;
    this.cover.reveal();
    const answer = this.bar.querySelector('#lesson-answer');
    answer.innerHTML = `<strong>Answer:</strong> ${narrationHTML(this.lesson.steps[this.index].predict.answer)}`;
    answer.hidden = false;
    // the answer makes the bar taller: bring the step's subject back below it
    if (this.spotlight) this.spotlight.replace();
    this.revealButton.disabled = true;
    this.next.disabled = this.index === this.lesson.steps.length - 1;
  }

  forward() {
    if (!this.lesson) return;
    if (!this.revealed) this.reveal();
    else if (this.index < this.lesson.steps.length - 1) window.location.assign(stepURL(this.lesson, this.index + 1));
  }

  back() {
    if (this.lesson && this.index > 0) window.location.assign(stepURL(this.lesson, this.index - 1));
  }

  // Leave the lesson but keep the view: the page stays as it is, without the bar.
  exit() {
    if (this.cover) this.cover.reveal();
    if (this.spotlight) this.spotlight.stop();
    window.removeEventListener('keydown', this.onKey, true);
    this.bar.remove();
    delete document.body.dataset.lesson;
    const url = new URL(window.location.href);
    url.searchParams.delete('lesson');
    url.searchParams.delete('ls');
    window.history.replaceState(null, '', url.pathname + url.search);
  }

  key(e) {
    const t = e.target;
    const typing =
      t instanceof HTMLElement &&
      (t.isContentEditable ||
        t.matches('input:not([type=checkbox]):not([type=radio]):not([type=button]), textarea, select'));
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const act = { PageDown: 'forward', n: 'forward', PageUp: 'back', b: 'back' }[e.key];
    if (!act) return;
    e.preventDefault();
    e.stopPropagation(); // the clicker's keys belong to the lesson while one is open
    this[act]();
  }
}
