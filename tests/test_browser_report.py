"""Lecture reports open offline in Chromium: made by the README's commands, every request watched, none to a host."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.browser import CHROMIUM
from devtools.frames import face_frame
from fer import batch, video
from tests.helpers import write_video

FPS = 10


@pytest.fixture(scope="module")
def lectures(tmp_path_factory) -> Path:
    """lectures/mon.avi and lectures/tue.avi: a smiling face (the astronaut) for 3 s."""
    root = tmp_path_factory.mktemp("term") / "lectures"
    root.mkdir()
    frames = [face_frame()[0]] * (3 * FPS)
    for name in ("mon.avi", "tue.avi"):
        write_video(root / name, frames, FPS)
    return root


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield browser
    browser.close()


def open_offline(browser, path: Path):
    """Opens a file in a fresh page that may reach no host: every request is recorded, and any but the file's own
    is refused. Returns (page, requests)."""
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests


def pictures_shown(page) -> int:
    return page.locator("img").evaluate_all("images => images.filter(i => i.complete && i.naturalWidth > 0).length")


def test_the_video_commands_report_opens_offline_with_pictures_and_the_expression(browser, lectures, tmp_path):
    report = tmp_path / "r.html"
    args = [str(lectures / "mon.avi"), "--out", str(tmp_path / "a.mp4"), "--csv", str(tmp_path / "f.csv"),
            "--report", str(report)]
    assert video.main(args) == 0
    page, requests = open_offline(browser, report)
    assert requests == [report.as_uri()]
    assert pictures_shown(page) >= 2  # the mix and the faces in view, at least
    assert "Most shown expression: happy" in page.inner_text("body")
    page.close()


def test_the_batch_index_opens_offline_and_links_each_lectures_report(browser, lectures, tmp_path):
    out = tmp_path / "out"
    assert batch.main([str(lectures), "--out", str(out), "--workers", "1"]) == 0
    page, requests = open_offline(browser, out / "index.html")
    assert pictures_shown(page) == 1  # the term chart
    assert [link.inner_text() for link in page.locator("a").all()] == ["lectures/mon", "lectures/tue"]
    page.locator("a", has_text="lectures/tue").click()
    page.wait_for_load_state("load")
    assert page.url == (out / "lectures/tue.report.html").as_uri()
    assert "Most shown expression: happy" in page.inner_text("body") and pictures_shown(page) >= 2
    assert all(url.startswith("file:") for url in requests), requests
    page.close()
