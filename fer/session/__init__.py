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

import dataclasses
from pathlib import Path

from fer.config import AGGREGATE_MIN_FACES, TIMELINE_MAX_POINTS
from fer.session.facecsv import CSV_COLUMNS, FaceCsv
from fer.session.stats import CAVEAT, EU_NOTICE, SessionStats
from fer.session.timeline import Timeline, label_shares, long_form
from fer.types import Face


@dataclasses.dataclass(frozen=True)
class CsvStopped:
    """Why and when a session's CSV stopped: it holds the rows before `time_s` only."""

    time_s: float  # seconds from the session's start
    reason: str  # the system's words, e.g. "No space left on device"


class SessionLog:
    """Records each analysed frame of one session in its CSV, timeline and stats.

    Args:
        csv_path: the face CSV (see FaceCsv); None = a temporary file that `close()` deletes.
        max_points: the timeline's most points (see Timeline).
        temp_dir: where a temporary CSV goes; None = the system's temporary folder.
        aggregate_only: keep only the class mix (see `anonymous_crowd`): no CSV rows, no per-face
            records, and frames with fewer than AGGREGATE_MIN_FACES readable faces add nothing.
        keep_going_without_csv: when the CSV cannot be written (a full disk, a deleted folder), stop writing
            it and record the error in `csv_stopped` instead of raising: a live stream goes on, with its
            timeline and stats, rather than failing every frame. False (a video): the error is raised.
    """

    def __init__(self, csv_path: str | Path | None = None, max_points: int = TIMELINE_MAX_POINTS,
                 temp_dir: str | Path | None = None, aggregate_only: bool = False,
                 keep_going_without_csv: bool = False):
        if aggregate_only and csv_path is not None:
            raise ValueError("an aggregate-only session writes no per-face CSV")
        self.aggregate_only = aggregate_only
        self.csv = FaceCsv(csv_path, temp_dir)
        self.timeline = Timeline(max_points)
        self.stats = SessionStats()
        self.closed = False
        self.keep_going_without_csv = keep_going_without_csv
        self.csv_stopped: CsvStopped | None = None  # set when the CSV could not be written
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
        if self.aggregate_only:
            faces = anonymous_crowd(faces)
        elif self.csv_stopped is None:
            self._write_csv(time_s, frame, faces)
        self.timeline.add(time_s, faces)
        self.stats.add(time_s, faces)

    def _write_csv(self, time_s: float, frame: int, faces: list[Face]) -> None:
        try:
            self.csv.write(time_s, frame, faces)
        except OSError as err:
            if not self.keep_going_without_csv:
                raise
            self.csv_stopped = CsvStopped(time_s, err.strerror or type(err).__name__)

    def close(self) -> None:
        """Deletes a temporary CSV and ignores later records."""
        self.closed = True
        self.csv.close()


def anonymous_crowd(faces: list[Face], min_faces: int = AGGREGATE_MIN_FACES) -> list[Face]:
    """The readable faces without their IDs, or none when fewer than `min_faces` are readable: what
    aggregate-only mode may count, so no single person's expression can be read out."""
    readable = [dataclasses.replace(face, track_id=None) for face in faces if face.readable]
    return readable if len(readable) >= min_faces else []


__all__ = ["CAVEAT", "CSV_COLUMNS", "CsvStopped", "EU_NOTICE", "FaceCsv", "SessionLog", "SessionStats", "Timeline",
           "anonymous_crowd", "label_shares", "long_form"]
