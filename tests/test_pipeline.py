"""Pipeline: frame -> faces -> one classifier batch -> annotated frame, with fake and real parts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import fer.types
from devtools.frames import blank_frame, face_frame
from devtools.server import ROOT
from fer import EMOTIONS, Box, Face, Frame, Pipeline
from fer.config import MIN_READABLE_FACE_PX, TOO_SMALL_COLOR, UNSURE_COLOR
from fer.pipeline import default_classifier
from tests.helpers import FixedBoxes, inside


def four_faces() -> tuple[np.ndarray, list[Box]]:
    """640x480, four real faces in a 2x2 grid, and where they are."""
    return face_frame(faces=4)


class SpyClassifier:
    """Records every predict_proba call; answers one-hot rows, face i gets EMOTIONS[i % 7]."""

    classes = EMOTIONS

    def __init__(self):
        self.calls: list[list[np.ndarray]] = []

    def predict_proba(self, crops, mirrored=True):
        crops = list(crops)
        self.calls.append(crops)
        probs = np.full((len(crops), len(EMOTIONS)), 0.01, dtype=np.float32)
        probs[np.arange(len(crops)), np.arange(len(crops)) % len(EMOTIONS)] = 1.0
        return probs / probs.sum(axis=1, keepdims=True)


@pytest.fixture(params=["fake", "haar"])
def detector(request):
    """The four faces' boxes (fake), or the real Haar cascade."""
    return FixedBoxes(four_faces()[1]) if request.param == "fake" else "haar"


def check_faces(faces: list[Face], frame: np.ndarray) -> None:
    height, width = frame.shape[:2]
    for face in faces:
        assert inside(face.box, width, height), f"{face.box} is not inside the {width}x{height} frame"
        assert face.probs.shape == (len(EMOTIONS),) and face.probs.dtype == np.float32
        assert np.all(face.probs >= 0) and face.probs.sum() == pytest.approx(1, abs=1e-5)
        assert face.label == EMOTIONS[int(np.argmax(face.probs))]
        assert face.confidence == pytest.approx(float(face.probs.max()))
        assert list(face.confidences()) == list(EMOTIONS)
    areas = [face.box.area for face in faces]
    assert areas == sorted(areas, reverse=True), "faces must come largest first"


def test_four_faces_in_a_frame(detector):
    frame, tiles = four_faces()
    before = frame.copy()
    result = Pipeline(detector).process(frame)
    assert len(result.faces) == 4
    check_faces(result.faces, frame)
    for tile in tiles:  # one face per tile
        assert sum(face.box.overlap(tile) > 0.9 for face in result.faces) == 1
    assert result.main_face is result.faces[0]
    np.testing.assert_array_equal(frame, before)  # the input is never drawn on
    assert result.annotated.dtype == np.uint8 and result.annotated.shape == frame.shape
    for face in result.faces:  # the box outline is drawn: its left edge changed
        box = face.box
        edge = (slice(box.y, box.y + box.h), slice(box.x, box.x + 2))
        assert np.any(result.annotated[edge] != frame[edge])


def test_real_photo_is_happy():
    frame, _ = face_frame()
    faces = Pipeline("haar").process(frame).faces
    assert [face.label for face in faces] == ["happy"]


def test_all_faces_of_a_frame_go_in_one_batch(detector):
    spy = SpyClassifier()
    frame, _ = four_faces()
    faces = Pipeline(detector, classifier=spy).process(frame).faces
    assert len(spy.calls) == 1, f"predict_proba called {len(spy.calls)} times for one frame"
    crops = spy.calls[0]
    assert len(crops) == 4
    for crop in crops:
        assert crop.dtype == np.uint8 and crop.ndim == 2 and crop.size > 0  # grayscale crops
    assert [face.label for face in faces] == list(EMOTIONS[:4])  # rows map back to their faces in order


def test_no_faces_leaves_the_frame_as_it_was():
    spy = SpyClassifier()
    frame = blank_frame()
    result = Pipeline(FixedBoxes([]), classifier=spy).process(frame)
    assert result.faces == [] and result.main_face is None
    np.testing.assert_array_equal(result.annotated, frame)
    assert spy.calls == []  # nothing to classify


def test_real_detector_on_a_blank_frame():
    frame = blank_frame()
    result = Pipeline("haar").process(frame)
    assert result.faces == []
    np.testing.assert_array_equal(result.annotated, frame)


def test_boxes_are_clipped_and_sorted():
    frame = blank_frame(200, 100)
    boxes = [Box(150, 50, 100, 100), Box(-500, -500, 10, 10), Box(10, 10, 60, 60)]  # 50x50 after clipping
    faces = Pipeline(FixedBoxes(boxes), classifier=SpyClassifier()).process(frame).faces
    assert [face.box for face in faces] == [Box(10, 10, 60, 60), Box(150, 50, 50, 50)]
    check_faces(faces, frame)


@pytest.mark.parametrize("frame, message", [
    (None, "expected an image array, got NoneType"),
    ([[0, 1], [2, 3]], "expected an image array, got list"),
    (np.zeros((48, 48, 3), np.float32), "expected a uint8 image, got float32"),
    (np.zeros(48, np.uint8), r"expected an \(H, W, 3\) RGB image, got shape \(48,\)"),
    (np.zeros((2, 48, 48, 3), np.uint8), r"got shape \(2, 48, 48, 3\)"),
    (np.zeros((48, 48, 2), np.uint8), r"got shape \(48, 48, 2\)"),
    (np.zeros((0, 48, 3), np.uint8), r"got shape \(0, 48, 3\)"),
    (np.zeros((48, 48, 0), np.uint8), r"got shape \(48, 48, 0\)"),
], ids=["none", "list", "float", "rank1", "rank4", "2-channel", "0-height", "0-channel"])
def test_bad_frames_raise_a_clear_error(frame, message):
    pipe = Pipeline(FixedBoxes([]), classifier=SpyClassifier())
    with pytest.raises(ValueError, match=message):
        pipe.process(frame)


