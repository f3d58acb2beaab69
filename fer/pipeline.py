"""frame -> faces -> crops -> probabilities -> annotated frame.

    pipe = Pipeline(detector="haar")
    result = pipe.process(rgb_frame)                          # result.faces, result.annotated
    result = pipe.process(rgb_frame, tracker=tracker, t=t)    # a stream: IDs and smoothing, t in seconds
    result = pipe.process(rgb_frame, tracker=tracker, search=BackgroundSearch())  # live: searches never block
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np

from fer.classifier import EmotionClassifier
from fer.config import DEFAULT_DETECTOR, FACE_MARGIN, SEARCH_THREADS
from fer.detectors import get_detector
from fer.detectors.merge import merge_duplicates
from fer.draw import annotate
from fer.types import FULL_SEARCH, Box, Face, FaceDetector, Frame, FrameResult, Search, Tracker


@functools.cache
def default_classifier() -> EmotionClassifier:
    """The shipped model, loaded once per process and shared by every pipeline."""
    return EmotionClassifier.load()


def largest_first(box: Box) -> tuple[int, int, int]:
    """Sort key: larger boxes first, equal sizes top to bottom, then left to right, so the order never
    depends on the detector's (the same video gives the same CSV rows and IDs on any machine)."""
    return -box.area, box.y, box.x


SEARCHES = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="fer-search")  # threads start on use


class BackgroundSearch:
    """Runs a live stream's full searches in worker threads, so no frame waits for one.

    A due search starts on the current frame; the first frame after it finishes gets its boxes (found
    in the earlier frame: the tracker matches them to its tracks by overlap, as it does any detection).
    One search at a time per stream, and after each a rest as long as it took (its wait for a thread included): the
    plan is asked for only after that (a plan counts as searched, see Tracker.search_plan), so a slow search
    delays the next instead of losing it, and searches take at most half of a stream's time. Every stream shares
    `SEARCHES`, in turn, so more viewers make each stream's searches rarer instead of taking the frames' cores.
    Frames stay in order and results are used once, but which frame receives them depends on timing, so
    recorded videos search in line.
    """

    def __init__(self, worker: Executor = SEARCHES):
        self._worker = worker
        self._running: Future[list[Box]] | None = None
        self._started = self._rest_until = -math.inf  # monotonic: when the last search was submitted; its rest
        self.closed = False

    def boxes(self, pipeline: Pipeline, frame: Frame, plan: Callable[[], Sequence[Search]]) -> list[Box] | None:
        """The boxes of a search that finished since the last call (None if none), after starting `plan()` on
        `frame` (see Pipeline.find_faces) if no search is running and the plan is not empty."""
        found, now = None, time.monotonic()
        if self._running is not None and self._running.done():
            found, self._running = self._running.result(), None
            self._rest_until = now + (now - self._started)
        resting = self._running is not None or now < self._rest_until
        if not resting and not self.closed and (searches := plan()):  # none for a frame after the end
            self._running, self._started = self._worker.submit(pipeline.find_faces, frame, searches), now
        return found

    def close(self) -> None:
        """Drops this stream's search if it is still waiting for a thread (one already running ends on its own)."""
        self.closed = True
        if self._running is not None and self._running.cancel():
            self._running = None


