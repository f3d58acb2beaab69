"""web/: the whole live pipeline in the browser (static page, LiteRT.js + MediaPipe in WebAssembly).

Builds web/dist when it is missing or older than web/'s sources or package-lock.json (npm ci && npm run build),
serves it from a local HTTP server, and drives it in Debian's Chromium with a fake webcam (devtools/web_benchmark.py
has the build, server and browser helpers, shared with the benchmark).
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from devtools import web_benchmark as web
from devtools.frames import face_crop, face_frame, write_y4m
from devtools.web_benchmark import chromium, measure_rate, open_page, wait_frames
from fer import config
from fer.classifier import EmotionClassifier
from fer.preprocess import prepare_faces, to_gray
from fer.session import EU_NOTICE
from fer.types import Box, Frame

ROOT = Path(__file__).resolve().parent.parent
RATE_WINDOW_S = 5
PROBS_TOLERANCE = 3e-3  # page vs Python, per probability (see test_classifies_as_python_does)


@pytest.fixture(scope="module")
def site():
    """The URL of web/dist served over HTTP on a free local port, built first if missing or stale (npm ci &&
    npm run build); without npm, skipped outside CI and failed in CI."""
    if web.dist_is_stale():
        if shutil.which("npm") is None:
            message = "npm not found: install Node.js (20+) to build web/"
            if os.environ.get("CI"):
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        web.build_web()
    with web.serve_dist() as url:
        yield url


@functools.cache
def intro_paragraphs() -> list[str]:
    """app.py's INTRO (its text + EU_NOTICE), read without importing the app (Gradio): its paragraphs after the
    heading line, Markdown emphasis dropped and whitespace collapsed."""
    tree = ast.parse((ROOT / "app.py").read_text())
    intro = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(target, "id", None) == "INTRO" for target in node.targets))
    assert isinstance(intro, ast.BinOp) and intro.right.id == "EU_NOTICE", "INTRO = '...' + EU_NOTICE"
    _heading, text = (intro.left.value + EU_NOTICE).split("\n", 1)
    return [" ".join(paragraph.replace("*", "").split()) for paragraph in text.split("\n\n")]


@pytest.fixture(scope="module")
def camera_page(playwright, site, tmp_path_factory):
    """The page, its fake webcam showing the astronaut (one face, 640x480), after 10 annotated frames."""
    frame, _ = face_frame(640, 480, faces=1)
    y4m = write_y4m(tmp_path_factory.mktemp("web") / "one_face.y4m", [frame] * 10, fps=web.CAMERA_FPS)
    with chromium(playwright, y4m) as browser:
        page = open_page(browser, site)
        wait_frames(page, 10)
        yield page


def test_labels_the_smiling_astronaut_happy(camera_page):
    faces = camera_page.evaluate("window.ferStats.faces")
    assert len(faces) == 1
    assert faces[0]["label"] == "happy"
    assert faces[0]["confidence"] > config.UNSURE_BELOW
    x, y, w, h = faces[0]["box"]
    assert Box(x, y, w, h).iou(Box(268, 184, 92, 92)) > 0.5  # where Python's MediaPipe detector finds it


def test_switches_to_the_full_range_detector(camera_page):
    frames = camera_page.evaluate("window.ferStats.frames")
    camera_page.select_option("#detector", "full")
    faces = wait_frames(camera_page, frames + 10)["faces"]
    camera_page.select_option("#detector", "short")
    assert [face["label"] for face in faces] == ["happy"]


def test_reports_frame_rate(camera_page):
    rate = measure_rate(camera_page, RATE_WINDOW_S)
    stats = camera_page.evaluate("window.ferStats")
    print(f"\nweb, 1 face at 640x480: {rate:.1f} annotated frames/s, {stats['msPerFace']:.1f} ms per face "
          f"(WebAssembly), first frame {stats['firstFrameMs']:.0f} ms after navigation")
    assert rate > 0
    assert "frames/s" in camera_page.locator("#status").inner_text()


def test_makes_no_request_to_another_host(camera_page, site):
    requested = camera_page.requested
    assert any(url.endswith(".wasm") for url in requested)  # the recording saw the runtime load
    external = [url for url in requested if not url.startswith(site + "/") and not url.startswith(("data:", "blob:"))]
    assert external == []


def test_states_privacy_and_the_eu_notice_as_the_app_does(camera_page):
    text = " ".join(camera_page.locator("main").inner_text().split())
    what, _privacy, eu_notice = intro_paragraphs()
    assert what in text and eu_notice in text
    assert "never leave" in camera_page.locator("#privacy").inner_text()


def test_shares_fer_config(camera_page):
    page_config = camera_page.evaluate("window.ferConfig")
    assert tuple(page_config["EMOTIONS"]) == config.EMOTIONS
    for name in ("IMG_SIZE", "FACE_MARGIN", "MIN_READABLE_FACE_PX", "UNSURE_BELOW", "TRACK_MIN_IOU",
                 "SMOOTHING_HALF_LIFE_S", "TOO_SMALL"):
        assert page_config[name] == getattr(config, name), name
    assert {k: tuple(v) for k, v in page_config["EMOTION_COLORS"].items()} == config.EMOTION_COLORS
    assert tuple(page_config["TOO_SMALL_COLOR"]) == config.TOO_SMALL_COLOR
    assert tuple(page_config["UNSURE_COLOR"]) == config.UNSURE_COLOR


def parity_crops() -> list[np.ndarray]:
    """Gray uint8 crops of many sizes: the astronaut's face (shrunk, enlarged, squashed) and random noise."""
    rng = np.random.default_rng(14)
    face = to_gray(face_crop())
    crops = [face, face[::5, ::5], face[::7, ::3], face[40:200:2, 30:190:4], face[::2, ::2]]
    crops += [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in ((48, 48), (30, 40), (97, 61), (20, 150))]
    crops += [face[y : y + 150, x : x + 140] for y in range(0, 90, 15) for x in range(0, 80, 20)]  # shifted framings
    return crops


