"""SessionLog: CSV rows, the class's expression timeline, and the summary."""

from __future__ import annotations

import copy
import csv

import numpy as np
import pandas as pd
import pytest

from fer.config import EMOTIONS, NUM_CLASSES
from fer.detectors import Box
from fer.pipeline import Face, FrameResult
from fer.session import CSV_COLUMNS, LiveSession, SessionLog, label_shares

HAPPY, SAD, NEUTRAL = (EMOTIONS.index(e) for e in ("happy", "sad", "neutral"))


def face(emotion: int, track_id: int | None = 1, x: int = 10) -> Face:
    probs = np.full(NUM_CLASSES, 0.05, dtype=np.float32)
    probs[emotion] = 0.7
    return Face(Box(x, 20, 30, 40), probs, track_id)


def read_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_header_is_exact_and_in_order(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    header = (tmp_path / "faces.csv").read_text().splitlines()[0]
    assert header == "time_s,frame,face_id,x,y,w,h,angry,disgust,fear,happy,sad,surprise,neutral,label"
    assert CSV_COLUMNS[7:14] == EMOTIONS
    assert log.rows == 0


def test_csv_has_a_row_per_face_with_time_probs_and_label(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(HAPPY, 1), face(SAD, 2, x=100)], time_s=0.0, frame=0)
    log.record([], time_s=0.5, frame=5)
    log.record([face(SAD, 1)], time_s=1.25, frame=10)
    rows = read_rows(log.csv_path)
    assert [(r["time_s"], r["frame"], r["face_id"], r["label"]) for r in rows] == [
        ("0.000", "0", "1", "happy"), ("0.000", "0", "2", "sad"), ("1.250", "10", "1", "sad")]
    assert (rows[1]["x"], rows[1]["y"], rows[1]["w"], rows[1]["h"]) == ("100", "20", "30", "40")
    assert float(rows[0]["happy"]) == pytest.approx(0.7)
    assert sum(float(rows[0][e]) for e in EMOTIONS) == pytest.approx(1)
    assert log.rows == 3 and log.frames == 3 and log.frames_with_faces == 2


def test_untracked_faces_get_an_empty_id_and_no_per_face_summary(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(HAPPY, track_id=None)], time_s=0.0, frame=0)
    assert read_rows(log.csv_path)[0]["face_id"] == ""
    assert log.summary()["faces_seen"] == 0
    assert log.summary()["expression_share"]["happy"] == 1


def test_default_times_and_frames_count_from_the_first_record():
    log = SessionLog()
    try:
        log.record([face(HAPPY)])
        log.record([face(HAPPY)])
        rows = read_rows(log.csv_path)
        assert [r["frame"] for r in rows] == ["0", "1"]
        assert float(rows[0]["time_s"]) == 0
        assert 0 <= float(rows[1]["time_s"]) < 5
    finally:
        log.csv_path.unlink()


def test_label_shares():
    assert label_shares([face(HAPPY), face(HAPPY), face(SAD)])[[HAPPY, SAD]] == pytest.approx([2 / 3, 1 / 3])
    assert label_shares([]).sum() == 0


def test_timeline_is_long_form_share_of_visible_faces_per_frame(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(HAPPY, 1), face(SAD, 2)], time_s=0.0, frame=0)
    log.record([], time_s=0.1, frame=1)  # no faces: no point
    log.record([face(HAPPY, 1), face(HAPPY, 2)], time_s=0.2, frame=2)
    timeline = log.timeline()
    assert list(timeline.columns) == ["time_s", "emotion", "share"]
    assert len(timeline) == 2 * NUM_CLASSES
    assert list(timeline["emotion"][:NUM_CLASSES]) == list(EMOTIONS)
    wide = timeline.pivot(index="time_s", columns="emotion", values="share")
    assert list(wide.index) == [0.0, 0.2]
    assert wide.loc[0.0, "happy"] == 0.5 and wide.loc[0.0, "sad"] == 0.5
    assert wide.loc[0.2, "happy"] == 1
    assert np.allclose(wide.sum(axis=1), 1)


