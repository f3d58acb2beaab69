"""A full disk on the server: the live stream goes on without its face log, and every tab that writes a file
answers with one line that names no server path. The app's handlers run in this process, the disk made full by
making every write of the kind fail with ENOSPC."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from devtools.frames import face_frame
from fer.session.facecsv import FaceCsv
from tests.helpers import write_png


class Viewer:
    """What the app reads from a gr.Request: the browser session's hash."""

    session_hash = "a-viewer"


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/srv/fer/gradio/a-viewer/answer.jpg")


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    import app

    app.build_ui()
    yield app
    app.close_ui()


def test_a_full_disk_under_the_face_log_stops_the_log_not_the_stream(app, monkeypatch):
    """A face log that cannot be written once failed every frame, and Gradio kept each failed event until the
    page closed (40 MB a minute). Now each frame is answered, the status says the log stopped and why, and the
    timeline goes on."""
    frame, session, statuses = face_frame()[0], None, []
    for _ in range(10):
        *_, session = app.stream(frame, "haar", False, session, request=Viewer)
    rows = session.log.csv.rows
    monkeypatch.setattr(FaceCsv, "write", full_disk)
    end = time.monotonic() + 1.0  # a few of the chart's refreshes, which carry the status
    while time.monotonic() < end:
        annotated, _, status, *_, session = app.stream(frame, "haar", False, session, request=Viewer)
        assert isinstance(annotated, np.ndarray)
        statuses.append(status)
        time.sleep(0.05)
    stopped = [s for s in statuses if isinstance(s, str) and "face log stopped" in s]
    assert stopped and "No space left on device" in stopped[-1] and "/srv" not in stopped[-1]
    assert session.log.csv.rows == rows and session.log.stats.frames == 10 + len(statuses)


def test_a_full_disk_gets_the_photo_and_the_download_one_line_without_a_path(app, monkeypatch, tmp_path):
    photo = write_png(tmp_path / "face.png", face_frame()[0])
    *_, session = app.stream(face_frame()[0], "haar", False, None, request=Viewer)
    monkeypatch.setattr(Image.Image, "save", full_disk)
    monkeypatch.setattr(Path, "write_text", full_disk)  # the report page
    for call in (lambda: app.analyze({"path": str(photo)}, "haar", request=Viewer),
                 lambda: app.session_files_for_download(session, "haar", request=Viewer)):
        with pytest.raises(gr.Error) as raised:
            call()
        assert "No space left on device" in raised.value.message and "/srv" not in raised.value.message
