"""The browser app (web/) measured in headless Chromium on this machine's CPU, next to the Python classifier.

    python -m devtools.web_benchmark                 # prints the figures, writes runs/web_benchmark.json
    python -m devtools.web_benchmark --seconds 10 --json out.json

Builds web/dist if needed, serves it locally, and plays the astronaut (1 face, then 4) to a fake webcam at
640x480 and 30 frames/s. Reports annotated frames per second, the time to the first annotated frame, the
model's ms per face in WebAssembly (p50 of single-face calls) and in Python (EmotionClassifier.predict_proba,
p50), and the size of web/dist. tests/test_web.py uses the same build, server and browser.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from devtools.frames import face_crop, face_frame, write_y4m
from fer.config import RUNS_DIR

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
CHROMIUM = Path("/usr/bin/chromium")
CAMERA_FPS = 30  # the fake webcam's rate: the most frames per second the page can annotate
TIMEOUT_MS = 60_000  # for the page, the models and the first annotated frame
CALLS = 200  # single-face classifier calls timed, in the page and in Python


def dist_is_stale() -> bool:
    """Whether web/dist needs a build: missing, or older than the locked dependencies or the page's sources."""
    built = DIST / "index.html"
    if not built.is_file():
        return True
    sources = [WEB / "package-lock.json", WEB / "build.mjs", WEB / "index.html", WEB / "style.css",
               *(WEB / "src").glob("*.js")]
    return max(path.stat().st_mtime for path in sources) > built.stat().st_mtime


def build_web() -> None:
    """npm ci && npm run build in web/ (raises CalledProcessError, or FileNotFoundError without npm)."""
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        subprocess.run(command, cwd=WEB, check=True)


class StaticFiles(SimpleHTTPRequestHandler):
    """web/dist, with the WebAssembly MIME type that streaming compilation requires, and no log lines."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".js": "text/javascript", ".tflite": "application/octet-stream"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(DIST), **kwargs)

    def log_message(self, format, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    """Says nothing when a browser closes a connection mid-download (a test ending while the page loads)."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_dist() -> Iterator[str]:
    """web/dist over HTTP on a free local port; yields its URL (no trailing slash)."""
    server = QuietServer(("127.0.0.1", 0), StaticFiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium(playwright, y4m: Path | None = None, fake_ui: bool = True):
    """Headless Debian Chromium with a fake webcam playing `y4m` (its default pattern without one);
    `fake_ui=False` leaves the camera permission to the browser, which headless denies."""
    args = ["--use-fake-device-for-media-stream", "--no-sandbox", "--headless=new", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    if y4m is not None:
        args.append(f"--use-file-for-fake-video-capture={y4m}")
    if fake_ui:
        args.append("--use-fake-ui-for-media-stream")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
    try:
        yield browser
    finally:
        browser.close()


def open_page(browser, url: str):
    """A new page on `url`, with every request's URL recorded in `page.requested`."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(url)
    return page


def wait_frames(page, frames: int) -> dict:
    """window.ferStats once at least `frames` frames have been annotated.

    Raises:
        RuntimeError: the page reported an error (camera, models) instead.
    """
    page.wait_for_function("(n) => window.ferStats.frames >= n || window.ferStats.error", arg=frames)
    stats = page.evaluate("window.ferStats")
    if stats["error"] is not None:
        raise RuntimeError(stats["error"])
    return stats


def measure_rate(page, seconds: float) -> float:
    """Annotated frames per second over `seconds`, counted in the page."""
    return page.evaluate("""async (ms) => {
        const start = window.ferStats.frames, t0 = performance.now();
        await new Promise(resolve => setTimeout(resolve, ms));
        return 1000 * (window.ferStats.frames - start) / (performance.now() - t0);
    }""", seconds * 1000)


def page_ms_per_face(page, calls: int = CALLS) -> float:
    """p50 ms of one window.ferClassify call on one 48x48 crop, in the page (the live view keeps running)."""
    return page.evaluate("""async (calls) => {
        const crop = {width: 48, height: 48, data: Array.from({length: 48 * 48}, (_, i) => (i * 37) % 256)};
        const times = [];
        for (let i = 0; i < calls; i++) {
            const t0 = performance.now();
            await window.ferClassify([crop]);
            times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        return times[Math.floor(times.length / 2)];
    }""", calls)


def python_ms_per_face(calls: int = CALLS) -> float:
    """p50 ms of EmotionClassifier.predict_proba on one face crop."""
    from fer.classifier import EmotionClassifier
    from fer.preprocess import to_gray

    classifier = EmotionClassifier.load()
    crop = to_gray(face_crop())
    classifier.predict_proba([crop])  # warm-up: sizes the interpreter
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        classifier.predict_proba([crop])
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times))


def camera_run(playwright, url: str, faces: int, seconds: float, folder: Path) -> dict:
    """One page on a fake webcam showing `faces` astronauts: its frame rate, first-frame time and labels."""

    frame, _ = face_frame(640, 480, faces=faces)
    y4m = write_y4m(folder / f"faces_{faces}.y4m", [frame] * 10, fps=CAMERA_FPS)
    with chromium(playwright, y4m) as browser:
        page = open_page(browser, url)
        stats = wait_frames(page, 10)
        rate = measure_rate(page, seconds)
        result = {"faces": faces, "frames_per_s": round(rate, 1), "first_frame_ms": round(stats["firstFrameMs"]),
                  "labels": [face["label"] for face in stats["faces"]]}
        if faces == 1:
            result["wasm_ms_per_face_p50"] = round(page_ms_per_face(page), 2)
    return result


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="frame-rate window per run")
    parser.add_argument("--json", type=Path, default=RUNS_DIR / "web_benchmark.json", help="where to write the figures")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if dist_is_stale():
        build_web()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    files = [path for path in DIST.rglob("*") if path.is_file()]
    report = {"cpu": cpu_name(), "cores": os.cpu_count(), "avx512_vnni": "avx512_vnni" in flags,
              "load_1min_before": round(os.getloadavg()[0], 2),
              "dist_mb": round(sum(path.stat().st_size for path in files) / 1e6, 1),
              "largest_file": max((f"{path.relative_to(DIST)} {path.stat().st_size / 1e6:.1f} MB" for path in files),
                                  key=lambda s: float(s.split()[-2])),
              "python_ms_per_face_p50": round(python_ms_per_face(), 2)}
    with sync_playwright() as playwright, serve_dist() as url, tempfile.TemporaryDirectory() as folder:
        report["runs"] = [camera_run(playwright, url, faces, args.seconds, Path(folder)) for faces in (1, 4)]
    report["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(f"CPU: {report['cpu']} ({report['cores']} cores, avx512_vnni: {report['avx512_vnni']}), "
          f"load {report['load_1min_before']} -> {report['load_1min_after']}")
    for run in report["runs"]:
        print(f"{run['faces']} face(s) at 640x480: {run['frames_per_s']} annotated frames/s "
              f"(camera {CAMERA_FPS}), first frame {run['first_frame_ms']} ms after opening, labels {run['labels']}")
    print(f"emotion model, ms per face (p50): WebAssembly {report['runs'][0]['wasm_ms_per_face_p50']}, "
          f"Python {report['python_ms_per_face_p50']}")
    print(f"web/dist: {report['dist_mb']} MB, largest file {report['largest_file']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