def test_classifies_as_python_does(camera_page):
    """Same crops, same probabilities within PROBS_TOLERANCE: the model's convolutions have int8 weights, and
    runtimes round their int8 arithmetic differently (Python's own XNNPACK and reference kernels differ by up
    to 1.7e-3 on the first nine), so LiteRT.js cannot match to the last digit."""
    crops = parity_crops()
    expected = EmotionClassifier.load().predict_proba(crops)
    payload = [{"width": c.shape[1], "height": c.shape[0], "data": c.ravel().tolist()} for c in crops]
    got = np.array(camera_page.evaluate("(crops) => window.ferClassify(crops)", payload))
    print(f"\nweb vs Python probabilities, {len(crops)} crops: max |difference| {np.abs(got - expected).max():.1e}")
    np.testing.assert_allclose(got, expected, atol=PROBS_TOLERANCE)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def python_crop(frame: np.ndarray, box: Box) -> np.ndarray:
    """The 48x48 uint8 crop Pipeline.classify feeds the model for `box`."""
    frame = Frame.of(frame)
    region = box.expand(config.FACE_MARGIN).clip(frame.width, frame.height)
    gray = frame.gray[region.y : region.y + region.h, region.x : region.x + region.w]
    return prepare_faces([gray])[0, ..., 0].astype(np.uint8)


def test_crops_boxes_as_python_does(camera_page):
    """Margin, clipping, gray and resize: exact on the shrinking (INTER_AREA) path, which every face wider than
    40 px takes; OpenCV 5's enlarging INTER_LINEAR differs from its documented fixed-point arithmetic by
    one gray level on a few pixels, so the page may too."""
    frame, _ = face_frame(320, 240, faces=4, scene=True)
    rgba = np.concatenate([frame, np.full((*frame.shape[:2], 1), 255, np.uint8)], axis=2)
    boxes = [Box(34, 10, 92, 100), Box(200, 130, 97, 101), Box(-15, -20, 80, 90), Box(290, 200, 60, 70),
             Box(100, 100, 25, 25), Box(10, 150, 30, 44), Box(50, 60, 48, 48), Box(160, 20, 133, 81)]
    got = camera_page.evaluate("""([rgba, width, height, boxes]) => boxes.map(
        box => window.ferCrop({width, height, data: rgba}, box))""",
                               [rgba.ravel().tolist(), frame.shape[1], frame.shape[0],
                                [[b.x, b.y, b.w, b.h] for b in boxes]])
    for box, crop in zip(boxes, got, strict=True):
        expected = python_crop(frame, box)
        crop = np.array(crop, dtype=np.int16).reshape(expected.shape)
        difference = np.abs(crop - expected)
        assert difference.max() <= 1, box
        region = box.expand(config.FACE_MARGIN).clip(frame.shape[1], frame.shape[0])
        if region.w > config.IMG_SIZE and region.h > config.IMG_SIZE:
            assert difference.max() == 0, box


def test_explains_a_denied_camera(playwright, site):
    """Without the fake permission UI, headless Chromium denies the camera."""
    with chromium(playwright, fake_ui=False) as browser:
        page = open_page(browser, site)
        page.wait_for_function("window.ferStats.error !== null")
        message = page.locator("#status").inner_text()
    assert "Camera unavailable" in message and "denied" in message


def test_reports_frame_rate_with_four_faces(playwright, site, tmp_path):
    frame, _ = face_frame(640, 480, faces=4)
    y4m = write_y4m(tmp_path / "four_faces.y4m", [frame] * 10, fps=web.CAMERA_FPS)
    with chromium(playwright, y4m) as browser:
        page = open_page(browser, site)
        stats = wait_frames(page, 10)
        rate = measure_rate(page, RATE_WINDOW_S)
    print(f"\nweb, 4 faces at 640x480: {rate:.1f} annotated frames/s")
    assert sorted(face["label"] for face in stats["faces"]) == ["happy"] * 4
