"""The session record, piece by piece: the face CSV, the timeline, the stats, and the log that feeds them."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from fer import Box, Face
from fer.config import EMOTIONS, MIN_READABLE_FACE_PX, NUM_CLASSES
from fer.markdown import summary_markdown
from fer.session import CSV_COLUMNS, FaceCsv, SessionLog, SessionStats, Timeline, anonymous_crowd, label_shares
from tests.helpers import read_rows

HAPPY, SAD, NEUTRAL = (EMOTIONS.index(e) for e in ("happy", "sad", "neutral"))


def face(emotion: int, track_id: int | None = 1, x: int = 10, size: int = 30) -> Face:
    probs = np.full(NUM_CLASSES, 0.05, dtype=np.float32)
    probs[emotion] = 0.7
    return Face(Box(x, 20, size, size + 10), probs, track_id)


def tiny(track_id: int = 9) -> Face:
    """A face too small to read, whatever its probabilities say."""
    return face(HAPPY, track_id, x=300, size=MIN_READABLE_FACE_PX - 4)


# --- FaceCsv ---

def test_csv_header_is_exact_and_in_order(tmp_path):
    table = FaceCsv(tmp_path / "faces.csv")
    header = (tmp_path / "faces.csv").read_text().splitlines()[0]
    assert header == "time_s,frame,face_id,x,y,w,h,angry,disgust,fear,happy,sad,surprise,neutral,label"
    assert CSV_COLUMNS[7:14] == EMOTIONS
    assert table.rows == 0


def test_csv_has_a_row_per_face_with_time_probs_and_label(tmp_path):
    table = FaceCsv(tmp_path / "faces.csv")
    table.write(0.0, 0, [face(HAPPY, 1), face(SAD, 2, x=100)])
    table.write(0.5, 5, [])
    table.write(1.25, 10, [face(SAD, 1)])
    rows = read_rows(table.path)
    assert [(r["time_s"], r["frame"], r["face_id"], r["label"]) for r in rows] == [
        ("0.000", "0", "1", "happy"), ("0.000", "0", "2", "sad"), ("1.250", "10", "1", "sad")]
    assert (rows[1]["x"], rows[1]["y"], rows[1]["w"], rows[1]["h"]) == ("100", "20", "30", "40")
    assert float(rows[0]["happy"]) == pytest.approx(0.7)
    assert sum(float(rows[0][e]) for e in EMOTIONS) == pytest.approx(1)
    assert table.rows == 3


def test_untracked_faces_get_an_empty_id(tmp_path):
    table = FaceCsv(tmp_path / "faces.csv")
    table.write(0.0, 0, [face(HAPPY, track_id=None)])
    assert read_rows(table.path)[0]["face_id"] == ""


def test_copies_of_a_fresh_temporary_csv_write_separate_files():
    template = FaceCsv()  # what gr.State deep-copies for every browser session
    assert template.path is None
    a, b = copy.deepcopy(template), copy.deepcopy(template)
    try:
        a.write(0.0, 0, [face(HAPPY)])
        b.write(0.0, 0, [face(SAD)])
        assert a.path != b.path
        assert [r["label"] for r in read_rows(a.path)] == ["happy"]
        assert [r["label"] for r in read_rows(b.path)] == ["sad"]
    finally:
        a.close()
        b.close()
    assert not a.path.exists() and not b.path.exists()


def test_closing_deletes_a_temporary_csv_but_keeps_one_the_caller_named(tmp_path):
    temporary = FaceCsv()
    temporary.write(0.0, 0, [face(HAPPY)])
    assert temporary.path.exists()
    temporary.close()
    assert not temporary.path.exists()
    named = FaceCsv(tmp_path / "faces.csv")
    named.write(0.0, 0, [face(HAPPY)])
    named.close()
    assert len(read_rows(tmp_path / "faces.csv")) == 1


def test_a_face_too_small_to_read_gets_a_row_without_an_expression(tmp_path):
    table = FaceCsv(tmp_path / "faces.csv")
    table.write(0.0, 0, [tiny()])
    row = read_rows(table.path)[0]
    assert row["label"] == "too small" and row["face_id"] == "9"
    assert all(row[e] == "" for e in EMOTIONS)


def test_an_unsure_face_keeps_its_probabilities_and_is_labelled_unsure(tmp_path):
    probs = np.full(NUM_CLASSES, (1 - 0.3) / (NUM_CLASSES - 1), dtype=np.float32)
    probs[SAD] = 0.3  # the top class, but well under UNSURE_BELOW
    unsure = Face(Box(10, 20, 40, 50), probs, 4)
    assert unsure.unsure and not face(SAD).unsure and not tiny().unsure
    table = FaceCsv(tmp_path / "faces.csv")
    table.write(0.0, 0, [unsure, face(SAD, track_id=5)])
    rows = read_rows(table.path)
    assert [row["label"] for row in rows] == ["unsure", "sad"]
    assert float(rows[0]["sad"]) == pytest.approx(0.3, abs=1e-4)


# --- Timeline ---

def test_label_shares_count_readable_faces_only():
    assert label_shares([face(HAPPY), face(HAPPY), face(SAD)])[[HAPPY, SAD]] == pytest.approx([2 / 3, 1 / 3])
    assert label_shares([face(SAD), tiny(), tiny()])[SAD] == 1
    assert label_shares([]).sum() == 0 and label_shares([tiny()]).sum() == 0


def test_timeline_is_long_form_share_of_visible_faces_per_frame():
    timeline = Timeline()
    timeline.add(0.0, [face(HAPPY, 1), face(SAD, 2)])
    timeline.add(0.1, [])  # no faces: no point
    timeline.add(0.2, [face(HAPPY, 1), face(HAPPY, 2)])
    table = timeline.to_frame()
    assert list(table.columns) == ["time_s", "emotion", "share"]
    assert len(table) == 2 * NUM_CLASSES
    assert list(table["emotion"][:NUM_CLASSES]) == list(EMOTIONS)
    wide = table.pivot(index="time_s", columns="emotion", values="share")
    assert list(wide.index) == [0.0, 0.2]
    assert wide.loc[0.0, "happy"] == 0.5 and wide.loc[0.0, "sad"] == 0.5
    assert wide.loc[0.2, "happy"] == 1
    assert np.allclose(wide.sum(axis=1), 1)


def test_empty_timeline_has_the_columns():
    table = Timeline().to_frame()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["time_s", "emotion", "share"] and table.empty


def test_long_timelines_merge_points_in_time():
    timeline = Timeline(max_points=10)
    for i in range(300):  # 30 s at 10 fps: happy for the first 15 s, sad after
        timeline.add(i / 10, [face(HAPPY if i < 150 else SAD)])
    table = timeline.to_frame()
    times = table["time_s"].unique()
    assert 2 <= len(times) <= 10
    assert np.all(np.diff(times) > 0)
    assert 0 <= times[0] < 5 and 25 < times[-1] <= 29.9
    happy = table[table["emotion"] == "happy"]["share"].to_numpy()
    assert happy[0] == 1 and happy[-1] == 0


def test_timeline_needs_two_points():
    with pytest.raises(ValueError, match="max_points"):
        Timeline(max_points=1)


# --- SessionStats ---

def test_stats_count_faces_and_their_dominant_expression():
    stats = SessionStats()
    for i in range(10):
        stats.add(i / 10, [face(HAPPY if i < 7 else SAD, 1), face(NEUTRAL, 2, x=100)])
    stats.add(1.0, [face(SAD, 3)])
    stats.add(1.1, [])
    summary = stats.summary()
    assert summary["faces_seen"] == 3 and summary["max_faces_in_frame"] == 2
    assert summary["frames"] == 12 and summary["frames_with_faces"] == 11 and summary["rows"] == 21
    assert summary["duration_s"] == pytest.approx(1.1)
    first = summary["faces"][0]
    assert (first["face_id"], first["frames"], first["dominant"]) == (1, 10, "happy")
    assert first["dominant_share"] == pytest.approx(0.7)
    assert (first["first_s"], first["last_s"]) == (0.0, pytest.approx(0.9))
    assert summary["faces"][2]["face_id"] == 3
    share = summary["expression_share"]
    assert sum(share.values()) == pytest.approx(1)
    assert share["neutral"] == pytest.approx(10 * 0.5 / 11)  # per-frame shares, averaged over frames with faces
    assert "not measurements of comprehension, attention" in summary["caveat"]


def test_faces_too_small_to_read_count_as_rows_but_not_in_the_mix():
    stats = SessionStats()
    stats.add(0.0, [face(SAD, 1), tiny(2)])
    stats.add(0.1, [tiny(2)])
    summary = stats.summary()
    assert summary["rows"] == 3 and summary["max_faces_in_frame"] == 2
    assert summary["frames_with_faces"] == 1 and summary["expression_share"]["sad"] == 1
    assert [f["face_id"] for f in summary["faces"]] == [1]
    timeline = Timeline()
    timeline.add(0.1, [tiny(2)])
    assert timeline.to_frame().empty


def test_untracked_faces_count_in_the_mix_but_get_no_per_face_record():
    stats = SessionStats()
    stats.add(0.0, [face(HAPPY, track_id=None)])
    summary = stats.summary()
    assert summary["faces_seen"] == 0 and summary["faces"] == []
    assert summary["expression_share"]["happy"] == 1


def test_empty_stats():
    summary = SessionStats().summary()
    assert summary["frames"] == 0 and summary["duration_s"] == 0 and summary["faces"] == []


# --- SessionLog ---

def test_log_feeds_every_piece_and_numbers_frames_by_default(tmp_path):
    log = SessionLog(tmp_path / "faces.csv")
    log.record([face(HAPPY, 1), face(SAD, 2, x=100)], time_s=0.0)
    log.record([], time_s=0.5)
    log.record([face(SAD, 1)], time_s=1.0, frame=10)
    log.record([face(SAD, 1)], time_s=1.5)
    assert [r["frame"] for r in read_rows(log.csv.path)] == ["0", "0", "10", "11"]
    assert log.csv.rows == 4 == log.stats.summary()["rows"]
    assert log.stats.frames == 4
    assert len(log.timeline.to_frame()) == 3 * NUM_CLASSES


def test_closing_a_temporary_log_deletes_its_csv_and_ignores_late_frames():
    log = SessionLog()
    log.record([face(HAPPY)], time_s=0.0)
    path = log.csv.path
    assert path.exists()
    log.close()
    assert not path.exists()
    log.record([face(HAPPY)], time_s=0.1)  # a frame still in flight when the session ended
    assert not path.exists() and log.stats.frames == 1


def test_a_log_whose_csv_cannot_be_written_raises_or_goes_on_without_it(tmp_path):
    """A full disk under the CSV: a video's log raises (the job fails with the error); a live stream's log stops
    its CSV where it was, says when and why, and keeps the timeline and stats, so the stream is not failed."""
    for keep_going in (False, True):
        path = tmp_path / f"faces-{keep_going}.csv"
        log = SessionLog(path, keep_going_without_csv=keep_going)
        log.record([face(HAPPY, 1)], time_s=0.0)
        path.unlink()
        path.mkdir()  # the CSV's path is now a folder: writing it fails as a full disk would, with an OSError
        if not keep_going:
            with pytest.raises(OSError):
                log.record([face(SAD, 1)], time_s=1.0)
            continue
        log.record([face(SAD, 1)], time_s=61.0)
        path.rmdir()  # the disk has room again: the log stays stopped, so the CSV never has a silent gap
        log.record([face(SAD, 1)], time_s=62.0)
        assert log.csv_stopped is not None and log.csv_stopped.time_s == 61.0 and log.csv_stopped.reason
        assert not path.exists() and log.csv.rows == 1
        assert log.stats.frames == 3 and log.timeline.to_frame()["time_s"].nunique() == 3


def test_anonymous_crowd_needs_enough_readable_faces_and_drops_their_ids():
    three = [face(3, track_id=k, x=40 * k) for k in range(3)]
    assert anonymous_crowd(three[:2]) == []
    assert anonymous_crowd([*three[:2], tiny()]) == []  # a face too small to read does not make a crowd
    crowd = anonymous_crowd([*three, tiny()])
    assert len(crowd) == 3 and all(f.track_id is None and f.readable for f in crowd)
    assert [f.track_id for f in three] == [0, 1, 2]  # the caller's faces are untouched


def test_an_aggregate_only_log_keeps_the_class_mix_and_nothing_per_face(tmp_path):
    log = SessionLog(aggregate_only=True, temp_dir=tmp_path)
    log.record([face(3, track_id=k, x=40 * k) for k in range(2)], time_s=0.0)  # two faces: nothing
    log.record([face(3, track_id=1), face(3, track_id=2, x=50), face(4, track_id=3, x=90)], time_s=0.5)
    assert log.csv.path is None and list(tmp_path.iterdir()) == []
    summary = log.stats.summary()
    assert summary["faces"] == [] and summary["faces_seen"] == 0 and summary["frames_with_faces"] == 1
    timeline = log.timeline.to_frame()
    assert timeline["time_s"].unique().tolist() == [0.5]
    assert timeline.set_index("emotion")["share"]["happy"] == pytest.approx(2 / 3)
    markdown = summary_markdown(summary)
    assert "| Face |" not in markdown and "IDs" not in markdown and "happy 67%" in markdown


def test_an_aggregate_only_log_refuses_a_per_face_csv(tmp_path):
    with pytest.raises(ValueError, match="aggregate-only"):
        SessionLog(tmp_path / "faces.csv", aggregate_only=True)
