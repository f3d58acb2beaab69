"""The app in a real browser: headless Chromium's fake webcam plays a face video into the Live tab,
and the Video tab annotates an uploaded clip (harness: devtools/browser.py).

`FER_SCREENSHOT=1` also saves docs/screenshot.png for the README.
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.browser import (
    ANNOTATED_SRC,
    CAMERA_FPS,
    CAMERA_FRAMES,
    TIMEOUT_MS,
    chromium_with_camera,
    measure_stream,
    open_tab,
    start_live,
)
from devtools.frames import face_frame, moving_face_frames, stamped_faces_frames, write_y4m
from devtools.server import ROOT, running_app
from fer.config import EMOTIONS
from tests.helpers import write_png, write_video

VIDEO_TIMEOUT_MS = 120_000  # upload, annotate and encode the test clip on a busy 2-core machine
SCREENSHOT = ROOT / "docs" / "screenshot.png"
CSV_HEADER = "time_s,frame,face_id,x,y,w,h,angry,disgust,fear,happy,sad,surprise,neutral,label"  # the published format
CLIP_FRAMES, CLIP_FPS, CLIP_SIZE = 30, 15, (320, 240)  # the uploaded test video

# JavaScript: the opacity an element is drawn with, its ancestors' included (Gradio fades pending outputs).
DRAWN_OPACITY = """(el) => {
    let opacity = 1;
    for (let node = el; node; node = node.parentElement) opacity *= Number(getComputedStyle(node).opacity);
    return opacity;
}"""


@pytest.fixture(scope="module")
def browser(playwright, tmp_path_factory):
    """A webcam with one face, 640x480."""
    y4m = write_y4m(tmp_path_factory.mktemp("camera") / "face.y4m", stamped_faces_frames(CAMERA_FRAMES, 640, 480),
                    CAMERA_FPS)
    with chromium_with_camera(playwright, y4m) as browser:
        yield browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as app:
        yield app


@pytest.fixture(scope="module")
def app_url(app_server):
    return app_server.url


@pytest.fixture(scope="module")
def live_page(browser, app_url):
    page = start_live(browser, app_url)
    yield page
    page.close()


@pytest.fixture
def video_page(browser, app_url):
    """A fresh page on the app's Video tab."""
    page = open_tab(browser, app_url, "Video")
    yield page
    page.close()


def block(page, label: str):
    """The visible component whose label contains `label` (block-info is the label of plots)."""
    tag = page.get_by_test_id(re.compile(r"^block-(label|info)$")).get_by_text(label)
    return page.locator(".block:visible", has=tag)


def summary(page):
    """The visible markdown that holds the "Session summary" heading."""
    heading = page.get_by_role("heading", name="Session summary")
    return page.get_by_test_id("markdown-wrapper").filter(visible=True).filter(has=heading)


def download(page, label: str, folder: Path) -> Path:
    """Clicks the file link in the component labelled `label`, as a user would; returns the saved file."""
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        block(page, label).get_by_test_id("download-link").click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def download_csv(page, label: str, folder: Path) -> list[dict]:
    """Downloads the CSV in the component labelled `label` and checks its header.

    Returns:
        The CSV's rows, as dicts keyed by CSV_HEADER's names.
    """
    with download(page, label, folder).open(newline="") as f:
        assert f.readline().rstrip("\r\n") == CSV_HEADER
        f.seek(0)
        return list(csv.DictReader(f))


def test_annotated_frames_come_back(live_page):
    src = live_page.evaluate(ANNOTATED_SRC, "Annotated")
    assert src and src.startswith("data:image/jpeg;base64,")  # inline: live frames never touch the server's disk
    size = live_page.evaluate("""(src) => new Promise((resolve, reject) => {
        const img = new Image(); img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
        img.onerror = reject; img.src = src; })""", src)
    assert size == [640, 480]  # the fake webcam's size


def test_the_eu_notice_is_on_the_page_above_the_tabs(live_page):
    notice = live_page.get_by_text("Article 5(1)(f)", exact=False).first
    expect(notice).to_be_visible()
    assert notice.bounding_box()["y"] < live_page.get_by_role("tab", name="Live").bounding_box()["y"]


