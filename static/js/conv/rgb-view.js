// A colour input as the picture it is: one canvas pixel per input pixel, its red, green and blue
// the engine's three channel values (0..1 -> 0..255), shown beside the per-channel grey grids.

export class RGBView {
  constructor(el) {
    this.el = el;
    el.classList.add('rgb-view');
    this.caption = document.createElement('figcaption');
    this.caption.textContent = 'Input as a colour picture';
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'rgb-canvas';
    this.canvas.setAttribute('role', 'img');
    el.append(this.caption, this.canvas);
    this.rows = 0;
    this.cols = 0;
  }

  // channels: (3, H, W) values in 0..1, red, green, blue.
  setData(channels) {
    const [red, green, blue] = channels;
    this.rows = red.length;
    this.cols = red[0].length;
    this.canvas.width = this.cols;
    this.canvas.height = this.rows;
    const g = this.canvas.getContext('2d');
    const image = g.createImageData(this.cols, this.rows);
    const byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < this.cols; c++) {
        const i = 4 * (r * this.cols + c);
        image.data[i] = byte(red[r][c]);
        image.data[i + 1] = byte(green[r][c]);
        image.data[i + 2] = byte(blue[r][c]);
        image.data[i + 3] = 255;
      }
    }
    g.putImageData(image, 0, 0);
    this.canvas.setAttribute('aria-label', `the input, ${this.rows}×${this.cols} pixels in colour`);
  }

  // Draw each input pixel as a `cell` px square, like the cells of the channel maps beside it.
  setCell(cell) {
    this.canvas.style.width = `${this.cols * cell}px`;
    this.canvas.style.height = `${this.rows * cell}px`;
  }
}
