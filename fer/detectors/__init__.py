"""Face detectors by name. To add one: write a class with `detect(frame) -> list[Box]` and a `label`,
then add a line below.

    detector = get_detector("haar")          # or "mediapipe", "mediapipe-full"
    boxes = detector.detect(Frame.of(rgb))   # confirmed boxes (fer.detectors.confirm); Pipeline clips and sorts them
"""

from __future__ import annotations

import functools

from fer.detectors.confirm import Confirmed
from fer.detectors.haar import HaarDetector
from fer.detectors.mediapipe import MediaPipeDetector, MediaPipeFullRangeDetector  # mediapipe imported when built
from fer.types import FaceDetector

DETECTORS: dict[str, type[FaceDetector]] = {
    "haar": HaarDetector,
    "mediapipe": MediaPipeDetector,
    "mediapipe-full": MediaPipeFullRangeDetector,
}


def detector_label(name: str) -> str:
    """The name people see for a registered detector: its class's `label`, or the name itself."""
    return getattr(DETECTORS[name], "label", name)


def detector_name(detector: str | FaceDetector) -> str:
    """A registered detector's name as given, or an object's class name: how outputs record the detector used."""
    return detector if isinstance(detector, str) else type(detector).__name__


@functools.cache
def get_detector(name: str) -> FaceDetector:
    """The detector registered under `name`, its boxes confirmed by a second opinion, built once and shared
    (detectors are thread-safe).

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector '{name}' (choose from {', '.join(DETECTORS)})")
    return Confirmed(DETECTORS[name]())


__all__ = ["DETECTORS", "detector_label", "detector_name", "get_detector"]
