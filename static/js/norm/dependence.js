// The batch-dependence demo: the watched sample's output with the batch as drawn and with another
// sample changed, their difference, and how far each normalization lets it move (all from the server).

import { Tile } from './tile.js';
import { fmt } from '../format.js';

const ROWS = [
  ['before', 'before the change'],
  ['after', 'after'],
  ['difference', 'difference'],
];
let views = [];

function extent(planes) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of planes.flat(2)) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

// A grid like the tensor's: a header per channel, then before / after / difference rows.
function build(el, channels) {
  for (const v of views.flat()) v.destroy();
  el.replaceChildren();
  el.style.gridTemplateColumns = `auto repeat(${channels}, auto)`;
  const label = (text, cls) => {
    const div = document.createElement('div');
    div.className = cls;
    div.textContent = text;
    el.append(div);
  };
  label('', 'grid-corner');
  for (let c = 0; c < channels; c++) label(`channel ${c}`, 'grid-col');
  views = ROWS.map(([key, title]) => {
    label(title, 'grid-row');
    return Array.from({ length: channels }, (_, c) => {
      const box = document.createElement('div');
      el.append(box);
      return new Tile(box, { id: `dep-${key}-${c}`, target: 120, maxCell: 34 });
    });
  });
}

export function drawDependence(res, kindLabel) {
  const dep = res.dependence;
  const summary = document.getElementById('dependence-summary');
  const table = document.getElementById('dependence-table');
  const maps = document.getElementById('dependence-maps');
  if (!dep) {
    summary.textContent =
      'Tick “change sample” to add a number to every value of one sample and see what ' +
      "happens to another sample's output.";
    table.hidden = true;
    for (const v of views.flat()) v.destroy();
    views = [];
    maps.replaceChildren();
    return;
  }
  const moved = dep.max_change > 1e-6;
  summary.textContent =
    `Sample ${dep.change} was changed by ${fmt(dep.change_by)}. With ${kindLabel}, the output of sample ` +
    `${dep.watch} ${moved ? `moved by up to ${fmt(dep.max_change)}` : 'did not move at all'}.`;
  table.hidden = false;
  table.querySelector('tbody').replaceChildren(
    ...dep.by_kind.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.kind = row.kind;
      tr.innerHTML = '<th></th><td data-field="max_change"></td>';
      tr.children[0].textContent = row.label;
      tr.children[1].textContent = fmt(row.max_change);
      return tr;
    }),
  );
  const channels = dep.before.length;
  if (views.length === 0 || views[0].length !== channels) build(maps, channels);
  const shared = extent([...dep.before, ...dep.after]);
  const diff = extent(dep.difference);
  ROWS.forEach(([key], r) =>
    dep[key].forEach((plane, c) => {
      const [lo, hi] = key === 'difference' ? diff : shared;
      views[r][c].setData(plane.flat(), plane.length, plane[0].length, {
        lo,
        hi,
        title: `${ROWS[r][1]}, channel ${c}`,
      });
    }),
  );
}
