"""OpenCV's Viola-Jones frontal-face cascades: no extra model files, fast on a downscaled frame."""

from __future__ import annotations

import threading

import cv2

from fer.detectors.merge import merge_duplicates
from fer.types import Box, Frame

# Two of OpenCV's frontal cascades, trained differently, each finding faces the other misses (on the real
# group photos: `default` misses a head turned aside that `alt2` finds, `alt2` misses four that `default`
# finds). Boxes are merged, the first cascade's kept where both find a face.
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")


def load_cascade(name: str) -> cv2.CascadeClassifier:
    """One of the cascades that ship inside OpenCV's wheel (cv2.data), nothing downloaded."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {name} could not be loaded")
    return cascade


class HaarDetector:
    """Frontal faces with OpenCV's Haar cascades, run one after the other and merged.

    Args:
        short_side: frames are downscaled until their shorter side is this many pixels before detection
            (speed vs smallest face). The shorter side, not the width, so a 16:9 frame is not squeezed
            further than a 4:3 one (320 px wide missed 360 px faces at 1280x720).
        scale_factor: image-pyramid step; larger is faster but may miss faces between scales.
        min_neighbors: overlapping hits a face needs; larger gives fewer false positives.
        min_face: smallest face side in pixels of the downscaled frame (24 = 43 px in a 720p frame).
        cascades: file names in cv2.data.haarcascades, searched in order.
    The defaults were chosen on real group photos scaled to 720p (devtools/benchmark.py --groups):
    17 of 18 faces and no false detection in four photos, where the first release's one cascade at
    (240, 1.2, 5) found 9 and `default` alone at these settings 16 (its two boxes on one face count as a
    false one; merging removes it). The miss is a face turned aside, which the MediaPipe full-range
    detector finds. A photo's search costs about 2x one cascade's; a stream searches with one cascade
    at a time (`parts`), every SEARCH_EVERY_S, beside the frames (faces are followed between).
    """

    label = "Haar (OpenCV, default)"

    def __init__(self, short_side: int = 400, scale_factor: float = 1.15, min_neighbors: int = 3,
                 min_face: int = 24, cascades: tuple[str, ...] = CASCADES):
        self.cascades = [load_cascade(name) for name in cascades]
        self.short_side, self.scale_factor = short_side, scale_factor
        self.min_neighbors, self.min_face = min_neighbors, min_face
        self._lock = threading.Lock()  # the cascades are shared by sessions, and not thread-safe

    @property
    def parts(self) -> int:
        """A stream searches with one cascade at a time, in turn (see FaceDetector): the same faces over
        `parts` searches for the cost of one cascade each."""
        return len(self.cascades)

    def detect(self, frame: Frame, part: int | None = None) -> list[Box]:
        """Frontal faces in the frame's grayscale copy (shared with the classifier's crops): with every
        cascade, or with cascade number `part` only."""
        gray = frame.gray
        scale = min(1.0, self.short_side / min(gray.shape))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        found = []
        with self._lock:
            for cascade in self.cascades if part is None else [self.cascades[part]]:
                found.extend(cascade.detectMultiScale(small, scaleFactor=self.scale_factor,
                                                      minNeighbors=self.min_neighbors,
                                                      minSize=(self.min_face, self.min_face)))
        return merge_duplicates([Box(*(round(v / scale) for v in face)) for face in found])
