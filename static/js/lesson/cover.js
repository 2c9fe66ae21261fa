// Predict-then-reveal: hide the elements a step covers behind an opaque "?" panel that asks
// the question, until reveal(). Elements drawn after the page loads are covered as they appear.
// A panel too low for the question shows only the "?" (the question is in the lesson bar).

const SHORT_EM = 7; // panels lower than this many root ems are short

export class Cover {
  constructor(selectors, question) {
    this.selectors = selectors;
    this.question = question;
    this.covered = new Set();
    this.sizes = new ResizeObserver((entries) => {
      const em = Number.parseFloat(getComputedStyle(document.documentElement).fontSize);
      for (const { target } of entries)
        target.toggleAttribute('data-lesson-short', target.offsetHeight < SHORT_EM * em);
    });
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
        this.sizes.observe(el);
      }
    }
  }

  reveal() {
    this.observer.disconnect();
    this.sizes.disconnect();
    for (const el of this.covered) {
      el.classList.remove('lesson-covered', 'lesson-covered-static');
      el.removeAttribute('data-lesson-short');
      delete el.dataset.lessonQuestion;
    }
    this.covered.clear();
  }
}
