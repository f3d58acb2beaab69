"""The live tab under load, each in a fresh browser and app (so no other stream competes): a 720p webcam
of seven faces, and a server whose detector is slow; and the ceiling, Gradio streaming frames back unchanged
(tests/identity_app.py), for the same two webcams.

Prints the frame rate and the webcam-to-screen delay it measures (stamped frames, see devtools/browser.py);
asserts only what must hold on any machine.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from devtools.browser import (
    CAMERA_FPS,
    CAMERA_FRAMES,
    FPS_WINDOW_S,
    STAMP_DELAYS,
    chromium_with_camera,
    measure_stream,
    start_live,
)
from devtools.frames import STAMP_BITS, STAMP_CELL, stamped_faces_frames, write_y4m
from devtools.server import ROOT, running_app
from tests.slow_app import SLOW_DETECTOR_S

CAMERAS = {"one face, 640x480": (640, 480, 1), "seven faces, 1280x720": (1280, 720, 7)}


@pytest.mark.parametrize("camera", CAMERAS)
def test_ceiling_gradio_streaming_frames_back_unchanged(playwright, tmp_path, capsys, camera):
    width, height, faces = CAMERAS[camera]
    y4m = write_y4m(tmp_path / "camera.y4m", stamped_faces_frames(CAMERA_FRAMES, width, height, faces), CAMERA_FPS)
    identity = ROOT / "tests" / "identity_app.py"
    with running_app(tmp_path / "app.log", script=identity) as app, chromium_with_camera(playwright, y4m) as browser:
        page = start_live(browser, app.url)
        with capsys.disabled():
            rate, delays_ms = measure_stream(page, f"CEILING (identity handler), {camera}", app.proc.pid)
        page.close()
    assert rate > 0 and delays_ms


def test_frame_rate_and_delay_seven_faces_720p(playwright, tmp_path, capsys):
    """A webcam that sends 1280x720 frames of seven faces."""
    y4m = write_y4m(tmp_path / "class.y4m", stamped_faces_frames(CAMERA_FRAMES, 1280, 720, faces=7), CAMERA_FPS)
    with running_app(tmp_path / "app.log") as app, chromium_with_camera(playwright, y4m) as browser:
        page = start_live(browser, app.url)
        with capsys.disabled():
            rate, delays_ms = measure_stream(page, "seven faces, 1280x720", app.proc.pid)
        status = page.get_by_test_id("markdown").filter(has_text="face(s)").first.inner_text()
        page.close()
    assert rate > 0 and delays_ms
    assert status.startswith("7 face(s)"), status  # every face of the class is found


def test_live_frames_never_touch_the_servers_disk_and_closing_the_page_deletes_the_face_log(playwright, tmp_path):
    """Gradio's cache folder (GRADIO_TEMP_DIR, a fresh one here) holds no frame while a session streams, only
    the session's face log (CSV); once the page is closed, nothing, while the server keeps running."""
    cache = tmp_path / "gradio-cache"
    cache.mkdir()
    y4m = write_y4m(tmp_path / "face.y4m", stamped_faces_frames(CAMERA_FRAMES, 640, 480), CAMERA_FPS)
    with running_app(tmp_path / "app.log", env={"GRADIO_TEMP_DIR": str(cache)}) as app, \
            chromium_with_camera(playwright, y4m) as browser:
        page = start_live(browser, app.url)
        frames, _ = page.evaluate(STAMP_DELAYS, ["Annotated", 2000, STAMP_BITS, STAMP_CELL, CAMERA_FRAMES])
        written = [path.relative_to(cache) for path in cache.rglob("*") if path.is_file()]
        page.close()
        deadline = time.monotonic() + 20
        while (left := [p for p in cache.rglob("*") if p.is_file()]) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert app.proc.poll() is None
    assert frames > 5  # frames were streamed ...
    assert [path.suffix for path in written] == [".csv"], written  # ... and only the face log was written
    assert not left, f"still there after the page closed: {left}"


def test_a_slow_detector_does_not_slow_the_live_view_or_queue_frames(playwright, tmp_path):
    """With a detector that takes 0.4 s a search, frames still come back at the rate the rest sustains, each
    recent: searches run beside the stream (BackgroundSearch), and the browser sends a frame only once the
    last one is answered, so no backlog builds up."""
    y4m = write_y4m(tmp_path / "face.y4m", stamped_faces_frames(CAMERA_FRAMES, 640, 480), CAMERA_FPS)
    slow_app = ROOT / "tests" / "slow_app.py"
    with running_app(tmp_path / "slow.log", "--detector", "slow", script=slow_app) as app, \
            chromium_with_camera(playwright, y4m) as browser:
        page = start_live(browser, app.url)
        frames, delays = page.evaluate(STAMP_DELAYS, ["Annotated", FPS_WINDOW_S * 1000, STAMP_BITS, STAMP_CELL,
                                                      CAMERA_FRAMES])
        page.close()
    delays_ms = [1000 * d / CAMERA_FPS for d in delays]
    print(f"\nbrowser, detector slowed to {SLOW_DETECTOR_S} s a search: {frames / FPS_WINDOW_S:.1f} frames/s, "
          f"delays {[round(d) for d in delays_ms]} ms")
    assert frames / FPS_WINDOW_S > 2 / SLOW_DETECTOR_S  # more frames than searches: none waited for one
    half = len(delays_ms) // 2
    assert half >= 2, delays_ms
    assert np.median(delays_ms[half:]) <= np.median(delays_ms[:half]) + 500  # no queue growing behind it
    assert max(delays_ms) < 1000  # every frame shown is recent
