"""A session's record of tracked faces: the class's expression mix over time, a summary, and a CSV.

    log = SessionLog("faces.csv")                 # SessionLog(): a temporary file, made at the first record
    log.record(result.faces, time_s=t, frame=i)   # once per analysed frame, faces from a FaceTracker
    log.timeline()           # DataFrame time_s, emotion, share: gr.LinePlot(x="time_s", y="share", color="emotion")
    log.summary()            # plain dict; log.summary_markdown() for people
    log.csv_path             # every face row so far, written as it is recorded (None before, if temporary)

Memory stays bounded for any length: CSV rows go straight to disk, the timeline merges into coarser
time buckets past TIMELINE_MAX_POINTS, and the rest is a few numbers per face ID.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fer.config import EMOTIONS, LIVE_FPS, NUM_CLASSES, TIMELINE_MAX_POINTS
from fer.pipeline import Face, FrameResult, Pipeline
from fer.tracking import FaceTracker

CSV_COLUMNS: tuple[str, ...] = ("time_s", "frame", "face_id", "x", "y", "w", "h", *EMOTIONS, "label")
CAVEAT = ("These are facial expressions as an automatic classifier reads them, not measurements of "
          "comprehension, attention or how anyone feels; the classifier is less accurate for some "
          "faces, head angles and lighting.")
MARKDOWN_FACES = 20  # faces listed in the markdown summary; summary() has them all


def label_shares(faces: list[Face]) -> np.ndarray:
    """Share of the faces whose top class is each emotion: float64 (7,) summing to 1 (zeros if no faces)."""
    counts = np.bincount([int(np.argmax(face.probs)) for face in faces], minlength=NUM_CLASSES)
    return counts / max(1, len(faces))


def _start_csv(path: Path) -> Path:
    """Creates (or empties) the CSV with its header row."""
    with path.open("w", newline="") as f:
        csv.writer(f).writerow(CSV_COLUMNS)
    return path


@dataclass
class _Bucket:
    """Frames merged into one timeline point."""

    frames: int = 0
    time_sum: float = 0.0
    share_sum: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES))

    def add(self, frames: int, time_sum: float, share_sum: np.ndarray) -> None:
        self.frames += frames
        self.time_sum += time_sum
        self.share_sum += share_sum


@dataclass
class _FaceStats:
    """One face ID over the session."""

    first_s: float
    last_s: float
    frames: int = 0
    label_counts: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES, dtype=np.int64))


class SessionLog:
    """Records analysed frames of one session (a webcam stream or a video).

    Args:
        csv_path: where the face rows go (created or overwritten now, header first); None = a new
            temporary file made at the first record, so copies of a fresh log (gr.State) never
            share one; the caller deletes it when done.
        max_points: the timeline keeps at most this many points, merging neighbours in time.
    """

    def __init__(self, csv_path: str | Path | None = None, max_points: int = TIMELINE_MAX_POINTS):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        self.csv_path: Path | None = None if csv_path is None else _start_csv(Path(csv_path))
        self._temporary = csv_path is None  # close() deletes only files this log chose
        self.max_points = max_points
        self.frames = 0  # analysed frames recorded
        self.frames_with_faces = 0
        self.rows = 0  # face rows in the CSV
        self.max_faces = 0  # most faces in one frame
        self.first_s: float | None = None
        self.last_s: float | None = None
        self._last_frame = -1
        self._clock_start: float | None = None  # time.monotonic() of the first record without time_s
        self._share_sum = np.zeros(NUM_CLASSES)  # summed per-frame label shares
        self._buckets: dict[int, _Bucket] = {}
        self._bucket_s = 0.0  # timeline bucket width in seconds; 0 = one point per frame
        self._faces: dict[int, _FaceStats] = {}
        self.closed = False

    def record(self, faces: list[Face], time_s: float | None = None, frame: int | None = None) -> None:
        """Adds one analysed frame: appends its CSV rows and updates the timeline and summary.

        Args:
            faces: the frame's faces, normally from a FaceTracker (track_id set, probs smoothed);
                faces without a track_id get an empty face_id and no per-face summary.
            time_s: seconds from the session's start; default: wall-clock time since the first record.
            frame: the frame's index; default: the previous index + 1.
        """
        if self.closed:
            return  # a frame that was still in flight when the session ended
        if time_s is None:
            now = time.monotonic()
            self._clock_start = now if self._clock_start is None else self._clock_start
            time_s = now - self._clock_start
        frame = self._last_frame + 1 if frame is None else frame
        self._last_frame = frame
        if self.csv_path is None:
            fd, name = tempfile.mkstemp(prefix="fer-session-", suffix=".csv")
            os.close(fd)
            self.csv_path = _start_csv(Path(name))
        self.frames += 1
        self.first_s = time_s if self.first_s is None else self.first_s
        self.last_s = time_s
        self._write_rows(time_s, frame, faces)
        if not faces:
            return
        self.frames_with_faces += 1
        self.max_faces = max(self.max_faces, len(faces))
        shares = label_shares(faces)
        self._share_sum += shares
        self._add_to_timeline(time_s, shares)
        for face in faces:
            if face.track_id is None:
                continue
            stats = self._faces.setdefault(face.track_id, _FaceStats(first_s=time_s, last_s=time_s))
            stats.last_s = time_s
            stats.frames += 1
            stats.label_counts[int(np.argmax(face.probs))] += 1

    def timeline(self) -> pd.DataFrame:
        """The class's expression mix over time, for a line plot.

        Returns:
            Long-form DataFrame with columns time_s (mean time of the frames in the point), emotion
            (EMOTIONS order) and share (fraction of visible faces, 0..1); 7 rows per point. Frames
            without faces are left out.
        """
        buckets = [self._buckets[key] for key in sorted(self._buckets)]
        times = np.array([b.time_sum / b.frames for b in buckets])
        shares = np.array([b.share_sum / b.frames for b in buckets]).reshape(-1, NUM_CLASSES)
        return pd.DataFrame({
            "time_s": np.repeat(times, NUM_CLASSES),
            "emotion": np.tile(np.array(EMOTIONS, dtype=object), len(buckets)),
            "share": shares.ravel(),
        })

    def summary(self) -> dict:
        """The session in numbers.

        Returns:
            {"duration_s", "frames", "frames_with_faces", "faces_seen" (distinct face IDs),
            "max_faces_in_frame", "rows", "expression_share" ({emotion: share of visible faces,
            averaged over the frames with faces}), "faces" (one dict per face ID, most frames first:
            face_id, frames, first_s, last_s, dominant (most frequent top class), dominant_share),
            "caveat"}.
        """
        faces = []
        for face_id, stats in sorted(self._faces.items(), key=lambda item: (-item[1].frames, item[0])):
            top = int(np.argmax(stats.label_counts))
            faces.append({"face_id": face_id, "frames": stats.frames, "first_s": stats.first_s,
                          "last_s": stats.last_s, "dominant": EMOTIONS[top],
                          "dominant_share": float(stats.label_counts[top] / stats.frames)})
        share = self._share_sum / max(1, self.frames_with_faces)
        return {
            "duration_s": (self.last_s - self.first_s) if self.frames else 0.0,
            "frames": self.frames,
            "frames_with_faces": self.frames_with_faces,
            "faces_seen": len(self._faces),
            "max_faces_in_frame": self.max_faces,
            "rows": self.rows,
            "expression_share": {emotion: float(s) for emotion, s in zip(EMOTIONS, share, strict=True)},
            "faces": faces,
            "caveat": CAVEAT,
        }

    def summary_markdown(self) -> str:
        """summary() as a short markdown report, ending with what the numbers do not mean."""
        s = self.summary()
        analysed = (f"- **Analysed:** {s['frames']} frames over {s['duration_s']:.1f} s, "
                    f"{s['frames_with_faces']} with faces")
        lines = ["### Session summary", "", analysed]
        if not s["frames_with_faces"]:
            return "\n".join([*lines, "", "No faces were detected.", "", f"_{CAVEAT}_"])
        lines.append(f"- **Faces tracked:** {s['faces_seen']} IDs, at most {s['max_faces_in_frame']} at once "
                     "(a face that leaves and comes back may get a new ID)")
        mix = sorted(s["expression_share"].items(), key=lambda item: -item[1])
        lines.append("- **Expression mix** (share of visible faces, averaged over time): "
                     + ", ".join(f"{emotion} {share:.0%}" for emotion, share in mix if share > 0))
        if s["faces"]:
            lines += ["", "| Face | Seen | Most frequent expression |", "|---|---|---|"]
            lines += [f"| #{f['face_id']} | {f['frames']} frames, {f['first_s']:.1f}–{f['last_s']:.1f} s "
                      f"| {f['dominant']} ({f['dominant_share']:.0%} of its frames) |"
                      for f in s["faces"][:MARKDOWN_FACES]]
            if len(s["faces"]) > MARKDOWN_FACES:
                lines.append(f"\n…and {len(s['faces']) - MARKDOWN_FACES} more face IDs (see the CSV).")
        return "\n".join([*lines, "", f"_{CAVEAT}_"])

    def close(self) -> None:
        """Deletes a temporary CSV (one this log created) and ignores later records."""
        self.closed = True
        if self.csv_path is not None and self._temporary:
            self.csv_path.unlink(missing_ok=True)

    def _write_rows(self, time_s: float, frame: int, faces: list[Face]) -> None:
        """Appends one CSV row per face; the file is reopened per frame so the log holds no open handle."""
        if not faces:
            return
        with self.csv_path.open("a", newline="") as f:
            writer = csv.writer(f)
            for face in faces:
                box = face.box
                face_id = "" if face.track_id is None else face.track_id
                writer.writerow([f"{time_s:.3f}", frame, face_id, box.x, box.y, box.w, box.h,
                                 *(f"{p:.4f}" for p in face.probs), face.label])
        self.rows += len(faces)

    def _add_to_timeline(self, time_s: float, shares: np.ndarray) -> None:
        """Adds a frame's shares to its bucket; doubles the bucket width when there are too many."""
        key = self.frames_with_faces if self._bucket_s == 0 else math.floor(time_s / self._bucket_s)
        self._buckets.setdefault(key, _Bucket()).add(1, time_s, shares)
        while len(self._buckets) > self.max_points:
            times = [b.time_sum / b.frames for b in self._buckets.values()]
            span = max(times) - min(times)
            self._bucket_s = max(2 * self._bucket_s, 2 * span / self.max_points, 1e-3)
            merged: dict[int, _Bucket] = {}
            for b in self._buckets.values():
                merged.setdefault(math.floor(b.time_sum / b.frames / self._bucket_s), _Bucket()).add(
                    b.frames, b.time_sum, b.share_sum)
            self._buckets = merged


class LiveSession:
    """One viewer's live stream: stable face IDs and smoothing (FaceTracker) plus its SessionLog.

    Keep one per browser session (e.g. in gr.State); `close()` deletes the temporary CSV, so nothing
    stays on the server after the session unless the viewer downloaded it.
    """

    def __init__(self, fps: float = LIVE_FPS):
        self.fps = fps
        self.tracker = FaceTracker(fps)
        self.log = SessionLog()

    def process(self, pipeline: Pipeline, frame: np.ndarray) -> FrameResult:
        """Analyses a frame with this session's tracker and records it."""
        result = pipeline.process(frame, self.tracker)
        self.log.record(result.faces)
        return result

    def restart(self) -> None:
        """Starts over in place (new IDs, empty log), so a frame still in flight cannot revive the old one."""
        old = self.log
        self.tracker, self.log = FaceTracker(self.fps), SessionLog()
        old.close()

    def close(self) -> None:
        self.log.close()
