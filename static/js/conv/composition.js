// One convolution step on one screen: the padded input with its window, the kernel, the products,
// the output filling in and the sum written out, sized to the space the window leaves (arrange.js)
// and sized again on resize and when presenter view is toggled. Colour inputs add the picture in
// colour; a 1-D input adds the seed 002 line chart of the signal and the output row.

import { PRESENTER_EVENT, presenter } from '../classroom/mode.js';
import { MapView } from '../mapview.js';
import { probe } from '../probe.js';
import { frame, narrow, roomBelow, setCell } from '../room.js';
import { arrange } from './arrange.js';
import { RGBView } from './rgb-view.js';
import { drawSignal } from './signal-plot.js';

const $ = (id) => document.getElementById(id);
const BOTTOM = 10; // px kept free under the equation
// The frame a map adds around its cells, until one is drawn and can be measured.
const GUESS = { normal: { w: 100, h: 52 }, presenter: { w: 150, h: 80 } };
// A colour bar widens when a step's range needs longer numbers: a little headroom per map.
const SLACK = 8;
const LIMITS = {
  normal: { maxCell: 48, kernelCells: [6, 46], numberCell: 32 },
  presenter: { maxCell: 72, kernelCells: [6, 60], numberCell: 42 },
};
// The feature maps under the step: at most this many cards a row, maps at most this big.
const STRIP = { perRow: 4, normal: 300, presenter: 400 };

// The widest and tallest frame among the drawn `views` (null when none is drawn yet).
function widestFrame(views) {
  const frames = views.filter((v) => v?.rows && v.cell).map(frame);
  if (!frames.length) return null;
  return { w: Math.max(...frames.map((f) => f.w)), h: Math.max(...frames.map((f) => f.h)) };
}

// Draw `view` with cells of `cell` px unless it already does.
function fitMap(view, cell) {
  if (view.rows && view.cell !== cell) setCell(view, cell);
}

