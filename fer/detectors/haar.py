"""OpenCV's Viola-Jones frontal-face cascade: no extra model files, fast on a downscaled frame."""

from __future__ import annotations

import threading

import cv2

from fer.types import Box, Frame


class HaarDetector:
    """Frontal faces with OpenCV's `haarcascade_frontalface_default.xml`.

    Args:
        short_side: frames are downscaled until their shorter side is this many pixels before detection
            (speed vs smallest face). The shorter side, not the width, so a 16:9 frame is not squeezed
            further than a 4:3 one (320 px wide missed 360 px faces at 1280x720).
        scale_factor: image-pyramid step; larger is faster but may miss faces between scales.
        min_neighbors: overlapping hits a face needs; larger gives fewer false positives.
        min_face: smallest face side in pixels of the downscaled frame (24 = 43 px in a 720p frame).
    The defaults were chosen on real group photos scaled to 720p (devtools/benchmark.py --groups):
    16 of 18 faces with one false detection in four photos, where the first release's (240, 1.2, 5)
    found 9; the misses are turned faces, which the MediaPipe full-range detector finds. A search costs
    about 3x the old one, which a stream pays only every SEARCH_EVERY_S (faces are followed between).
    """

    label = "Haar (OpenCV, default)"

    def __init__(self, short_side: int = 400, scale_factor: float = 1.15, min_neighbors: int = 3,
                 min_face: int = 24):
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if self.cascade.empty():
            raise RuntimeError("OpenCV's haarcascade_frontalface_default.xml could not be loaded")
        self.short_side, self.scale_factor = short_side, scale_factor
        self.min_neighbors, self.min_face = min_neighbors, min_face
        self._lock = threading.Lock()  # one cascade, shared by sessions

    def detect(self, frame: Frame) -> list[Box]:
        """Frontal faces in the frame's grayscale copy (shared with the classifier's crops)."""
        gray = frame.gray
        scale = min(1.0, self.short_side / min(gray.shape))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        with self._lock:
            found = self.cascade.detectMultiScale(small, scaleFactor=self.scale_factor,
                                                  minNeighbors=self.min_neighbors,
                                                  minSize=(self.min_face, self.min_face))
        return [Box(*(round(v / scale) for v in face)) for face in found]
