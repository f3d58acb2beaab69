"""A second opinion on every candidate face: BlazeFace short-range looks at the candidate alone.

    detector = Confirmed(HaarDetector())     # what get_detector("haar") builds
    faces = detector.detect(frame)           # only the candidates that BlazeFace also calls faces

A detector searches a whole frame at one scale per pass, so it sees a face as a few dozen pixels among a
million and takes a shuttle, a wine glass or a coin for one. Here each candidate is cut out with some of its
surroundings, as a square a face would fill about two fifths of (BlazeFace short-range is made for faces
that fill a good part of its 128-pixel input), and kept only if BlazeFace finds a face there, centred in the
middle of the candidate (within CENTRE_SHIFT of its size of the candidate's centre) and within SIZE_RATIO of
its size, and finds it again in the square's mirror image.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from fer.config import CONFIRM_CONTEXT, CONFIRM_MIN_SCORE, CONFIRM_MIRROR_MIN_SCORE
from fer.detectors.mediapipe import MediaPipeDetector
from fer.types import Box, FaceDetector, Frame

log = logging.getLogger(__name__)

SIZE_RATIO = 2.0  # the second opinion's face and the candidate differ in size by at most this factor
# The two centres differ by at most this share of the candidate's size along each axis. Every face that Haar or
# MediaPipe full-range found and BlazeFace confirmed in the five group photos (480p to 1080p) and the classroom is
# within 0.33 (Haar's within 0.21); a piece of a face (a tilted face's mouth and chin taken for a smaller face) is at
# 0.46.
CENTRE_SHIFT = 0.4


class FaceCheck:
    """Keeps the candidate boxes that BlazeFace short-range also calls a face, in the square around them and in its
    mirror image; thread-safe.

    Args:
        context: the square cut out around a candidate, as a multiple of its longer side.
        min_score: BlazeFace's least confidence for the second opinion.
        mirror_min_score: its least confidence on the square's mirror image (see CONFIRM_MIRROR_MIN_SCORE).
    """

    def __init__(self, context: float = CONFIRM_CONTEXT, min_score: float = CONFIRM_MIN_SCORE,
                 mirror_min_score: float = CONFIRM_MIRROR_MIN_SCORE):
        self.context, self.min_score, self.mirror_min_score = context, min_score, mirror_min_score
        self._blazeface = MediaPipeDetector("short", min_confidence=min(min_score, mirror_min_score), long_side=128)

    def confirm(self, frame: Frame, boxes: list[Box]) -> list[Box]:
        """The boxes with a face centred in them, in their order."""
        return [box for box in boxes if self.is_face(frame, box)]

    def is_face(self, frame: Frame, box: Box) -> bool:
        side = round(self.context * max(box.w, box.h))
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        x0, y0 = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
        x1, y1 = min(frame.width, x0 + side), min(frame.height, y0 + side)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return False
        square, cx, cy = frame.rgb[y0:y1, x0:x1], cx - x0, cy - y0  # the centre in the square's pixels
        if not self._centred(square, (cx, cy), box, self.min_score):  # most candidates stop at this first look
            return False
        mirror = np.ascontiguousarray(square[:, ::-1])
        return self._centred(mirror, (x1 - x0 - cx, cy), box, self.mirror_min_score)

    def _centred(self, square: np.ndarray, centre: tuple[float, float], box: Box, min_score: float) -> bool:
        """Whether BlazeFace finds a face scoring `min_score` in `square` (RGB) within CENTRE_SHIFT of `box`'s size
        of `centre` (in the square's pixels), and within SIZE_RATIO of its size."""
        for found in self._blazeface.detect_rgb(square):
            shift_x, shift_y = found.x + found.w / 2 - centre[0], found.y + found.h / 2 - centre[1]
            centred = abs(shift_x) <= CENTRE_SHIFT * box.w and abs(shift_y) <= CENTRE_SHIFT * box.h
            like_size = 1 / SIZE_RATIO <= max(found.w, found.h) / max(box.w, box.h) <= SIZE_RATIO
            if found.score >= min_score and centred and like_size:
                return True
        return False

    def close(self) -> None:
        self._blazeface.close()


@functools.cache
def shared_check() -> FaceCheck | None:
    """One FaceCheck for every detector of the process; None (and a warning) without mediapipe."""
    try:
        return FaceCheck()
    except ImportError as err:
        log.warning("candidate faces are not confirmed: %s", err)
        return None


class Confirmed:
    """`detector` with every box it finds confirmed by FaceCheck; its `label`, `parts` and `regional` (see
    FaceDetector) are the detector's own."""

    def __init__(self, detector: FaceDetector, check: FaceCheck | None = None):
        self.detector = detector
        self.check = check or shared_check()
        self.label = getattr(detector, "label", type(detector).__name__)
        self.parts = getattr(detector, "parts", 1)
        self.regional = getattr(detector, "regional", False)

    def detect(self, frame: Frame, **search: object) -> list[Box]:
        """The detector's boxes for `search` (part, region: see FaceDetector) that FaceCheck confirms."""
        boxes = self.detector.detect(frame, **search)
        return boxes if self.check is None else self.check.confirm(frame, boxes)

    def close(self) -> None:
        if hasattr(self.detector, "close"):
            self.detector.close()
