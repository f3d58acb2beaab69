"""Lecture reports: moments where the mix changed, segments, what aggregate-only leaves out, the term index."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from fer.config import EMOTIONS, REPORT_TICKS_S
from fer.lecture_report import (
    Recording,
    clock,
    faces_over_time,
    lecture_html,
    mix_svg,
    moments,
    resample,
    round_step,
    segments,
    term_html,
    write_html,
)
from fer.session import SessionLog
from fer.types import Box, Face

SEATS = 5


def face(seat: int, emotion: str) -> Face:
    probs = np.full(len(EMOTIONS), 0.02, np.float32)
    probs[EMOTIONS.index(emotion)] = 1 - 0.02 * (len(EMOTIONS) - 1)
    return Face(box=Box(20 + 60 * seat, 20, 50, 50), probs=probs, track_id=seat)


def lesson(changes: list[tuple[float, str]], end_s: float, fps: float = 4, aggregate_only: bool = False) -> SessionLog:
    """A class of SEATS faces showing the expression of the last change before each frame; seat 0 always neutral."""
    log = SessionLog(aggregate_only=aggregate_only)
    for frame in range(int(end_s * fps)):
        time_s = frame / fps
        emotion = [emotion for start, emotion in changes if start <= time_s][-1]
        log.record([face(0, "neutral"), *(face(seat, emotion) for seat in range(1, SEATS))], time_s, frame)
    return log


def recording(log: SessionLog, **kwargs) -> Recording:
    return Recording("week 1.mp4", log.timeline.points(), log.stats.summary(), {"detector": "haar"}, **kwargs)


def test_moments_land_where_the_class_changed():
    log = lesson([(0, "neutral"), (40, "happy"), (95, "surprise")], end_s=150)
    found = moments(log.timeline.points())
    assert [m.time_s for m in found] == [pytest.approx(40, abs=2), pytest.approx(95, abs=2)]
    assert EMOTIONS[int(np.argmax(found[1].after))] == "surprise"
    assert found[1].change == pytest.approx(0.8, abs=0.05)  # four of five faces changed


def test_a_steady_class_has_no_moments():
    assert moments(lesson([(0, "happy")], end_s=120).timeline.points()) == []


def test_an_hour_is_cut_into_five_minute_segments_from_the_start():
    log = lesson([(0, "neutral"), (1800, "happy")], end_s=3600, fps=0.5)
    rows = segments(log.timeline.points())
    assert round_step(3600) == 300 and len(rows) == 12
    assert rows[0][0] == 0 and rows[1][0] == 300
    assert EMOTIONS[int(np.argmax(rows[5][3]))] == "neutral" and EMOTIONS[int(np.argmax(rows[6][3]))] == "happy"
    assert rows[0][2] == pytest.approx(SEATS)  # faces in view


def test_a_short_clip_counts_its_faces_in_every_step_it_has_frames_in_and_gets_second_ticks():
    """Six seconds at 15 frames/s is 90 frames for the charts' 300 steps: the faces-in-view chart draws the steps
    holding frames, so the class stays at its size instead of falling to 0 between frames."""
    grid = resample(lesson([(0, "happy")], end_s=6, fps=15).timeline.points())
    assert (grid["frames"] == 0).any()  # the grid is finer than the frames: the case this is about
    counted = faces_over_time(grid)
    assert len(counted) == 90 and (counted["faces"] == SEATS).all()
    assert round_step(6, most=10, lengths=REPORT_TICKS_S) == 1  # ticks every second, not one "0:00"


SVG = "{http://www.w3.org/2000/svg}"


def band_areas(svg: str) -> dict[str, float]:
    """Each drawn band's area in the SVG's pixels (the shoelace formula over its path's points)."""
    areas = {}
    for path in ET.fromstring(svg).iter(f"{SVG}path"):
        xy = np.array([[float(v) for v in pair.split(",")] for pair in re.findall(r"-?[\d.]+,-?[\d.]+", path.get("d"))])
        x, y = xy[:, 0], xy[:, 1]
        areas[path.get("data-emotion")] = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return areas


def test_the_live_mix_chart_draws_each_expression_for_as_long_as_it_was_shown():
    """Neutral for the first 40 s, then four of five faces happy: the bands' areas follow, the legend says now."""
    svg = mix_svg(lesson([(0, "neutral"), (40, "happy")], end_s=120).timeline.points())
    areas = band_areas(svg)
    assert set(areas) == {"neutral", "happy"}  # nobody showed the other five: no band
    assert areas["happy"] / (areas["happy"] + areas["neutral"]) == pytest.approx(4 / 5 * 80 / 120, abs=0.03)
    legend = " ".join(text.text for text in ET.fromstring(svg).iter(f"{SVG}text"))
    assert "happy 80%" in legend and "neutral 20%" in legend and "1:00" in legend


def test_the_live_mix_chart_waits_for_two_points():
    assert mix_svg(lesson([(0, "happy")], end_s=0.25).timeline.points()) == ""


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0:00"), (65.4, "1:05"), (3599.6, "1:00:00"), (3725, "1:02:05")])
def test_times_read_as_a_video_player_shows_them(seconds, shown):
    assert clock(seconds) == shown


def test_a_report_names_the_dominant_expression_shows_moments_with_stills_and_every_face():
    log = lesson([(0, "neutral"), (40, "happy")], end_s=120)
    asked = []

    def still(time_s: float) -> np.ndarray:
        asked.append(time_s)
        return np.full((90, 160, 3), 200, np.uint8)

    page = lecture_html(recording(log, still=still))
    assert "Most shown expression: <b>happy</b>" in page
    assert asked == [pytest.approx(40, abs=5)] and asked[0] > 40  # a frame that shows the new mix
    assert page.count("data:image/jpeg") == 1
    assert page.count("data:image/svg+xml") == 2  # the mix and the faces in view
    assert all(f"<td>#{seat}</td>" in page for seat in range(SEATS))
    assert "EU AI Act" in page and "not measurements of comprehension" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_aggregate_only_report_has_no_face_rows_and_no_stills():
    log = lesson([(0, "neutral"), (40, "happy")], end_s=120, aggregate_only=True)
    page = lecture_html(recording(log, aggregate_only=True, still=lambda t: np.zeros((90, 160, 3), np.uint8)))
    assert "Most shown expression: <b>happy</b>" in page  # the class mix is there ...
    assert "data:image/jpeg" not in page and "<td>#" not in page and "faces tracked" not in page  # ... no one's face


def test_a_report_without_faces_says_so():
    log = SessionLog()
    for frame in range(20):
        log.record([], frame / 10, frame)
    page = lecture_html(recording(log))
    assert "No readable faces were found" in page and "EU AI Act" in page


def test_the_term_index_keeps_the_lectures_in_order_links_reports_and_says_why_one_failed(tmp_path):
    mix = {emotion: (1.0 if emotion == "happy" else 0.0) for emotion in EMOTIONS}
    rows = [{"output": "wk 2/mon", "status": "done", "error": "", "duration_s": 3000, "faces": 12,
             "report": "wk 2/mon.report.html", **mix},
            {"output": "wk1/broken", "status": "failed", "error": "not a video", "report": ""},
            {"output": "wk1/fri", "status": "skipped", "error": "", "duration_s": 65, "faces": 3,
             "report": "wk1/fri.report.html", **mix}]
    page = term_html(rows)
    order = [page.index(name) for name in (">wk 2/mon<", ">wk1/broken<", ">wk1/fri<")]
    assert order == sorted(order)
    assert 'href="wk%202/mon.report.html"' in page and "failed: not a video" in page and "50:00" in page
    assert "data:image/svg+xml" in page
    path = write_html(tmp_path / "out" / "index.html", page)
    assert path.read_text(encoding="utf-8") == page and [p.name for p in path.parent.iterdir()] == ["index.html"]
