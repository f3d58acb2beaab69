"""The webcam degradations that training applies and `fer.training.evaluate --degrade` measures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devtools.frames import face_crop
from fer.training.augment import (
    DEGRADATIONS,
    DegradeConfig,
    adjust_gamma,
    degrade_batch,
    jpeg_roundtrip,
    shrink_and_enlarge,
)


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The astronaut's head as a 48x48 gray training face."""
    return cv2.resize(cv2.cvtColor(face_crop(), cv2.COLOR_RGB2GRAY), (48, 48), interpolation=cv2.INTER_AREA)


def test_each_degradation_keeps_shape_and_dtype_and_changes_the_face(face: np.ndarray) -> None:
    values = {"jpeg": 20, "size": 20, "gamma": 0.4, "blur": 1.0, "noise": 8}
    assert set(values) == set(DEGRADATIONS)
    for name, value in values.items():
        out = DEGRADATIONS[name](face, value)
        assert out.shape == face.shape and out.dtype == np.uint8, name
        assert np.abs(out.astype(int) - face).mean() > 0.5, name


def test_mild_settings_leave_the_face_almost_as_it_was(face: np.ndarray) -> None:
    np.testing.assert_array_equal(shrink_and_enlarge(face, 48), face)
    np.testing.assert_array_equal(adjust_gamma(face, 1.0), face)
    assert np.abs(jpeg_roundtrip(face, 100).astype(int) - face).mean() < 1.0


def test_stronger_settings_lose_more_detail(face: np.ndarray) -> None:
    def error(name: str, value: float) -> float:
        return float(np.abs(DEGRADATIONS[name](face, value).astype(int) - face).mean())

    assert error("jpeg", 10) > error("jpeg", 50) > error("jpeg", 95)
    assert error("size", 12) > error("size", 24) > error("size", 40)


def test_degrade_batch_touches_only_its_share_and_is_repeatable(face: np.ndarray) -> None:
    faces = np.stack([face] * 200)
    untouched = degrade_batch(faces, np.random.default_rng(0), share=0.0)
    np.testing.assert_array_equal(untouched, faces)
    every_step = DegradeConfig(gamma=1, blur=1, size=1, noise=1, jpeg=1)
    changed = degrade_batch(faces, np.random.default_rng(1), share=0.5, cfg=every_step)
    differs = (changed != faces).any(axis=(1, 2))
    assert 0.35 < differs.mean() < 0.65
    np.testing.assert_array_equal(changed, degrade_batch(faces, np.random.default_rng(1), 0.5, every_step))
    np.testing.assert_array_equal(faces[0], face)  # the input is not modified