def test_the_page_asks_no_other_host_than_the_app(browser, app_url):
    """Fonts, scripts and frames all come from the app: it works offline, and no third party sees a viewer."""
    requested: list[str] = []
    page = start_live(browser, app_url, requested)
    for tab in ("Photo", "Video"):
        page.get_by_role("tab", name=tab).click()
    page.wait_for_timeout(2000)  # the tabs' lazily loaded parts
    page.close()
    assert any(url.startswith(app_url) for url in requested)
    assert [url for url in requested if not url.startswith((app_url, "data:", "blob:"))] == []


def test_label_chart_shows_seven_classes_with_happy_on_top(live_page):
    chart = live_page.locator(".block:visible", has=live_page.get_by_test_id("block-label").get_by_text("Largest face"))
    top = chart.get_by_test_id("label-output-value")
    top.wait_for()
    bars = chart.locator(".confidence-set")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while bars.count() != 7 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert top.inner_text().strip() == "happy"
    assert bars.count() == 7
    assert bars.first.get_attribute("data-testid") == "happy-confidence-set"  # sorted: happy is the largest


def test_frame_rate_and_delay_one_face(live_page, app_server, capsys):
    with capsys.disabled():
        rate, delays_ms = measure_stream(live_page, "one face, 640x480", app_server.proc.pid)
    assert rate > 0 and delays_ms  # frames keep coming, stamped; the figures depend on the machine
    assert all(0 <= d < 1000 * CAMERA_FRAMES / CAMERA_FPS for d in delays_ms)


def test_timeline_and_summary_show_the_tracked_face(live_page):
    chart = block(live_page, "Class expression mix").locator("svg[role=img]")
    expect(chart.locator('path[data-emotion="happy"]')).to_be_attached(timeout=TIMEOUT_MS)  # a band per expression
    expect(chart).to_contain_text(re.compile(r"happy ([5-9]\d|100)%"))  # the legend: most faces read happy now
    text = summary(live_page)
    expect(text).to_contain_text("Faces tracked", timeout=TIMEOUT_MS)
    expect(text.get_by_role("row", name=re.compile(r"^#1 .* happy"))).to_be_visible()  # face ID 1, mostly happy
    assert text.evaluate(DRAWN_OPACITY) == 1  # readable while the stream runs, not faded as "pending"


def test_session_csv_and_report_download_with_face_ids(live_page, tmp_path):
    live_page.get_by_role("button", name="Download this session's CSV and report").click()
    expect(block(live_page, "Session CSV").get_by_test_id("download-link")).to_be_visible(timeout=TIMEOUT_MS)
    rows = download_csv(live_page, "Session CSV", tmp_path)
    assert any(row["face_id"] == "1" and row["label"] == "happy" for row in rows)
    saved = download(live_page, "Session report", tmp_path)
    assert saved.name == "fer-session-report.html"  # a name that says what it is, not a random one
    report = saved.read_text()
    assert "<h1>Live session</h1>" in report and "Most shown expression: <b>happy</b>" in report
    assert "<td>#1</td>" in report and "data:image/jpeg" not in report  # live frames are never kept


def test_aggregate_only_shows_neither_a_frame_nor_a_chart_for_one_face(browser, app_url):
    """Ticked, the toggle stops every per-face output: with one face in view, nothing but the reason."""
    page = start_live(browser, app_url)
    page.get_by_role("checkbox", name=re.compile("Aggregate only")).check()
    expect(page.get_by_text("fewer than 3 readable faces", exact=False)).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_function(f"(label) => !({ANNOTATED_SRC})(label)", arg="Annotated", timeout=TIMEOUT_MS)
    chart = block(page, "Largest face")
    expect(chart.get_by_test_id("label-output-value")).to_have_count(0)
    page.close()


