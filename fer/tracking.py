"""Stable face IDs across frames, and per-face smoothing of the emotion probabilities.

    tracker = FaceTracker()                         # one per session: webcam stream or video
    result = pipe.process(rgb, tracker=tracker)     # faces now have track_id and smoothed probs
    tracker = FaceTracker(fps=30 / 3)               # a 30 fps video, every 3rd frame analysed
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from fer.config import (
    LIVE_FPS,
    SMOOTHING_HALF_LIFE_S,
    TRACK_MAX_SHIFT,
    TRACK_MEMORY_S,
    TRACK_MIN_IOU,
)
from fer.detectors import Box
from fer.pipeline import Face


def ema_alpha(fps: float, half_life_s: float = SMOOTHING_HALF_LIFE_S) -> float:
    """The weight of the newest frame in an exponential moving average with a given half-life.

    An old value keeps (1 - alpha) ** n of its weight after n frames; alpha is chosen so that this is
    1/2 after `half_life_s` seconds, so the smoothing lasts as long in time at any frame rate.

    Args:
        fps: analysed frames per second (> 0).
        half_life_s: seconds; 0 turns smoothing off (alpha = 1).
    Returns:
        alpha in (0, 1].
    """
    if fps <= 0 or half_life_s < 0:
        raise ValueError(f"need fps > 0 and half_life_s >= 0, got fps={fps}, half_life_s={half_life_s}")
    if half_life_s == 0:
        return 1.0
    return 1.0 - 0.5 ** (1.0 / (half_life_s * fps))


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: 1 for the same box, 0 when they don't overlap."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    inter = max(0, w) * max(0, h)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def centre_shift(a: Box, b: Box) -> float:
    """Distance between the boxes' centres in units of their mean side (0 = same centre)."""
    dx = (a.x + a.w / 2) - (b.x + b.w / 2)
    dy = (a.y + a.h / 2) - (b.y + b.h / 2)
    size = (a.w + a.h + b.w + b.h) / 4
    return math.hypot(dx, dy) / size if size > 0 else math.inf


@dataclass
class _Track:
    track_id: int
    box: Box  # where the face was last seen
    probs: np.ndarray  # smoothed probabilities, float32 (7,)
    missed: int = 0  # analysed frames in a row without a matching face


class FaceTracker:
    """Greedy IoU/centroid tracker with an exponential moving average of each face's probabilities.

    Each frame, the (track, face) pairs are matched best first: highest IoU, then nearest centres.
    A pair qualifies when the boxes overlap by `min_iou` or their centres are within `max_shift`
    face sizes. A face with no track gets a new ID; IDs are never reused. All state lives in the
    instance, so keep one tracker per session.

    Args:
        fps: analysed frames per second; turns TRACK_MEMORY_S and SMOOTHING_HALF_LIFE_S into the
            defaults of `max_missed` and `alpha`.
        max_missed: a face keeps its ID through this many analysed frames in a row without a detection.
        alpha: weight of the newest probabilities in the moving average (1 = no smoothing).
        min_iou: smallest box overlap that continues a track.
        max_shift: largest centre distance, in face sizes, that continues a track.
    """

    def __init__(self, fps: float = LIVE_FPS, *, max_missed: int | None = None, alpha: float | None = None,
                 min_iou: float = TRACK_MIN_IOU, max_shift: float = TRACK_MAX_SHIFT):
        self.max_missed = max(1, round(TRACK_MEMORY_S * fps)) if max_missed is None else max_missed
        self.alpha = ema_alpha(fps) if alpha is None else alpha
        if not 0 < self.alpha <= 1 or self.max_missed < 0:
            raise ValueError(f"need 0 < alpha <= 1 and max_missed >= 0, got {self.alpha}, {self.max_missed}")
        self.min_iou, self.max_shift = min_iou, max_shift
        self._tracks: list[_Track] = []
        self._next_id = 1

    def update(self, faces: list[Face]) -> list[Face]:
        """Continues the tracks with one analysed frame's faces.

        Args:
            faces: this frame's faces, each with raw probabilities float32 (7,).
        Returns:
            The same faces in the same order, with `track_id` set and `probs` smoothed over the track.
        """
        matches = self._match([face.box for face in faces])
        out, new_tracks = [], []
        for i, face in enumerate(faces):
            track = matches.get(i)
            probs = np.asarray(face.probs, dtype=np.float32)
            if track is None:
                track = _Track(self._next_id, face.box, probs.copy())
                self._next_id += 1
                new_tracks.append(track)
            else:
                track.box, track.missed = face.box, 0
                track.probs = self.alpha * probs + (1 - self.alpha) * track.probs
            out.append(dataclasses.replace(face, track_id=track.track_id, probs=track.probs.copy()))
        matched = {id(track) for track in matches.values()}
        for track in self._tracks:
            if id(track) not in matched:
                track.missed += 1
        self._tracks = [track for track in self._tracks if track.missed <= self.max_missed] + new_tracks
        return out

    def _match(self, boxes: list[Box]) -> dict[int, _Track]:
        """Greedy assignment {face index: track}, best pairs first."""
        pairs = []
        for i, box in enumerate(boxes):
            for track in self._tracks:
                overlap, shift = iou(box, track.box), centre_shift(box, track.box)
                if overlap >= self.min_iou or shift <= self.max_shift:
                    pairs.append((-overlap, shift, i, track))
        pairs.sort(key=lambda pair: pair[:2])
        matches: dict[int, _Track] = {}
        taken: set[int] = set()
        for _, _, i, track in pairs:
            if i not in matches and id(track) not in taken:
                matches[i] = track
                taken.add(id(track))
        return matches
