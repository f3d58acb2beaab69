"""FaceTracker: stable IDs through motion and missed detections, and the smoothing maths."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fer.config import EMOTIONS, LIVE_FPS, NUM_CLASSES
from fer.detectors import Box
from fer.pipeline import Face, Pipeline, default_classifier
from fer.tracking import FaceTracker, centre_shift, ema_alpha, iou

HAPPY, SAD = EMOTIONS.index("happy"), EMOTIONS.index("sad")


def one_hot(index: int) -> np.ndarray:
    probs = np.zeros(NUM_CLASSES, dtype=np.float32)
    probs[index] = 1
    return probs


def face_at(x: int, y: int, size: int = 60, emotion: int = HAPPY) -> Face:
    return Face(Box(x, y, size, size), one_hot(emotion))


def id_switches(ids: list[int]) -> int:
    return sum(a != b for a, b in itertools.pairwise(ids))


def test_iou_and_centre_shift():
    a = Box(0, 0, 10, 10)
    assert iou(a, a) == 1
    assert iou(a, Box(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou(a, Box(20, 20, 10, 10)) == 0
    assert centre_shift(a, Box(5, 0, 10, 10)) == pytest.approx(0.5)


def test_one_id_for_a_face_moving_across_the_frame():
    tracker = FaceTracker()
    ids = [tracker.update([face_at(10 + 12 * i, 50 + 3 * i)])[0].track_id for i in range(40)]
    assert ids[0] == 1
    assert id_switches(ids) == 0


def test_two_faces_keep_their_ids_through_a_missed_detection():
    tracker = FaceTracker()
    left, right = [], []
    for i in range(20):
        faces = [face_at(20 + 4 * i, 100), face_at(400 - 4 * i, 120, size=80)]
        if i in (8, 9):
            faces = faces[:1]  # the detector misses the right-hand face for two frames
        out = tracker.update(faces)
        left.append(out[0].track_id)
        if len(out) == 2:
            right.append(out[1].track_id)
    assert set(left) == {left[0]} and set(right) == {right[0]}
    assert left[0] != right[0]
    assert len(right) == 18


def test_order_of_faces_is_kept_and_ids_follow_the_boxes_not_the_order():
    tracker = FaceTracker()
    first = tracker.update([face_at(0, 0), face_at(300, 0)])
    swapped = tracker.update([face_at(302, 0), face_at(2, 0)])
    assert [f.box.x for f in swapped] == [302, 2]
    assert [f.track_id for f in swapped] == [first[1].track_id, first[0].track_id]


def test_id_survives_max_missed_frames_but_not_one_more():
    tracker = FaceTracker(max_missed=3)
    assert tracker.update([face_at(50, 50)])[0].track_id == 1
    for _ in range(3):
        tracker.update([])
    assert tracker.update([face_at(52, 50)])[0].track_id == 1
    for _ in range(4):
        tracker.update([])
    assert tracker.update([face_at(52, 50)])[0].track_id == 2  # retired IDs are not reused


def test_a_new_face_elsewhere_gets_a_new_id():
    tracker = FaceTracker()
    tracker.update([face_at(0, 0)])
    out = tracker.update([face_at(0, 0), face_at(400, 300)])
    assert [f.track_id for f in out] == [1, 2]


def test_default_memory_follows_the_frame_rate():
    assert FaceTracker(fps=12).max_missed == 12
    assert FaceTracker(fps=30).max_missed == 30
    assert FaceTracker(fps=0.5).max_missed == 1


def test_trackers_share_no_state():
    a, b = FaceTracker(), FaceTracker()
    a.update([face_at(0, 0), face_at(200, 0)])
    assert b.update([face_at(0, 0)])[0].track_id == 1


def test_ema_of_a_known_sequence():
    tracker = FaceTracker(alpha=0.5)
    smoothed = [tracker.update([face_at(10, 10, emotion=e)])[0].probs for e in (HAPPY, SAD, SAD)]
    assert smoothed[0][HAPPY] == 1
    assert smoothed[1][[HAPPY, SAD]] == pytest.approx([0.5, 0.5])
    assert smoothed[2][[HAPPY, SAD]] == pytest.approx([0.25, 0.75])
    assert smoothed[2].sum() == pytest.approx(1)
    assert smoothed[2].dtype == np.float32


def test_smoothing_is_per_track():
    tracker = FaceTracker(alpha=0.5)
    tracker.update([face_at(0, 0, emotion=HAPPY), face_at(300, 0, emotion=SAD)])
    out = tracker.update([face_at(0, 0, emotion=HAPPY), face_at(300, 0, emotion=SAD)])
    assert out[0].probs[HAPPY] == 1 and out[1].probs[SAD] == 1


def test_ema_alpha_has_the_requested_half_life():
    alpha = ema_alpha(fps=10, half_life_s=0.2)
    assert (1 - alpha) ** 2 == pytest.approx(0.5)
    assert ema_alpha(fps=10, half_life_s=0) == 1
    with pytest.raises(ValueError):
        ema_alpha(fps=0)


def test_default_smoothing_removes_flicker_and_follows_a_change_within_half_a_second():
    tracker = FaceTracker(fps=LIVE_FPS)
    noisy = np.full(NUM_CLASSES, 0.05, dtype=np.float32)
    labels = []
    for i in range(2 * LIVE_FPS):  # happy with one frame in three misread as sad
        probs = one_hot(SAD if i % 3 == 2 else HAPPY) * 0.7 + noisy
        labels.append(tracker.update([Face(Box(10, 10, 60, 60), probs)])[0].label)
    assert set(labels) == {"happy"}
    for frame in range(1, LIVE_FPS):  # noqa: B007 (read after the loop): then really sad
        label = tracker.update([Face(Box(10, 10, 60, 60), one_hot(SAD) * 0.7 + noisy)])[0].label
        if label == "sad":
            break
    assert frame / LIVE_FPS <= 0.5
    assert not math.isclose(tracker.alpha, 1)


class FixedBoxes:
    """A fake detector: the same boxes every frame."""

    def __init__(self, boxes: list[Box]):
        self.boxes = boxes

    def detect(self, rgb: np.ndarray) -> list[Box]:
        return list(self.boxes)


def test_pipeline_process_with_a_tracker_sets_ids():
    pipe = Pipeline(FixedBoxes([Box(10, 10, 60, 60), Box(150, 40, 50, 50)]), default_classifier())
    tracker = FaceTracker()
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    for _ in range(3):
        result = pipe.process(frame, tracker=tracker)
    assert [f.track_id for f in result.faces] == [1, 2]
    assert all(f.probs.sum() == pytest.approx(1, abs=1e-5) for f in result.faces)
