"""Draws faces onto a frame: a box and a "label 87%" tag per face, in the emotion's colour; a face the
model is unsure about gets a light grey box and "?", one too small to read a grey box and "too small"."""

from __future__ import annotations

import cv2
import numpy as np

from fer.config import EMOTION_COLORS, TOO_SMALL, TOO_SMALL_COLOR, UNSURE_COLOR
from fer.types import Face

FONT = cv2.FONT_HERSHEY_SIMPLEX


def annotate(rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """A copy of the RGB uint8 frame with every face's box and label; sizes scale with the frame."""
    out = rgb.copy()
    scale = max(out.shape[:2]) / 640  # 1.0 at 640x480, 2.0 at 1280x720
    thickness = max(2, round(2 * scale))
    font_scale = 0.6 * scale
    for face in faces:
        box = face.box
        colour, tag = _look(face)
        cv2.rectangle(out, (box.x, box.y), (box.x + box.w, box.y + box.h), colour, thickness, cv2.LINE_AA)
        if face.track_id is not None:
            tag = f"#{face.track_id} {tag}"
        (text_w, text_h), baseline = cv2.getTextSize(tag, FONT, font_scale, max(1, thickness // 2))
        pad = max(3, round(3 * scale))
        tag_h = text_h + baseline + 2 * pad
        top = box.y - tag_h if box.y >= tag_h else box.y + box.h  # above the box, or below at the frame's top
        top = min(top, out.shape[0] - tag_h)
        cv2.rectangle(out, (box.x, top), (box.x + text_w + 2 * pad, top + tag_h), colour, cv2.FILLED)
        text_colour = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)  # readable on light or dark tags
        cv2.putText(out, tag, (box.x + pad, top + pad + text_h), FONT, font_scale, text_colour,
                    max(1, thickness // 2), cv2.LINE_AA)
    return out


def _look(face: Face) -> tuple[tuple[int, int, int], str]:
    """The face's box colour and tag text."""
    if not face.readable:
        return TOO_SMALL_COLOR, TOO_SMALL
    if face.unsure:
        return UNSURE_COLOR, "?"
    return EMOTION_COLORS[face.label], f"{face.label} {face.confidence:.0%}"
