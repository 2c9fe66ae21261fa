// The layer column's rows and the sizes maps are drawn at. Drawing only.

// One row of the layer column: name, op, output shape, parameters; the torch line as its title.
export function layerItem(row, onSelect) {
  const li = document.createElement('li');
  li.dataset.layer = row.name;
  li.dataset.op = row.op;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'model-layer';
  button.title = row.torch || row.op;
  const name = document.createElement('span');
  name.className = 'model-layer-name';
  name.textContent = row.name;
  const op = document.createElement('span');
  op.className = 'model-layer-op';
  op.textContent = row.link ? `${row.op} ↗` : row.op;
  const shape = document.createElement('code');
  shape.className = 'model-layer-shape';
  shape.textContent = `(${row.output_shape.join(', ')})`;
  const params = document.createElement('span');
  params.className = 'model-layer-params';
  params.textContent = row.parameters ? row.parameters.toLocaleString('en-US') : '';
  button.append(name, op, shape, params);
  button.addEventListener('click', onSelect);
  li.append(button);
  return li;
}

// Pixels per cell so that a map (rows of numbers) is about `target` px on its longer side, at most `most`.
export function cellSide(map, target, most) {
  const side = Math.max(map.length, map[0].length);
  return Math.max(1, Math.min(most, Math.floor(target / side)));
}

// A vector as a matrix of whole rows: as many columns as its largest divisor up to 32 (one row if short).
export function vectorAsMatrix(vector) {
  const n = vector.length;
  let cols = n;
  if (n > 32) {
    cols = 1;
    for (let d = 32; d >= 2; d--) {
      if (n % d === 0) {
        cols = d;
        break;
      }
    }
    if (cols === 1) cols = n; // a prime length stays one row
  }
  const rows = [];
  for (let r = 0; r < n; r += cols) rows.push(Array.from(vector.slice(r, r + cols)));
  return rows;
}

// The largest cell (px, at most `most`) at which n maps of rows x cols, each under a 14 px label, tile a
// box `width` wide within `height` (gap px between them). Maps too large for one pixel a cell (ResNet's
// 112x112) are drawn smaller than their cells, down to a quarter of a pixel each.
export function fittingCell(n, rows, cols, width, height, most, gap = 6) {
  const fits = (cell) => {
    const across = Math.max(1, Math.floor((width - 40) / (cols * cell + gap))); // 40 px: the colour bar
    return Math.ceil(n / across) * (rows * cell + 14 + gap) <= height;
  };
  for (let cell = most; cell >= 1; cell--) if (fits(cell)) return cell;
  for (let tenths = 9; tenths > 2; tenths--) if (fits(tenths / 10)) return tenths / 10;
  return 0.25;
}

// (C, H, W) of a layer's answer: its maps, or its vector laid out as one small matrix
export const asMaps = (layer) => (layer.kind === 'maps' ? layer.maps : [vectorAsMatrix(layer.vector)]);

// What a layer's drawn maps are: which channels, or how many numbers, and whether as blocks' means.
export function mapsLabel(layer) {
  if (layer.kind === 'vector') {
    return layer.length > layer.vector.length
      ? `the first ${layer.vector.length} of ${layer.length}`
      : `${layer.length} numbers`;
  }
  const shown = layer.maps.length;
  const which =
    shown < layer.channels
      ? `channels 0 to ${shown - 1} of ${layer.channels}`
      : `${layer.channels} ${layer.channels === 1 ? 'channel' : 'channels'}`;
  const f = layer.preview;
  return f > 1 ? `${which}, each as the means of ${f}×${f} blocks (click for every cell)` : which;
}
