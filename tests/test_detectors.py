"""Every registered detector finds a real face, and nothing in blank or noise frames."""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

from devtools.frames import background, blank_frame, face_frame, face_free_photo, noise_frame, paste_face
from fer import Box, Frame
from fer.detectors import DETECTORS, detector_label, get_detector
from fer.detectors.haar import HaarDetector
from fer.detectors.mediapipe import MediaPipeFullRangeDetector, split_tiles
from fer.detectors.merge import merge_duplicates
from tests.helpers import FixedBoxes


def detect(name: str, image: np.ndarray) -> list[Box]:
    return get_detector(name).detect(Frame.of(image))

NAMES = ["haar", "mediapipe", "mediapipe-full"]
NOISE_SEEDS = range(8)


def test_registry_has_the_documented_detectors_with_their_labels():
    assert set(NAMES) <= set(DETECTORS)
    assert detector_label("haar") == "Haar (OpenCV, default)"
    assert detector_label("mediapipe-full") == "MediaPipe full-range (far faces)"
    assert len({detector_label(name) for name in DETECTORS}) == len(DETECTORS)  # people can tell them apart


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(640, 480), (1280, 720)], ids=["640x480", "1280x720"])
def test_finds_the_face_in_a_real_photo(name, size):
    frame, [face] = face_frame(*size)
    boxes = detect(name, frame)
    assert len(boxes) == 1, f"{name} at {size}: expected the one face, got {boxes}"
    box = boxes[0]
    assert isinstance(box, Box)
    assert box.overlap(face) > 0.9, f"{name}: {box} is not on the pasted face {face}"
    assert box.area >= 0.1 * face.area, f"{name}: {box} is too small for the face {face}"
    assert 0 < box.score <= 1


@pytest.mark.parametrize("name", NAMES)
def test_finds_nothing_in_blank_frames(name):
    for size in [(640, 480), (1280, 720)]:
        assert detect(name, blank_frame(*size)) == []


@pytest.mark.parametrize("name", NAMES)
def test_finds_nothing_in_noise(name):
    found = {(seed, size): boxes for seed in NOISE_SEEDS for size in [(640, 480), (1280, 720)]
             if (boxes := detect(name, noise_frame(seed, *size)))}
    assert not found, f"{name} false positives on noise (seed, size): {found}"


@pytest.mark.parametrize("name", NAMES)
def test_accepts_rgba_and_non_contiguous_frames(name):
    frame, _ = face_frame()
    rgba = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
    flipped = frame[:, ::-1]  # a view with a negative stride, as a mirrored webcam gives
    for variant in (rgba, flipped):
        assert len(detect(name, variant)) == 1


def test_get_detector_shares_one_instance():
    assert get_detector("haar") is get_detector("haar")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown detector 'dlib'") as err:
        get_detector("dlib")
    for name in DETECTORS:
        assert name in str(err.value)


class FaceAndWall(FixedBoxes):
    """A registrable fake (built without arguments, like every registry entry): two boxes on face_frame(), one
    on the face (where Haar puts it) and one on the bare wall beside it."""

    label = "A face and a wall"

    def __init__(self):
        face = HaarDetector().detect(Frame.of(face_frame()[0]))[0]
        super().__init__([face, Box(10, 10, face.w, face.h)])


def test_registry_is_extensible_and_a_registered_detectors_boxes_are_confirmed(monkeypatch):
    monkeypatch.setitem(DETECTORS, "fake", FaceAndWall)
    get_detector.cache_clear()  # a cached miss or stale instance must not hide the new entry
    try:
        detector = get_detector("fake")
        face, wall = detector.detector.boxes
        assert detect("fake", face_frame()[0]) == [face]  # the wall is no face: the second opinion drops it
        assert get_detector("fake") is detector
        assert detector_label("fake") == "A face and a wall"
    finally:
        get_detector.cache_clear()  # drop the fake before monkeypatch removes it from DETECTORS


def room_of_small_faces() -> tuple[np.ndarray, list[Box]]:
    """1280x720 with 32 real faces 100 px tall in 4 rows: the back of a classroom."""
    rgb = background(1280, 720)
    return rgb, [paste_face(rgb, 100, 80 + col * 160, 90 + row * 180) for row in range(4) for col in range(8)]


def test_full_range_tiles_find_faces_the_whole_frame_search_misses():
    rgb, faces = room_of_small_faces()
    whole = MediaPipeFullRangeDetector(tiles=1)
    try:
        alone = whole.detect(Frame.of(rgb))
    finally:
        whole.close()
    tiled = detect("mediapipe-full", rgb)  # the registered detector searches 2x2 tiles too
    on_faces = sum(any(box.overlap(face) > 0.5 for box in tiled) for face in faces)
    assert on_faces >= 8 and on_faces > len(alone)
    assert all(any(box.overlap(face) > 0.5 for face in faces) for box in tiled), "a box on the wall"
    assert len(tiled) == on_faces  # no face twice (found in the frame and a tile, or in two tiles)


