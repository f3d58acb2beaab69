"""The face-detector interface: an RGB frame in, pixel boxes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """A face in pixel coordinates: top-left corner (x, y), size (w, h), detector score in 0..1."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0

    @property
    def area(self) -> int:
        return self.w * self.h

    def clip(self, width: int, height: int) -> Box | None:
        """This box cut to a width x height frame; None if nothing of it is left inside."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.x + self.w), min(height, self.y + self.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0, self.score)

    def expand(self, margin: float) -> Box:
        """This box grown by `margin` of its size on every side (not clipped)."""
        dx, dy = round(self.w * margin), round(self.h * margin)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy, self.score)


class FaceDetector(Protocol):
    """Anything with `detect(rgb) -> list[Box]`; register new ones in fer/detectors/__init__.py."""

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an RGB uint8 (H, W, 3) frame, as boxes inside the frame, largest first."""
        ...
