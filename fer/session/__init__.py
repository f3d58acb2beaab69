"""A session's record of tracked faces (a webcam stream or a video): three small pieces and the log
that feeds them.

    log = SessionLog("faces.csv")                  # SessionLog(): a temporary CSV, deleted by close()
    log.record(result.faces, time_s=t, frame=i)    # once per analysed frame, faces from a FaceTracker
    log.timeline.to_frame()                        # DataFrame time_s, emotion, share
    log.stats.summary()                            # plain dict (fer.markdown renders it for people)
    log.csv.path                                   # every face row so far

Memory stays bounded for any length: CSV rows go straight to disk, the timeline merges points past
TIMELINE_MAX_POINTS, and the stats are a few numbers per face ID.
"""

from __future__ import annotations

from pathlib import Path

from fer.config import TIMELINE_MAX_POINTS
from fer.session.facecsv import CSV_COLUMNS, FaceCsv
from fer.session.stats import CAVEAT, SessionStats
from fer.session.timeline import Timeline, label_shares
from fer.types import Face


class SessionLog:
    """Records each analysed frame of one session in its CSV, timeline and stats.

    Args:
        csv_path: the face CSV (see FaceCsv); None = a temporary file that `close()` deletes.
        max_points: the timeline's most points (see Timeline).
    """

    def __init__(self, csv_path: str | Path | None = None, max_points: int = TIMELINE_MAX_POINTS):
        self.csv = FaceCsv(csv_path)
        self.timeline = Timeline(max_points)
        self.stats = SessionStats()
        self.closed = False
        self._last_frame = -1

    def record(self, faces: list[Face], time_s: float, frame: int | None = None) -> None:
        """Adds one analysed frame.

        Args:
            faces: the frame's faces, normally from a FaceTracker (track_id set, probs smoothed). Faces
                too small to read get a CSV row marked "too small" and no part in the timeline or stats.
            time_s: seconds from the session's start.
            frame: the frame's index; default: the previous index + 1.
        """
        if self.closed:
            return  # a frame that was still in flight when the session ended
        frame = self._last_frame + 1 if frame is None else frame
        self._last_frame = frame
        self.csv.write(time_s, frame, faces)
        self.timeline.add(time_s, faces)
        self.stats.add(time_s, faces)

    def close(self) -> None:
        """Deletes a temporary CSV and ignores later records."""
        self.closed = True
        self.csv.close()


__all__ = ["CAVEAT", "CSV_COLUMNS", "FaceCsv", "SessionLog", "SessionStats", "Timeline", "label_shares"]
