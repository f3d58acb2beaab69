"""Loads FER-2013 from the Kaggle CSV, the Kaggle image folders, or an npz of arrays.

Every loader returns ``{split: (x, y)}`` with x uint8 (N, 48, 48) and y int64 (N,) in
`EMOTIONS` order. Bad input raises `DataError` with one line naming the file and the problem.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import cv2
import numpy as np

from fer.config import CSV_USAGE, EMOTIONS, FOLDER_SPLITS, IMG_SIZE, NUM_CLASSES, SPLITS

log = logging.getLogger(__name__)

Split = tuple[np.ndarray, np.ndarray]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class DataError(ValueError):
    """The dataset at the given path is missing or malformed."""


def load_fer2013(
    path: str | Path, splits: tuple[str, ...] = SPLITS, require: tuple[str, ...] | None = None
) -> dict[str, Split]:
    """Loads the requested splits ("train", "val" = PublicTest, "test" = PrivateTest).

    Args:
        path: `fer2013.csv`, a folder with `train/<class>/*.jpg` (and `test/`, optional
            `validation/`), or an `.npz` with `x_<split>` and `y_<split>` arrays.
        splits: which splits to load.
        require: which of them must be present (default: all of `splits`).
    Returns:
        {split: (x uint8 (N, 48, 48), y int64 (N,))} for the requested splits the data has.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        loaded = _load_folders(path, splits)
    elif path.suffix.lower() == ".csv":
        loaded = _load_csv(path)
    elif path.suffix.lower() == ".npz":
        loaded = _load_npz(path, splits)
    else:
        raise DataError(f"{path}: expected fer2013.csv, an .npz or an image folder")
    for split in splits if require is None else require:
        if split not in loaded:
            raise DataError(f"{path}: no '{split}' split (found: {', '.join(sorted(loaded)) or 'none'})")
    return {split: loaded[split] for split in splits if split in loaded}


def split_off_val(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[Split, Split]:
    """Holds out a stratified `fraction` of (x, y) as validation, for layouts that ship none."""
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        val_mask[rng.choice(idx, size=max(1, round(len(idx) * fraction)), replace=False)] = True
    return (x[~val_mask], y[~val_mask]), (x[val_mask], y[val_mask])


def vote_targets(votes_path: str | Path, split: str, y: np.ndarray) -> np.ndarray:
    """FER+ vote distributions as 7-class targets (N, 7) float32, row-aligned with `split`'s labels `y`.

    `ferplus_votes.npz` holds 10 annotators' votes per FER-2013 row; contempt, unknown and not-a-face have no
    7-class counterpart and are dropped. A row with no 7-class vote keeps its FER-2013 label as a one-hot.
    """
    path = Path(votes_path)
    try:
        with np.load(path) as data:
            votes = data[f"votes_{split}"][:, data["ferplus_to_fer7"]].astype(np.float32)
    except (OSError, KeyError, ValueError) as error:
        raise DataError(f"{path}: not a FER+ votes file with a '{split}' split ({error})") from None
    if len(votes) != len(y):
        raise DataError(f"{path}: {len(votes)} '{split}' rows, the data has {len(y)}: not row-aligned")
    totals = votes.sum(axis=1, keepdims=True)
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[y]
    return np.where(totals > 0, votes / np.maximum(totals, 1), onehot)


def _check_labels(path: Path, y: np.ndarray) -> np.ndarray:
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DataError(f"{path}: labels must be 0..{NUM_CLASSES - 1}, found {y.min()}..{y.max()}")
    return y.astype(np.int64)


def _load_npz(path: Path, splits: tuple[str, ...]) -> dict[str, Split]:
    try:
        arrays = np.load(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npz ({err})") from err
    loaded = {}
    for split in splits:
        if f"x_{split}" not in arrays or f"y_{split}" not in arrays:
            continue
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.shape[1:] != (IMG_SIZE, IMG_SIZE) or len(x) != len(y):
            raise DataError(f"{path}: x_{split} {x.shape} / y_{split} {y.shape} are not (N, 48, 48) / (N,)")
        loaded[split] = (x.astype(np.uint8), _check_labels(path, y))
    return loaded


def _load_csv(path: Path) -> dict[str, Split]:
    rows: dict[str, tuple[list[np.ndarray], list[int]]] = {}
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            where = f"{path}:{reader.line_num}"  # the file's line, blank lines included
            if None in row.values():  # DictReader pads a short row with None
                raise DataError(f"{where}: too few fields, expected emotion,pixels,Usage")
            try:
                label = int(row["emotion"])
                pixels = np.array(row["pixels"].split(), dtype=np.int64)
            except (TypeError, ValueError):
                raise DataError(f"{where}: emotion and pixels must be integers") from None
            if not 0 <= label < NUM_CLASSES:
                raise DataError(f"{where}: emotion {label} is not in 0..{NUM_CLASSES - 1}")
            if pixels.size != IMG_SIZE * IMG_SIZE:
                raise DataError(f"{where}: {pixels.size} pixels, expected {IMG_SIZE * IMG_SIZE} (48x48)")
            if pixels.min() < 0 or pixels.max() > 255:
                raise DataError(f"{where}: pixel values must be 0..255")
            if row["Usage"] not in CSV_USAGE:
                raise DataError(f"{where}: Usage '{row['Usage']}' is not one of {', '.join(CSV_USAGE)}")
            images, labels = rows.setdefault(CSV_USAGE[row["Usage"]], ([], []))
            images.append(pixels.astype(np.uint8).reshape(IMG_SIZE, IMG_SIZE))
            labels.append(label)
    return {split: (np.stack(images), np.array(labels, dtype=np.int64)) for split, (images, labels) in rows.items()}


def _load_folders(root: Path, splits: tuple[str, ...]) -> dict[str, Split]:
    loaded = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        split = FOLDER_SPLITS.get(folder.name.lower())
        if split is None:
            raise DataError(f"{folder}: unknown split folder (expected {', '.join(FOLDER_SPLITS)})")
        if split in splits:
            loaded[split] = _load_class_folders(folder)
    return loaded


def _load_class_folders(split_dir: Path) -> Split:
    images, labels = [], []
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        name = class_dir.name.lower()
        if name not in EMOTIONS:
            raise DataError(f"{class_dir}: unknown class folder (expected {', '.join(EMOTIONS)})")
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise DataError(f"{file}: not a readable image")
            if image.shape != (IMG_SIZE, IMG_SIZE):
                raise DataError(f"{file}: image is {image.shape[1]}x{image.shape[0]}, expected 48x48")
            images.append(image)
            labels.append(EMOTIONS.index(name))
    if not images:
        raise DataError(f"{split_dir}: no images in class folders")
    log.info("%s: %d images", split_dir, len(images))
    return np.stack(images), np.array(labels, dtype=np.int64)
