"""Stable face IDs across frames, per-face smoothing of the emotion probabilities, and following each
face between full detector searches, all in seconds.

    tracker = FaceTracker()                               # one per stream: a webcam session or a video
    result = pipe.process(rgb, tracker=tracker, t=t)      # faces now have track_id and smoothed probs

Every update carries the frame's time, so "keep a face 1 s" and "half-life 0.15 s" mean exactly that
at any frame rate, including one that changes mid-stream (a busy server, a browser that sends fewer
frames, a video analysed every Nth frame).

In a stream the pipeline asks the tracker what each frame needs (see Pipeline.process): a detector search
every SEARCH_EVERY_S, and between searches `follow`, which looks for each known face only near its last box,
by normalised cross-correlation of small gray templates (about 0.1 ms a face); a face is re-classified only
when its last reading is CLASSIFY_EVERY_S old, one way (plain or mirrored) per reading. Searches cost what they
can still find: each detector pass searches the whole frame once, then only where the frame changed since it last
looked, outside the faces already followed (fer.changes: people arriving, turning, uncovering a face), and the
whole frame now and then. A face followed closely (FOLLOW_RENEW_SCORE) is still there: that renews its track as a
detection does, so a face only some of the detector's passes find keeps its ID.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer.changes import cell_means, changed_cells, inside_cells, to_pixels
from fer.config import (
    CHANGE_FACE_MARGIN,
    CLASSIFY_EVERY_S,
    FOLLOW_FACE_PX,
    FOLLOW_MIN_SCORE,
    FOLLOW_RENEW_SCORE,
    FOLLOW_WINDOW,
    FULL_SEARCH_EVERY_S,
    SEARCH_EVERY_S,
    SMOOTHING_HALF_LIFE_S,
    TRACK_MAX_SHIFT,
    TRACK_MEMORY_S,
    TRACK_MIN_IOU,
)
from fer.types import Box, Face, Frame, Search


def ema_alpha(dt_s: float, half_life_s: float = SMOOTHING_HALF_LIFE_S) -> float:
    """The weight of a new reading `dt_s` seconds after the previous one, in a moving average with
    the given half-life.

    An old value keeps (1 - alpha) of its weight, which halves every `half_life_s` seconds however
    the readings are spaced: two readings 0.1 s apart weigh exactly as much as one 0.2 s later.

    Args:
        dt_s: seconds since the previous reading (>= 0; 0 gives the new reading no weight).
        half_life_s: seconds; 0 turns smoothing off (alpha = 1).
    Returns:
        alpha in [0, 1].
    """
    if dt_s < 0 or half_life_s < 0:
        raise ValueError(f"need dt_s >= 0 and half_life_s >= 0, got dt_s={dt_s}, half_life_s={half_life_s}")
    if half_life_s == 0:
        return 1.0
    return 1.0 - 0.5 ** (dt_s / half_life_s)


def centre_shift(a: Box, b: Box) -> float:
    """Distance between the boxes' centres in units of their mean side (0 = same centre)."""
    dx = (a.x + a.w / 2) - (b.x + b.w / 2)
    dy = (a.y + a.h / 2) - (b.y + b.h / 2)
    size = (a.w + a.h + b.w + b.h) / 4
    return math.hypot(dx, dy) / size if size > 0 else math.inf


