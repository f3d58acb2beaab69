"""Stable face IDs across frames, and per-face smoothing of the emotion probabilities, both in seconds.

    tracker = FaceTracker()                               # one per stream: a webcam session or a video
    result = pipe.process(rgb, tracker=tracker, t=t)      # faces now have track_id and smoothed probs

Every update carries the frame's time, so "keep a face 1 s" and "half-life 0.15 s" mean exactly that
at any frame rate, including one that changes mid-stream (a busy server, a browser that sends fewer
frames, a video analysed every Nth frame).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from fer.config import SMOOTHING_HALF_LIFE_S, TRACK_MAX_SHIFT, TRACK_MEMORY_S, TRACK_MIN_IOU
from fer.types import Box, Face


def ema_alpha(dt_s: float, half_life_s: float = SMOOTHING_HALF_LIFE_S) -> float:
    """The weight of a new reading `dt_s` seconds after the previous one, in a moving average with
    the given half-life.

    An old value keeps (1 - alpha) of its weight, which halves every `half_life_s` seconds however
    the readings are spaced: two readings 0.1 s apart weigh exactly as much as one 0.2 s later.

    Args:
        dt_s: seconds since the previous reading (>= 0; 0 gives the new reading no weight).
        half_life_s: seconds; 0 turns smoothing off (alpha = 1).
    Returns:
        alpha in [0, 1].
    """
    if dt_s < 0 or half_life_s < 0:
        raise ValueError(f"need dt_s >= 0 and half_life_s >= 0, got dt_s={dt_s}, half_life_s={half_life_s}")
    if half_life_s == 0:
        return 1.0
    return 1.0 - 0.5 ** (dt_s / half_life_s)


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
    seen_t: float  # when the face was last seen, in the caller's seconds


class FaceTracker:
    """Greedy IoU/centroid tracker with a time-based moving average of each face's probabilities.

    Each frame, the (track, face) pairs are matched best first: highest IoU, then nearest centres.
    A pair qualifies when the boxes overlap by `min_iou` or their centres are within `max_shift`
    face sizes. A face with no track gets a new ID; IDs are never reused. All state lives in the
    instance, so keep one tracker per stream.

    Args:
        memory_s: a face that is not detected keeps its ID for this many seconds.
        half_life_s: half-life of the probabilities' moving average; 0 turns smoothing off.
        min_iou: smallest box overlap that continues a track.
        max_shift: largest centre distance, in face sizes, that continues a track.
    """

    def __init__(self, memory_s: float = TRACK_MEMORY_S, half_life_s: float = SMOOTHING_HALF_LIFE_S, *,
                 min_iou: float = TRACK_MIN_IOU, max_shift: float = TRACK_MAX_SHIFT):
        if memory_s < 0 or half_life_s < 0:
            raise ValueError(f"need memory_s >= 0 and half_life_s >= 0, got {memory_s}, {half_life_s}")
        self.memory_s, self.half_life_s = memory_s, half_life_s
        self.min_iou, self.max_shift = min_iou, max_shift
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._now = -math.inf  # the latest time seen

    def update(self, faces: list[Face], t: float) -> list[Face]:
        """Continues the tracks with the faces of the frame taken at `t`.

        Args:
            faces: this frame's faces, each with raw probabilities float32 (7,).
            t: the frame's time in seconds, on any clock (a video's timestamps, time.monotonic()). A time
                earlier than one already seen counts as that latest time, so a glitch cannot undo history.
        Returns:
            The same faces in the same order, with `track_id` set and `probs` smoothed over the track.
        """
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite number of seconds, got {t}")
        self._now = now = max(self._now, t)
        self._tracks = [track for track in self._tracks if now - track.seen_t <= self.memory_s]
        matches = self._match([face.box for face in faces])
        out, new_tracks = [], []
        for i, face in enumerate(faces):
            track = matches.get(i)
            probs = np.asarray(face.probs, dtype=np.float32)
            if track is None:
                track = _Track(self._next_id, face.box, probs.copy(), now)
                self._next_id += 1
                new_tracks.append(track)
            else:
                alpha = ema_alpha(now - track.seen_t, self.half_life_s)
                track.probs = (alpha * probs + (1 - alpha) * track.probs).astype(np.float32)
                track.box, track.seen_t = face.box, now
            out.append(dataclasses.replace(face, track_id=track.track_id, probs=track.probs.copy()))
        self._tracks += new_tracks
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
