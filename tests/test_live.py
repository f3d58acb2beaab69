"""LiveSession: a viewer's tracker and log, times from the monotonic clock, and when to redraw panels."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from devtools.frames import background, paste_face
from fer import Box, Face, FrameResult, Pipeline
from fer.config import CLASSIFY_EVERY_S, NUM_CLASSES, SEARCH_EVERY_S
from fer.live import LiveSession
from fer.pipeline import BackgroundReading, BackgroundSearch
from fer.types import FULL_SEARCH, Frame


class FakeClock:
    """Stands in for time.monotonic: returns `now`, which the test moves."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakePipeline:
    """One untracked face per frame, continued by the session's tracker at the time it was given."""

    def __init__(self):
        self.times: list[float] = []

    def process(self, frame, tracker, t, search, reading):
        self.times.append(t)
        return FrameResult(tracker.update([Face(Box(1, 1, 4, 4), np.full(NUM_CLASSES, 1 / NUM_CLASSES))], t), frame)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr("fer.live.time.monotonic", clock)
    return clock


def frame() -> np.ndarray:
    return np.zeros((8, 8, 3), np.uint8)


def test_frames_are_timed_from_the_sessions_start(clock):
    session, pipe = LiveSession(), FakePipeline()
    for step in (0.0, 0.05, 0.3):
        clock.now += step
        session.process(pipe, frame())
    assert pipe.times == pytest.approx([100.0, 100.05, 100.35])  # the tracker sees the monotonic clock
    summary = session.log.stats.summary()
    assert summary["frames"] == 3 and summary["duration_s"] == pytest.approx(0.35)  # the log, seconds from the start
    session.close()


def test_refresh_is_due_first_and_then_once_per_interval(clock):
    session = LiveSession(refresh_s=1.0)
    due = []
    for _ in range(20):  # 2.5 s of frames at 8 per second (a binary-exact step)
        due.append(session.refresh_due())
        clock.now += 0.125
    assert [i for i, yes in enumerate(due) if yes] == [0, 8, 16]


def test_refresh_follows_time_whatever_the_frame_rate(clock):
    session = LiveSession(refresh_s=1.0)
    count = 0
    for gap in [0.02] * 100 + [0.4] * 5:  # 2 s at 50 fps, then 2 s at 2.5 fps
        count += session.refresh_due()
        clock.now += gap
    assert count == 4


def test_the_chart_is_due_five_times_a_second_and_the_panels_once(clock):
    session = LiveSession(refresh_s=1.0)
    charts = panels = 0
    for _ in range(60):  # 2 s at 30 fps
        charts += session.chart_due()
        panels += session.refresh_due()
        clock.now += 1 / 30
    assert charts in (9, 10) and panels == 2  # every 6th or 7th frame (1/30 s steps do not add up to 0.2 exactly)


def test_restart_starts_over_in_place(clock):
    session, pipe = LiveSession(), FakePipeline()
    for _ in range(3):
        session.process(pipe, frame())
        clock.now += 0.1
    old_csv = session.log.csv.path
    assert session.refresh_due()
    session.restart()
    assert not old_csv.exists()
    result = session.process(pipe, frame())
    assert result.faces[0].track_id == 1  # IDs start again
    assert session.log.stats.frames == 1 and session.log.csv.path != old_csv
    assert session.refresh_due()  # the new session's panels are drawn at once
    session.close()
    assert not session.log.csv.path.exists()


FOUND = Box(100, 100, 80, 80)  # what a GatedDetector finds unless told


class GatedDetector:
    """Finds one face (`box`), but only once the test opens the gate: a search as slow as the test wants."""

    def __init__(self, box: Box = FOUND):
        self.entered, self.gate = threading.Event(), threading.Event()
        self.calls, self.finished, self.box = 0, False, box

    def detect(self, frame):
        self.calls += 1
        self.entered.set()
        self.gate.wait(10)
        self.finished = True
        return [self.box]