export class StepComposition {
  // onOutputCell(r, c, kind): a cell of the output map was hovered or clicked; redraw(): draw
  // the step again (presenter view writes the sum shorter).
  constructor({ onOutputCell, redraw }) {
    this.views = { inputs: [], kernels: [], products: [], output: null };
    this.row = $('step-row');
    this.equation = $('equation');
    this.chart = $('signal-plot');
    this.onOutputCell = onOutputCell;
    this.shape = null;
    this.stages = null;
    this.key = '';
    this.eqHeight = 0;
    this.strip = [];
    this.rgb = null;
    const refit = () => this.fit();
    window.addEventListener('resize', refit);
    // other type, other lines: the sum's height is measured again, once now and once the page has
    // settled (the settings bar folds after the event, so the first measure may be narrower)
    const remeasure = () => {
      this.eqHeight = 0;
      this.equation.style.minHeight = '';
    };
    document.addEventListener(PRESENTER_EVENT, () => {
      remeasure();
      redraw();
      refit();
      requestAnimationFrame(() => {
        remeasure();
        refit();
      });
    });
    // the parts above the maps change height (an error message, the stepper wrapping): fit after layout
    let queued = false;
    const observer = new ResizeObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        refit();
      });
    });
    for (const el of [$('status'), document.querySelector('.step-head'), this.row.parentElement]) {
      if (el) observer.observe(el);
    }
  }

  // A new trace (new settings): its shapes, the views for its channels, the colour picture and chart.
  setStages(stages, names) {
    this.stages = stages;
    const { padded, weight, input } = stages.stages;
    const channels = weight.length;
    this._ensureViews(channels, names);
    const rgb = channels === 3;
    this.shape = {
      input: [padded[0].length, padded[0][0].length],
      channels,
      rgb,
      kernel: [weight[0].length, weight[0][0].length],
      output: [stages.output.length, stages.output[0].length],
    };
    this._showRGB(rgb ? input : null);
    this.signal = input[0].length === 1;
    this.chart.hidden = !this.signal;
    this.chartSize = null;
    this.eqHeight = 0;
    this.equation.style.minHeight = '';
    this.key = '';
  }

  _ensureViews(channels, names) {
    const groups = [
      ['inputs', $('input-views'), { target: 260 }], // grey, or diverging where padding or an upload is negative
      ['kernels', $('kernel-views'), { target: 130, numbers: true }],
      ['products', $('product-views'), { target: 130, numbers: true }],
    ];
    for (const [key, el, opts] of groups) {
      const views = this.views[key];
      while (views.length > channels) views.pop().destroy();
      while (views.length < channels) {
        const box = document.createElement('div');
        box.className = 'step-map';
        el.insertBefore(box, key === 'inputs' && this.rgb ? this.rgb.el : null);
        views.push(new MapView(box, { id: `${key}-${views.length}`, maxCell: 36, ...opts }));
      }
      views.forEach((v, ch) => {
        v.name = names[ch];
      });
    }
    if (!this.views.output) {
      const box = document.createElement('div');
      box.className = 'step-map';
      $('output-view').append(box);
      this.views.output = new MapView(box, { id: 'step-output', target: 260, maxCell: 36, onCell: this.onOutputCell });
    }
  }

  _showRGB(input) {
    if (input && !this.rgb) {
      const figure = document.createElement('figure');
      $('input-views').append(figure);
      this.rgb = new RGBView(figure);
    }
    if (this.rgb) this.rgb.el.hidden = !input;
    if (input) this.rgb.setData(input);
  }

  _frames(on) {
    const guess = on ? GUESS.presenter : GUESS.normal;
    const pad = (f) => ({ w: (f || guess).w + SLACK, h: (f || guess).h + SLACK });
    const { inputs, kernels, products, output } = this.views;
    return {
      input: pad(widestFrame(inputs)),
      kernel: pad(widestFrame([...kernels, ...products])),
      output: pad(widestFrame([output])),
    };
  }

  // Size every part to the space it has; a no-op when nothing it depends on changed.
  fit() {
    this._fitStrip();
    if (!this.shape || !this.views.output?.rows) return;
    for (let pass = 0; pass < 2; pass++) {
      const on = presenter();
      const frame = this._frames(on);
      const space = this._space(on);
      const key = JSON.stringify([this.shape, frame, space, on]);
      if (key === this.key) return;
      this.key = key;
      const plan = arrange(this.shape, frame, space, on ? LIMITS.presenter : LIMITS.normal);
      this._apply(plan);
      probe.composition = { plan, frame, space }; // what the last fit chose, for tests
    }
  }

  // The width of the step, and the height left for its maps between the stepper and the equation
  // (the equation keeps the tallest height it had for this trace, so stepping does not resize maps).
  _space(on) {
    const gap = on ? 14 : 12;
    const phone = narrow();
    this.eqHeight = Math.max(this.eqHeight, this.equation.offsetHeight);
    this.equation.style.minHeight = `${this.eqHeight}px`;
    const width = this.row.clientWidth;
    let left = roomBelow(this.row, gap + this.eqHeight + BOTTOM);
    if (this.signal) {
      const chart = phone ? 260 : Math.round(Math.min(340, Math.max(200, 0.4 * left)));
      this._sizeChart(width, chart);
      left -= chart + gap;
    }
    const height = phone ? Math.round(0.8 * window.innerHeight) : Math.max(180, Math.floor(left));
    return { width, height, gap, narrow: phone };
  }

  _sizeChart(width, height) {
    const size = { width: Math.max(280, Math.min(width, 1100)), height };
    if (this.chartSize && this.chartSize.width === size.width && this.chartSize.height === size.height) return;
    this.chartSize = size;
    drawSignal(this.chart, this.stages, size);
  }

  _apply(plan) {
    this.row.dataset.layout = plan.layout;
    $('step-mid').dataset.mid = plan.mid;
    $('input-views').style.gridTemplateColumns = `repeat(${plan.inputCols}, auto)`;
    for (const id of ['kernel-views', 'product-views']) {
      $(id).style.gridTemplateColumns = `repeat(${plan.kernelCols}, auto)`;
    }
    const { inputs, kernels, products, output } = this.views;
    for (const v of inputs) fitMap(v, plan.inputCell);
    for (const v of [...kernels, ...products]) fitMap(v, plan.kernelCell);
    fitMap(output, plan.outputCell);
    if (this.rgb && !this.rgb.el.hidden) this.rgb.setCell(plan.inputCell);
  }

  // The feature maps of every filter, under the step: `cards` is a list of each card's views.
  setStrip(cards) {
    this.strip = cards;
    this.stripKey = '';
    this._fitStrip();
  }

  _fitStrip() {
    const drawn = this.strip.flat().filter((v) => v.rows && v.el.isConnected && v.el.offsetParent);
    if (!drawn.length) return;
    const on = presenter();
    const box = $('maps');
    const width = box.clientWidth;
    const perCard = Math.max(...this.strip.map((card) => card.filter((v) => v.el.offsetParent).length));
    const perRow = Math.min(this.strip.length, STRIP.perRow);
    const gap = 16; // between cards and between the maps of a card, with the card's border and padding
    const frame = widestFrame(drawn) || (on ? GUESS.presenter : GUESS.normal);
    const key = JSON.stringify([width, perCard, perRow, frame, on, drawn[0].rows, drawn[0].cols]);
    if (key === this.stripKey) return;
    this.stripKey = key;
    const each = (width - (perRow - 1) * gap) / perRow / perCard - gap - frame.w - SLACK;
    const side = Math.min(each, on ? STRIP.presenter : STRIP.normal);
    const { rows, cols } = drawn[0];
    const cell = Math.max(1, Math.floor(side / Math.max(rows, cols)));
    for (const v of drawn) fitMap(v, cell);
  }
}
