"""One viewer's live stream: the pipeline with this viewer's tracker and session log.

    session = LiveSession()                       # one per browser session (e.g. in gr.State)
    result = session.process(pipeline, frame)     # IDs, smoothing, and a row in the log
    if session.chart_due():                       # five times a second: as often as faces are re-read
        show(result.main_face.confidences())
    if session.refresh_due():                     # about once a second
        show(session.log.timeline.points(), session.log.stats.summary())
    html = session.report("haar")                 # the session so far as a page that opens offline
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from fer.config import CHART_REFRESH_S, PANEL_REFRESH_S
from fer.lecture_report import Recording, lecture_html
from fer.pipeline import BackgroundReading, BackgroundSearch, Pipeline
from fer.session import SessionLog
from fer.tracking import FaceTracker
from fer.types import FrameResult


class Cadence:
    """Says yes on the first call and then once per `every_s` seconds of the monotonic clock."""

    def __init__(self, every_s: float):
        self.every_s = every_s
        self._last: float | None = None  # when due() last said yes

    def due(self) -> bool:
        """Whether it is time; a True answer counts, so the next comes `every_s` later."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every_s:
            return False
        self._last = now
        return True


class LiveSession:
    """A tracker and a log for one live stream, timed on the monotonic clock.

    `close()` deletes the log's temporary CSV, so nothing stays on the server after the session unless
    the viewer downloaded it. A CSV that cannot be written (a full disk) stops, and the stream goes on
    (see `log.csv_stopped`).

    Args:
        refresh_s: how often `refresh_due()` says the timeline and summary should be redrawn.
        csv_dir: where the log's temporary CSV goes (e.g. the viewer's own folder, deleted when they
            leave); None = the system's temporary folder.
        aggregate_only: log only the class mix (see fer.session.SessionLog).
    """

    def __init__(self, refresh_s: float = PANEL_REFRESH_S, csv_dir: str | Path | None = None,
                 aggregate_only: bool = False):
        self.refresh_s, self.csv_dir, self.aggregate_only = refresh_s, csv_dir, aggregate_only
        self.search = BackgroundSearch()  # a frame never waits for a full search
        self._start_over()

    def process(self, pipeline: Pipeline, frame: np.ndarray) -> FrameResult:
        """Analyses a frame taken now with this session's tracker, and records it."""
        now = time.monotonic()
        if self._start is None:
            self._start, self.started_at = now, datetime.now(timezone.utc)
        result = pipeline.process(frame, tracker=self.tracker, t=now, search=self.search, reading=self.reading)
        self.log.record(result.faces, time_s=now - self._start)
        return result

    def refresh_due(self) -> bool:
        """True for the first call and then once per `refresh_s`: time to redraw the timeline and summary.

        A True answer counts as the refresh, so the next one comes `refresh_s` later.
        """
        return self._panels.due()

    def chart_due(self) -> bool:
        """True for the first call and then once per CHART_REFRESH_S: time to resend the chart and status.
        Faces are re-read at about that rate, so sending them with every frame only costs the browser."""
        return self._chart.due()

    def report(self, detector: str) -> str:
        """The session so far as a report (fer.lecture_report), without stills: live frames are never kept."""
        date = None if self.started_at is None else self.started_at.strftime("%Y-%m-%d %H:%M UTC")
        settings = {"detector": detector, **({"mode": "aggregate only"} if self.aggregate_only else {})}
        return lecture_html(Recording("Live session", self.log.timeline.points(), self.log.stats.summary(), settings,
                                      date=date, aggregate_only=self.aggregate_only))

    def restart(self) -> None:
        """Starts over in place (new IDs, empty log), so a frame still in flight cannot revive the old one, nor a
        reading in flight name the new session's faces."""
        old_log, old_reading = self.log, self.reading
        self._start_over()
        old_log.close()
        old_reading.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called (the viewer left)."""
        return self.search.closed

    def close(self) -> None:
        self.log.close()
        self.search.close()
        self.reading.close()

    def _start_over(self) -> None:
        """New IDs, an empty log, a clock that starts at the next frame, panels due at once."""
        self.tracker = FaceTracker()
        self.reading = BackgroundReading()  # a frame never waits for the classifier; its readings name these tracks
        self.log = SessionLog(temp_dir=self.csv_dir, aggregate_only=self.aggregate_only, keep_going_without_csv=True)
        self._start: float | None = None  # monotonic time of the first frame
        self.started_at: datetime | None = None  # and its date
        self._panels, self._chart = Cadence(self.refresh_s), Cadence(CHART_REFRESH_S)
