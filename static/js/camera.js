// A webcam as image input: a "Camera" button beside every image upload. While live, a frame is
// put into the page's own file input every FRAME_MS and `change` is fired, so the page uploads it
// to this app's server as if it were a chosen file; nothing goes anywhere else. Space or f
// freezes the current frame (and resumes), Escape or Stop closes the camera.

import { probe } from './probe.js';

const FRAME_MS = 500;
const MAX_SIDE = 256; // the server downscales uploads to fit 256x256 anyway
const STALE_MS = 3000; // send a frame even if the page still looks busy after this long

const MESSAGES = {
  NotAllowedError: 'The camera is blocked: allow it for this site in the browser, or upload a picture instead.',
  SecurityError: 'The camera is blocked: allow it for this site in the browser, or upload a picture instead.',
  NotFoundError: 'No camera was found on this device: upload a picture instead.',
  OverconstrainedError: 'No camera was found on this device: upload a picture instead.',
  NotReadableError: 'The camera is in use by another program: close it there and try again.',
};

let active = null; // the one live Camera: a page has one video stream at most

class Camera {
  constructor(input, button) {
    this.input = input;
    this.button = button;
    this.stream = null;
    this.timer = null;
    this.frozen = false;
    this.lastSent = 0;
    this.sent = 0;
    this.panel = document.createElement('div');
    this.panel.className = 'camera-panel';
    this.panel.setAttribute('role', 'group');
    this.panel.setAttribute('aria-label', 'Camera');
    this.panel.innerHTML = `
      <video class="camera-video" muted playsinline aria-label="Live camera preview"></video>
      <p class="camera-status note" aria-live="polite"></p>
      <div class="row">
        <button type="button" class="camera-freeze">Freeze (f)</button>
        <button type="button" class="camera-stop">Stop (Esc)</button>
      </div>`;
    this.video = this.panel.querySelector('video');
    this.status = this.panel.querySelector('.camera-status');
    this.freezeButton = this.panel.querySelector('.camera-freeze');
    this.freezeButton.addEventListener('click', () => this.toggleFreeze());
    this.panel.querySelector('.camera-stop').addEventListener('click', () => this.stop());
    button.after(this.panel);
    this.onKey = (e) => this.key(e);
  }

  async start() {
    active = this;
    this.button.setAttribute('aria-expanded', 'true');
    this.freezeButton.disabled = true;
    if (!navigator.mediaDevices?.getUserMedia) {
      this.fail('This browser gives no camera to this page (it needs https or localhost).');
      return;
    }
    this.status.textContent = 'Asking for the camera…';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 320 }, height: { ideal: 240 } },
        audio: false,
      });
    } catch (err) {
      this.fail(MESSAGES[err.name] || `The camera could not be started (${err.name || err.message}).`);
      return;
    }
    if (active !== this) {
      // stopped while the browser was asking
      this.release();
      return;
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    this.freezeButton.disabled = false;
    this.status.textContent = 'Live: a frame is sent to the page every half second. Space or f freezes it.';
    window.addEventListener('keydown', this.onKey, true);
    this.timer = setInterval(() => this.tick(), FRAME_MS);
    this.tick();
  }

  fail(message) {
    this.status.textContent = message;
    this.status.classList.add('camera-error');
  }

  // Skip a frame while the page is still busy with the last one, so frames never queue up.
  tick() {
    if (this.frozen || !this.video.videoWidth) return;
    if (probe.busy > 0 && performance.now() - this.lastSent < STALE_MS) return;
    this.send();
  }

  send() {
    const { videoWidth: w, videoHeight: h } = this.video;
    const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    canvas.getContext('2d').drawImage(this.video, 0, 0, canvas.width, canvas.height);
    this.lastSent = performance.now();
    canvas.toBlob((blob) => {
      if (!blob || active !== this) return;
      const files = new DataTransfer();
      files.items.add(new File([blob], 'camera.png', { type: 'image/png' }));
      this.input.files = files.files;
      this.input.dispatchEvent(new Event('change', { bubbles: true }));
      this.sent += 1;
      this.panel.dataset.framesSent = String(this.sent);
    }, 'image/png');
  }

  toggleFreeze() {
    this.frozen = !this.frozen;
    this.panel.classList.toggle('frozen', this.frozen);
    this.freezeButton.textContent = this.frozen ? 'Resume (f)' : 'Freeze (f)';
    if (this.frozen) {
      this.video.pause();
      this.send(); // the frame on screen is the one the page keeps
      this.status.textContent = 'Frozen: the page keeps this frame. Space or f resumes.';
    } else {
      this.video.play().catch(() => {});
      this.status.textContent = 'Live: a frame is sent to the page every half second. Space or f freezes it.';
    }
  }

  key(e) {
    const t = e.target;
    if (t instanceof HTMLElement && t.matches('input, textarea, select, [contenteditable]')) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === ' ' || e.key === 'f') this.toggleFreeze();
    else if (e.key === 'Escape') this.stop();
    else return;
    e.preventDefault();
    e.stopPropagation(); // space would otherwise also play the page's stepper
  }

  release() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
  }

  stop() {
    clearInterval(this.timer);
    window.removeEventListener('keydown', this.onKey, true);
    this.release();
    this.video.srcObject = null;
    this.panel.remove();
    this.button.setAttribute('aria-expanded', 'false');
    if (active === this) active = null;
    this.button.focus();
  }
}

export function addCameraButtons() {
  for (const input of document.querySelectorAll('input[type=file]')) {
    if (!/image/.test(input.accept || '') || input.dataset.camera) continue;
    input.dataset.camera = '1';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'camera-button';
    button.textContent = 'Camera';
    button.setAttribute('aria-expanded', 'false');
    button.title = 'Use the webcam as the input image (processed by this app only)';
    button.addEventListener('click', () => {
      if (active && active.button === button) active.stop();
      else {
        if (active) active.stop();
        new Camera(input, button).start();
      }
    });
    (input.closest('label') || input).after(button);
  }
}