def test_video_tab_annotates_an_upload(video_page, tmp_path):
    clip = write_video(tmp_path / "lesson.mp4", moving_face_frames(CLIP_FRAMES, *CLIP_SIZE), CLIP_FPS)
    block(video_page, "Recorded video").locator("input[type=file]").set_input_files(clip)
    video_page.get_by_role("button", name="Annotate video").click()
    player = block(video_page, "Annotated").locator("video")
    expect(player).to_have_attribute("src", re.compile(r"/gradio_api/file=.+\.mp4$"), timeout=VIDEO_TIMEOUT_MS)
    player.evaluate("video => { video.muted = true; return video.play(); }")  # rejects if Chromium cannot play it
    video_page.wait_for_function("video => video.readyState >= 2 && video.currentTime > 0", arg=player.element_handle(),
                                 timeout=TIMEOUT_MS)
    duration, width, height = player.evaluate("video => [video.duration, video.videoWidth, video.videoHeight]")
    assert duration == pytest.approx(CLIP_FRAMES / CLIP_FPS, abs=0.2)
    assert (width, height) == CLIP_SIZE
    expect(summary(video_page)).to_contain_text(f"Analysed: {CLIP_FRAMES} frames", timeout=TIMEOUT_MS)
    rows = download_csv(video_page, "Faces CSV", tmp_path)
    assert rows and {row["face_id"] for row in rows} == {"1"}  # one face, one ID throughout
    assert Counter(row["label"] for row in rows).most_common(1)[0][0] == "happy"
    report = download(video_page, "Report", tmp_path).read_text()
    assert "<h1>lesson.mp4</h1>" in report and "Most shown expression: <b>happy</b>" in report


def test_photo_tab_annotates_an_upload_reads_it_again_as_chosen_and_explains_a_non_image(browser, app_url, tmp_path):
    page = open_tab(browser, app_url, "Photo")
    photo = write_png(tmp_path / "face.png", face_frame()[0])
    block(page, "Photo").locator("input[type=file]").set_input_files(photo)
    page.wait_for_function(ANNOTATED_SRC, arg="Annotated", timeout=TIMEOUT_MS)
    chart = block(page, "Largest face").get_by_test_id("label-output-value")
    expect(chart).to_have_text("happy")
    aggregate = page.get_by_role("checkbox", name=re.compile("Aggregate only"))
    aggregate.check()  # the photo shown is read again: one face is too few for a class mix, so no chart
    expect(page.get_by_text("fewer than 3 readable faces", exact=False)).to_be_visible(timeout=TIMEOUT_MS)
    expect(chart).to_have_count(0)
    aggregate.uncheck()
    page.get_by_role("radio", name=re.compile("full-range")).check()
    expect(chart).to_have_text("happy", timeout=TIMEOUT_MS)
    page.wait_for_function(ANNOTATED_SRC, arg="Annotated", timeout=TIMEOUT_MS)
    page.reload()
    page.get_by_role("tab", name="Photo").click()
    notes = tmp_path / "notes.png"
    notes.write_text("these are not pixels")
    block(page, "Photo").locator("input[type=file]").set_input_files(notes)
    toast = page.get_by_test_id("toast-body").filter(has_text="Cannot read this image")
    expect(toast).to_contain_text("notes.png: not an image", timeout=TIMEOUT_MS)
    page.close()


def test_video_tab_explains_a_file_that_is_not_a_video(video_page, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("time,emotion\n0.1,happy\n")
    block(video_page, "Recorded video").locator("input[type=file]").set_input_files(notes)
    video_page.get_by_role("button", name="Annotate video").click()
    toast = video_page.get_by_test_id("toast-body").filter(has_text="Cannot read this video")
    expect(toast).to_contain_text("a text file, not a video", timeout=TIMEOUT_MS)
    expect(block(video_page, "Annotated").locator("video")).to_have_count(0)


@pytest.mark.skipif(not os.environ.get("FER_SCREENSHOT"), reason="set FER_SCREENSHOT=1 to update docs/screenshot.png")
def test_save_screenshot(live_page):
    for emotion in EMOTIONS:  # every row of the chart drawn before it is measured
        live_page.get_by_test_id(f"{emotion}-confidence-set").wait_for()
    chart = block(live_page, "Largest face").bounding_box()  # viewport coordinates: add the scroll
    chart["y"] += live_page.evaluate("window.scrollY")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    clip = {"x": 0, "y": 0, "width": 1280, "height": chart["y"] + chart["height"] + 12}  # down to the chart
    live_page.screenshot(path=str(SCREENSHOT), full_page=True, clip=clip)
    assert SCREENSHOT.stat().st_size > 10_000
