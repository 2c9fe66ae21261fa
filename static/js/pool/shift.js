// The shift-robustness demo: the map and its pooling before and after moving the map by a
// pixel or more, the numbers that changed (1, red), and the fractions the server counted.

import { drawGrid } from './draw.js';

const pct = (f) => `${Math.round(f * 1000) / 10}%`;

function direction([down, right]) {
  const px = Math.max(Math.abs(down), Math.abs(right));
  const way = down > 0 ? 'down' : down < 0 ? 'up' : right > 0 ? 'right' : 'left';
  return `${px} pixel${px === 1 ? '' : 's'} ${way}`;
}

export function renderShift(res, views) {
  const moved = direction(res.shift);
  drawGrid(views.input, res.input, 'Map');
  drawGrid(views.shifted, res.shifted, `Map moved ${moved}`);
  drawGrid(views.changedInput, res.changed_input, 'Changed (1)', { signed: true });
  drawGrid(views.pooled, res.pooled, 'Pooled');
  drawGrid(views.pooledShifted, res.pooled_shifted, 'Pooled, moved');
  drawGrid(views.changedPooled, res.changed_pooled, 'Changed (1)', { signed: true });
  const [ci, ni] = res.count.input,
    [cp, np] = res.count.pooled;
  document.getElementById('shift-summary').textContent =
    `Moving the map ${moved} changes ${pct(res.fraction.input)} ` +
    `of its numbers (${ci} of ${ni}) and ${pct(res.fraction.pooled)} of the pooled numbers (${cp} of ${np}).`;
}