def test_live_frames_never_wait_for_a_search_and_get_its_faces_once_it_ends():
    detector, session = GatedDetector(), LiveSession()
    pipeline, picture = Pipeline(detector), np.full((240, 320, 3), 90, np.uint8)
    first = session.process(pipeline, picture)  # starts the search ...
    assert detector.entered.wait(10)
    second = session.process(pipeline, picture)  # ... which is still running: this frame does not wait
    assert not detector.finished and first.faces == second.faces == [] and detector.calls == 1
    detector.gate.set()
    deadline = time.monotonic() + 10
    while not (found := session.process(pipeline, picture).faces) and time.monotonic() < deadline:
        time.sleep(0.01)
    session.close()
    assert [face.box for face in found] == [FOUND] and found[0].track_id == 1


def test_a_search_falling_due_while_one_runs_waits_for_it_instead_of_being_used_up():
    """The tracker plans a search (and counts what it planned as searched) only when the stream can run one:
    a change seen while a slow search runs is searched after it, not forgotten."""
    detector, session = GatedDetector(), LiveSession()
    pipeline, picture = Pipeline(detector), np.full((240, 320, 3), 90, np.uint8)
    planned = []
    plan = session.tracker.search_plan
    session.tracker.search_plan = lambda *args, **kwargs: planned.append(plan(*args, **kwargs)) or planned[-1]
    session.process(pipeline, picture)
    assert detector.entered.wait(10)
    changed = picture.copy()
    changed[20:100, 270:320] = 200  # something new while the first search runs, away from the face it finds
    deadline = time.monotonic() + 2 * SEARCH_EVERY_S
    while time.monotonic() < deadline:
        session.process(pipeline, changed)
        time.sleep(0.01)
    assert len(planned) == 1 and detector.calls == 1  # no plan while the search ran
    detector.gate.set()
    deadline = time.monotonic() + 10
    while detector.calls < 2 and time.monotonic() < deadline:
        session.process(pipeline, changed)
        time.sleep(0.01)
    session.close()
    assert detector.calls == 2 and len(planned) >= 2 and planned[1]  # the change was searched after it


@pytest.mark.parametrize(("shift", "kept"), [(30, True), (150, False)])
def test_a_search_that_ends_after_its_face_moved_boxes_the_face_where_it_is_now(shift, kept):
    """A search's boxes come from the frame it started on. A face that moved a little since is boxed where it is now;
    one gone from there (the camera jumped) gets no box, rather than a box on what took its place, which the tracker
    would then follow."""
    then, now = background(480, 360, scene=True), background(480, 360, scene=True)
    head, moved = paste_face(then, 100, 150, 180), paste_face(now, 100, 150 + shift, 180)
    detector, stream = GatedDetector(head), BackgroundSearch()
    pipeline = Pipeline(detector)
    assert stream.boxes(pipeline, Frame.of(then), lambda: FULL_SEARCH) is None
    detector.gate.set()
    deadline = time.monotonic() + 10
    while (found := stream.boxes(pipeline, Frame.of(now), tuple)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if kept:
        assert len(found) == 1 and found[0].overlap(moved) > 0.9 and found[0].overlap(head) < 0.8, found
    else:
        assert found == []


def test_streams_take_turns_on_the_search_threads_and_a_closed_stream_gives_up_its_turn():
    one_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-search")
    frame = Frame.of(np.full((240, 320, 3), 90, np.uint8))
    detectors = [GatedDetector() for _ in range(3)]
    streams = [BackgroundSearch(one_thread) for _ in detectors]
    for stream, detector in zip(streams, detectors, strict=True):
        assert stream.boxes(Pipeline(detector), frame, lambda: FULL_SEARCH) is None
    assert detectors[0].entered.wait(10)
    assert streams[0].boxes(Pipeline(detectors[0]), frame, lambda: FULL_SEARCH) is None  # it runs: no second
    streams[1].close()  # this viewer left while its search waited for the thread
    for detector in detectors:
        detector.gate.set()
    one_thread.shutdown(wait=True)
    assert [detector.calls for detector in detectors] == [1, 0, 1]  # in turn, one search each; none for the closed
    assert streams[2].boxes(Pipeline(detectors[2]), frame, tuple) == [FOUND]  # its turn came


class GatedClassifier:
    """Reads every face as `first`, but for the one reading after the test sets `gated`: that one waits at the gate
    until the test opens it, then reads every face as `second`. A reading as slow as the test wants."""

    classes = ("a", "b", "c", "d", "e", "f", "g")

    def __init__(self):
        self.first, self.second = np.eye(NUM_CLASSES, dtype=np.float32)[[0, 3]]
        self.entered, self.gate, self.gated = threading.Event(), threading.Event(), False
        self.calls = 0

    def predict_proba(self, faces, mirrored=True):
        self.calls += 1
        if not self.gated:
            return np.tile(self.first, (len(faces), 1))
        self.gated = False
        self.entered.set()
        self.gate.wait(10)
        return np.tile(self.second, (len(faces), 1))


class OneFace:
    def detect(self, frame):
        return [Box(100, 60, 80, 80)]


def textured() -> np.ndarray:
    """A still frame with texture everywhere, so a face found in it is followed from frame to frame."""
    return np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)


