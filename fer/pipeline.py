"""frame -> faces -> crops -> probabilities -> annotated frame.

    pipe = Pipeline(detector="haar")
    result = pipe.process(rgb_frame)                          # result.faces, result.annotated
    result = pipe.process(rgb_frame, tracker=tracker, t=t)    # a stream: IDs and smoothing, t in seconds
"""

from __future__ import annotations

import functools
import time

import numpy as np

from fer.classifier import EmotionClassifier
from fer.config import DEFAULT_DETECTOR, FACE_MARGIN
from fer.detectors import get_detector
from fer.draw import annotate
from fer.types import Box, Face, FaceDetector, Frame, FrameResult, Tracker


@functools.cache
def default_classifier() -> EmotionClassifier:
    """The shipped model, loaded once per process and shared by every pipeline."""
    return EmotionClassifier.load()


class Pipeline:
    """Detects faces, classifies every face of a frame in one batch, and draws the result.

    Holds no per-frame state, so one Pipeline can serve many sessions; per-stream state (tracks,
    smoothing) lives in the `tracker` passed to `process`.

    Args:
        detector: a registered detector name ("haar", "mediapipe", "mediapipe-full") or an object
            with `detect(frame: Frame) -> list[Box]`.
        classifier: defaults to the shipped model.
        margin: each box is widened by this fraction per side before cropping, to match FER-2013's framing.
    """

    def __init__(self, detector: str | FaceDetector = DEFAULT_DETECTOR,
                 classifier: EmotionClassifier | None = None, margin: float = FACE_MARGIN):
        self.detector = get_detector(detector) if isinstance(detector, str) else detector
        self.classifier = classifier or default_classifier()
        self.margin = margin

    def analyze(self, frame: np.ndarray | Frame) -> list[Face]:
        """Faces with their probabilities, largest first; no drawing.

        Raises:
            ValueError: `frame` is not an image (see Frame.of).
        """
        frame = Frame.of(frame)
        boxes = self.find_faces(frame)
        if not boxes:
            return []
        crops = []
        for box in boxes:
            crop = box.expand(self.margin).clip(frame.width, frame.height)
            crops.append(frame.gray[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w])
        probs = self.classifier.predict_proba(crops)
        return [Face(box, p) for box, p in zip(boxes, probs, strict=True)]

    def find_faces(self, frame: Frame) -> list[Box]:
        """The detector's boxes, clipped to the frame (those left empty dropped), largest first."""
        clipped = (box.clip(frame.width, frame.height) for box in self.detector.detect(frame))
        return sorted((box for box in clipped if box is not None), key=lambda box: box.area, reverse=True)

    def process(self, frame: np.ndarray | Frame, tracker: Tracker | None = None,
                t: float | None = None) -> FrameResult:
        """Analyses and annotates one RGB uint8 frame.

        Args:
            frame: RGB uint8 (H, W, 3); RGBA and grayscale are converted (see Frame.of).
            tracker: per-stream state that adds IDs and smoothing; None for a single photo.
            t: the frame's time in seconds for the tracker (a video's timestamp); None means now, on
                the monotonic clock, for a live stream. Ignored without a tracker.
        Raises:
            ValueError: `frame` is not an image.
        """
        frame = Frame.of(frame)
        faces = self.analyze(frame)
        if tracker is not None:
            faces = tracker.update(faces, time.monotonic() if t is None else t)
        return FrameResult(faces, annotate(frame.rgb, faces))
