"""frame -> faces -> crops -> probabilities -> annotated frame.

    pipe = Pipeline(detector="haar")
    result = pipe.process(rgb_frame)                          # result.faces, result.annotated
    result = pipe.process(rgb_frame, tracker=tracker, t=t)    # a stream: IDs and smoothing, t in seconds
    result = pipe.process(rgb_frame, tracker=tracker, search=BackgroundSearch(),  # live: neither searches
                          reading=BackgroundReading())                               # nor readings block a frame
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
from fer.config import BACKGROUND_CLASSIFIER_THREADS, CLASSIFIER_THREADS, DEFAULT_DETECTOR, FACE_MARGIN, SEARCH_THREADS
from fer.detectors import get_detector
from fer.detectors.merge import merge_duplicates
from fer.draw import annotate
from fer.tracking import relocate
from fer.types import FULL_SEARCH, Box, Face, FaceDetector, Frame, FrameResult, Search, Tracker


@functools.cache
def default_classifier(threads: int = CLASSIFIER_THREADS) -> EmotionClassifier:
    """The shipped model on `threads` threads, loaded once per process and shared by every pipeline."""
    return EmotionClassifier.load(threads=threads)


def largest_first(box: Box) -> tuple[int, int, int]:
    """Sort key: larger boxes first, equal sizes top to bottom, then left to right, so the order never
    depends on the detector's (the same video gives the same CSV rows and IDs on any machine)."""
    return -box.area, box.y, box.x


SEARCHES = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="fer-search")  # threads start on use


class BackgroundSearch:
    """Runs a live stream's full searches in worker threads, so no frame waits for one.

    A due search starts on the current frame; the first frame after it finishes gets its boxes, each moved to where
    its face is in that frame (fer.tracking.relocate: a face gone from there, as when the camera jumps, is dropped),
    and the tracker matches them to its tracks by overlap, as it does any detection.
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
        self._searched: Frame | None = None  # the frame the running search looks at
        self._started = self._rest_until = -math.inf  # monotonic: when the last search was submitted; its rest
        self.closed = False

    def boxes(self, pipeline: Pipeline, frame: Frame, plan: Callable[[], Sequence[Search]]) -> list[Box] | None:
        """The boxes of a search that finished since the last call (None if none), where their faces are in `frame`,
        after starting `plan()` on `frame` (see Pipeline.find_faces) if no search is running and the plan is not
        empty."""
        found, now = None, time.monotonic()
        if self._running is not None and self._running.done():
            found = relocate(self._running.result(), self._searched, frame)
            self._running = self._searched = None  # nothing keeps a frame once its search is used
            self._rest_until = now + (now - self._started)
        resting = self._running is not None or now < self._rest_until
        if not resting and not self.closed and (searches := plan()):  # none for a frame after the end
            self._running, self._started = self._worker.submit(pipeline.find_faces, frame, searches), now
            self._searched = frame
        return found

    def close(self) -> None:
        """Drops this stream's search if it is still waiting for a thread (one already running ends on its own)."""
        self.closed = True
        if self._running is not None and self._running.cancel():
            self._running = None


READINGS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-read")  # streams' readings, one at a time

Readings = tuple[float, dict[int, np.ndarray]]  # when the frame read was taken, and {track ID: probabilities}


