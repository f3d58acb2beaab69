"""fer.training.data on tiny generated files: the Kaggle CSV, Kaggle image folders, npz, and every malformed case."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.config import EMOTIONS, IMG_SIZE, NUM_CLASSES
from fer.training.data import DataError, load_fer2013, split_off_val

PIXELS = IMG_SIZE * IMG_SIZE


def face(seed: int, size: tuple[int, int] = (IMG_SIZE, IMG_SIZE)) -> np.ndarray:
    """A random uint8 (H, W) image."""
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)


def write_csv(path: Path, rows: list[tuple[object, str, str]], header: str = "emotion,pixels,Usage") -> Path:
    """Writes rows of (emotion, pixels as space-separated text, Usage) in the Kaggle fer2013.csv layout."""
    path.write_text("\n".join([header, *(f'{label},"{pixels}",{usage}' for label, pixels, usage in rows)]) + "\n")
    return path


def pixel_text(image: np.ndarray) -> str:
    return " ".join(map(str, image.ravel()))


def assert_data_error(path: Path, match: str) -> None:
    """load_fer2013(path) raises a one-line DataError that names the file and matches `match`."""
    with pytest.raises(DataError, match=match) as err:
        load_fer2013(path)
    assert "\n" not in str(err.value)
    assert str(path) in str(err.value)  # the file itself, or a file or folder inside it


# --- CSV -------------------------------------------------------------------------------------------------


def good_rows() -> list[tuple[object, str, str]]:
    usages = ["Training"] * 4 + ["PublicTest"] * 2 + ["PrivateTest"] * 2
    return [(i % NUM_CLASSES, pixel_text(face(i)), usage) for i, usage in enumerate(usages)]


def test_csv_loads_each_usage_as_its_split(tmp_path: Path) -> None:
    data = load_fer2013(write_csv(tmp_path / "fer2013.csv", good_rows()))
    assert {split: len(y) for split, (x, y) in data.items()} == {"train": 4, "val": 2, "test": 2}
    x, y = data["val"]
    assert x.dtype == np.uint8 and x.shape == (2, IMG_SIZE, IMG_SIZE)
    assert y.dtype == np.int64 and y.tolist() == [4, 5]
    np.testing.assert_array_equal(x[0], face(4))


def test_csv_loads_only_the_requested_splits(tmp_path: Path) -> None:
    data = load_fer2013(write_csv(tmp_path / "fer2013.csv", good_rows()), splits=("test",))
    assert list(data) == ["test"]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ((0, "1 2 x" + " 3" * (PIXELS - 3), "Training"), r":2: emotion and pixels must be integers"),
        ((0, "1.5" + " 3" * (PIXELS - 1), "Training"), r":2: emotion and pixels must be integers"),
        (("happy", pixel_text(face(0)), "Training"), r":2: emotion and pixels must be integers"),
        ((0, "7" + " 3" * (PIXELS - 2), "Training"), r":2: 2303 pixels, expected 2304"),
        ((0, "", "Training"), r":2: 0 pixels, expected 2304"),
        ((0, "256" + " 3" * (PIXELS - 1), "Training"), r":2: pixel values must be 0..255"),
        ((7, pixel_text(face(0)), "Training"), r":2: emotion 7 is not in 0..6"),
        ((-1, pixel_text(face(0)), "Training"), r":2: emotion -1 is not in 0..6"),
        ((0, pixel_text(face(0)), "Validation"), r":2: Usage 'Validation' is not one of Training"),
    ],
    ids=["letter-pixel", "float-pixel", "label-name", "short-row", "no-pixels", "pixel-256", "label-7",
         "label-neg", "unknown-usage"],
)
def test_csv_malformed_row(tmp_path: Path, row: tuple[object, str, str], match: str) -> None:
    assert_data_error(write_csv(tmp_path / "fer2013.csv", [row, *good_rows()]), match)


def test_csv_truncated_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer2013.csv", good_rows())
    path.write_text(path.read_text() + "\n3\n")  # a blank line, then a row cut short after its label
    assert_data_error(path, r":11: too few fields")


def test_csv_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer2013.csv", good_rows(), header="emotion,pixels,Split")
    assert_data_error(path, "missing column.*Usage")


def test_csv_missing_split(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fer2013.csv", [r for r in good_rows() if r[2] != "PrivateTest"])
    assert_data_error(path, r"no 'test' split \(found: train, val\)")
    assert set(load_fer2013(path, require=("train",))) == {"train", "val"}


# --- Kaggle image folders ----------------------------------------------------------------------------


def write_images(root: Path, split: str, emotion: str, count: int, suffix: str, size=(IMG_SIZE, IMG_SIZE)) -> None:
    folder = root / split / emotion
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"im{i}{suffix}"), face(i, size))


def test_folders_map_labels_by_class_name(tmp_path: Path) -> None:
    write_images(tmp_path, "train", "happy", 3, ".png")
    write_images(tmp_path, "train", "angry", 2, ".png")
    write_images(tmp_path, "test", "happy", 1, ".jpg")
    (tmp_path / "train" / "happy" / "notes.txt").write_text("not an image, skipped")
    data = load_fer2013(tmp_path, require=("train", "test"))
    assert set(data) == {"train", "test"}
    x, y = data["train"]
    assert x.dtype == np.uint8 and x.shape == (5, IMG_SIZE, IMG_SIZE)
    assert (EMOTIONS.index("angry"), EMOTIONS.index("happy")) == (0, 3)  # not alphabetical folder order (0, 1)
    assert sorted(y.tolist()) == [0, 0, 3, 3, 3]
    np.testing.assert_array_equal(x[y == 3][0], face(0))  # PNG is lossless
    assert data["test"][1].tolist() == [3]


def test_folders_read_validation_as_val(tmp_path: Path) -> None:
    for split in ("train", "validation", "test"):
        write_images(tmp_path, split, "surprise", 1, ".png")
    data = load_fer2013(tmp_path)
    assert {split: y.tolist() for split, (x, y) in data.items()} == {"train": [5], "val": [5], "test": [5]}


def test_folders_without_validation_lack_val(tmp_path: Path) -> None:
    write_images(tmp_path, "train", "sad", 1, ".png")
    write_images(tmp_path, "test", "sad", 1, ".png")
    assert_data_error(tmp_path, r"no 'val' split \(found: test, train\)")


def test_folders_wrong_image_size(tmp_path: Path) -> None:
    write_images(tmp_path, "train", "fear", 1, ".png", size=(40, 48))
    assert_data_error(tmp_path, r"im0.png: image is 48x40, expected 48x48")


def test_folders_unknown_class(tmp_path: Path) -> None:
    write_images(tmp_path, "train", "contempt", 1, ".png")
    assert_data_error(tmp_path, r"contempt: unknown class folder")


def test_folders_unknown_split(tmp_path: Path) -> None:
    write_images(tmp_path, "training", "happy", 1, ".png")
    assert_data_error(tmp_path, r"training: unknown split folder")


def test_folders_unreadable_image(tmp_path: Path) -> None:
    write_images(tmp_path, "train", "happy", 1, ".png")
    (tmp_path / "train" / "happy" / "broken.jpg").write_bytes(b"not a jpeg")
    assert_data_error(tmp_path, r"broken.jpg: not a readable image")


# --- npz ---------------------------------------------------------------------------------------------------


def test_npz_round_trip(tiny_npz: Path) -> None:
    data = load_fer2013(tiny_npz, ("train", "val"))
    with np.load(tiny_npz) as saved:
        for split in ("train", "val"):
            np.testing.assert_array_equal(data[split][0], saved[f"x_{split}"])
            np.testing.assert_array_equal(data[split][1], saved[f"y_{split}"])
    assert data["train"][1].dtype == np.int64
    assert_data_error(tiny_npz, r"no 'test' split")


def test_npz_accepts_a_channel_axis(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x_train=face(0)[None, ..., None], y_train=np.array([6], dtype=np.uint8))
    x, y = load_fer2013(path, ("train",))["train"]
    assert x.shape == (1, IMG_SIZE, IMG_SIZE) and y.tolist() == [6]


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.zeros((2, 40, 48), np.uint8), np.zeros(2, np.int64), r"x_train \(2, 40, 48\)"),
        (np.zeros((2, 48, 48), np.uint8), np.zeros(3, np.int64), r"y_train \(3,\) are not"),
        (np.zeros((2, 48, 48), np.uint8), np.array([0, 7]), r"labels must be 0..6, found 0..7"),
    ],
    ids=["image-size", "length-mismatch", "label-range"],
)
def test_npz_malformed(tmp_path: Path, x: np.ndarray, y: np.ndarray, match: str) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=y)
    assert_data_error(path, match)


def test_npz_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    path.write_bytes(b"not a zip")
    assert_data_error(path, "not a readable .npz")


# --- paths ---------------------------------------------------------------------------------------------------


def test_wrong_path(tmp_path: Path) -> None:
    assert_data_error(tmp_path / "missing.csv", "no such file or folder")


def test_unknown_file_type(tmp_path: Path) -> None:
    path = tmp_path / "fer2013.txt"
    path.write_text("emotion,pixels,Usage\n")
    assert_data_error(path, "expected fer2013.csv, an .npz or an image folder")


# --- split_off_val -------------------------------------------------------------------------------------------


def test_split_off_val_is_stratified_and_disjoint() -> None:
    y = np.repeat(np.arange(NUM_CLASSES), [100, 10, 50, 200, 30, 5, 1])
    x = np.arange(len(y))  # each "image" is its own index, to check the two parts are disjoint
    (x_train, y_train), (x_val, y_val) = split_off_val(x, y, fraction=0.1, seed=1)
    assert np.bincount(y_val, minlength=NUM_CLASSES).tolist() == [10, 1, 5, 20, 3, 1, 1]  # >= 1 per class
    assert sorted([*x_train, *x_val]) == x.tolist()
    np.testing.assert_array_equal(y[x_train], y_train)
    np.testing.assert_array_equal(y[x_val], y_val)
    again = split_off_val(x, y, fraction=0.1, seed=1)[1][0]
    np.testing.assert_array_equal(again, x_val)  # the same seed holds out the same images
    assert not np.array_equal(split_off_val(x, y, fraction=0.1, seed=2)[1][0], x_val)
