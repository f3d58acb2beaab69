"""EmotionClassifier.predict_proba's contract, on the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data

from fer.classifier import EmotionClassifier, ModelError, checksum_path, file_sha256
from fer.config import EMOTIONS, MODEL_PATH, NUM_CLASSES
from fer.preprocess import to_gray


@pytest.fixture(scope="module")
def clf() -> EmotionClassifier:
    return EmotionClassifier.load()


def random_faces(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)


def assert_probabilities(probs: np.ndarray, n: int) -> None:
    assert probs.dtype == np.float32
    assert probs.shape == (n, NUM_CLASSES)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_classes_are_the_fer2013_order(clf: EmotionClassifier) -> None:
    assert clf.classes == EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.mark.parametrize(("n", "h", "w"), [(1, 48, 48), (3, 1, 1), (2, 200, 150), (2, 30, 90)])
def test_any_face_size(clf: EmotionClassifier, n: int, h: int, w: int) -> None:
    assert_probabilities(clf.predict_proba(random_faces(n, h, w)), n)


def test_list_of_different_sizes(clf: EmotionClassifier) -> None:
    crops = [random_faces(1, h, w, seed=h)[0] for h, w in ((48, 48), (1, 1), (200, 150), (17, 64))]
    probs = clf.predict_proba(crops)
    assert_probabilities(probs, len(crops))
    np.testing.assert_allclose(probs[0], clf.predict_proba(crops[:1])[0], atol=1e-6)  # batch size is irrelevant


@pytest.mark.parametrize("empty", [np.zeros((0, 48, 48), np.uint8), []], ids=["array", "list"])
def test_no_faces(clf: EmotionClassifier, empty) -> None:
    assert_probabilities(clf.predict_proba(empty), 0)


@pytest.mark.parametrize(
    ("faces", "match"),
    [
        (np.zeros((1, 48, 48), np.float32), "must be uint8 grayscale, got float32"),
        (np.zeros((1, 48, 48), np.int64), "must be uint8 grayscale, got int64"),
        ([np.zeros((48, 48), np.float64)], "must be uint8 grayscale, got float64"),
        (np.zeros((48, 48), np.uint8), r"must have shape \(N, H, W\), got \(48, 48\)"),
        (np.zeros((1, 48, 48, 1), np.uint8), r"must have shape \(N, H, W\), got \(1, 48, 48, 1\)"),
        ([np.zeros((48, 48, 3), np.uint8)], r"non-empty \(H, W\) grayscale crop, got \(48, 48, 3\)"),
        ([np.zeros((0, 48), np.uint8)], r"non-empty \(H, W\) grayscale crop, got \(0, 48\)"),
    ],
    ids=["float32", "int64", "list-float64", "2-D", "4-D", "list-rgb", "list-empty-crop"],
)
def test_bad_input_raises(clf: EmotionClassifier, faces, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        clf.predict_proba(faces)


def test_missing_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.tflite"):
        EmotionClassifier.load(tmp_path / "missing.tflite")


def test_smiling_face_is_happy(clf: EmotionClassifier) -> None:
    face = to_gray(skimage.data.astronaut())[60:170, 165:285]  # Eileen Collins' smiling face, 120x110
    probs = clf.predict_proba(face[None])[0]
    assert EMOTIONS[int(probs.argmax())] == "happy", dict(zip(EMOTIONS, probs.round(3), strict=True))


def test_a_face_and_its_mirror_image_read_the_same(clf: EmotionClassifier) -> None:
    faces = random_faces(3, 60, 50, seed=4)
    np.testing.assert_allclose(clf.predict_proba(faces), clf.predict_proba(faces[:, :, ::-1].copy()), atol=1e-6)


def test_the_mirrored_reading_is_the_mean_of_the_two_single_passes(clf: EmotionClassifier) -> None:
    faces = random_faces(2, 48, 48, seed=5)
    single = clf.predict_proba(faces, mirrored=False)
    flipped = clf.predict_proba(faces[:, :, ::-1].copy(), mirrored=False)
    assert not np.allclose(single, flipped, atol=1e-3)  # the two passes differ, so the mean is a real test
    np.testing.assert_allclose(clf.predict_proba(faces), (single + flipped) / 2, atol=1e-6)


def copy_shipped(folder: Path, damage=None, with_checksum: bool = True) -> Path:
    """The shipped model copied into `folder` (with its recorded sha256), optionally damaged by `damage(bytes)`."""
    data = MODEL_PATH.read_bytes()
    model = folder / MODEL_PATH.name
    model.write_bytes(damage(data) if damage else data)
    if with_checksum:
        checksum_path(model).write_text(checksum_path(MODEL_PATH).read_text())
    return model


def test_the_shipped_model_matches_its_recorded_checksum(tmp_path: Path) -> None:
    assert checksum_path(MODEL_PATH).read_text().split()[0] == file_sha256(MODEL_PATH)
    assert EmotionClassifier.load(copy_shipped(tmp_path)).predict_proba([np.zeros((48, 48), np.uint8)]).shape == (1, 7)


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # truncated
    lambda data: b"",  # emptied
    lambda data: data[:1000] + bytes(b ^ 0xFF for b in data[1000:1200]) + data[1200:],  # 200 flipped bytes
], ids=["truncated", "empty", "flipped"])
def test_a_damaged_model_is_refused_in_one_line_naming_it_and_the_fix(tmp_path: Path, damage) -> None:
    model = copy_shipped(tmp_path, damage)
    with pytest.raises(ModelError) as err:
        EmotionClassifier.load(model)
    message = str(err.value)
    assert str(model) in message and "damaged or replaced" in message and "git checkout" in message
    assert "\n" not in message


@pytest.mark.parametrize("content", [b"", b"not a model at all" * 100, bytes(range(256)) * 50],
                         ids=["empty", "text", "random"])
def test_a_user_model_that_cannot_load_names_its_path(tmp_path: Path, content: bytes) -> None:
    model = tmp_path / "mine.tflite"  # no recorded checksum: the runtime decides
    model.write_bytes(content)
    with pytest.raises(ModelError) as err:
        EmotionClassifier.load(model)
    assert str(model) in str(err.value) and "\n" not in str(err.value)
