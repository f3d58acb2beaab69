"""Sequences with ground truth for comparing trackers, and the detections a tracker is fed on them.

    seq = walking_scene()                                   # generated: faces walk, cross, arrive, leave
    seq = pan_sequence(photo)                               # a real group photo under a panning camera
    rgb, truth = seq.frame(i), seq.truth[i]                 # truth: {face id: Box} of the faces in view
    dets = noisy_detections(seq) or haar_detections(seq)    # per frame: [(Box, face id or None = false hit)]

A face is in view when at least half of its box is inside the frame and no more than half of it is
covered (by another face or an occluder). Times are in seconds, frames RGB uint8, boxes pixel (x, y, w, h).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from devtools.frames import background, paste_face
from devtools.groups import GroupPhoto, pair_up
from fer.detectors import get_detector
from fer.types import Box, Frame

FPS = 30  # frames per second of every sequence
SECONDS = 4.0  # length of every sequence
IN_VIEW = 0.5  # share of a face's box that must be inside the frame and uncovered for it to count as in view
DETECTION_IOU = 0.5  # a detection belongs to a face when their boxes overlap this much (else it is a false hit)

# Real photos under a panning camera.
PHOTO_HEIGHT = 800  # px: the photo is scaled to this, and the camera sees a FRAME_HEIGHT window of it
FRAME_HEIGHT = 720  # px: a 720p webcam's frame
PAN_X, PAN_Y = 80, 40  # px: amplitude of the camera's sway, left-right and up-down
PAN_PERIOD_S = 4.0  # one sway left and right
JITTER_PX = 3  # the camera shakes by up to this many pixels each frame (hand-held)
ARRIVE_S = 1.0  # the photo's first face is hidden until then: a face walking in
OCCLUDE_S = 0.5  # every other face is covered once, for this long (someone passing in front)
OCCLUDER_RGB = (196, 160, 140)  # flat skin-like colour: a hand, a head in front

# Perfect boxes with noise.
NOISE = 0.04  # std of the box's position and size, as a share of its size
DROP = 0.1  # share of detections dropped (a missed face)
FALSE_PER_FRAME = 0.05  # a false box appears in this share of frames, at a random place

Detections = list[list[tuple[Box, int | None]]]  # per frame: each detection and the face it belongs to


@dataclass(frozen=True)
class Sequence:
    name: str
    times: np.ndarray  # float64 (N,): each frame's time in seconds
    truth: list[dict[int, Box]]  # per frame: the faces in view, {face id: box}
    frame: Callable[[int], np.ndarray]  # frame i, RGB uint8 (H, W, 3), built on demand (a sequence is ~100 MB)


def in_view(box: Box, width: int, height: int, covers: list[Box]) -> Box | None:
    """`box` clipped to the frame, or None when less than IN_VIEW of it is inside or uncovered."""
    inside = box.clip(width, height)
    if inside is None or inside.area < IN_VIEW * box.area:
        return None
    covered = sum(box.intersection(cover) for cover in covers)
    return inside if covered <= (1 - IN_VIEW) * box.area else None


# --- Generated: faces walking, crossing, arriving and leaving --------------------------------------------

WALKERS: dict[int, Callable[[float], tuple[int, int] | None]] = {  # face id: centre (x, y) at t, None when away
    0: lambda t: (70 + round(125 * t), 150),  # walks left to right ...
    1: lambda t: (520, 360) if t < 1.5 else None,  # stands still, leaves at 1.5 s
    2: lambda t: (200, 360) if t >= 1.0 else None,  # arrives at 1.0 s
    3: lambda t: (570 - round(125 * (t - 0.5)), 175) if t >= 0.5 else None,  # ... crosses 0 around 2.5 s, in front
}
WALKER_PX = 110  # height of each pasted head in the generated scene
FACE_IN_CROP = (0.25, 0.18, 0.46, 0.43)  # the face itself within a pasted head (x, y, w, h as shares; its Haar
# box, measured once): the crop also holds hair, helmet and suit, so the whole crop would match no detector's box


def face_in(head: Box) -> Box:
    """The face's box within a pasted head's box (FACE_IN_CROP)."""
    fx, fy, fw, fh = FACE_IN_CROP
    return Box(head.x + round(fx * head.w), head.y + round(fy * head.h), round(fw * head.w), round(fh * head.h))


def walking_scene(seconds: float = SECONDS, fps: int = FPS) -> Sequence:
    """A 640x480 scene of four real faces: one walks across, one arrives, one leaves, one crosses in front
    of the first (hiding it for a moment)."""
    times = np.arange(round(seconds * fps)) / fps

    def render(t: float) -> tuple[np.ndarray, dict[int, Box]]:
        rgb = background(640, 480)
        heads = {k: paste_face(rgb, WALKER_PX, *at) for k, path in WALKERS.items() if (at := path(t)) is not None}
        order = list(heads)  # later heads are pasted over earlier ones
        truth = {k: seen for i, k in enumerate(order)
                 if (seen := in_view(face_in(heads[k]), 640, 480, [heads[j] for j in order[i + 1 :]])) is not None}
        return rgb, truth

    return Sequence("scene", times, [render(float(t))[1] for t in times], lambda i: render(float(times[i]))[0])


# --- Real group photos under a panning, shaking camera, with faces covered for a moment ------------------

def pan_sequence(photo: GroupPhoto, seconds: float = SECONDS, fps: int = FPS, seed: int = 0) -> Sequence:
    """The photo at PHOTO_HEIGHT seen through a FRAME_HEIGHT window that sways and shakes; its first face
    walks in at ARRIVE_S (hidden before) and each other face is covered once for OCCLUDE_S."""
    rgb, faces = photo.at_height(PHOTO_HEIGHT)
    width = rgb.shape[1] - 2 * PAN_X
    times = np.arange(round(seconds * fps)) / fps
    rng = np.random.default_rng(seed)
    shake = rng.integers(-JITTER_PX, JITTER_PX + 1, size=(len(times), 2))
    offsets = [(PAN_X + round(PAN_X * np.sin(2 * np.pi * t / PAN_PERIOD_S)) + dx,
                PAN_Y + round(PAN_Y * np.sin(2 * np.pi * t / (0.8 * PAN_PERIOD_S))) + dy)
               for t, (dx, dy) in zip(times, shake, strict=True)]
    offsets = [(min(max(0, x), 2 * PAN_X), min(max(0, y), 2 * PAN_Y)) for x, y in offsets]
    gap = (seconds - ARRIVE_S - OCCLUDE_S) / max(1, len(faces) - 1)
    hidden = {0: (0.0, ARRIVE_S), **{k: (ARRIVE_S + gap * (k - 1), ARRIVE_S + gap * (k - 1) + OCCLUDE_S)
                                     for k in range(1, len(faces))}}

    def covers(i: int) -> list[Box]:
        ox, oy = offsets[i]
        return [Box(b.x - ox, b.y - oy, b.w, b.h).expand(0.15) for k, b in enumerate(faces)
                if hidden[k][0] <= times[i] < hidden[k][1]]

    def truth(i: int) -> dict[int, Box]:
        ox, oy = offsets[i]
        hidden_by = covers(i)
        seen = {k: in_view(Box(b.x - ox, b.y - oy, b.w, b.h), width, FRAME_HEIGHT, hidden_by)
                for k, b in enumerate(faces)}
        return {k: box for k, box in seen.items() if box is not None}

    def frame(i: int) -> np.ndarray:
        ox, oy = offsets[i]
        out = rgb[oy : oy + FRAME_HEIGHT, ox : ox + width].copy()
        for cover in covers(i):
            c = cover.clip(width, FRAME_HEIGHT)
            if c is not None:
                out[c.y : c.y + c.h, c.x : c.x + c.w] = OCCLUDER_RGB
        return out

    return Sequence(f"photo {photo.name}", times, [truth(i) for i in range(len(times))], frame)


# --- Detections ---------------------------------------------------------------------------------------------

def label(boxes: list[Box], truth: dict[int, Box]) -> list[tuple[Box, int | None]]:
    """Each box with the face it belongs to (one box per face, best IoU first, at least DETECTION_IOU)."""
    owner = pair_up(boxes, truth, DETECTION_IOU)
    return [(box, owner.get(i)) for i, box in enumerate(boxes)]


def noisy_detections(seq: Sequence, seed: int = 0) -> Detections:
    """The true boxes moved and resized by NOISE, DROP of them missed, and a false box in FALSE_PER_FRAME
    of the frames (scores 0.9 for faces, 0.6 for false boxes: a detector is less sure of those)."""
    rng = np.random.default_rng(seed)
    size = max(max((b.w, b.h)) for truth in seq.truth for b in truth.values())
    height, width = seq.frame(0).shape[:2]
    out = []
    for truth in seq.truth:
        frame = []
        for k, b in truth.items():
            if rng.random() < DROP:
                continue
            dx, dy, dw = rng.normal(0, NOISE, 3) * b.w
            box = Box(round(b.x + dx), round(b.y + dy), round(b.w + dw), round(b.h + dw), 0.9).clip(width, height)
            if box is not None:
                frame.append((box, k))
        if rng.random() < FALSE_PER_FRAME:
            side = int(rng.integers(size // 3, size))
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            frame.append((Box(x, y, side, side, 0.6), None))
        out.append(frame)
    return out


def haar_detections(seq: Sequence) -> Detections:
    """What the app's Haar detector finds in each frame (clipped to it), labelled by `label`."""
    detector = get_detector("haar")
    out = []
    for i, truth in enumerate(seq.truth):
        frame = Frame.of(seq.frame(i))
        boxes = [c for box in detector.detect(frame) if (c := box.clip(frame.width, frame.height)) is not None]
        out.append(label(boxes, truth))
    return out

