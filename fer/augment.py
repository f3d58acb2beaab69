"""Training-time augmentation on the CPU with OpenCV: pose, framing, lighting and occlusion.

Kept out of the model graph on purpose: Keras' augmentation layers are slow under XLA on
accelerators, and CPU work here overlaps with the accelerator's training step.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    flip: float = 0.5  # probability of a horizontal flip
    rotate_deg: float = 15.0
    scale: float = 0.15  # zoom in or out by up to this fraction
    shift: float = 0.1  # translate by up to this fraction of the side
    brightness: float = 0.2  # add up to this fraction of 255
    contrast: float = 0.3  # scale around the mean by 1 +- this
    erase: float = 0.5  # probability of blanking a random rectangle
    erase_area: tuple[float, float] = (0.02, 0.15)  # its area as a fraction of the image


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Returns an augmented copy of uint8 (N, H, W) images as float32 (N, H, W) in 0..255."""
    n, h, w = images.shape
    out = np.empty((n, h, w), dtype=np.float32)
    angles = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg, n)
    scales = rng.uniform(1 - cfg.scale, 1 + cfg.scale, n)
    shifts = rng.uniform(-cfg.shift, cfg.shift, (n, 2)) * (w, h)
    flips = rng.random(n) < cfg.flip
    for i in range(n):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angles[i], scales[i])
        matrix[:, 2] += shifts[i]
        image = images[i, :, ::-1] if flips[i] else images[i]
        out[i] = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    means = out.mean(axis=(1, 2), keepdims=True)
    contrast = rng.uniform(1 - cfg.contrast, 1 + cfg.contrast, (n, 1, 1))
    brightness = rng.uniform(-cfg.brightness, cfg.brightness, (n, 1, 1)) * 255
    out = np.clip((out - means) * contrast + means + brightness, 0, 255)
    for i in np.flatnonzero(rng.random(n) < cfg.erase):
        area = rng.uniform(*cfg.erase_area) * h * w
        aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
        eh, ew = min(h, int(np.sqrt(area * aspect))), min(w, int(np.sqrt(area / aspect)))
        top, left = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
        out[i, top : top + eh, left : left + ew] = rng.uniform(0, 255, (eh, ew))
    return out