def test_empty_timeline_has_the_columns():
    timeline = SessionLog().timeline()
    assert isinstance(timeline, pd.DataFrame)
    assert list(timeline.columns) == ["time_s", "emotion", "share"] and timeline.empty


def test_copies_of_a_fresh_log_write_separate_temporary_files():
    template = SessionLog()  # what gr.State deep-copies for every browser session
    assert template.csv_path is None
    a, b = copy.deepcopy(template), copy.deepcopy(template)
    try:
        a.record([face(HAPPY)])
        b.record([face(SAD)])
        assert a.csv_path != b.csv_path
        assert [r["label"] for r in read_rows(a.csv_path)] == ["happy"]
        assert [r["label"] for r in read_rows(b.csv_path)] == ["sad"]
    finally:
        for log in (a, b):
            log.csv_path.unlink()


def test_long_sessions_merge_timeline_points_but_keep_every_csv_row(tmp_path):
    log = SessionLog(tmp_path / "faces.csv", max_points=10)
    for i in range(300):  # 30 s at 10 fps: happy for the first 15 s, sad after
        log.record([face(HAPPY if i < 150 else SAD)], time_s=i / 10, frame=i)
    timeline = log.timeline()
    times = timeline["time_s"].unique()
    assert 2 <= len(times) <= 10
    assert np.all(np.diff(times) > 0)
    assert 0 <= times[0] < 5 and 25 < times[-1] <= 29.9
    happy = timeline[timeline["emotion"] == "happy"]["share"].to_numpy()
    assert happy[0] == 1 and happy[-1] == 0
    assert len(read_rows(log.csv_path)) == 300


def test_summary_counts_faces_and_their_dominant_expression(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    for i in range(10):
        log.record([face(HAPPY if i < 7 else SAD, 1), face(NEUTRAL, 2, x=100)], time_s=i / 10, frame=i)
    log.record([face(SAD, 3)], time_s=1.0, frame=10)
    summary = log.summary()
    assert summary["faces_seen"] == 3 and summary["max_faces_in_frame"] == 2
    assert summary["frames"] == 11 and summary["rows"] == 21
    assert summary["duration_s"] == pytest.approx(1.0)
    first = summary["faces"][0]
    assert (first["face_id"], first["frames"], first["dominant"]) == (1, 10, "happy")
    assert first["dominant_share"] == pytest.approx(0.7)
    assert (first["first_s"], first["last_s"]) == (0.0, pytest.approx(0.9))
    assert summary["faces"][2]["face_id"] == 3
    share = summary["expression_share"]
    assert sum(share.values()) == pytest.approx(1)
    assert share["neutral"] == pytest.approx(10 * 0.5 / 11)  # per-frame shares, averaged over frames


def test_markdown_summary_is_honest_about_what_it_measures(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(HAPPY, 1)], time_s=0.0, frame=0)
    text = log.summary_markdown()
    assert "#1" in text and "happy" in text
    assert "facial expressions" in text
    assert "not measurements of comprehension, attention" in text
    empty = SessionLog(tmp_path / "empty.csv").summary_markdown()
    assert "No faces were detected" in empty and "comprehension" in empty


def test_closing_a_temporary_log_deletes_its_csv_and_ignores_late_frames():
    log = SessionLog()
    log.record([face(3)])
    path = log.csv_path
    assert path.exists()
    log.close()
    assert not path.exists()
    log.record([face(3)])  # a frame still in flight when the session ended
    assert not path.exists() and log.frames == 1


def test_closing_keeps_a_csv_the_caller_named(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(3)])
    log.close()
    assert len(read_rows(tmp_path / "faces.csv")) == 1


def test_live_session_restart_starts_over_in_place():
    class FakePipeline:
        def process(self, frame, tracker):
            return FrameResult(tracker.update([face(3, track_id=None)]), frame)

    session = LiveSession()
    for _ in range(3):
        session.process(FakePipeline(), np.zeros((8, 8, 3), np.uint8))
    old_csv = session.log.csv_path
    session.restart()
    assert not old_csv.exists()
    result = session.process(FakePipeline(), np.zeros((8, 8, 3), np.uint8))
    assert result.faces[0].track_id == 1  # IDs start again
    assert session.log.frames == 1 and session.log.csv_path != old_csv
    session.close()
