"""The browser harness the browser tests and the soak share: Debian's Chromium with a fake webcam playing a y4m
file, the app's Live tab streaming it, and the stamped-frame measurement of frame rate and delay.

Needs Debian's chromium at /usr/bin/chromium (scripts/test.sh installs it).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np
import psutil

from devtools.frames import STAMP_BITS, STAMP_CELL

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 60_000  # for the page, the webcam, the first annotated frame, a download
FPS_WINDOW_S = 5
CAMERA_FRAMES, CAMERA_FPS = 60, 30  # the fake webcam's loop: 2 s, each frame stamped with its number

# JavaScript: the src of the <img> in the visible block labelled `label`, or null.
ANNOTATED_SRC = """(label) => {
    for (const tag of document.querySelectorAll('[data-testid="block-label"]')) {
        if (tag.innerText.trim() === label && tag.checkVisibility()) {
            return tag.closest('.block').querySelector('img')?.src || null;
        }
    }
    return null;
}"""
# JavaScript: counts, from now on, every new picture in the visible block labelled `label` (window.__frames).
COUNT_FRAMES = """(label) => {
    for (const tag of document.querySelectorAll('[data-testid="block-label"]')) {
        if (tag.innerText.trim() === label && tag.checkVisibility()) {
            const block = tag.closest('.block');
            window.__frames = 0;
            new MutationObserver(records => {
                window.__frames += records.filter(r => r.target.tagName === 'IMG').length;
            }).observe(block, {attributes: true, attributeFilter: ['src'], subtree: true});
            return true;
        }
    }
    return false;
}"""
# JavaScript: for `ms` milliseconds, each new annotated frame's stamp and, at the moment it is on screen,
# the webcam's current frame's stamp (see devtools.frames.stamp). Returns [frames shown, delays in frames].
STAMP_DELAYS = """async ([label, ms, bits, cell, loop]) => {
    const annotated = () => {
        for (const tag of document.querySelectorAll('[data-testid="block-label"]')) {
            if (tag.innerText.trim() === label && tag.checkVisibility()) {
                return tag.closest('.block').querySelector('img');
            }
        }
        return null;
    };
    const video = document.querySelector('video');
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const read = (el, width, height) => {
        canvas.width = width; canvas.height = height;
        ctx.drawImage(el, 0, 0, width, height);
        const row = ctx.getImageData(0, cell / 2, bits * cell, 1).data;
        let n = 0;
        for (let b = 0; b < bits; b++) {
            const i = 4 * (b * cell + cell / 2);
            if (row[i] + row[i + 1] + row[i + 2] > 384) n |= 1 << b;
        }
        return n;
    };
    let last = annotated()?.src, frames = 0;
    const delays = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
        await new Promise(resolve => setTimeout(resolve, 2));
        const img = annotated();
        if (!img || img.src === last || !img.complete || !img.naturalWidth) continue;
        last = img.src;
        frames += 1;
        const shown = read(img, img.naturalWidth, img.naturalHeight);
        const now = read(video, video.videoWidth, video.videoHeight);
        delays.push(((now - shown) % loop + loop) % loop);
    }
    return [frames, delays];
}"""


@contextlib.contextmanager
def chromium_with_camera(playwright, y4m: Path):
    """Headless Chromium whose fake webcam plays `y4m` in a loop."""
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--no-sandbox", "--headless=new", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            # Several live pages at once (devtools.soak): pages in the background keep rendering and streaming.
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"]
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
    try:
        yield browser
    finally:
        browser.close()


def open_tab(browser, url: str, tab: str, requested: list[str] | None = None):
    """A new page on the app's `tab`; every URL the page asks for from its first request on is appended to
    `requested`, if given."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    if requested is not None:
        page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    page.get_by_role("tab", name=tab).click()
    return page


def start_live(browser, url: str, requested: list[str] | None = None):
    """The app's Live tab, streaming the fake webcam, once the first annotated frame is back (`requested`: as in
    open_tab)."""
    page = open_tab(browser, url, "Live", requested)
    page.get_by_role("button", name="Click to Access Webcam").click()
    page.get_by_role("button", name="capture photo").click()  # Gradio's "Record": starts streaming
    page.wait_for_function(ANNOTATED_SRC, arg="Annotated", timeout=TIMEOUT_MS)
    return page


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU seconds the processes have used so far (those that ended count nothing)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def process_tree(pid: int) -> list[psutil.Process]:
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def measure_stream(page, what: str, server_pid: int | None = None) -> tuple[float, list[float]]:
    """Annotated frames per second over FPS_WINDOW_S, and each one's delay behind the webcam in ms; printed. With
    the server's PID, also the cores the server and the browser (this process's Chromium) used meanwhile, side by
    side: on one machine they share the cores, so either can hold the frame rate back."""
    sides = {}
    if server_pid is not None:
        sides = {"server": process_tree(server_pid),
                 "browser": [p for p in process_tree(os.getpid()) if "chrom" in p.name().lower()]}
    before, start = {side: cpu_seconds(procs) for side, procs in sides.items()}, time.monotonic()
    frames, delays = page.evaluate(STAMP_DELAYS, ["Annotated", FPS_WINDOW_S * 1000, STAMP_BITS, STAMP_CELL,
                                                  CAMERA_FRAMES])
    elapsed = time.monotonic() - start
    delays_ms = [1000 * d / CAMERA_FPS for d in delays]
    p50 = float(np.median(delays_ms)) if delays_ms else float("nan")
    cores = {side: (cpu_seconds(procs) - before[side]) / elapsed for side, procs in sides.items()}
    usage = "".join(f"; {side} {used:.2f} cores" for side, used in cores.items())
    if cores and frames:
        usage += f" (server {1000 * cores['server'] * elapsed / frames:.1f} ms of CPU a frame)"
    print(f"\nbrowser, {what}: {frames / FPS_WINDOW_S:.1f} annotated frames/s over {FPS_WINDOW_S} s, "
          f"webcam-to-screen delay p50 {p50:.0f} ms (stamped frames, {CAMERA_FPS} fps camera){usage}")
    return frames / FPS_WINDOW_S, delays_ms
