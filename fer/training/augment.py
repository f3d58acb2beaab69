"""Training-time augmentation on the CPU with OpenCV: pose, framing, lighting and occlusion, plus
what webcams and streams do to a face (JPEG, low resolution, blur, sensor noise, exposure).

The webcam degradations are also plain functions (`DEGRADATIONS`) so `fer.training.evaluate --degrade`
measures a model on exactly what training showed it.

Kept out of the model graph on purpose: Keras' augmentation layers are slow under XLA on
accelerators, and CPU work here overlaps with the accelerator's training step.
"""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class DegradeConfig:
    """How a degraded face is made: each step applies with its probability, in capture order."""

    gamma: float = 0.4  # exposure: gamma log-uniform in gamma_range
    gamma_range: tuple[float, float] = (0.4, 2.5)
    blur: float = 0.25  # defocus: Gaussian sigma in blur_sigma
    blur_sigma: tuple[float, float] = (0.5, 1.2)
    size: float = 0.5  # a far face: shrunk to a side in size_px, enlarged back at the end
    size_px: tuple[int, int] = (18, 44)
    noise: float = 0.3  # sensor noise: Gaussian sigma in noise_sigma gray levels
    noise_sigma: tuple[float, float] = (2.0, 10.0)
    jpeg: float = 0.6  # a compressed stream: JPEG quality in jpeg_quality
    jpeg_quality: tuple[int, int] = (15, 90)


def jpeg_roundtrip(face: np.ndarray, quality: float) -> np.ndarray:
    """uint8 (H, W) face after JPEG encoding at `quality` (1-100) and decoding."""
    ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"JPEG encoding failed for a face of shape {face.shape}")
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


def shrink_and_enlarge(face: np.ndarray, px: float) -> np.ndarray:
    """uint8 (H, W) face as a `px`-pixel face in a frame reaches the classifier: area-shrunk, then
    enlarged back bilinearly (what `prepare_faces` does to a small crop)."""
    h, w = face.shape
    small = cv2.resize(face, (int(px), int(px)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def adjust_gamma(face: np.ndarray, gamma: float) -> np.ndarray:
    """uint8 face with gray levels raised to `gamma` (< 1 brightens, > 1 darkens)."""
    table = np.rint(255 * (np.arange(256) / 255) ** gamma).astype(np.uint8)
    return cv2.LUT(face, table)


def gaussian_blur(face: np.ndarray, sigma: float) -> np.ndarray:
    """uint8 face out of focus: a Gaussian blur of `sigma` pixels."""
    return cv2.GaussianBlur(face, (0, 0), sigma)


def sensor_noise(face: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """uint8 face plus Gaussian noise of `sigma` gray levels (seeded 0 without `rng`: repeatable)."""
    rng = rng or np.random.default_rng(0)
    return np.clip(face + rng.normal(0, sigma, face.shape), 0, 255).astype(np.uint8)


# name -> (face, value) -> degraded face: what `fer.training.evaluate --degrade NAME=VALUE` applies.
DEGRADATIONS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "jpeg": jpeg_roundtrip,
    "size": shrink_and_enlarge,
    "gamma": adjust_gamma,
    "blur": gaussian_blur,
    "noise": sensor_noise,
}


def degrade_batch(faces: np.ndarray, rng: np.random.Generator, share: float,
                  cfg: DegradeConfig = DegradeConfig()) -> np.ndarray:
    """A copy of uint8 (N, H, W) faces in which a `share` of them went through a webcam's degradations."""
    out = faces.copy()
    for i in np.flatnonzero(rng.random(len(faces)) < share):
        face, (h, w) = out[i], out[i].shape
        if rng.random() < cfg.gamma:
            face = adjust_gamma(face, float(np.exp(rng.uniform(*np.log(cfg.gamma_range)))))
        if rng.random() < cfg.blur:
            face = gaussian_blur(face, rng.uniform(*cfg.blur_sigma))
        if rng.random() < cfg.size:  # noise and JPEG then act on the small face, as in a far one
            px = int(rng.integers(cfg.size_px[0], cfg.size_px[1] + 1))
            face = cv2.resize(face, (px, px), interpolation=cv2.INTER_AREA)
        if rng.random() < cfg.noise:
            face = sensor_noise(face, rng.uniform(*cfg.noise_sigma), rng)
        if rng.random() < cfg.jpeg:
            face = jpeg_roundtrip(face, rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        if face.shape != (h, w):
            face = cv2.resize(face, (w, h), interpolation=cv2.INTER_LINEAR)
        out[i] = face
    return out


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
