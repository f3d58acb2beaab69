"""The class's expression mix over time: per frame, the share of visible faces showing each expression, and how
many faces were in view.

Memory stays bounded for any length: past `max_points`, neighbouring points merge into time buckets
twice as wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fer.config import EMOTIONS, NUM_CLASSES, TIMELINE_MAX_POINTS
from fer.types import Face

POINT_COLUMNS: tuple[str, ...] = ("time_s", "frames", "read_frames", "faces", *EMOTIONS)


def label_shares(faces: list[Face]) -> np.ndarray:
    """Share of the readable faces whose top class is each emotion: float64 (7,) summing to 1 (zeros if
    none is readable). Faces too small to read have no expression to count."""
    counts = np.bincount([int(np.argmax(face.probs)) for face in faces if face.readable], minlength=NUM_CLASSES)
    return counts / max(1, counts.sum())


@dataclass
class _Bucket:
    """Analysed frames merged into one timeline point."""

    frames: int = 0  # analysed frames
    read_frames: int = 0  # of which with a readable face: the frames the shares average over
    faces_sum: int = 0  # faces in view (readable or not), summed over the frames
    time_sum: float = 0.0
    share_sum: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES))

    def merge(self, other: _Bucket) -> None:
        self.frames += other.frames
        self.read_frames += other.read_frames
        self.faces_sum += other.faces_sum
        self.time_sum += other.time_sum
        self.share_sum += other.share_sum


class Timeline:
    """Accumulates analysed frames into at most `max_points` points in time.

    Args:
        max_points: the most points kept (>= 2); neighbours in time merge beyond it.
    """

    def __init__(self, max_points: int = TIMELINE_MAX_POINTS):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        self.max_points = max_points
        self._buckets: dict[int, _Bucket] = {}
        self._bucket_s = 0.0  # bucket width in seconds; 0 = one point per frame
        self._frames = 0  # frames added: the point key while _bucket_s is 0

    def add(self, time_s: float, faces: list[Face]) -> None:
        """Adds one analysed frame taken at `time_s` seconds, with the faces in view (none is a frame too)."""
        readable = [face for face in faces if face.readable]
        self._frames += 1
        key = self._frames if self._bucket_s == 0 else math.floor(time_s / self._bucket_s)
        shares = label_shares(readable)
        self._buckets.setdefault(key, _Bucket()).merge(
            _Bucket(1, int(bool(readable)), len(faces), time_s, shares))
        while len(self._buckets) > self.max_points:
            self._coarsen()

    def points(self) -> pd.DataFrame:
        """Every point, in time order, one row each (POINT_COLUMNS): time_s (mean time of its frames), frames,
        read_frames (frames with a readable face), faces (mean faces in view per frame), and a column per
        emotion: its share of the readable faces, averaged over read_frames (NaN where read_frames is 0)."""
        buckets = [self._buckets[key] for key in sorted(self._buckets)]
        table = pd.DataFrame({
            "time_s": [b.time_sum / b.frames for b in buckets],
            "frames": [b.frames for b in buckets],
            "read_frames": [b.read_frames for b in buckets],
            "faces": [b.faces_sum / b.frames for b in buckets],
        }, columns=POINT_COLUMNS[:4])
        with np.errstate(invalid="ignore"):
            shares = np.array([b.share_sum / b.read_frames for b in buckets]).reshape(-1, NUM_CLASSES)
        return pd.concat([table, pd.DataFrame(shares, columns=list(EMOTIONS))], axis=1)

    def to_frame(self) -> pd.DataFrame:
        """The expression mix for a line plot (gr.LinePlot(x="time_s", y="share", color="emotion")).

        Returns:
            Long-form DataFrame with columns time_s, emotion (EMOTIONS order) and share (fraction of visible
            faces, 0..1); 7 rows per point with a readable face.
        """
        return long_form(self.points())

    def _coarsen(self) -> None:
        """Doubles the bucket width (at least) and merges the points into the wider buckets."""
        times = [b.time_sum / b.frames for b in self._buckets.values()]
        span = max(times) - min(times)
        self._bucket_s = max(2 * self._bucket_s, 2 * span / self.max_points, 1e-3)
        merged: dict[int, _Bucket] = {}
        for b in self._buckets.values():
            merged.setdefault(math.floor(b.time_sum / b.frames / self._bucket_s), _Bucket()).merge(b)
        self._buckets = merged


def long_form(points: pd.DataFrame) -> pd.DataFrame:
    """Timeline.points() as time_s, emotion, share rows (EMOTIONS order per point), points without a readable
    face left out."""
    read = points[points["read_frames"] > 0]
    return pd.DataFrame({
        "time_s": np.repeat(read["time_s"].to_numpy(dtype=float), NUM_CLASSES),
        "emotion": np.tile(np.array(EMOTIONS, dtype=object), len(read)),
        "share": read[list(EMOTIONS)].to_numpy(dtype=float).ravel(),
    })
