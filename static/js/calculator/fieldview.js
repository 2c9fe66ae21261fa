// The receptive field on the input: the selected layer's output grid (click a position) beside
// the input grid with the box of input pixels that position can see. The box comes from the
// server; this only paints it.

import { SCALE, presenter } from '../classroom/mode.js';
import { MapView } from '../mapview.js';
import { fmt } from '../format.js';

// 1 marks the chosen position and the input pixels in its field, 0 the rest (a tooltip reads
// "= 1" inside); a wide colour range keeps the marked cells a light red.
const RANGE = { lo: -2.5, hi: 2.5 };
const COLOUR = '#b35c00';
const MAX_SIDE = 420; // px: beyond this a map only grows its cells
const MIN_SIDE = 120;
const SLACK = 24; // px

// (C, H, W) -> [H, W]; (C, L) -> [1, L].
const grid = (shape) => (shape.length === 3 ? shape.slice(1) : [1, shape[1]]);

export class FieldView {
  // output, input: containers; onPick(row, col) when an output position is clicked
  constructor(output, input, onPick) {
    this.output = new MapView(output, {
      id: 'rf-output',
      target: 220,
      maxCell: 24,
      numbers: false,
      onCell: (r, c, kind) => {
        if (kind === 'click') onPick(r, c);
      },
    });
    this.input = new MapView(input, { id: 'rf-input', target: 300, maxCell: 24, numbers: false });
  }

  // The two maps side by side in `width` px, each at most `height` px tall: the longer side of their
  // cells, less what a map adds around them (axes, title, colour bar) as last drawn.
  fit(width, height) {
    const v = this.output;
    const drawn = v.el.offsetWidth > 0;
    const across = drawn ? v.el.offsetWidth - v.cols * v.cell : 110;
    const down = drawn ? v.el.offsetHeight - v.rows * v.cell : 50;
    const gap = parseFloat(getComputedStyle(v.el.parentElement).columnGap) || 0;
    // SLACK: the two grids differ in size, and cells are whole pixels, so a map's side is not exactly its target
    const half = (width - gap) / 2 - across - SLACK;
    // too narrow for two (a phone): one above the other, each the whole width, the page scrolling to the second
    const px = half >= MIN_SIDE ? Math.min(half, height - down) : width - across - SLACK;
    const scale = presenter() ? SCALE.cell : 1; // presenter view multiplies a map's target by this
    const target = Math.round(Math.max(MIN_SIDE, Math.min(px, MAX_SIDE)) / scale);
    this.output.opts.target = target;
    this.input.opts.target = target;
  }

  redraw() {
    this.output.redraw();
    this.input.redraw();
  }

  // layer: a report row with a box; inputShape: the stack's input. Returns a caption.
  show(layer, inputShape) {
    const [oh, ow] = grid(layer.output_shape);
    const [h, w] = grid(inputShape);
    const { box } = layer;
    const [pr, pc] = box.position;
    const chosen = new Float32Array(oh * ow);
    chosen[pr * ow + pc] = 1;
    this.output.setData(chosen, oh, ow, { ...RANGE, title: `Layer ${layer.index}: ${oh}×${ow}` });
    this.output.setHighlights([{ rows: [pr], cols: [pc], colour: COLOUR }]);
    const seen = new Float32Array(h * w);
    if (box.rows && box.cols) {
      for (let r = box.rows[0]; r <= box.rows[1]; r++) seen.fill(1, r * w + box.cols[0], r * w + box.cols[1] + 1);
    }
    this.input.setData(seen, h, w, { ...RANGE, title: `Input: ${h}×${w}` });
    const [[r0, r1], [c0, c1]] = box.extent;
    this.input.setHighlights([{ rows: [], cols: [], frame: [r0, c0, r1 + 1, c1 + 1], colour: COLOUR, width: 3 }]);
    const where = h === 1 ? `position ${pc}` : `position (${pr}, ${pc})`;
    const size = h === 1 ? `${c1 - c0 + 1} input positions` : `${r1 - r0 + 1}×${c1 - c0 + 1} input pixels`;
    const centre = h === 1 ? fmt(box.centre[1]) : `(${fmt(box.centre[0])}, ${fmt(box.centre[1])})`;
    let text = `Output ${where} of layer ${layer.index} sees ${size}, centred at ${centre}.`;
    if (!box.rows || !box.cols) text += ' All of them lie in the padding.';
    else if (box.clipped) text += ' Part of the box lies in the padding, outside the input.';
    return text;
  }
}