class BackgroundReading:
    """Reads a live stream's tracked faces in a worker thread, so no frame waits for the classifier.

    The faces due on a frame are cut out of it and read while the next frames are followed and drawn; the first
    frame after the reading ends gets it, to fold into the tracks as of the frame it was read from (a face new to the
    tracker is still read on its own frame: a track starts with a reading). One reading at a time per stream; faces
    that fall due meanwhile are read next. Every stream shares `READINGS`, in turn. With a core taken by other work
    (as a browser on the same machine takes it), seven faces at 720p stream 8-14% more frames than read in line.
    """

    def __init__(self, worker: Executor = READINGS):
        self._worker = worker
        self._running: Future[Readings] | None = None
        self.closed = False

    def readings(self, pipeline: Pipeline, frame: Frame, t: float, faces: Sequence[Face],
                 mirrored: Sequence[bool]) -> Readings | None:
        """The readings of a reading that ended since the last call (None if none), after starting one of `faces`
        (tracked: `track_id` set; each read once, as its mirror image where `mirrored`) in `frame`, taken at `t`,
        if none is running and there are any."""
        found = None
        if self._running is not None and self._running.done():
            found, self._running = self._running.result(), None
        if self._running is None and faces and not self.closed:
            crops = pipeline.crops(frame, [face.box for face in faces], mirrored)
            ids, reader = [face.track_id for face in faces], pipeline.background_classifier
            self._running = self._worker.submit(
                lambda: (t, dict(zip(ids, reader.predict_proba(crops, mirrored=False), strict=True))))
        return found

    def close(self) -> None:
        """Drops this stream's reading if it still waits for the thread (one already running ends on its own)."""
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
        self._given_classifier = classifier is not None
        self.margin = margin

    @property
    def background_classifier(self) -> EmotionClassifier:
        """The classifier that reads beside a live stream (BackgroundReading): the one given, or the shipped model on
        BACKGROUND_CLASSIFIER_THREADS, loaded on first use."""
        return self.classifier if self._given_classifier else default_classifier(BACKGROUND_CLASSIFIER_THREADS)

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
        if mirrored is None:
            return self.classifier.predict_proba(self.crops(frame, boxes))
        return self.classifier.predict_proba(self.crops(frame, boxes, mirrored), mirrored=False)

    def crops(self, frame: Frame, boxes: Sequence[Box], mirrored: Sequence[bool] | None = None) -> list[np.ndarray]:
        """The gray crops the classifier reads for `boxes` (each widened by the margin, inside the frame), turned
        into their mirror images where `mirrored` says so."""
        crops = []
        for box, flip in zip(boxes, mirrored or [False] * len(boxes), strict=True):
            crop = box.expand(self.margin).clip(frame.width, frame.height)
            pixels = frame.gray[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w]
            crops.append(np.ascontiguousarray(pixels[:, ::-1]) if flip else pixels)
        return crops

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

    def process(self, frame: np.ndarray | Frame, tracker: Tracker | None = None, t: float | None = None,
                search: BackgroundSearch | None = None, reading: BackgroundReading | None = None) -> FrameResult:
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
            reading: with a tracker, read its tracked faces in this background worker instead of in line (live
                streams: a frame never waits for the classifier). Ignored without a tracker.
        Raises:
            ValueError: `frame` is not an image.
        """
        frame = Frame.of(frame)
        if tracker is None:
            faces = self.analyze(frame)
        else:
            faces = self._track(frame, tracker, time.monotonic() if t is None else t, search, reading)
        return FrameResult(faces, annotate(frame.rgb, faces))

    def _track(self, frame: Frame, tracker: Tracker, t: float, search: BackgroundSearch | None,
               reading: BackgroundReading | None) -> list[Face]:
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
        if reading is not None:  # tracked faces in the background; a new face now, as its track starts with it
            tracked_due = [faces[i] for i in due if faces[i].track_id is not None]
            sides = [tracker.mirrored_turn(face.track_id) for face in tracked_due]
            if (done := reading.readings(self, frame, t, tracked_due, sides)) is not None:
                tracker.read(*done)
            due = [i for i in due if faces[i].track_id is None]
        sides = [tracker.mirrored_turn(faces[i].track_id) for i in due]
        for i, probs in zip(due, self.classify(frame, [faces[i].box for i in due], sides), strict=True):
            faces[i] = dataclasses.replace(faces[i], probs=probs)
        tracked = tracker.update(faces[: len(detected)], t, frame, followed=faces[len(detected) :])
        return sorted(tracked, key=lambda face: largest_first(face.box))
