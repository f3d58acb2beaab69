"""OpenCV's Viola-Jones face cascades: no extra model files, fast on a downscaled frame."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from fer.detectors.merge import merge_duplicates
from fer.types import Box, Frame


@dataclass(frozen=True)
class HaarPass:
    """One search of the frame: a cascade shipped in cv2.data, the frame turned by `angle` degrees
    (counter-clockwise; finds heads tilted the other way), and the overlapping hits a face needs."""

    cascade: str
    angle: float = 0.0
    min_neighbors: int = 3


# Chosen on real group photos scaled to 720p (devtools/benchmark.py --groups): OpenCV's `default` cascade upright,
# and `alt2` on the frame turned 20 degrees either way, which finds tilted and bowed heads no upright search finds.
# Every candidate is confirmed (fer.detectors.confirm), so the turned passes take 3 neighbours, not the 4 they needed
# alone: a classroom face more, and still no false face on the group or face-free photos at 480p, 720p or 1080p;
# 2 neighbours add false ones at 1080p. An upright `alt2` pass finds no face these three miss (480p to 1080p) and
# would make a photo cost a third more.
# Listed in a stream's order, one per search: the upright pass every other search, so a stream finds an upright
# face within two searches; a photo runs each distinct pass once (see HaarDetector.detect).
PASSES = (
    HaarPass("haarcascade_frontalface_default.xml"),
    HaarPass("haarcascade_frontalface_alt2.xml", angle=20),
    HaarPass("haarcascade_frontalface_default.xml"),
    HaarPass("haarcascade_frontalface_alt2.xml", angle=-20),
)


def load_cascade(name: str) -> cv2.CascadeClassifier:
    """One of the cascades that ship inside OpenCV's wheel (cv2.data), nothing downloaded."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {name} could not be loaded")
    return cascade


class HaarDetector:
    """Faces with OpenCV's Haar cascades: several searches (`passes`) of one downscaled gray copy, merged.

    Args:
        short_side: frames are downscaled until their shorter side is this many pixels before detection
            (speed vs smallest face). The shorter side, not the width, so a 16:9 frame is not squeezed
            further than a 4:3 one (320 px wide missed 360 px faces at 1280x720).
        scale_factor: image-pyramid step; larger is faster but may miss faces between scales.
        min_face: smallest face side in pixels of the downscaled frame (24 = 43 px in a 720p frame).
        passes: the searches, in the order a stream takes them (one may come more than once).
    On the four real group photos at 720p the defaults find 18 of 18 faces, where one search (240 px, 1.2,
    5 neighbours) finds 9; with a fifth photo of six people, tilted and bowed heads among them, 24 of 24 (with
    the second opinion, fer.detectors.confirm, no false one). A photo pays for each distinct pass (about 3x one
    search); a stream runs one pass per search, in turn, beside the frames (faces are followed between), and after
    each pass's first look only where the frame changed (see fer.tracking.FaceTracker.search_plan).
    """

    label = "Haar (OpenCV, default)"
    regional = True  # searches a region of a frame at the whole frame's scale (see FaceDetector)

    def __init__(self, short_side: int = 400, scale_factor: float = 1.15, min_face: int = 24,
                 passes: tuple[HaarPass, ...] = PASSES):
        self.passes = passes
        self.cascades = {name: load_cascade(name) for name in {p.cascade for p in passes}}
        self.short_side, self.scale_factor, self.min_face = short_side, scale_factor, min_face
        # Shared by sessions and not thread-safe: a lock each, so two streams on different passes run at once.
        self._locks = {name: threading.Lock() for name in self.cascades}

    @property
    def parts(self) -> int:
        """A stream runs one pass per search, in turn (see FaceDetector)."""
        return len(self.passes)

    def detect(self, frame: Frame, part: int | None = None, region: Box | None = None) -> list[Box]:
        """Faces in the frame's grayscale copy (shared with the classifier's crops): every distinct pass merged, or
        pass number `part` only; in `region` only (None: the whole frame), searched at the scale the whole frame is,
        so a face is found there exactly as in the whole frame."""
        gray = frame.gray
        scale = min(1.0, self.short_side / min(gray.shape))
        x0, y0 = 0, 0
        if region is not None:
            x0, y0 = max(0, region.x), max(0, region.y)
            gray = gray[y0 : region.y + region.h, x0 : region.x + region.w]
            if min(gray.shape) * scale < self.min_face:
                return []
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        found = []
        for search in dict.fromkeys(self.passes) if part is None else [self.passes[part]]:
            for x, y, w, h in self._search(small, search):
                found.append(Box(x0 + round(x / scale), y0 + round(y / scale), round(w / scale), round(h / scale)))
        return merge_duplicates(found)

    def _search(self, gray: np.ndarray, search: HaarPass) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of the faces one pass finds in `gray`, in its pixels (an upright box around each
        face found in the turned copy)."""
        turn = cv2.getRotationMatrix2D((gray.shape[1] / 2, gray.shape[0] / 2), search.angle, 1.0)
        image = gray if search.angle == 0 else cv2.warpAffine(gray, turn, gray.shape[::-1],
                                                              borderMode=cv2.BORDER_REPLICATE)
        with self._locks[search.cascade]:
            hits = self.cascades[search.cascade].detectMultiScale(
                image, scaleFactor=self.scale_factor, minNeighbors=search.min_neighbors,
                minSize=(self.min_face, self.min_face))
        back = cv2.invertAffineTransform(turn)
        boxes = []
        for x, y, w, h in hits:
            cx, cy = back @ (x + w / 2, y + h / 2, 1.0)  # the face's centre in the upright frame
            boxes.append((cx - w / 2, cy - h / 2, w, h))
        return boxes
