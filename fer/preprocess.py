"""The one preprocessing path that training, evaluation and the live classifier share."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from fer.config import IMG_SIZE


def to_gray(frame: np.ndarray) -> np.ndarray:
    """RGB, RGBA or single-channel uint8 frame -> uint8 (H, W) grayscale."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[..., 0]
    code = cv2.COLOR_RGBA2GRAY if frame.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(frame, code)


def prepare_faces(faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Grayscale uint8 crops of any size -> the model's input, float32 (N, 48, 48, 1) in 0..255.

    Args:
        faces: uint8 array (N, H, W), or a sequence of uint8 (H, W) arrays of varying sizes.
    Raises:
        ValueError: on a dtype other than uint8, a wrong rank, or an empty crop.
    """
    if isinstance(faces, np.ndarray):
        if faces.ndim != 3:
            raise ValueError(f"faces must have shape (N, H, W), got {faces.shape}")
        crops: Sequence[np.ndarray] = faces
    elif isinstance(faces, (list, tuple)):
        crops = faces
    else:
        raise ValueError(f"faces must be a uint8 array (N, H, W) or a list of (H, W) crops, got {type(faces).__name__}")
    batch = np.empty((len(crops), IMG_SIZE, IMG_SIZE, 1), dtype=np.float32)
    for i, crop in enumerate(crops):
        crop = np.asarray(crop) if isinstance(crop, np.ndarray) else np.asarray(crop, dtype=object)
        if crop.dtype != np.uint8:
            raise ValueError(f"faces must be uint8 grayscale, got {crop.dtype}")
        if crop.ndim != 2 or crop.size == 0:
            raise ValueError(f"each face must be a non-empty (H, W) grayscale crop, got {crop.shape}")
        if crop.shape != (IMG_SIZE, IMG_SIZE):
            shrinking = crop.shape[0] > IMG_SIZE or crop.shape[1] > IMG_SIZE
            interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            crop = cv2.resize(crop, (IMG_SIZE, IMG_SIZE), interpolation=interpolation)
        batch[i, ..., 0] = crop
    return batch
