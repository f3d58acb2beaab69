"""One box per face when a detector searches a frame more than once (tiles, several cascades)."""

from __future__ import annotations

from fer.types import Box


def merge_duplicates(boxes: list[Box], max_iou: float = 0.3) -> list[Box]:
    """The boxes less their duplicates (the same face found in the frame and a tile, in two tiles, or by
    two Haar passes): of boxes overlapping by more than `max_iou`, or one mostly inside the other, the
    best scored stays (the first given, among equal scores)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(box.iou(k) <= max_iou and box.overlap(k) < 0.6 for k in kept):
            kept.append(box)
    return kept
