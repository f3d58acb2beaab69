"""Test-only helpers shared by several test files: box checks, file writers, a fake detector, CSV rows.

Synthetic frames and the app launcher live in devtools/ (the benchmark uses them too).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from fer import Box, Frame


class FixedBoxes:
    """A fake detector: the same boxes for every frame, as given (unclipped, unsorted); counts its calls."""

    def __init__(self, boxes: list[Box]):
        self.boxes = boxes
        self.calls = 0

    def detect(self, frame: Frame) -> list[Box]:
        self.calls += 1
        return list(self.boxes)


def read_rows(path: Path) -> list[dict]:
    """A CSV file's rows as dicts keyed by its header."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def inside(box: Box, width: int, height: int) -> bool:
    """Whether a non-empty box lies wholly inside a width x height frame."""
    return box.w > 0 and box.h > 0 and box.x >= 0 and box.y >= 0 and box.x + box.w <= width and box.y + box.h <= height


def write_png(path: Path, rgb: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


VIDEO_FOURCC = {".avi": "MJPG", ".mp4": "mp4v"}  # codecs every OpenCV wheel can write


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15) -> Path:
    """RGB frames as a video OpenCV writes without extra encoders: MJPG .avi or MPEG-4 Part 2 .mp4.

    Neither is H.264, so a browser may not preview it; FFmpeg (and so the app) reads both.
    """
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC[path.suffix]), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"could not write {path}")
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path
