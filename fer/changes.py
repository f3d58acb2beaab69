"""Where a stream's frame changed since a detector last searched it.

A detector gives the same answer on the same pixels, so where the frame has not changed since a search, that
search can find nothing new; a stream searches only where it changed (fer.tracking.FaceTracker.search_plan).

    seen = cell_means(frame.gray)                  # what a search of the whole frame saw
    known = inside_cells(face_boxes, seen.shape, later.width, later.height)   # faces already followed
    areas = changed_cells(cell_means(later.gray), seen, known)   # [] nothing changed; None: most of it did
    region = to_pixels(areas[0], seen.shape, later.width, later.height)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from fer.config import CHANGE_GRID, CHANGE_GROW, CHANGE_LEVEL, CHANGE_MAX_AREA, CHANGE_MAX_REGIONS
from fer.types import Box


def cell_means(gray: np.ndarray) -> np.ndarray:
    """The frame's gray levels averaged over square cells, CHANGE_GRID of them along its shorter side, float32
    (rows, columns). Averaging makes a camera's pixel noise and JPEG's blocks too small to count as change."""
    cell = max(1, min(gray.shape) // CHANGE_GRID)
    size = (max(1, gray.shape[1] // cell), max(1, gray.shape[0] // cell))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def changed_cells(now: np.ndarray, seen: np.ndarray, known: np.ndarray | None = None) -> list[Box] | None:
    """Rectangles, in cells, around each area whose mean moved by more than CHANGE_LEVEL gray levels from `seen`
    (but the `known` cells: faces already followed, whose own moves find nothing new), grown by CHANGE_GROW cells
    so that a face only partly changed lies inside: [] when nothing changed, None when so much did (more than
    CHANGE_MAX_REGIONS areas, or CHANGE_MAX_AREA of the frame) that one search of the whole frame is the cheaper
    answer. `now` and `seen` come from cell_means of same-sized frames; `known` is a boolean mask like them."""
    moved = np.abs(now - seen) > CHANGE_LEVEL
    if known is not None:
        moved &= ~known
    moved = moved.astype(np.uint8)
    if not moved.any():
        return []
    grown = cv2.dilate(moved, np.ones((2 * CHANGE_GROW + 1,) * 2, np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    areas = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:count]]
    if len(areas) > CHANGE_MAX_REGIONS or sum(area.area for area in areas) > CHANGE_MAX_AREA * now.size:
        return None
    return areas


def inside_cells(boxes: Iterable[Box], grid: tuple[int, ...], width: int, height: int) -> np.ndarray:
    """A boolean mask of a `grid`-shaped cell_means of a width x height frame: the cells wholly inside a box."""
    mask = np.zeros(grid[:2], bool)
    sx, sy = width / grid[1], height / grid[0]
    for box in boxes:
        x0, y0 = math.ceil(box.x / sx), math.ceil(box.y / sy)
        x1, y1 = math.floor((box.x + box.w) / sx), math.floor((box.y + box.h) / sy)
        mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    return mask


def to_pixels(area: Box, grid: tuple[int, ...], width: int, height: int) -> Box:
    """A rectangle of cells (from changed_cells on a `grid`-shaped cell_means) as pixels of the width x height
    frame, rounded outwards."""
    sx, sy = width / grid[1], height / grid[0]
    x0, y0 = math.floor(area.x * sx), math.floor(area.y * sy)
    x1, y1 = math.ceil((area.x + area.w) * sx), math.ceil((area.y + area.h) * sy)
    return Box(x0, y0, min(width, x1) - x0, min(height, y1) - y0)
