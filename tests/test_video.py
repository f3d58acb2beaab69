"""Recorded video: the CLI round trip on a generated clip, timestamps, --every, and clear errors."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from devtools.frames import paste_face
from fer import Box
from fer.config import NUM_CLASSES, SEARCH_EVERY_S
from fer.markdown import summary_markdown
from fer.session import CSV_COLUMNS
from fer.video import Mp4Writer, VideoError, VideoReader, annotate_video, duration, main
from tests.helpers import FixedBoxes, read_rows, write_video

FPS, FRAMES, WIDTH, HEIGHT = 10, 24, 320, 240


def read_all(path) -> tuple[list[np.ndarray], str]:
    """The frames of a video (BGR) and its codec's fourcc."""
    capture = cv2.VideoCapture(str(path))
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode(errors="replace")
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames, fourcc


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A real face photo, 120 px tall, moving diagonally across a grey 320x240 frame: 24 frames at 10 fps."""
    frames = []
    for i in range(FRAMES):
        rgb = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
        paste_face(rgb, 120, 65 + 7 * i, 90 + 3 * i)  # top-left corner at (10 + 7 i, 30 + 3 i)
        frames.append(rgb)
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, frames, FPS)
    return path


def test_reader_streams_rgb_frames_with_the_videos_timestamps(clip):
    with VideoReader(clip) as reader:
        assert (reader.fps, reader.frame_count, reader.width, reader.height) == (FPS, FRAMES, WIDTH, HEIGHT)
        frames = list(reader)
    assert [index for index, _, _ in frames] == list(range(FRAMES))
    assert [t for _, t, _ in frames] == pytest.approx([i / FPS for i in range(FRAMES)])
    rgb = frames[0][2]
    assert rgb.shape == (HEIGHT, WIDTH, 3) and rgb.dtype == np.uint8
    assert rgb[5, 5] == pytest.approx([90, 90, 90], abs=6)
    skin = rgb[30 + 60, 10 + 55]  # the face's centre: more red than blue, so the channels are RGB
    assert int(skin[0]) > int(skin[2])


def test_cli_round_trip_on_a_real_face(clip, tmp_path):
    out, table = tmp_path / "annotated.mp4", tmp_path / "faces.csv"
    assert main([str(clip), "--out", str(out), "--csv", str(table)]) == 0
    frames, fourcc = read_all(out)
    assert len(frames) == FRAMES
    assert fourcc == "h264"
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    rows = read_rows(table)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) >= FRAMES - 2  # Haar finds this face in (nearly) every frame
    assert {r["face_id"] for r in rows} == {"1"}  # one face, one ID, no switches
    assert all(float(r["time_s"]) == pytest.approx(int(r["frame"]) / FPS, abs=1e-3) for r in rows)
    assert all(r["label"] == max(CSV_COLUMNS[7:14], key=lambda e: float(r[e])) for r in rows)
    xs = [int(r["x"]) for r in rows]
    assert xs[-1] - xs[0] > 100  # the boxes follow the moving face


def test_every_n_analyses_fewer_frames_but_annotates_them_all(clip, tmp_path):
    result = annotate_video(clip, tmp_path / "a.mp4", tmp_path / "a.csv", every=5)
    assert (result.frames, result.analysed) == (FRAMES, 5)
    frames, _ = read_all(result.video)
    assert len(frames) == FRAMES
    assert {int(r["frame"]) for r in read_rows(result.csv)} <= {0, 5, 10, 15, 20}
    # frame 7 reuses frame 5's box: the annotated copy differs from the source there
    with VideoReader(clip) as reader:
        source = [cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) for _, _, rgb in reader]
    assert np.abs(frames[7].astype(int) - source[7]).mean() > 1
    assert set(result.timeline.columns) == {"time_s", "emotion", "share"}
    assert result.summary["frames"] == 5 and "#1" in summary_markdown(result.summary)


class TwoFaces(FixedBoxes):
    """A fake detector: two small fixed boxes on the grey wall, the second missed by its 2nd and 3rd searches. The
    clip's real face moves outside them, so the frame changes where no followed face is: every search falls due."""

    def __init__(self):
        super().__init__([Box(10, 10, 30, 30), Box(280, 200, 30, 30)])

    def detect(self, frame):
        boxes = super().detect(frame)
        return boxes[:1] if self.calls in (2, 3) else boxes


