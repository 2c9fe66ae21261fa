// Presenter view: one flag for the whole page, read from the URL (?present=1) as soon as
// any module imports this one, so the first drawing is already in the right mode.
// Drawing code reads `presenter()` and `SCALE`; it redraws on the `layerlab:presenter` event.

const root = document.documentElement;

// How much bigger presenter view draws things (type, cells, lines).
export const SCALE = { font: 1.6, cell: 1.4, line: 2 };

export const PRESENTER_EVENT = 'layerlab:presenter';

export function presenter() {
  return root.classList.contains('presenter');
}

export function setPresenter(on) {
  if (on === presenter()) return;
  root.classList.toggle('presenter', on);
  document.dispatchEvent(new CustomEvent(PRESENTER_EVENT, { detail: { on } }));
}

root.classList.toggle('presenter', new URLSearchParams(window.location.search).get('present') === '1');
