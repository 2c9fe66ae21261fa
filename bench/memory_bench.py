"""Memory: the server's resident memory through bursts of large uploads, and 30 s after them.

The production command with one worker (`layerlab --no-browser --workers 1`) runs as a subprocess; a
thread reads its /proc/<pid>/status every 10 ms (VmRSS, and VmHWM, the kernel's own peak). Then:
20 concurrent uploads of 8-megapixel 16-bit RGBA PNGs (3264x2448, the heaviest PNG the limits let in:
8 bytes a pixel while it decodes), 8 concurrent uploads of 7000x7000 progressive JPEGs (4:2:0, within
the decode budget: libjpeg buffers 143 MiB of coefficients for each, whatever the draft scale), then
30 s at rest. Every file differs, so each is decoded. The files are made once with NumPy, zlib and
Pillow and kept in a temporary folder.
"""

from __future__ import annotations

import io
import struct
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.common import Section, Target
from bench.load_bench import production_server

PNGS, JPEGS = 20, 8
PNG_SIZE = (3264, 2448)  # 7,990,272 pixels: under max_png_pixels
JPEG_SIDE = 7000
REST_S = 30.0
PEAK_TARGET_MB, REST_TARGET_MB = 1000.0, 200.0
CACHE = Path(tempfile.gettempdir()) / "layerlab-bench-memory"


def _png16_rgba(width: int, height: int, seed: int) -> bytes:
    """A 16-bit RGBA PNG of smooth ramps (small on disk, whole when decoded); `seed` shifts them."""
    ramp = (np.linspace(0, 65535, width) + seed * 997) % 65536
    row = np.repeat(ramp.astype(">u2")[:, None], 4, axis=1)
    row[:, 3] = 65535 - (seed % 7) * 4000  # some transparency: composited on white
    compressor = zlib.compressobj(6)
    line = b"\0" + row.tobytes()
    idat = b"".join(compressor.compress(line) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _progressive_jpeg(side: int, seed: int) -> bytes:
    """A side x side progressive JPEG (Pillow's default 4:2:0) of smooth random colour blobs."""
    coarse = np.random.default_rng(seed).integers(0, 256, size=(side // 500, side // 500, 3), dtype=np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((side, side), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.save(out, "JPEG", progressive=True, quality=40)
    return out.getvalue()


def _files() -> tuple[list[bytes], list[bytes]]:
    """The PNGs and JPEGs, made on first use and kept in CACHE."""
    CACHE.mkdir(exist_ok=True)

    def cached(name: str, make) -> bytes:
        path = CACHE / name
        if not path.exists():
            path.write_bytes(make())
        return path.read_bytes()

    pngs = [cached(f"rgba16-{i}.png", lambda i=i: _png16_rgba(*PNG_SIZE, i)) for i in range(PNGS)]
    jpegs = [
        cached(f"progressive-{i}.jpg", lambda i=i: _progressive_jpeg(JPEG_SIDE, i)) for i in range(JPEGS)
    ]
    return pngs, jpegs


def _status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of `pid`, in MB (10^6 bytes)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1]) * 1024 / 1e6
    return out


class Sampler(threading.Thread):
    """Reads the server's VmRSS every 10 ms until stopped; `peak` is the largest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._stop_flag = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self._stop_flag.wait(0.01):
            self.peak = max(self.peak, _status_mb(self.pid)["VmRSS"])

    def stop(self) -> float:
        self._stop_flag.set()
        self.join()
        return self.peak


def _burst(port: int, files: list[bytes], name: str) -> tuple[dict[int, int], float]:
    """Upload every file at once (a connection each); the count of each status, and the seconds taken."""

    def send(data: bytes) -> int:
        with httpx.Client(timeout=120) as client:
            files = {"file": (name, data, "application/octet-stream")}
            return client.post(f"http://127.0.0.1:{port}/api/images", files=files).status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(len(files)) as pool:
        statuses = list(pool.map(send, files))
    return {s: statuses.count(s) for s in sorted(set(statuses))}, time.perf_counter() - start


def run(quick: bool) -> Section:
    pngs, jpegs = _files()
    rest_s = 10.0 if quick else REST_S
    section = Section(
        "Memory (one worker, resident MB)", ["phase", "answers", "seconds", "RSS after", "peak"]
    )
    with production_server(workers=1) as (port, pids):
        pid = pids[0]
        httpx.get(f"http://127.0.0.1:{port}/conv", timeout=30)  # the page and its first requests' code paths
        start = _status_mb(pid)["VmRSS"]
        sampler = Sampler(pid)
        sampler.start()
        rows = []
        for label, files, name in (
            (f"{PNGS} x 8 MP 16-bit RGBA PNG", pngs, "rgba16.png"),
            (f"{JPEGS} x {JPEG_SIDE}x{JPEG_SIDE} progressive JPEG", jpegs, "progressive.jpg"),
        ):
            answers, seconds = _burst(port, files, name)
            rows.append((label, answers, seconds, _status_mb(pid)["VmRSS"], sampler.peak))
        time.sleep(rest_s)
        rest = _status_mb(pid)
        peak = max(sampler.stop(), rest["VmHWM"])
    section.rows.append(["start", "", "", f"{start:.0f}", ""])
    for label, answers, seconds, after, seen in rows:
        shown = ", ".join(f"{n} x {status}" for status, n in answers.items())
        section.rows.append([label, shown, f"{seconds:.1f}", f"{after:.0f}", f"{seen:.0f}"])
    section.rows.append([f"{rest_s:.0f} s at rest", "", "", f"{rest['VmRSS']:.0f}", f"{peak:.0f} (VmHWM)"])
    section.notes.append(f"files: {CACHE} (made once); MB = 10^6 bytes")
    section.targets += [
        Target("memory: peak resident through both bursts", peak, PEAK_TARGET_MB, "MB"),
        Target(
            f"memory: {rest_s:.0f} s at rest, over the start", rest["VmRSS"] - start, REST_TARGET_MB, "MB"
        ),
    ]
    section.data = {
        "start_mb": start,
        "peak_mb": peak,
        "rest_mb": rest["VmRSS"],
        "rest_s": rest_s,
        "bursts": [
            {"phase": label, "answers": answers, "seconds": seconds, "rss_after_mb": after, "peak_mb": seen}
            for label, answers, seconds, after, seen in rows
        ],
    }
    return section
