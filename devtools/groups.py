"""Real group photos with hand-drawn face boxes (dlib's imglab XML), and how a detector scores on them.

    photos = load_groups(Path("../shared/data/groups"))       # every <image> of training.xml
    frame, truth = photos[0].at_height(720)                     # as a front-of-room 720p webcam sends it
    found, false = match(boxes, truth)                          # faces found, false detections

The photos are data, never part of the repository: the benchmark reads them from a folder the user gives.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from fer.types import Box

MATCH_IOU = 0.3  # a detection counts as a face when it overlaps a hand-drawn box this much (boxes differ in framing)
Key = TypeVar("Key")  # what names a hand-drawn box in pair_up: its index, or a tracked face's ID


@dataclass(frozen=True)
class GroupPhoto:
    name: str
    rgb: np.ndarray  # RGB uint8 (H, W, 3), as stored
    faces: list[Box]  # hand-drawn, in the stored photo's pixels

    def at_height(self, height: int) -> tuple[np.ndarray, list[Box]]:
        """The photo scaled to `height` pixels tall, and its face boxes scaled with it."""
        scale = height / self.rgb.shape[0]
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        rgb = cv2.resize(self.rgb, (round(self.rgb.shape[1] * scale), height), interpolation=interpolation)
        return rgb, [Box(*(round(v * scale) for v in (b.x, b.y, b.w, b.h))) for b in self.faces]


def load_groups(folder: Path, xml_name: str = "training.xml") -> list[GroupPhoto]:
    """Every image listed in `folder/xml_name` with its `<box top= left= width= height=>` faces.

    Raises:
        ValueError: no such XML, or an image it names that cannot be read.
    """
    xml = folder / xml_name
    if not xml.is_file():
        raise ValueError(f"{xml}: no such file (expected dlib's imglab XML with face boxes)")
    photos = []
    for image in ET.parse(xml).getroot().iter("image"):
        path = folder / image.get("file", "")
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise ValueError(f"{path}: cannot read the image that {xml.name} names")
        faces = [Box(*(int(box.get(key)) for key in ("left", "top", "width", "height"))) for box in image.iter("box")]
        photos.append(GroupPhoto(path.name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), faces))
    return photos


def pair_up(found: list[Box], truth: dict[Key, Box], min_iou: float) -> dict[int, Key]:
    """{index in `found`: key of the hand-drawn box it is}: one-to-one, best overlap first, each pair
    overlapping by at least `min_iou`."""
    pairs = sorted(((f.iou(t), i, key) for i, f in enumerate(found) for key, t in truth.items()), reverse=True)
    owner: dict[int, Key] = {}
    for overlap, i, key in pairs:
        if overlap < min_iou:
            break
        if i not in owner and key not in owner.values():
            owner[i] = key
    return owner


def match(found: list[Box], truth: list[Box]) -> tuple[int, int]:
    """(faces found, false detections): each hand-drawn face matches at most one detection, best overlap first."""
    paired = pair_up(found, dict(enumerate(truth)), MATCH_IOU)
    return len(paired), len(found) - len(paired)


def classroom_frame(photos: list[GroupPhoto], faces: int = 30, size: tuple[int, int] = (1280, 720),
                    margin: float = 0.3, fill: float = 0.7) -> tuple[np.ndarray, list[Box]]:
    """A frame of `faces` real faces from the photos in a grid (a full classroom), and where they are.

    Each face is cut from its photo with `margin` of its size around it, scaled to `fill` of its grid
    cell and centred in it on a grey wall; the faces repeat when the photos have fewer.
    """
    crops = []
    for photo in photos:
        height, width = photo.rgb.shape[:2]
        for b in photo.faces:
            box = b.expand(margin).clip(width, height)
            crops.append((photo.rgb[box.y : box.y + box.h, box.x : box.x + box.w], b, box))
    cols = int(np.ceil(np.sqrt(faces * size[0] / size[1])))
    rows = int(np.ceil(faces / cols))
    cell_w, cell_h = size[0] // cols, size[1] // rows
    frame = np.full((size[1], size[0], 3), 110, np.uint8)
    boxes = []
    for k in range(faces):
        crop, face, around = crops[k % len(crops)]
        scale = fill * min(cell_w / around.w, cell_h / around.h)
        image = cv2.resize(crop, (max(1, round(around.w * scale)), max(1, round(around.h * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        x0 = (k % cols) * cell_w + (cell_w - image.shape[1]) // 2
        y0 = (k // cols) * cell_h + (cell_h - image.shape[0]) // 2
        frame[y0 : y0 + image.shape[0], x0 : x0 + image.shape[1]] = image
        boxes.append(Box(x0 + round((face.x - around.x) * scale), y0 + round((face.y - around.y) * scale),
                         round(face.w * scale), round(face.h * scale)))
    return frame, boxes