def live_frames(session, pipeline, picture, seconds):
    """Frames sent for `seconds`, 100 a second: their results."""
    results, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        results.append(session.process(pipeline, picture))
        time.sleep(0.01)
    return results


def test_live_frames_never_wait_for_a_reading_and_get_it_once_it_ends():
    classifier, session = GatedClassifier(), LiveSession()
    pipeline, picture = Pipeline(OneFace(), classifier=classifier), textured()
    new = live_frames(session, pipeline, picture, 2 * SEARCH_EVERY_S)[-1]  # a new face is read on its own frame
    assert [face.track_id for face in new.faces] == [1] and new.faces[0].label == "angry"
    classifier.gated, before = True, classifier.calls
    waiting = live_frames(session, pipeline, picture, 3 * CLASSIFY_EVERY_S)  # a reading falls due, and waits ...
    assert classifier.entered.is_set() and classifier.calls == before + 1  # ... in the background: one, no other
    assert all([face.label for face in result.faces] == ["angry"] for result in waiting)  # the frames went on
    classifier.gate.set()
    deadline = time.monotonic() + 10
    while (labels := [face.label for face in session.process(pipeline, picture).faces]) == ["angry"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    session.close()
    assert labels == ["happy"]  # folded into the face's track once it ended


def test_a_restart_drops_a_reading_in_flight_whose_ids_would_name_the_new_sessions_faces():
    classifier, session = GatedClassifier(), LiveSession()
    pipeline, picture = Pipeline(OneFace(), classifier=classifier), textured()
    live_frames(session, pipeline, picture, 2 * SEARCH_EVERY_S)
    classifier.gated = True
    live_frames(session, pipeline, picture, 2 * CLASSIFY_EVERY_S)
    assert classifier.entered.is_set()  # the old session's track 1 is being read
    session.restart()
    new = live_frames(session, pipeline, picture, 2 * SEARCH_EVERY_S)[-1]
    assert [face.track_id for face in new.faces] == [1]  # the new session's track 1, while that reading runs
    classifier.gate.set()
    after = live_frames(session, pipeline, picture, 3 * CLASSIFY_EVERY_S)
    session.close()
    assert all([face.label for face in result.faces] == ["angry"] for result in after)  # never read as the old one


def test_streams_take_turns_on_the_reading_thread():
    one_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-read")
    classifier = GatedClassifier()
    classifier.gated = True  # the first stream's reading waits; the others queue behind it
    pipeline, frame = Pipeline(OneFace(), classifier=classifier), Frame.of(textured())
    faces = [Face(Box(100, 60, 80, 80), None, track_id=7)]
    streams = [BackgroundReading(one_thread) for _ in range(3)]
    for stream in streams:
        assert stream.readings(pipeline, frame, 1.0, faces, [False]) is None
    assert classifier.entered.wait(10)
    assert streams[0].readings(pipeline, frame, 1.1, faces, [False]) is None and classifier.calls == 1  # one at a time
    streams[1].close()  # this viewer left while its reading waited for the thread
    classifier.gate.set()
    one_thread.shutdown(wait=True)
    assert classifier.calls == 2  # in turn; none for the closed stream
    readings = streams[2].readings(pipeline, frame, 1.2, [], [])
    assert readings is not None and readings[0] == 1.0 and list(readings[1]) == [7]  # as of the frame it read
