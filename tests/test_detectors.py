"""Every registered detector finds a real face, and nothing in blank or noise frames."""

from __future__ import annotations

import numpy as np
import pytest

from fer.detectors import DETECTORS, Box, get_detector
from tests.faces import blank_frame, face_frame, inside, noise_frame, overlap

NAMES = ["haar", "mediapipe", "mediapipe-full"]
NOISE_SEEDS = range(8)


def test_registry_has_the_documented_detectors():
    assert set(NAMES) <= set(DETECTORS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(640, 480), (1280, 720)], ids=["640x480", "1280x720"])
def test_finds_the_face_in_a_real_photo(name, size):
    frame, face = face_frame(*size)
    boxes = get_detector(name).detect(frame)
    assert len(boxes) == 1, f"{name} at {size}: expected the one face, got {boxes}"
    box = boxes[0]
    assert isinstance(box, Box)
    assert inside(box, *size), f"{name}: {box} is not inside the {size} frame"
    assert overlap(box, face) > 0.9, f"{name}: {box} is not on the pasted face {face}"
    assert box.area >= 0.1 * face.area, f"{name}: {box} is too small for the face {face}"
    assert 0 < box.score <= 1


@pytest.mark.parametrize("name", NAMES)
def test_finds_nothing_in_blank_frames(name):
    for size in [(640, 480), (1280, 720)]:
        assert get_detector(name).detect(blank_frame(*size)) == []


@pytest.mark.parametrize("name", NAMES)
def test_finds_nothing_in_noise(name):
    detector = get_detector(name)
    found = {(seed, size): boxes for seed in NOISE_SEEDS for size in [(640, 480), (1280, 720)]
             if (boxes := detector.detect(noise_frame(seed, *size)))}
    assert not found, f"{name} false positives on noise (seed, size): {found}"


@pytest.mark.parametrize("name", NAMES)
def test_accepts_rgba_and_non_contiguous_frames(name):
    frame, face = face_frame()
    rgba = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
    flipped = frame[:, ::-1]  # a view with a negative stride, as a mirrored webcam gives
    for variant in (rgba, flipped):
        boxes = get_detector(name).detect(variant)
        assert len(boxes) == 1


def test_get_detector_shares_one_instance():
    assert get_detector("haar") is get_detector("haar")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown detector 'dlib'") as err:
        get_detector("dlib")
    for name in DETECTORS:
        assert name in str(err.value)


class FakeDetector:
    def __init__(self):
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.calls += 1
        return [Box(1, 2, 3, 4)]


def test_registry_is_extensible(monkeypatch):
    monkeypatch.setitem(DETECTORS, "fake", FakeDetector)
    get_detector.cache_clear()  # a cached miss or stale instance must not hide the new entry
    try:
        detector = get_detector("fake")
        assert isinstance(detector, FakeDetector)
        assert detector.detect(blank_frame()) == [Box(1, 2, 3, 4)]
        assert get_detector("fake") is detector
    finally:
        get_detector.cache_clear()  # drop the fake before monkeypatch removes it from DETECTORS
