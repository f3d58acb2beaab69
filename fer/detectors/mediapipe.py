"""MediaPipe's BlazeFace (Tasks API), with the models shipped in model/mediapipe/ so it runs offline."""

from __future__ import annotations

import sys
import threading
import types

import cv2
import numpy as np

from fer.config import MEDIAPIPE_DIR
from fer.types import Box, Frame

MODELS = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range_sparse.tflite"}
DOCGEN_MODULE = "mediapipe.tasks.python.core.optional_dependencies"


def _skip_mediapipe_docgen() -> None:
    """Keeps `import mediapipe` from importing all of TensorFlow (+650 MB, +3 s) when it is installed.

    mediapipe's only use of TensorFlow is `doc_controls.do_not_generate_docs`, a no-op decorator for its
    API docs; this module provides the same no-op that mediapipe itself falls back to without TensorFlow.
    """
    if DOCGEN_MODULE not in sys.modules:
        stub = types.ModuleType(DOCGEN_MODULE)
        stub.doc_controls = types.SimpleNamespace(do_not_generate_docs=lambda obj: obj)
        sys.modules[DOCGEN_MODULE] = stub


class MediaPipeDetector:
    """BlazeFace: the short-range model for faces within about 2 m (webcam); the full-range one, up to
    about 5 m (a class), is `MediaPipeFullRangeDetector`.

    Args:
        model: "short" or "full".
        min_confidence: detections scoring below this are dropped.
        long_side: frames are first shrunk, with area averaging, until their longer side is this many
            pixels. The models see only 128 (short) or 192 (full) pixels anyway, and MediaPipe's own
            resize aliases: without this, uniform noise frames scored up to 0.69 as faces.
    """

    label = "MediaPipe short-range"

    def __init__(self, model: str = "short", min_confidence: float = 0.5, long_side: int = 320):
        if model not in MODELS:
            raise ValueError(f"unknown MediaPipe model '{model}' (expected {', '.join(MODELS)})")
        _skip_mediapipe_docgen()
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as err:  # optional dependency
            raise ImportError("the 'mediapipe' detector needs `pip install mediapipe`") from err
        self._mp = mp
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(MEDIAPIPE_DIR / MODELS[model])),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_confidence,
        )
        self._detector = vision.FaceDetector.create_from_options(options)
        self.long_side = long_side
        self._lock = threading.Lock()  # the task graph is not re-entrant

    def close(self) -> None:
        """Frees the MediaPipe task now; mediapipe's own clean-up fails if it only runs at interpreter exit."""
        with self._lock:
            self._detector.close()

    def detect(self, frame: Frame) -> list[Box]:
        """Faces in the frame's RGB image, shrunk first (see `long_side`)."""
        rgb = frame.rgb
        scale = min(1.0, self.long_side / max(frame.height, frame.width))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))
        with self._lock:
            detections = self._detector.detect(image).detections
        boxes = []
        for detection in detections:
            bb = detection.bounding_box
            x, y, w, h = (round(v / scale) for v in (bb.origin_x, bb.origin_y, bb.width, bb.height))
            boxes.append(Box(x, y, w, h, detection.categories[0].score))
        return boxes


class MediaPipeFullRangeDetector(MediaPipeDetector):
    """BlazeFace's full-range model: smaller faces, up to about 5 m from the camera (a classroom)."""

    label = "MediaPipe full-range (far faces)"

    def __init__(self, min_confidence: float = 0.5, long_side: int = 320):
        super().__init__("full", min_confidence, long_side)
