// Where the parts of one convolution step go, and how big each map is drawn: a pure function of
// the space on screen and the maps' shapes, so the whole step (input, kernel, products, output)
// fills the screen it has. Sizes are CSS px; a map's box is its cells (rows x cols at `cell` px)
// plus its frame (title, axes, colour bar), which the caller measures from a drawn map.
//
// Layouts: 'row' puts input | kernel and products | output side by side; 'corner' puts kernel
// and products over the output, both beside a tall input; 'column' puts the output under the
// input with kernel and products beside them (wide, short maps: a 1-D signal); 'stack' puts each
// group under the last (a phone). Within the middle group the kernels sit over their products
// ('stacked') or beside them ('side'); a group of several maps (one per input channel) is a grid
// of `cols` columns. The output may be drawn smaller than the input (`outputScale`).
//
// Each candidate is scored by how big it draws the parts, weighted by what a step is about: the
// input with its window most, then the output filling in, then the kernel's numbers.

const LAYOUTS = { wide: ['row', 'corner', 'column'], narrow: ['stack'] };
const OUTPUT_SCALES = { wide: [1, 0.85, 0.7, 0.55], narrow: [1] };
// The kernel's and products' cells count twice: a little for their size, and a step up once they
// are big enough to carry their numbers (limits.numberCell).
const WEIGHT = { input: 1, output: 0.6, kernel: 0.35, numbers: 0.5 };

// The box of n equal tiles (w x h) in a grid of `cols` columns.
function grid(n, cols, w, h, gap) {
  const c = Math.min(n, cols);
  const rows = Math.ceil(n / c);
  return { w: c * w + (c - 1) * gap, h: rows * h + (rows - 1) * gap };
}

// The three groups' boxes for one choice of sizes.
function boxes(shape, frame, option, { inputCell, outputCell, kernelCell }, gap) {
  const [ir, ic] = shape.input;
  const [kr, kc] = shape.kernel;
  const [or, oc] = shape.output;
  const tiles = shape.channels + (shape.rgb ? 1 : 0);
  const input = grid(tiles, option.inputCols, ic * inputCell + frame.input.w, ir * inputCell + frame.input.h, gap);
  const k = grid(
    shape.channels,
    option.kernelCols,
    kc * kernelCell + frame.kernel.w,
    kr * kernelCell + frame.kernel.h,
    gap,
  );
  const mid = option.mid === 'stacked' ? { w: k.w, h: 2 * k.h + gap } : { w: 2 * k.w + gap, h: k.h };
  const output = { w: oc * outputCell + frame.output.w, h: or * outputCell + frame.output.h };
  return { input, mid, output };
}

// The composition's width and height for a layout; 'stack' answers its tallest group, since the
// page scrolls between its groups.
function extent(b, layout, gap) {
  const { input: i, mid: m, output: o } = b;
  if (layout === 'row') return { w: i.w + m.w + o.w + 2 * gap, h: Math.max(i.h, m.h, o.h) };
  if (layout === 'corner') return { w: i.w + gap + Math.max(m.w, o.w), h: Math.max(i.h, m.h + gap + o.h) };
  if (layout === 'column') return { w: Math.max(i.w, o.w) + gap + m.w, h: Math.max(i.h + gap + o.h, m.h) };
  return { w: Math.max(i.w, m.w, o.w), h: Math.max(i.h, m.h, o.h) };
}

// Cells for an input drawn `side` px along its longer side: the output's longer side is
// `outputScale` of that; each cell is capped at maxCell.
function cellsFor(shape, side, option, maxCell) {
  const cell = (px, rc) => Math.max(1, Math.min(maxCell, Math.floor(px / Math.max(...rc))));
  return {
    inputCell: cell(side, shape.input),
    outputCell: cell(side * option.outputScale, shape.output),
    kernelCell: option.kernelCell,
  };
}

// The largest `side` for which this option fits the space, with its cells (null when nothing fits).
function largest(shape, frame, option, space, maxCell) {
  const ok = (side) => {
    const e = extent(
      boxes(shape, frame, option, cellsFor(shape, side, option, maxCell), space.gap),
      option.layout,
      space.gap,
    );
    return e.w <= space.width && e.h <= space.height;
  };
  if (!ok(1)) return null;
  let lo = 1,
    hi = maxCell * Math.max(...shape.input);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return cellsFor(shape, lo, option, maxCell);
}

function* options(shape, narrow, kernelCells) {
  const tiles = shape.channels + (shape.rgb ? 1 : 0);
  const [smallest, biggest] = kernelCells;
  for (const layout of narrow ? LAYOUTS.narrow : LAYOUTS.wide) {
    for (const outputScale of narrow ? OUTPUT_SCALES.narrow : OUTPUT_SCALES.wide) {
      for (const inputCols of new Set([1, Math.ceil(Math.sqrt(tiles)), tiles])) {
        for (const kernelCols of new Set([1, shape.channels])) {
          for (const mid of ['stacked', 'side']) {
            for (let kernelCell = biggest; kernelCell >= smallest; kernelCell -= 3) {
              yield { layout, outputScale, inputCols, kernelCols, mid, kernelCell };
            }
          }
        }
      }
    }
  }
}

function score(shape, { inputCell, outputCell, kernelCell }, numberCell) {
  return (
    WEIGHT.input * Math.log(inputCell * Math.max(...shape.input)) +
    WEIGHT.output * Math.log(outputCell * Math.max(...shape.output)) +
    WEIGHT.kernel * Math.log(kernelCell) +
    (kernelCell >= numberCell ? WEIGHT.numbers : 0)
  );
}

/**
 * The plan for one step's composition.
 *
 * shape: { input: [rows, cols] (the padded input), channels, rgb (a colour picture beside the
 *          channels), kernel: [rows, cols], output: [rows, cols] }
 * frame: { input, kernel, output: { w, h } }, the px each map adds around its cells
 * space: { width, height, gap, narrow }
 * limits: { maxCell (input and output), kernelCells: [smallest, largest], numberCell (the
 *          smallest kernel cell that shows its numbers) }
 * Returns { layout, inputCols, kernelCols, mid, outputScale, inputCell, outputCell, kernelCell }.
 */
export function arrange(shape, frame, space, limits) {
  let best = null,
    bestScore = -Infinity;
  for (const option of options(shape, space.narrow, limits.kernelCells)) {
    const cells = largest(shape, frame, option, space, limits.maxCell);
    if (!cells) continue;
    const s = score(shape, cells, limits.numberCell);
    if (s > bestScore + 1e-9) {
      bestScore = s;
      best = { ...option, ...cells };
    }
  }
  if (best) return best;
  const fallback = {
    layout: space.narrow ? 'stack' : 'row',
    outputScale: 1,
    inputCols: 1,
    kernelCols: 1,
    mid: 'stacked',
  };
  return { ...fallback, inputCell: 1, outputCell: 1, kernelCell: limits.kernelCells[0] };
}
