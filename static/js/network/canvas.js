// The drawing pad: pointer events (mouse, pen, touch) draw round strokes; `raster()` reads the strokes
// back as ink coverage 0..1 at SIDE x SIDE by letting the browser scale the canvas down. The server
// fits that raster to 28x28 exactly as it fitted the training digits.

export const SIDE = 56;
const STROKE = 22; // px on the 280-px pad: about a tenth of a digit's height, like the training strokes

export class DrawingPad {
  // canvas: the visible pad; onStroke(final) after each move (final = false) and at the pointer's release.
  constructor(canvas, onStroke) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onStroke = onStroke;
    this.last = null;
    this.inked = false;
    this.small = document.createElement('canvas');
    this.small.width = SIDE;
    this.small.height = SIDE;
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => this._down(e));
    canvas.addEventListener('pointermove', (e) => this._move(e));
    for (const type of ['pointerup', 'pointercancel']) canvas.addEventListener(type, (e) => this._up(e));
  }

  _point(e) {
    const box = this.canvas.getBoundingClientRect();
    return [
      (e.clientX - box.left) * (this.canvas.width / box.width),
      (e.clientY - box.top) * (this.canvas.height / box.height),
    ];
  }

  _down(e) {
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this._point(e);
    this._segment(this.last, this.last);
  }

  _move(e) {
    if (!this.last) return;
    const p = this._point(e);
    this._segment(this.last, p);
    this.last = p;
    this.onStroke(false);
  }

  _up() {
    if (!this.last) return;
    this.last = null;
    this.onStroke(true);
  }

  _segment([x0, y0], [x1, y1]) {
    const g = this.ctx;
    g.strokeStyle = '#111';
    g.lineWidth = STROKE;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
    this.inked = true;
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  // The strokes as rows of ink coverage (alpha / 255), three decimals: the request's matrix.
  raster() {
    const g = this.small.getContext('2d', { willReadFrequently: true });
    g.clearRect(0, 0, SIDE, SIDE);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    g.drawImage(this.canvas, 0, 0, SIDE, SIDE);
    const rgba = g.getImageData(0, 0, SIDE, SIDE).data;
    return Array.from({ length: SIDE }, (_, r) =>
      Array.from({ length: SIDE }, (_, c) => Math.round((rgba[(r * SIDE + c) * 4 + 3] / 255) * 1000) / 1000),
    );
  }
}
