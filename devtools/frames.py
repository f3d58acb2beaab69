"""Synthetic frames and sequences built from a real face photo (skimage's astronaut), for tests and benchmarks.

Frames are RGB uint8 (H, W, 3), like everything inside `fer/`. Each builder also returns where it
pasted the faces, as `Box`es, so a caller can check that a detection lands on a face. A plain grey
wall is the detectors' best case; `scene=True` puts the faces on a photo instead.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

from fer.types import Box

FACE_BOX = (slice(20, 260), slice(120, 340))  # rows, cols of the astronaut's head: 240x220 px
BACKGROUND = 128  # grey level of the plain frames
SCENE = "coffee"  # skimage photo behind the faces with scene=True: a cup on a table
# scikit-image's photos with no face in them (its "camera" and "astronaut" show people): where false faces hide.
FACE_FREE = ("brick", "cell", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass", "gravel", "horse",
             "hubble_deep_field", "immunohistochemistry", "logo", "moon", "page", "retina", "rocket", "text", "cat",
             "checkerboard", "binary_blobs")
GRID_FACE_SHARE = 200 / 480  # each face of the 2x2 grid, as a share of the frame height (200 px at 480)


@functools.cache
def face_crop() -> np.ndarray:
    """The astronaut's head, RGB uint8 (240, 220, 3). Shared and read-only: copy it to write to it."""
    from skimage import data  # a dev dependency: only the benchmark and tests need it

    crop = np.ascontiguousarray(data.astronaut()[FACE_BOX])
    crop.flags.writeable = False
    return crop


def resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    """`image` scaled to `height` pixels tall, keeping its aspect ratio."""
    scale = height / image.shape[0]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, (round(image.shape[1] * scale), height), interpolation=interpolation)


def paste_face(frame: np.ndarray, face_h: int, cx: int, cy: int, tilt: float = 0.0) -> Box:
    """Pastes the face, scaled to `face_h` pixels tall and tilted `tilt` degrees (counter-clockwise),
    into `frame` (in place) centred on (cx, cy); returns where it went."""
    face = resize_to_height(face_crop(), face_h)
    h, w = face.shape[:2]
    if tilt:
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
        face = cv2.warpAffine(face, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    x, y = cx - w // 2, cy - h // 2
    frame[y : y + h, x : x + w] = face
    return Box(x, y, w, h)


def background(width: int, height: int, scene: bool = False) -> np.ndarray:
    """A plain grey (height, width, 3) frame or, with `scene`, the SCENE photo stretched to fill it."""
    if not scene:
        return np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    from skimage import data

    return cv2.resize(getattr(data, SCENE)(), (width, height), interpolation=cv2.INTER_LINEAR)


def face_frame(width: int = 640, height: int = 480, faces: int = 1,
               scene: bool = False) -> tuple[np.ndarray, list[Box]]:
    """A frame with 1 face (centred, half the frame tall) or 4 (a 2x2 grid), and the faces' boxes.

    Faces keep their share of the frame at every size: 240 px at 640x480, 360 px at 1280x720.
    """
    if faces not in (1, 4):
        raise ValueError(f"faces must be 1 or 4, got {faces}")
    frame = background(width, height, scene)
    if faces == 1:
        return frame, [paste_face(frame, height // 2, width // 2, height // 2)]
    face_h = round(GRID_FACE_SHARE * height)
    boxes = [paste_face(frame, face_h, cx, cy) for cy in (height // 4, 3 * height // 4)
             for cx in (width // 4, 3 * width // 4)]
    return frame, boxes


def face_free_photo(name: str, height: int | None = 720) -> np.ndarray:
    """scikit-image's photo `name` (see FACE_FREE) as RGB uint8, scaled to `height` pixels tall (None: its own size)."""
    from skimage import data

    image = np.asarray(getattr(data, name)())
    if image.dtype != np.uint8:  # a few are bool or float in 0..1
        image = (image.astype(np.float64) * 255).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = np.ascontiguousarray(image[..., :3])
    return image if height is None else resize_to_height(image, height)


def blank_frame(width: int = 640, height: int = 480) -> np.ndarray:
    return np.zeros((height, width, 3), dtype=np.uint8)


def noise_frame(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """Uniform RGB noise, reproducible per seed."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def moving_face_frames(count: int = 30, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """One face, half the frame tall, sliding from the left edge to the right: a short recorded clip."""
    face_w = round(height // 2 * face_crop().shape[1] / face_crop().shape[0])
    left, right = face_w // 2 + 10, width - face_w // 2 - 10  # centre positions, 10 px from each edge
    frames = []
    for i in range(count):
        frame = background(width, height)
        paste_face(frame, height // 2, left + round((right - left) * i / max(1, count - 1)), height // 2)
        frames.append(frame)
    return frames


STAMP_BITS = 8  # frame numbers 0..255
STAMP_CELL = 16  # px per bit square: survives JPEG, chroma subsampling and scaling


def stamp(frame: np.ndarray, number: int) -> np.ndarray:
    """Writes `number` into the frame (in place) as STAMP_BITS black/white squares along the top edge, bit 0
    first, from the left corner and, mirrored, from the right one: readable whether or not a webcam view
    mirrors the frame (devtools/browser.py reads it back in the browser)."""
    bits = [(number >> b) & 1 for b in range(STAMP_BITS)]
    width = frame.shape[1]
    for b, bit in enumerate(bits):
        value = 255 if bit else 0
        frame[:STAMP_CELL, b * STAMP_CELL : (b + 1) * STAMP_CELL] = value
        frame[:STAMP_CELL, width - (b + 1) * STAMP_CELL : width - b * STAMP_CELL] = value
    return frame


def stamped_faces_frames(count: int, width: int, height: int, faces: int = 1) -> list[np.ndarray]:
    """`count` frames of 1 face (half the frame tall, drifting left and right) or of `faces` faces in a
    row below the stamp band, each frame stamped with its index: a fake webcam whose frames can be told apart."""
    frames = []
    for i in range(count):
        frame = background(width, height)
        drift = round(12 * np.sin(2 * np.pi * i / count))
        if faces == 1:
            paste_face(frame, height // 2, width // 2 + drift, height // 2)
        else:
            face_h = min(height // 3, round(0.8 * width / faces))
            for k in range(faces):
                paste_face(frame, face_h, round((k + 0.5) * width / faces) + drift, height // 2 + (k % 2) * face_h // 3)
        frames.append(stamp(frame, i))
    return frames


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """RGB frames as a YUV4MPEG2 (I420) video: what Chromium's fake webcam plays, in a loop."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:  # I420: the Y plane, then U and V at quarter size
            f.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path
