"""Face detectors by name. To add one: write a class with `detect(rgb) -> list[Box]`, add a line below.

    detector = get_detector("haar")          # or "mediapipe", "mediapipe-full"
    boxes = detector.detect(rgb_frame)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from fer.detectors.base import Box, FaceDetector
from fer.detectors.haar import HaarDetector
from fer.detectors.mediapipe import MediaPipeDetector  # imports mediapipe itself only when built

DETECTORS: dict[str, Callable[[], FaceDetector]] = {
    "haar": HaarDetector,
    "mediapipe": functools.partial(MediaPipeDetector, "short"),
    "mediapipe-full": functools.partial(MediaPipeDetector, "full"),
}


@functools.cache
def get_detector(name: str) -> FaceDetector:
    """The detector registered under `name`, built once and shared (detectors are thread-safe).

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector '{name}' (choose from {', '.join(DETECTORS)})")
    return DETECTORS[name]()


__all__ = ["DETECTORS", "Box", "FaceDetector", "get_detector"]
