"""An hour-long class keeps nothing per frame, and loses nothing: the live tab streamed through the real app in
this process, so the test can look inside Gradio's session state and the server's tasks (Chromium's fake webcam,
as in tests/test_browser.py). Counts what a frame could leave behind; times nothing.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import pytest

from devtools.browser import COUNT_FRAMES, TIMEOUT_MS, chromium_with_camera, start_live
from devtools.frames import face_frame, stamped_faces_frames, write_y4m
from devtools.server import free_port

FRAMES = 120  # annotated frames streamed before looking: a few refreshes of every panel


@pytest.fixture()
def app_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The app (build_ui, as `python app.py` builds it) served from this process, its files under tmp_path."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    import app

    demo = app.build_ui()
    demo.queue()
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield app, demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        app.close_ui()


def sleeping_stream_timers() -> int:
    """Server tasks still waiting out a stream's time limit (Gradio's `Queue.timeout`)."""
    return sum(1 for obj in gc.get_objects()
               if isinstance(obj, asyncio.Task) and not obj.done() and "timeout" in obj.get_coro().__qualname__)


def test_a_live_session_keeps_nothing_per_frame_and_closing_the_page_ends_it(playwright, tmp_path, app_in_process):
    app, demo, url = app_in_process
    y4m = write_y4m(tmp_path / "camera.y4m", stamped_faces_frames(60, 640, 480, 1), 30)
    with chromium_with_camera(playwright, y4m) as browser:
        page = start_live(browser, url)
        assert page.evaluate(COUNT_FRAMES, "Annotated")
        page.wait_for_function("window.__frames >= 10", timeout=TIMEOUT_MS)
        (state,) = demo.state_holder.session_data.values()
        components_early = len(state.blocks_config.blocks), len(state.config_values)
        page.wait_for_function(f"window.__frames >= {FRAMES}", timeout=TIMEOUT_MS * 3)

        # Gradio builds a component for every skipped output: the session must not keep one per frame.
        assert (len(state.blocks_config.blocks), len(state.config_values)) == components_early
        assert sleeping_stream_timers() <= 2  # not one per frame, each asleep for the stream's hour

        (session,) = app.live_sessions.values()
        page.close()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while app.live_sessions and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not app.live_sessions, "closing the page did not end the live session"
    assert session.log.closed and session.search.closed


class Viewer:
    """What the app reads from a gr.Request: the browser session's hash."""

    session_hash = "a-viewer"


def stream_for(app, seconds: float, session=None):
    """Sends the app's stream handler a face frame every 50 ms for `seconds`; the live session it returns."""
    frame, _ = face_frame()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        *_, session = app.stream(frame, "haar", False, session, request=Viewer)
        time.sleep(0.05)
    return session


def test_a_viewer_streaming_longer_than_forget_after_keeps_their_face_log(monkeypatch, tmp_path):
    """Files unused for --forget-after seconds are swept; a live stream uses its log with every frame, so a
    lesson longer than that keeps it (it was deleted under the stream, which then failed on every frame). Once
    the stream stops for that long, the log goes, and the next frame starts a new session in a new folder."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    import app

    app.build_ui(forget_after_s=1)  # swept every second
    try:
        session = stream_for(app, 3.5)
        assert session.log.csv.path.exists() and session.log.csv.rows > 0

        time.sleep(2.5)  # the webcam stopped: the sweep forgets the viewer's files
        assert not session.log.csv.path.exists()
        again = stream_for(app, 1.0, session)  # long enough for its first search to end, even under load
        assert again is not session and session.closed and app.live_sessions[Viewer.session_hash] is again
        assert again.log.csv.path.exists() and again.log.csv.rows > 0

        app.viewer_left(Viewer)  # the page closed as a frame was on its way: the frame revives nothing
        assert app.stream(face_frame()[0], "haar", False, again, request=Viewer) == gr.skip()
        assert not app.live_sessions and not list((tmp_path / "gradio").rglob("*.csv"))
    finally:
        app.close_ui()


# Frees 99 of every 100 1-KB blocks of a 300 MB heap: pages that glibc keeps after `free`, as it kept a closed
# live page's frames. Runs `release`, then prints how many MB of the process's RSS it gave back.
FRAGMENTED_HEAP = """
import sys
import time
import psutil
sys.path.insert(0, {root!r})
import app
blocks = [bytes(1000) + bytes([i % 256]) for i in range(300_000)]
kept = blocks[::100]
del blocks
before = psutil.Process().memory_info().rss
{release}
print((before - psutil.Process().memory_info().rss) / 2**20)
"""


@pytest.mark.parametrize("release", [
    "app.release_freed_memory()",  # what viewer_left calls after a page closes
    "app.trim_heap_every(0.1); time.sleep(1)",  # what the server runs all along, for a long stream's freed frames
])
def test_freed_memory_goes_back_to_the_system(release):
    """Freed heap pages are returned (glibc's malloc_trim): without it, the same script gives back nothing."""
    root = str(Path(__file__).resolve().parent.parent)
    script = FRAGMENTED_HEAP.format(root=root, release=release)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert float(run.stdout.strip().splitlines()[-1]) > 100  # MB; about 290 measured
