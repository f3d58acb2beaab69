"""frame -> faces -> crops -> probabilities -> annotated frame.

    pipe = Pipeline(detector="haar")
    result = pipe.process(rgb_frame)          # result.faces, result.annotated
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fer.classifier import EmotionClassifier
from fer.config import DEFAULT_DETECTOR, EMOTIONS, FACE_MARGIN
from fer.detectors import Box, FaceDetector, get_detector
from fer.draw import annotate
from fer.preprocess import to_gray


@dataclass(frozen=True)
class Face:
    """One face in a frame: where it is, and its emotion probabilities (float32 (7,), EMOTIONS order)."""

    box: Box
    probs: np.ndarray
    track_id: int | None = None  # set by a tracker: the same person keeps the same ID across frames

    @property
    def label(self) -> str:
        return EMOTIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))

    def confidences(self) -> dict[str, float]:
        """{emotion: probability}, e.g. for a gr.Label."""
        return {emotion: float(p) for emotion, p in zip(EMOTIONS, self.probs, strict=True)}


@dataclass(frozen=True)
class FrameResult:
    faces: list[Face]  # largest first
    annotated: np.ndarray  # RGB uint8, same size as the input frame

    @property
    def main_face(self) -> Face | None:
        """The largest face, the one a single-person view reports on."""
        return self.faces[0] if self.faces else None


class Tracker(Protocol):
    """Per-session state that gives faces stable IDs and smoothed probabilities (see fer.tracking)."""

    def update(self, faces: list[Face]) -> list[Face]: ...


def check_frame(frame: object) -> np.ndarray:
    """Validates a frame and returns it as RGB uint8 (H, W, 3); grayscale and RGBA are converted.

    Raises:
        ValueError: not an image (None, wrong dtype, rank or channel count, or empty).
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"expected an image array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {frame.dtype}")
    if frame.ndim == 2:
        frame = frame[..., None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4) or 0 in frame.shape:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {frame.shape}")
    if frame.shape[2] == 1:
        return np.repeat(frame, 3, axis=2)
    return frame[..., :3]


@functools.cache
def default_classifier() -> EmotionClassifier:
    """The shipped model, loaded once per process and shared by every pipeline."""
    return EmotionClassifier.load()


class Pipeline:
    """Detects faces, classifies every face of a frame in one batch, and draws the result.

    Holds no per-frame state, so one Pipeline can serve many sessions; per-session state (tracks,
    smoothing) lives in the `tracker` passed to `process`.

    Args:
        detector: a registered detector name ("haar", "mediapipe", "mediapipe-full") or an object
            with `detect(rgb) -> list[Box]`.
        classifier: defaults to the shipped model.
        margin: each box is widened by this fraction per side before cropping, to match FER-2013's framing.
    """

    def __init__(self, detector: str | FaceDetector = DEFAULT_DETECTOR,
                 classifier: EmotionClassifier | None = None, margin: float = FACE_MARGIN):
        self.detector = get_detector(detector) if isinstance(detector, str) else detector
        self.classifier = classifier or default_classifier()
        self.margin = margin

    def analyze(self, frame: np.ndarray) -> list[Face]:
        """Faces with their probabilities, largest first; no drawing."""
        return self._analyze(check_frame(frame))

    def _analyze(self, rgb: np.ndarray) -> list[Face]:
        height, width = rgb.shape[:2]
        boxes = [b for b in (box.clip(width, height) for box in self.detector.detect(rgb)) if b is not None]
        boxes.sort(key=lambda box: box.area, reverse=True)  # clipping can shrink a box; main_face is the largest
        if not boxes:
            return []
        gray = to_gray(rgb)
        crops = []
        for box in boxes:
            crop = box.expand(self.margin).clip(width, height)
            crops.append(gray[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w])
        probs = self.classifier.predict_proba(crops)
        return [Face(box, p) for box, p in zip(boxes, probs, strict=True)]

    def process(self, frame: np.ndarray, tracker: Tracker | None = None) -> FrameResult:
        """Analyses and annotates one RGB uint8 frame; `tracker` adds IDs and smoothing."""
        rgb = check_frame(frame)
        faces = self._analyze(rgb)
        if tracker is not None:
            faces = tracker.update(faces)
        return FrameResult(faces, annotate(rgb, faces))
