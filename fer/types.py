"""The types every step shares: a validated frame, a face box, a classified face, a frame's result, and
the two interfaces a pipeline plugs in (face detector, tracker).

This module sits at the bottom: it imports nothing of ours but the constants and the gray conversion,
so any module may import it and none of it reaches back up into the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fer.config import EMOTIONS, MIN_READABLE_FACE_PX, UNSURE_BELOW
from fer.preprocess import to_gray


class Frame:
    """An RGB uint8 (H, W, 3) image, validated once, with its grayscale copy computed at most once.

    Build one with `Frame.of(array)`: it accepts RGB, RGBA, (H, W) and (H, W, 1) uint8 arrays, so every
    later step can rely on the shape. Treat both arrays as read-only: they may be views of the input.
    """

    def __init__(self, rgb: np.ndarray, gray: np.ndarray | None = None):
        self.rgb = rgb
        self._gray = gray  # given for a grayscale input; otherwise computed on first use

    @classmethod
    def of(cls, image: object) -> Frame:
        """`image` as a Frame (a Frame is returned as it is).

        Raises:
            ValueError: not an image (None, wrong dtype, rank or channel count, or empty).
        """
        if isinstance(image, Frame):
            return image
        if not isinstance(image, np.ndarray):
            raise ValueError(f"expected an image array, got {type(image).__name__}")
        image = np.asarray(image)  # a subclass (np.matrix) as a plain array: numpy mishandles some of them
        if image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image, got {image.dtype}")
        if image.ndim == 2:
            image = image[..., None]
        if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or 0 in image.shape:
            raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
        if image.shape[2] == 1:
            return cls(np.repeat(image, 3, axis=2), gray=image[..., 0])
        return cls(image[..., :3])

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def gray(self) -> np.ndarray:
        """uint8 (H, W) grayscale, computed on first use: Haar searches it and the classifier crops it."""
        if self._gray is None:
            self._gray = to_gray(self.rgb)
        return self._gray


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

    def intersection(self, other: Box) -> int:
        """The area, in pixels, that the two boxes share."""
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return max(0, w) * max(0, h)

    def iou(self, other: Box) -> float:
        """Intersection over union: 1 for the same box, 0 when they don't overlap."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def overlap(self, other: Box) -> float:
        """Intersection over the smaller box's area: 1 when one box lies inside the other."""
        return self.intersection(other) / max(1, min(self.area, other.area))

    def cover(self, other: Box) -> Box:
        """The smallest box holding both (this one's score)."""
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.x + self.w, other.x + other.w), max(self.y + self.h, other.y + other.h)
        return Box(x0, y0, x1 - x0, y1 - y0, self.score)

    def expand(self, margin: float) -> Box:
        """This box grown by `margin` of its size on every side (not clipped)."""
        dx, dy = round(self.w * margin), round(self.h * margin)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy, self.score)


@dataclass(frozen=True)
class Face:
    """One face in a frame: where it is, and its emotion probabilities (float32 (7,), EMOTIONS order)."""

    box: Box
    probs: np.ndarray  # None only on the way into a tracker, for a face not classified in this frame
    track_id: int | None = None  # set by a tracker: the same person keeps the same ID across frames

    @property
    def readable(self) -> bool:
        """Whether the face is large enough for its expression to be read (MIN_READABLE_FACE_PX); a face
        that is not is still tracked and counted, but shows and reports no expression."""
        return min(self.box.w, self.box.h) >= MIN_READABLE_FACE_PX

    @property
    def unsure(self) -> bool:
        """Readable, but with a top probability below UNSURE_BELOW, where the model is wrong more often
        than right: shown as "?" rather than as a word."""
        return self.readable and self.confidence < UNSURE_BELOW

    @property
    def label(self) -> str:
        """The top class (meaningful only for a readable face)."""
        return EMOTIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))

    def confidences(self) -> dict[str, float]:
        """{emotion: probability}, e.g. for a gr.Label."""
        return {emotion: float(p) for emotion, p in zip(EMOTIONS, self.probs, strict=True)}


@dataclass(frozen=True)
class FrameResult:
    faces: list[Face]  # largest first
    annotated: np.ndarray  # RGB uint8, same size as the input frame

    @property
    def main_face(self) -> Face | None:
        """The largest readable face, the one a single-person view reports on."""
        return next((face for face in self.faces if face.readable), None)


@dataclass(frozen=True)
class Search:
    """One search of a stream's frame: pass `part` of a detector in parts (None: all of them), over `region`
    of the frame (None: all of it)."""

    part: int | None = None
    region: Box | None = None


FULL_SEARCH = (Search(),)  # the whole frame, every part: what a photo gets


class FaceDetector(Protocol):
    """Anything with `detect(frame) -> list[Box]`; register new ones in fer/detectors/__init__.py.

    A detector only finds faces: boxes in the frame's pixel coordinates, in any order, possibly
    reaching past the frame's edges. The pipeline clips, drops and sorts them, once, for every detector.

    A detector whose full search is several cheaper ones (Haar: one per cascade) may also have `parts`
    (how many) and take `detect(frame, part=k)`; a stream then runs one part per search, in turn, so
    it pays for a full search only once in `parts` searches. A photo always gets the full search.
    One that can search part of a frame at the whole frame's scale has `regional = True` and takes
    `detect(frame, region=box)`: a stream whose faces are all tracked then searches only where the frame
    changed between its full searches (see fer.tracking).
    """

    def detect(self, frame: Frame) -> list[Box]: ...


class Tracker(Protocol):
    """Per-stream state: stable IDs, smoothed probabilities, and what each frame needs (see fer.tracking).

    Times `t` are the frame's, in seconds on any clock, never decreasing. In `update`'s and `follow`'s
    faces, `probs` None means "not classified this frame": the track keeps its probabilities.
    """

    def search_plan(self, frame: Frame, t: float, parts: int, regional: bool) -> tuple[Search, ...]:
        """What this frame needs searched (empty: nothing) by a detector of `parts` parts; `regional`: whether
        it can search part of a frame. A plan given counts as searched."""
        ...

    def identify(self, faces: list[Face], t: float) -> list[Face]:
        """Detected faces with the `track_id` of the track each continues, None for new ones."""
        ...

    def follow(self, frame: Frame, t: float, skip: set[int]) -> list[Face]:
        """The known faces (but `skip`), looked for near their last boxes."""
        ...

    def reading_due(self, track_id: int | None, t: float) -> bool:
        """Whether the face needs classifying now."""
        ...

    def mirrored_turn(self, track_id: int | None) -> bool:
        """Whether the face's next reading is of its mirror image (a stream reads both ways in turn)."""
        ...

    def read(self, t: float, readings: dict[int, np.ndarray]) -> None:
        """Folds readings of the frame taken at `t`, made beside the stream, into the tracks they name."""
        ...

    def update(self, faces: list[Face], t: float, frame: Frame | None = None,
               followed: list[Face] = ()) -> list[Face]:
        """The frame's detected and followed faces, continued: IDs set, probabilities smoothed."""
        ...
