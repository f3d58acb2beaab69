"""MediaPipe's BlazeFace (Tasks API), with the models shipped in model/mediapipe/ so it runs offline."""

from __future__ import annotations

import sys
import threading
import types

import cv2
import numpy as np

from fer.config import MEDIAPIPE_DIR
from fer.detectors.merge import merge_duplicates
from fer.native import quiet_stderr
from fer.types import Box, Frame

MODELS = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range_sparse.tflite"}
TILE_OVERLAP = 0.25  # neighbouring tiles share this share of a tile, so a face on a seam is whole in one
DOCGEN_MODULE = "mediapipe.tasks.python.core.optional_dependencies"


def _skip_mediapipe_docgen() -> None:
    """Keeps `import mediapipe` from importing all of TensorFlow (+650 MB, +3 s) when it is installed.

    mediapipe's only use of TensorFlow is `doc_controls.do_not_generate_docs`, a no-op decorator for its
    API docs; this module provides the same no-op that mediapipe itself falls back to without TensorFlow.
    """
    if DOCGEN_MODULE not in sys.modules:
        stub = types.ModuleType(DOCGEN_MODULE)
        stub.doc_controls = types.SimpleNamespace(do_not_generate_docs=lambda obj: obj)
        sys.modules[DOCGEN_MODULE] = stub


class MediaPipeDetector:
    """BlazeFace: the short-range model for faces within about 2 m (webcam); the full-range one, up to
    about 5 m (a class), is `MediaPipeFullRangeDetector`.

    Args:
        model: "short" or "full".
        min_confidence: detections scoring below this are dropped.
        long_side: frames are first shrunk, with area averaging, until their longer side is this many
            pixels. The models see only 128 (short) or 192 (full) pixels anyway, and MediaPipe's own
            resize aliases: without this, uniform noise frames scored up to 0.69 as faces.
        tiles: also search a tiles x tiles grid of overlapping parts of the frame, each as a whole image,
            and merge what they find. The model sees a 1280x720 frame at 192 px wide, where a 70 px face
            is 10 px: a classroom of 30 such faces gave 4-6 of them, 2x2 tiles 26 (devtools/groups.py).
            The whole frame is still searched, for faces too large for a tile. Frames that shrink by 2x or
            less (640x480 and smaller) are not tiled: their faces keep enough pixels. 1 = no tiles.
    """

    label = "MediaPipe short-range"

    def __init__(self, model: str = "short", min_confidence: float = 0.5, long_side: int = 320, tiles: int = 1):
        if model not in MODELS:
            raise ValueError(f"unknown MediaPipe model '{model}' (expected {', '.join(MODELS)})")
        _skip_mediapipe_docgen()
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as err:  # optional dependency
            raise ImportError("the 'mediapipe' detector needs `pip install mediapipe`") from err
        self._mp = mp
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(MEDIAPIPE_DIR / MODELS[model])),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_confidence,
        )
        with quiet_stderr():  # the runtime's start-up lines (~50), and one more on the first detection
            self._detector = vision.FaceDetector.create_from_options(options)
            blank = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))
            self._detector.detect(blank)
        self.long_side, self.tiles = long_side, tiles
        self._lock = threading.Lock()  # the task graph is not re-entrant

    def close(self) -> None:
        """Frees the MediaPipe task now; mediapipe's own clean-up fails if it only runs at interpreter exit."""
        with self._lock:
            self._detector.close()

    def detect(self, frame: Frame) -> list[Box]:
        """Faces in the frame's RGB image (shrunk first, see `long_side`), and in its tiles (see `tiles`)."""
        boxes = self.detect_rgb(frame.rgb)
        if self.tiles > 1 and max(frame.height, frame.width) > 2 * self.long_side:  # shrunk > 2x: faces get small
            for x, y, tile in split_tiles(frame.rgb, self.tiles):
                boxes += [Box(b.x + x, b.y + y, b.w, b.h, b.score) for b in self.detect_rgb(tile)]
            boxes = merge_duplicates(boxes)
        return boxes

    def detect_rgb(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an RGB uint8 image (shrunk first, see `long_side`), no tiles: in its pixels."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.long_side / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))  # a 1-px side stays 1 px
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))
        with self._lock:
            detections = self._detector.detect(image).detections
        sx, sy = width / small.shape[1], height / small.shape[0]  # back to the frame's pixels
        boxes = []
        for detection in detections:
            bb = detection.bounding_box
            boxes.append(Box(round(bb.origin_x * sx), round(bb.origin_y * sy), round(bb.width * sx),
                             round(bb.height * sy), detection.categories[0].score))
        return boxes


def split_tiles(rgb: np.ndarray, tiles: int, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, np.ndarray]]:
    """(x, y, view) for a tiles x tiles grid over the image, neighbours overlapping by `overlap` of a tile."""
    height, width = rgb.shape[:2]
    tile_w, tile_h = (round(side / (tiles - (tiles - 1) * overlap)) for side in (width, height))
    out = []
    for row in range(tiles):
        for col in range(tiles):
            x, y = round(col * (width - tile_w) / (tiles - 1)), round(row * (height - tile_h) / (tiles - 1))
            out.append((x, y, rgb[y : y + tile_h, x : x + tile_w]))  # the last tiles end at the edges
    return out


class MediaPipeFullRangeDetector(MediaPipeDetector):
    """BlazeFace's full-range model: smaller faces, up to about 5 m from the camera (a classroom)."""

    label = "MediaPipe full-range (far faces)"

    def __init__(self, min_confidence: float = 0.5, long_side: int = 320, tiles: int = 2):
        super().__init__("full", min_confidence, long_side, tiles)