class Pipeline:
    """Detects faces, classifies every face of a frame in one batch, and draws the result.

    Holds no per-frame state, so one Pipeline can serve many sessions; per-stream state (tracks,
    smoothing) lives in the `tracker` passed to `process`.

    Args:
        detector: a registered detector name ("haar", "mediapipe", "mediapipe-full") or an object
            with `detect(frame: Frame) -> list[Box]`.
        classifier: defaults to the shipped model.
        margin: each box is widened by this fraction per side before cropping, to match FER-2013's framing.
    """

    def __init__(self, detector: str | FaceDetector = DEFAULT_DETECTOR,
                 classifier: EmotionClassifier | None = None, margin: float = FACE_MARGIN):
        self.detector = get_detector(detector) if isinstance(detector, str) else detector
        self.classifier = classifier or default_classifier()
        self.margin = margin

    def analyze(self, frame: np.ndarray | Frame) -> list[Face]:
        """Faces with their probabilities, largest first; no drawing.

        Raises:
            ValueError: `frame` is not an image (see Frame.of).
        """
        frame = Frame.of(frame)
        boxes = self.find_faces(frame)
        return [Face(box, p) for box, p in zip(boxes, self.classify(frame, boxes), strict=True)]

    def classify(self, frame: Frame, boxes: list[Box], mirrored: Sequence[bool] | None = None) -> np.ndarray:
        """Probabilities float32 (N, 7) for the faces in `boxes` (inside the frame), in one batch: each face read
        plain and mirrored, averaged; or, given `mirrored`, read once, as its mirror image where True (half the
        cost: a stream reads each face both ways in turn, see Tracker.mirrored_turn)."""
        if not boxes:
            return np.zeros((0, len(self.classifier.classes)), dtype=np.float32)
        crops = []
        for box in boxes:
            crop = box.expand(self.margin).clip(frame.width, frame.height)
            crops.append(frame.gray[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w])
        if mirrored is None:
            return self.classifier.predict_proba(crops)
        crops = [np.ascontiguousarray(crop[:, ::-1]) if flip else crop
                 for crop, flip in zip(crops, mirrored, strict=True)]
        return self.classifier.predict_proba(crops, mirrored=False)

    def find_faces(self, frame: Frame, searches: Sequence[Search] = FULL_SEARCH) -> list[Box]:
        """The detector's boxes for `searches` (by default the whole frame, every part), merged, clipped to the
        frame (those left empty dropped), largest first.

        A search's `part` is taken modulo the detector's `parts` (a stream's k-th search runs part k); a detector
        without parts gets its full search. A `region` is for a regional detector (see FaceDetector).
        """
        parts = getattr(self.detector, "parts", 1)
        found = []
        for search in searches:
            given: dict[str, object] = {}  # only what the search sets: a plain detector takes detect(frame)
            if search.part is not None and parts > 1:
                given["part"] = search.part % parts
            if search.region is not None:
                given["region"] = search.region
            found.extend(self.detector.detect(frame, **given))
        if len(searches) > 1:  # a face where two regions meet is found in both
            found = merge_duplicates(found)
        clipped = (box.clip(frame.width, frame.height) for box in found)
        return sorted((box for box in clipped if box is not None), key=largest_first)

    def process(self, frame: np.ndarray | Frame, tracker: Tracker | None = None,
                t: float | None = None, search: BackgroundSearch | None = None) -> FrameResult:
        """Analyses and annotates one RGB uint8 frame.

        Args:
            frame: RGB uint8 (H, W, 3); RGBA and grayscale are converted (see Frame.of).
            tracker: per-stream state that adds IDs and smoothing, and lets a stream skip work: the
                whole frame is searched only when the tracker says so, faces are followed between
                searches, and each is re-classified at the tracker's rate. None for a single photo:
                a full search and every face classified.
            t: the frame's time in seconds for the tracker (a video's timestamp); None means now, on
                the monotonic clock, for a live stream. Ignored without a tracker.
            search: with a tracker, run its full searches in this background worker instead of in line
                (live streams: a frame never waits for a search). Ignored without a tracker.
        Raises:
            ValueError: `frame` is not an image.
        """
        frame = Frame.of(frame)
        if tracker is None:
            faces = self.analyze(frame)
        else:
            faces = self._track(frame, tracker, time.monotonic() if t is None else t, search)
        return FrameResult(faces, annotate(frame.rgb, faces))

    def _track(self, frame: Frame, tracker: Tracker, t: float, search: BackgroundSearch | None) -> list[Face]:
        """One stream frame: search or follow, classify the faces whose reading is due, update the tracks."""
        parts, regional = getattr(self.detector, "parts", 1), getattr(self.detector, "regional", False)
        plan = functools.partial(tracker.search_plan, frame, t, parts, regional)
        if search is None:
            boxes = self.find_faces(frame, searches) if (searches := plan()) else None
        else:
            boxes = search.boxes(self, frame, plan)
        detected: list[Face] = []
        if boxes is not None:
            detected = tracker.identify([Face(box, None) for box in boxes], t)
        followed = tracker.follow(frame, t, skip={face.track_id for face in detected})  # and faces the search missed
        faces = [*detected, *followed]
        due = [i for i, face in enumerate(faces) if tracker.reading_due(face.track_id, t)]
        sides = [tracker.mirrored_turn(faces[i].track_id) for i in due]
        for i, probs in zip(due, self.classify(frame, [faces[i].box for i in due], sides), strict=True):
            faces[i] = dataclasses.replace(faces[i], probs=probs)
        tracked = tracker.update(faces[: len(detected)], t, frame, followed=faces[len(detected) :])
        return sorted(tracked, key=lambda face: largest_first(face.box))