def face_template(gray: np.ndarray, box: Box) -> np.ndarray | None:
    """The face's gray patch scaled to FOLLOW_FACE_PX wide (float32), what `follow` looks for; None when
    there is nothing to lock on to (an empty or nearly flat patch, which would match anywhere)."""
    patch = gray[max(0, box.y) : box.y + box.h, max(0, box.x) : box.x + box.w]
    if patch.size == 0:
        return None
    scale = FOLLOW_FACE_PX / box.w
    size = (FOLLOW_FACE_PX, max(1, round(box.h * scale)))
    template = cv2.resize(patch, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return template if template.std() >= FOLLOW_MIN_CONTRAST else None


def find_near(gray: np.ndarray, box: Box, template: np.ndarray) -> tuple[Box, float] | None:
    """Where the face last seen at `box` is now: the best match of its template within FOLLOW_WINDOW of the
    box, at the box's own scale. Returns (box, score in -1..1), or None when the window leaves the frame. The
    box's own score is the match's."""
    scale = FOLLOW_FACE_PX / box.w
    window = box.expand(FOLLOW_WINDOW).clip(gray.shape[1], gray.shape[0])
    if window is None:
        return None
    size = (round(window.w * scale), round(window.h * scale))
    if size[0] < template.shape[1] or size[1] < template.shape[0]:
        return None
    area = gray[window.y : window.y + window.h, window.x : window.x + window.w]
    small = cv2.resize(area, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    scores = cv2.matchTemplate(small, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (dx, dy) = cv2.minMaxLoc(scores)
    moved = Box(window.x + round(dx / scale), window.y + round(dy / scale), box.w, box.h, float(best))
    return moved, float(best)


def relocate(boxes: list[Box], found_in: Frame, now: Frame) -> list[Box]:
    """Faces a search found in an earlier frame, `found_in`, where they are in `now`: each looked for near its box by
    its template from that frame, as `follow` looks for a face. One not found there (it moved away; the camera jumped
    or cut) is dropped, so that no box lands on what took its place and starts a track on it; one with nothing to
    lock on to (a flat patch) stays where it was found."""
    if now is found_in:
        return boxes
    moved = []
    for box in boxes:
        template = face_template(found_in.gray, box)
        if template is None:
            moved.append(box)
        elif (near := find_near(now.gray, box, template)) is not None and near[1] >= FOLLOW_MIN_SCORE:
            moved.append(dataclasses.replace(near[0], score=box.score))
    return moved


TIME_TOLERANCE_S = 1e-3  # a frame this close to a due time counts as due (timestamps are rounded to ms)
FOLLOW_MIN_CONTRAST = 2.0  # grey levels (std): a flatter template is not followed


@dataclass
class _Track:
    track_id: int
    box: Box  # where the face was last seen
    probs: np.ndarray  # smoothed probabilities, float32 (7,)
    read_t: float  # when the probabilities were last read (classified)
    detected_t: float  # when the detector last found the face; the track ends `memory_s` after it
    template: np.ndarray | None = None  # gray patch from the last detection, for `follow`
    readings: int = 1  # how many times the face was read (classified)


class FaceTracker:
    """Greedy IoU/centroid tracker with a time-based moving average of each face's probabilities, which
    also follows faces between detector searches.

    Each detector search, the (track, face) pairs are matched best first: highest IoU, then nearest
    centres. A pair qualifies when the boxes overlap by `min_iou` or their centres are within
    `max_shift` face sizes. A face with no track gets a new ID; IDs are never reused. All state lives
    in the instance, so keep one tracker per stream.

    Args:
        memory_s: a face the detector does not find keeps its ID for this many seconds.
        half_life_s: half-life of the probabilities' moving average; 0 turns smoothing off.
        search_every_s: `search_plan` plans a detector search this often.
        full_search_every_s: `search_plan` plans a search of the whole frame at least this often; the others look
            only where the frame changed.
        classify_every_s: `reading_due` asks for a new reading of a face this often.
        min_iou: smallest box overlap that continues a track.
        max_shift: largest centre distance, in face sizes, that continues a track.
    """

    def __init__(self, memory_s: float = TRACK_MEMORY_S, half_life_s: float = SMOOTHING_HALF_LIFE_S, *,
                 search_every_s: float = SEARCH_EVERY_S, full_search_every_s: float = FULL_SEARCH_EVERY_S,
                 classify_every_s: float = CLASSIFY_EVERY_S,
                 min_iou: float = TRACK_MIN_IOU, max_shift: float = TRACK_MAX_SHIFT):
        if min(memory_s, half_life_s, search_every_s, full_search_every_s, classify_every_s) < 0:
            raise ValueError("tracker times must be >= 0 seconds")
        self.memory_s, self.half_life_s = memory_s, half_life_s
        self.search_every_s, self.classify_every_s = search_every_s, classify_every_s
        self.full_search_every_s = full_search_every_s
        self.min_iou, self.max_shift = min_iou, max_shift
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1
        self._now = -math.inf  # the latest time seen
        self._searched_t = -math.inf  # when search_plan last planned a search
        self._searches = 0  # search slots so far: a detector in parts runs part k in slot k (mod parts)
        self._seen: dict[int, np.ndarray] = {}  # per part, the frame's cell means when that part last searched them
        self._full_at: dict[int, float] = {}  # per part, when it last searched the whole frame

    def search_plan(self, frame: Frame, t: float, parts: int = 1, regional: bool = False) -> tuple[Search, ...]:
        """What the frame taken at `t` needs searched, as searches whose boxes are merged: nothing (an empty plan)
        until `search_every_s` after the last one; then one of the detector's `parts` in turn, over the whole frame
        the first time, and after that only where the frame changed since that part last searched it (fer.changes),
        outside the faces it follows (their own moves): nothing where nothing did, the whole frame when the detector
        is not `regional` (see FaceDetector), and the whole frame again every `full_search_every_s`. A plan given
        counts as searched."""
        if t - self._searched_t < self.search_every_s - TIME_TOLERANCE_S:
            return ()
        now = self._expire(t)
        self._searched_t = now
        part, self._searches = self._searches % parts, self._searches + 1
        last_full = max(self._full_at.values(), default=-math.inf)
        full_due = now - last_full >= self.full_search_every_s - TIME_TOLERANCE_S
        if full_due:  # the whole frame again, with the part that has gone longest without (they take turns)
            part = min(range(parts), key=lambda k: self._full_at.get(k, -math.inf))
        cells, seen = cell_means(frame.gray), self._seen.get(part)
        areas = None
        if not full_due and seen is not None and seen.shape == cells.shape:
            known = (track.box.expand(CHANGE_FACE_MARGIN) for track in self._tracks.values())
            areas = changed_cells(cells, seen, inside_cells(known, cells.shape, frame.width, frame.height))
        if areas is None or (areas and not regional):
            self._full_at[part], self._seen[part] = now, cells
            return (Search(part),)
        for area in areas:  # searched now; cells outside keep what the part last saw, so slow change adds up
            searched = (slice(area.y, area.y + area.h), slice(area.x, area.x + area.w))
            seen[searched] = cells[searched]
        regions = (self._around_faces(to_pixels(area, cells.shape, frame.width, frame.height)) for area in areas)
        return tuple(Search(part, region.clip(frame.width, frame.height)) for region in regions)

    def _around_faces(self, region: Box) -> Box:
        """`region` grown to hold whole, with FOLLOW_WINDOW around, each tracked face it touches: a search that cut
        a face in part would miss it, or take a piece of it for a smaller face."""
        for track in self._tracks.values():
            if region.intersection(track.box):
                region = region.cover(track.box.expand(FOLLOW_WINDOW))
        return region

    def identify(self, faces: list[Face], t: float) -> list[Face]:
        """The detector's faces with `track_id` set where they continue a live track (None for new faces);
        changes nothing but the clock, so the pipeline can ask `reading_due` before `update`."""
        self._expire(t)
        matches = self._match([face.box for face in faces])
        return [dataclasses.replace(face, track_id=matches.get(i)) for i, face in enumerate(faces)]

    def follow(self, frame: Frame, t: float, skip: set[int] = frozenset()) -> list[Face]:
        """Each live track (but those in `skip`) looked for near its last box in the frame taken at `t`:
        faces with `track_id` set and `probs` None, for those found with a correlation of at least
        FOLLOW_MIN_SCORE (the box's score)."""
        self._expire(t)
        found = []
        for track in self._tracks.values():
            if track.track_id in skip or track.template is None:
                continue
            near = find_near(frame.gray, track.box, track.template)
            if near is not None and near[1] >= FOLLOW_MIN_SCORE:
                found.append(Face(near[0], None, track.track_id))
        return found

    def reading_due(self, track_id: int | None, t: float) -> bool:
        """Whether a face needs classifying at `t`: a new face, or a track read `classify_every_s` ago."""
        track = self._tracks.get(track_id) if track_id is not None else None
        return track is None or t - track.read_t >= self.classify_every_s - TIME_TOLERANCE_S

    def mirrored_turn(self, track_id: int | None) -> bool:
        """Whether the face's next reading is of its mirror image: a stream reads each face plain and mirrored in
        turn, and the smoothing averages the two, for half the cost of reading both each time (a photo does)."""
        track = self._tracks.get(track_id) if track_id is not None else None
        return track is not None and track.readings % 2 == 1

    def read(self, t: float, readings: dict[int, np.ndarray]) -> None:
        """Folds readings of the frame taken at `t` (read beside the stream: fer.pipeline.BackgroundReading) into the
        tracks they name that are still alive, as of `t`."""
        for track_id, probs in readings.items():
            if (track := self._tracks.get(track_id)) is not None:
                self._read(track, probs, t)

    def update(self, faces: list[Face], t: float, frame: Frame | None = None, followed: list[Face] = ()) -> list[Face]:
        """Continues the tracks with the faces of the frame taken at `t`.

        Args:
            faces: this frame's detected faces. One with `track_id` set continues that track; the others
                are matched to the live tracks by their boxes. `probs` is a new reading, float32 (7,),
                or None when the face was not classified this frame (its track keeps its probabilities).
            t: the frame's time in seconds, on any clock (a video's timestamps, time.monotonic()). A time
                earlier than one already seen counts as that latest time, so a glitch cannot undo history.
            frame: the frame itself; given, the detected faces' templates are refreshed for `follow`.
            followed: faces `follow` found (track_id set; probs a new reading or None). They move their
                track, and renew its memory when followed closely (a score of FOLLOW_RENEW_SCORE). One on a
                face already given (a box overlapping it by `min_iou`) is a second track on that face: dropped.
        Returns:
            The faces, then the followed ones, in order, with `track_id` set and `probs` smoothed over
            the track. A new face must come with probs.
        """
        now = self._expire(t)
        given = {face.track_id for face in [*faces, *followed] if face.track_id is not None}
        matches = self._match([face.box for face in faces], skip=given)
        out = []
        for i, face in enumerate(faces):
            track_id = face.track_id if face.track_id is not None else matches.get(i)
            track = self._tracks.get(track_id) if track_id is not None else None
            if track is None:
                if face.probs is None:
                    raise ValueError(f"a new face needs probabilities: {face.box}")
                track = _Track(self._next_id, face.box, np.asarray(face.probs, np.float32).copy(), now, now)
                self._tracks[track.track_id] = track
                self._next_id += 1
            else:
                self._read(track, face.probs, now)
                track.box, track.detected_t = face.box, now
            if frame is not None:
                track.template = face_template(frame.gray, face.box)
            out.append(dataclasses.replace(face, track_id=track.track_id, probs=track.probs.copy()))
        for face in followed:
            track = self._tracks.get(face.track_id)
            if track is None or any(face.box.iou(shown.box) >= self.min_iou for shown in out):
                continue
            self._read(track, face.probs, now)
            track.box = face.box
            if face.box.score >= FOLLOW_RENEW_SCORE:
                track.detected_t = now
            out.append(dataclasses.replace(face, probs=track.probs.copy()))
        return out

    def _read(self, track: _Track, probs: np.ndarray | None, now: float) -> None:
        """Folds a new reading into the track's moving average (None: no reading this frame)."""
        if probs is None:
            return
        alpha = ema_alpha(now - track.read_t, self.half_life_s)
        track.probs = (alpha * np.asarray(probs, np.float32) + (1 - alpha) * track.probs).astype(np.float32)
        track.read_t, track.readings = now, track.readings + 1

    def _expire(self, t: float) -> float:
        """Advances the clock to `t` (never back) and ends tracks not detected for `memory_s`; returns now."""
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite number of seconds, got {t}")
        self._now = now = max(self._now, t)
        self._tracks = {k: track for k, track in self._tracks.items() if now - track.detected_t <= self.memory_s}
        return now

    def _match(self, boxes: list[Box], skip: set[int] = frozenset()) -> dict[int, int]:
        """Greedy assignment {face index: track ID} to the live tracks not in `skip`, best pairs first."""
        pairs = []
        for i, box in enumerate(boxes):
            for track in self._tracks.values():
                if track.track_id in skip:
                    continue
                overlap, shift = box.iou(track.box), centre_shift(box, track.box)
                if overlap >= self.min_iou or shift <= self.max_shift:
                    pairs.append((-overlap, shift, i, track.track_id))
        pairs.sort(key=lambda pair: pair[:2])
        matches: dict[int, int] = {}
        for _, _, i, track_id in pairs:
            if i not in matches and track_id not in matches.values():
                matches[i] = track_id
        return matches
