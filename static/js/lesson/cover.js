// Predict-then-reveal: hide the elements a step covers behind an opaque "?" panel that asks
// the question, until reveal(). Elements drawn after the page loads are covered as they appear.

export class Cover {
  constructor(selectors, question) {
    this.selectors = selectors;
    this.question = question;
    this.covered = new Set();
    this.observer = new MutationObserver(() => this.apply());
    this.apply();
    this.observer.observe(document.body, { childList: true, subtree: true });
  }

  apply() {
    for (const sel of this.selectors) {
      for (const el of document.querySelectorAll(sel)) {
        if (this.covered.has(el)) continue;
        this.covered.add(el);
        if (getComputedStyle(el).position === 'static') el.classList.add('lesson-covered-static');
        el.classList.add('lesson-covered');
        el.dataset.lessonQuestion = this.question;
      }
    }
  }

  reveal() {
    this.observer.disconnect();
    for (const el of this.covered) {
      el.classList.remove('lesson-covered', 'lesson-covered-static');
      delete el.dataset.lessonQuestion;
    }
    this.covered.clear();
  }
}