def test_tiles_cover_the_frame_and_overlap():
    rgb = np.zeros((720, 1280, 3), np.uint8)
    tiles = split_tiles(rgb, 2, overlap=0.25)
    assert len(tiles) == 4 and len({view.shape for _, _, view in tiles}) == 1
    covered = np.zeros((720, 1280), bool)
    for x, y, view in tiles:
        covered[y : y + view.shape[0], x : x + view.shape[1]] = True
    assert covered.all()
    assert tiles[0][2].shape[1] - tiles[1][0] >= 0.25 * tiles[0][2].shape[1] - 1  # neighbours share a quarter


def test_duplicates_merge_to_the_best_scored_box():
    boxes = [Box(0, 0, 100, 100, 0.7), Box(5, 5, 100, 100, 0.9), Box(20, 20, 40, 40, 0.95), Box(300, 0, 50, 50, 0.6)]
    assert merge_duplicates(boxes) == [Box(20, 20, 40, 40, 0.95), Box(300, 0, 50, 50, 0.6)]


def test_a_photo_gets_every_haar_pass_and_a_stream_can_take_them_one_at_a_time():
    """A photo's search is all passes merged; each pass alone is what one stream search runs."""
    haar = get_detector("haar")
    rgb, truth = face_frame(faces=4)
    frame = Frame.of(rgb)
    full, parts = haar.detect(frame), [haar.detect(frame, part=k) for k in range(haar.parts)]
    assert haar.parts == 4 and len(full) == 4
    assert set(full) == set(merge_duplicates([box for found in parts for box in found]))
    assert all(any(box.overlap(face) > 0.5 for box in full) for face in truth)


@pytest.mark.parametrize("tilt", [25, -25])
def test_haar_finds_and_confirms_a_tilted_head_that_no_upright_search_finds(tilt):
    """Heads tilted to a shoulder or bowed over a desk: the passes on a turned copy of the frame find them, and
    the second opinion keeps them."""
    haar = get_detector("haar")
    rgb = background(640, 480)
    head = paste_face(rgb, 160, 320, 240, tilt=tilt)
    frame = Frame.of(rgb)
    upright = [k for k, search in enumerate(haar.detector.passes) if search.angle == 0]
    assert upright and all(haar.detect(frame, part=k) == [] for k in upright)
    found = haar.detect(frame)
    assert len(found) == 1 and found[0].overlap(head) > 0.5


def test_a_piece_of_a_face_is_not_confirmed_as_a_face_and_the_face_is():
    """A tilted head where one turned Haar pass takes its mouth and chin for a smaller face: BlazeFace finds the
    whole face there, centred well above the piece's middle, so the piece is rejected and the face kept."""
    haar = get_detector("haar")
    rgb = background(640, 480)
    head = paste_face(rgb, 160, 398, 240, tilt=25)
    frame = Frame.of(rgb)
    pieces = haar.detector.detect(frame, part=1)  # the pass alone, before the second opinion
    assert any(box.w < head.w / 3 for box in pieces), f"{pieces}: no piece of a face: the test tests nothing"
    assert [box for box in haar.detect(frame, part=1) if box.w < head.w / 3] == []
    assert len(found := haar.detect(frame)) == 1 and found[0].overlap(head) > 0.5


@pytest.mark.parametrize(("name", "photo"), [("haar", "coins"), ("mediapipe-full", "hubble_deep_field")])
def test_face_free_candidates_are_rejected_and_the_face_beside_them_kept(name, photo):
    """Coins and a star field at 720p, where the detectors alone find faces; a real face pasted beside them."""
    scene = face_free_photo(photo, 720)
    assert DETECTORS[name]().detect(Frame.of(scene)), f"{name} alone finds no face in {photo}: the test tests nothing"
    frame = np.concatenate([scene, background(480, 720)], axis=1)
    head = paste_face(frame, 300, scene.shape[1] + 240, 360)
    found = get_detector(name).detect(Frame.of(frame))
    assert len(found) == 1 and found[0].overlap(head) > 0.3, found


@pytest.mark.parametrize(("name", "photo", "height"), [
    ("haar", "coins", None), ("haar", "coins", 240), ("haar", "cell", 360),
    ("mediapipe-full", "hubble_deep_field", 360),
])
def test_a_candidate_the_square_confirms_is_refused_by_its_mirror_image(name, photo, height):
    """Face-free photos at their own size or small, where BlazeFace confirms a coin, a cell or a star field in the
    square around it: the same square mirrored scores it below CONFIRM_MIRROR_MIN_SCORE, and the photo has no face."""
    from fer.detectors.confirm import FaceCheck

    frame = Frame.of(face_free_photo(photo, height))
    candidates = DETECTORS[name]().detect(frame)
    plain_only = FaceCheck(mirror_min_score=0.0)  # the second opinion without its mirror look
    assert plain_only.confirm(frame, candidates), f"no candidate in {photo} passes the square: the test tests nothing"
    assert get_detector(name).detect(frame) == []


def test_haar_answers_sessions_searching_at_once_as_it_answers_one():
    """Streams on different passes and photos share one detector from many threads."""
    haar = get_detector("haar")
    frame = Frame.of(face_frame(faces=4)[0])
    parts = [None, *range(haar.parts)] * 3
    expected = {part: haar.detect(frame, part=part) for part in set(parts)}
    with concurrent.futures.ThreadPoolExecutor(len(parts)) as pool:
        answers = list(pool.map(lambda part: haar.detect(frame, part=part), parts))
    assert answers == [expected[part] for part in parts]
