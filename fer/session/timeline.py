"""The class's expression mix over time: per frame, the share of visible faces showing each expression.

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


def label_shares(faces: list[Face]) -> np.ndarray:
    """Share of the readable faces whose top class is each emotion: float64 (7,) summing to 1 (zeros if
    none is readable). Faces too small to read have no expression to count."""
    counts = np.bincount([int(np.argmax(face.probs)) for face in faces if face.readable], minlength=NUM_CLASSES)
    return counts / max(1, counts.sum())


@dataclass
class _Bucket:
    """Frames merged into one timeline point."""

    frames: int = 0
    time_sum: float = 0.0
    share_sum: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES))

    @property
    def time_s(self) -> float:
        return self.time_sum / self.frames

    def add(self, frames: int, time_sum: float, share_sum: np.ndarray) -> None:
        self.frames += frames
        self.time_sum += time_sum
        self.share_sum += share_sum


class Timeline:
    """Accumulates frames' label shares into at most `max_points` points in time.

    Args:
        max_points: the most points kept (>= 2); neighbours in time merge beyond it.
    """

    def __init__(self, max_points: int = TIMELINE_MAX_POINTS):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        self.max_points = max_points
        self._buckets: dict[int, _Bucket] = {}
        self._bucket_s = 0.0  # bucket width in seconds; 0 = one point per frame
        self._frames = 0  # frames with faces added: the point key while _bucket_s is 0

    def add(self, time_s: float, faces: list[Face]) -> None:
        """Adds one analysed frame taken at `time_s` seconds; a frame without readable faces adds no point."""
        faces = [face for face in faces if face.readable]
        if not faces:
            return
        self._frames += 1
        key = self._frames if self._bucket_s == 0 else math.floor(time_s / self._bucket_s)
        self._buckets.setdefault(key, _Bucket()).add(1, time_s, label_shares(faces))
        while len(self._buckets) > self.max_points:
            self._coarsen()

    def to_frame(self) -> pd.DataFrame:
        """The timeline for a line plot (gr.LinePlot(x="time_s", y="share", color="emotion")).

        Returns:
            Long-form DataFrame with columns time_s (mean time of the frames in the point), emotion
            (EMOTIONS order) and share (fraction of visible faces, 0..1); 7 rows per point.
        """
        buckets = [self._buckets[key] for key in sorted(self._buckets)]
        times = np.array([b.time_s for b in buckets])
        shares = np.array([b.share_sum / b.frames for b in buckets]).reshape(-1, NUM_CLASSES)
        return pd.DataFrame({
            "time_s": np.repeat(times, NUM_CLASSES),
            "emotion": np.tile(np.array(EMOTIONS, dtype=object), len(buckets)),
            "share": shares.ravel(),
        })

    def _coarsen(self) -> None:
        """Doubles the bucket width (at least) and merges the points into the wider buckets."""
        times = [b.time_s for b in self._buckets.values()]
        span = max(times) - min(times)
        self._bucket_s = max(2 * self._bucket_s, 2 * span / self.max_points, 1e-3)
        merged: dict[int, _Bucket] = {}
        for b in self._buckets.values():
            merged.setdefault(math.floor(b.time_s / self._bucket_s), _Bucket()).add(b.frames, b.time_sum, b.share_sum)
        self._buckets = merged