def test_the_video_is_searched_every_search_interval_and_ids_survive_a_missed_search(clip, tmp_path):
    detector = TwoFaces()
    result = annotate_video(clip, tmp_path / "b.mp4", tmp_path / "b.csv", detector=detector)
    searches = FRAMES // round(SEARCH_EVERY_S * FPS)  # 10 fps, a search every 0.2 s: every other frame
    assert detector.calls == searches
    rows = read_rows(result.csv)
    assert {r["face_id"] for r in rows} == {"1", "2"}  # the missed face keeps its ID (gone 0.6 s < 1 s memory)
    second = [int(r["frame"]) for r in rows if r["face_id"] == "2" and r["x"] == "280"]
    assert second == [f for f in range(0, FRAMES, 2) if f not in (2, 4)]  # found by each search but two
    assert result.summary["faces_seen"] == 2


def test_progress_is_reported_per_frame(clip, tmp_path):
    calls = []
    annotate_video(clip, tmp_path / "c.mp4", tmp_path / "c.csv", every=8,
                   progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, FRAMES) for i in range(1, FRAMES + 1)]


def test_a_video_that_fails_or_is_stopped_leaves_no_partial_output(clip, tmp_path):
    def stop_at_ten(done: int, total: int | None) -> None:
        if done == 10:
            raise KeyboardInterrupt  # e.g. the viewer left

    with pytest.raises(KeyboardInterrupt):
        annotate_video(clip, tmp_path / "out" / "d.mp4", tmp_path / "out" / "d.csv", progress=stop_at_ten)
    assert list((tmp_path / "out").iterdir()) == []


class FourFaces(FixedBoxes):
    def __init__(self):
        super().__init__([Box(10 + 75 * k, 20, 60, 60) for k in range(4)])


def test_aggregate_only_writes_nothing_per_face_and_keeps_the_class_mix(clip, tmp_path):
    result = annotate_video(clip, None, None, detector=FourFaces(), aggregate_only=True)
    assert result.video is None and result.csv is None and result.analysed == FRAMES
    crowded = result.summary["frames_with_faces"]  # frames where all four were seen (flat boxes are not followed)
    assert result.summary["faces"] == [] and crowded > FRAMES // 2
    assert len(result.timeline) == crowded * NUM_CLASSES
    with pytest.raises(ValueError, match="aggregate_only"):
        annotate_video(clip, tmp_path / "e.mp4", None, aggregate_only=True)


def test_writer_pads_odd_sizes_and_the_output_decodes(tmp_path):
    writer = Mp4Writer(tmp_path / "odd.mp4", 10, (99, 51))
    for i in range(5):
        writer.write(np.full((51, 99, 3), 40 * i, np.uint8))
    writer.close()
    frames, fourcc = read_all(tmp_path / "odd.mp4")
    assert len(frames) == 5 and fourcc == "h264"
    assert frames[0].shape == (52, 100, 3)


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty file"),
    (b"time,emotion\n0.1,happy\n" * 50, "a text file, not a video"),
    (bytes(range(256)) * 20, "not a video that FFmpeg can decode"),
])
def test_non_videos_give_a_one_line_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "notes.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError) as err:
        VideoReader(path)
    message = str(err.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_cli_exits_2_with_the_message_and_writes_nothing(tmp_path, caplog):
    path = tmp_path / "notes.txt"
    path.write_text("not a video\n")
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    with caplog.at_level(logging.ERROR, logger="fer.video"):
        assert main([str(path), "--out", str(out), "--csv", str(table)]) == 2
    assert f"{path}: a text file, not a video" in caplog.text
    assert not out.exists() and not table.exists()
    assert main([str(tmp_path / "missing.mp4"), "--out", str(out)]) == 2
    assert "missing.mp4: cannot read" in caplog.text


def test_a_video_over_the_length_limit_is_refused_when_opened(clip):
    with pytest.raises(VideoError, match=r"clip\.mp4: 2 s long, over the 1 s limit: cut it into parts first"):
        VideoReader(clip, max_seconds=1)
    assert duration(95) == "95 s" and duration(7200) == "120 min"


def test_output_must_be_mp4(clip, tmp_path):
    with pytest.raises(ValueError, match=r"\.mp4"):
        annotate_video(clip, tmp_path / "out.webm", tmp_path / "out.csv")
