"""The browserless live viewers (devtools/stream_client.py) that measure several sessions at once: they must speak
the app's Gradio protocol as a page does, or the soak's and devtools.live_ceiling's figures would measure nothing."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.frames import stamped_faces_frames
from devtools.server import ROOT, running_app
from devtools.stream_client import Viewers

WAIT_S = 120  # for the first annotated frames on a busy 2-core machine


def test_each_viewer_gets_annotated_frames_of_its_own_stream(tmp_path: Path) -> None:
    with running_app(tmp_path / "app.log") as app:
        viewers = Viewers(app.url, stamped_faces_frames(30, 320, 240), count=2)
        deadline = time.monotonic() + WAIT_S
        while min(viewers.annotated()) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        errors = viewers.close()
    assert errors == []
    assert min(viewers.annotated()) >= 3
    for counts in viewers.counts:
        assert counts.joins == 1 and counts.sent >= counts.annotated  # one event each; no answer without a frame


def test_a_viewer_gets_the_identity_ceilings_frames_back(tmp_path: Path) -> None:
    """devtools.live_ceiling sets the app against tests/identity_app.py with these viewers."""
    with running_app(tmp_path / "identity.log", script=ROOT / "tests" / "identity_app.py") as app:
        viewers = Viewers(app.url, stamped_faces_frames(30, 320, 240), count=1)
        deadline = time.monotonic() + WAIT_S
        while viewers.annotated()[0] < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        errors = viewers.close()
    assert errors == []
    assert viewers.annotated()[0] >= 3