@pytest.mark.parametrize("convert", [
    lambda rgb: rgb.mean(axis=2).astype(np.uint8),  # (H, W)
    lambda rgb: rgb.mean(axis=2, keepdims=True).astype(np.uint8),  # (H, W, 1)
    lambda rgb: np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),  # RGBA
], ids=["gray", "gray-1ch", "rgba"])
def test_grayscale_and_rgba_frames(convert):
    rgb, _ = four_faces()
    frame = convert(rgb)
    result = Pipeline("haar").process(frame)
    assert len(result.faces) == 4
    check_faces(result.faces, rgb)
    assert result.annotated.shape == rgb.shape and result.annotated.dtype == np.uint8


def test_a_frame_is_converted_to_gray_once(monkeypatch):
    """Haar searches the gray frame and the classifier crops it: one conversion serves both."""
    calls = []

    def counting_to_gray(rgb):
        calls.append(rgb.shape)
        return to_gray(rgb)

    to_gray = fer.types.to_gray
    monkeypatch.setattr(fer.types, "to_gray", counting_to_gray)
    frame, _ = four_faces()
    assert len(Pipeline("haar").process(frame).faces) == 4
    assert calls == [frame.shape]
    calls.clear()
    Pipeline(FixedBoxes([]), classifier=SpyClassifier()).process(frame)
    assert calls == []  # no faces, nothing to crop: no conversion at all


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.asmatrix itself warns
def test_a_matrix_subclass_is_read_as_a_plain_array():
    gray = four_faces()[0].mean(axis=2).astype(np.uint8)
    result = Pipeline("haar").process(np.asmatrix(gray))  # numpy's np.repeat on a matrix view corrupts memory
    assert len(result.faces) == 4 and type(result.annotated) is np.ndarray


def test_pipelines_share_the_shipped_classifier():
    assert Pipeline(FixedBoxes([])).classifier is default_classifier()


def test_a_face_too_small_to_read_is_boxed_in_grey_and_not_reported():
    frame = blank_frame()
    small, large = Box(20, 20, MIN_READABLE_FACE_PX - 1, MIN_READABLE_FACE_PX - 1), Box(200, 200, 80, 80)
    result = Pipeline(FixedBoxes([small, large]), classifier=SpyClassifier()).process(frame)
    assert [face.readable for face in result.faces] == [True, False]  # largest first
    assert result.main_face is result.faces[0]  # the chart reports the readable face
    edge = result.annotated[small.y + 5 : small.y + small.h - 5, small.x]  # the small box's left edge
    assert np.all(edge == TOO_SMALL_COLOR), "a face too small to read is boxed in grey"
    only_small = Pipeline(FixedBoxes([small]), classifier=SpyClassifier()).process(frame)
    assert len(only_small.faces) == 1 and only_small.main_face is None


def test_the_normal_path_prints_nothing(tmp_path):
    """Loading the model and every detector and analysing a frame leaves stderr and stdout empty: the native
    libraries' start-up lines (LiteRT, MediaPipe) are dropped (fer.native)."""
    script = ("import numpy as np\n"
              "from fer import Pipeline\n"
              "from fer.detectors import DETECTORS\n"
              "for name in DETECTORS:\n"
              "    Pipeline(name).process(np.zeros((480, 640, 3), np.uint8))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == "", run.stderr[-2000:]


class UnsureClassifier:
    """Answers nearly flat probabilities: no class reaches UNSURE_BELOW."""

    classes = EMOTIONS

    def predict_proba(self, crops, mirrored=True):
        probs = np.full((len(list(crops)), len(EMOTIONS)), 0.14, dtype=np.float32)
        probs[:, 3] = 0.16
        return probs


def test_a_face_the_model_is_unsure_about_is_boxed_in_light_grey_without_a_word():
    box = Box(200, 200, 80, 80)
    result = Pipeline(FixedBoxes([box]), classifier=UnsureClassifier()).process(blank_frame())
    face = result.faces[0]
    assert face.readable and face.unsure and result.main_face is face
    edge = result.annotated[box.y + 5 : box.y + box.h - 5, box.x]
    assert np.all(edge == UNSURE_COLOR), "an unsure face is boxed in light grey"
    sure = Pipeline(FixedBoxes([box]), classifier=SpyClassifier()).process(blank_frame())
    assert not sure.faces[0].unsure and not np.all(sure.annotated[box.y + 5 : box.y + box.h - 5, box.x] == UNSURE_COLOR)


def test_equal_faces_come_out_in_reading_order_whatever_the_detectors_order():
    boxes = [Box(300, 200, 60, 60), Box(100, 200, 60, 60), Box(200, 50, 60, 60), Box(10, 10, 90, 90)]
    found = Pipeline(FixedBoxes(boxes), classifier=SpyClassifier()).find_faces(Frame.of(blank_frame()))
    assert found == [Box(10, 10, 90, 90), Box(200, 50, 60, 60), Box(100, 200, 60, 60), Box(300, 200, 60, 60)]
