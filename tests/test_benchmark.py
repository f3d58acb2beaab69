"""The benchmark (devtools/benchmark.py, run as `python -m fer.benchmark`): the --quick run writes every
figure as positive numbers (no timing asserts), and the app launcher leaves nothing running."""

from __future__ import annotations

import json

import numpy as np
import pytest

from devtools import benchmark, frames, groups, server
from fer import Box
from fer import benchmark as entry_point
from fer.detectors import DETECTORS
from tests.helpers import inside, write_png


def test_face_frame_sizes_and_boxes():
    for (width, height), faces in [((640, 480), 1), ((1280, 720), 1), ((640, 480), 4)]:
        frame, boxes = frames.face_frame(width, height, faces)
        assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
        assert len(boxes) == faces and all(inside(box, width, height) for box in boxes)
        for box in boxes:  # each box holds the pasted face, not the wall
            assert (frame[box.y : box.y + box.h, box.x : box.x + box.w] != frames.BACKGROUND).mean() > 0.5
        scene, _ = frames.face_frame(width, height, faces, scene=True)
        assert scene.shape == frame.shape and (scene[:5, :5] != frames.BACKGROUND).any()  # the photo, not grey
    with pytest.raises(ValueError):
        frames.face_frame(640, 480, 2)


def test_parse_args_defaults():
    assert benchmark.parse_args([]).runs == benchmark.RUNS
    assert benchmark.parse_args(["--quick"]).runs == benchmark.QUICK_RUNS
    assert benchmark.parse_args(["--quick", "--runs", "3"]).runs == 3


def test_quick_run_writes_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert entry_point.main(["--quick", "--json", str(out)]) == 0  # the documented command's entry point
    results = json.loads(out.read_text())

    machine = results["machine"]
    assert machine["cpu"] and machine["cores"] > 0 and machine["python"] and machine["date"]
    assert results["runs"] == benchmark.QUICK_RUNS
    assert "app" not in results  # --quick skips the cold start

    sizes = {f"{w}x{h}" for w, h in benchmark.SIZES}
    assert set(results["detection"]) == set(DETECTORS)
    for per_size in results["detection"].values():
        assert set(per_size) == sizes
        for figure in per_size.values():
            assert figure["p50_ms"] > 0 and figure["p95_ms"] >= figure["p50_ms"] and figure["faces"] >= 0

    assert set(results["classifier"]) == {"batch1", "batch8"}
    for figure in results["classifier"].values():
        assert 0 < figure["p50_ms_per_face"] <= figure["p95_ms_per_face"]

    assert set(results["end_to_end"]) == set(DETECTORS)
    for cases in results["end_to_end"].values():
        assert set(cases) == {"1_face", "4_faces", "1_face_scene", "4_faces_scene"}
        for figure in cases.values():
            assert figure["p50_ms"] > 0 and figure["p95_ms"] >= figure["p50_ms"] and figure["faces"] >= 0

    assert set(results["live"]) == set(DETECTORS)
    for scenes in results["live"].values():
        assert set(scenes) == {"1_face_640x480", "group_720p"}
        assert all(figure["cpu_ms_per_frame"] > 0 and figure["frames"] > 0 for figure in scenes.values())
    haar = results["live"]["haar"]
    assert haar["1_face_640x480"]["faces"] == 1 and haar["group_720p"]["faces"] >= 1  # timed with faces in view

    targeted = [row for row in results["targets"] if row["limit"] is not None]
    assert targeted and all(row["result"] in ("pass", "MISS") for row in targeted)
    assert any(row["name"].startswith("live CPU haar") and row["limit"] is not None for row in results["targets"])
    table = capsys.readouterr().out
    assert "target" in table and "pipeline haar 640x480 1 face" in table


def test_app_cold_start_and_memory(monkeypatch):
    """Launches app.py, sends a few frames over HTTP, and leaves no app process behind."""
    started = []
    popen = server.subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(server.subprocess, "Popen", recording_popen)
    app = benchmark.bench_app(frames=3)
    assert len(started) == 1 and started[0].poll() is not None  # the app was stopped
    assert app["first_frame_s"] > 0 and app["frames"] == 3
    assert 0 < app["peak_rss_mb"] <= app["peak_rss_all_detectors_mb"]
    assert 0 < app["http_frame_p50_ms"] <= app["http_frame_p95_ms"]
    assert app["status"].startswith("1 face")  # the app found the face in the frame it was sent


@pytest.fixture
def group_folder(tmp_path):
    """Two generated "group photos" (four and one real faces) with an imglab XML, as in ../shared/data/groups."""
    entries = []
    for k, faces in enumerate((4, 1)):
        rgb, heads = frames.face_frame(640, 480, faces)
        write_png(tmp_path / f"g{k}.png", rgb)
        boxes = [Box(h.x + round(0.2 * h.w), h.y + round(0.17 * h.h), round(0.55 * h.w), round(0.46 * h.h))
                 for h in heads]  # the face inside each pasted head (helmet and neck left out), drawn as people do
        rows = "".join(f"<box top='{b.y}' left='{b.x}' width='{b.w}' height='{b.h}'/>" for b in boxes)
        entries.append(f"<image file='g{k}.png' width='640' height='480'>{rows}</image>")
    (tmp_path / "training.xml").write_text(f"<dataset><images>{''.join(entries)}</images></dataset>")
    return tmp_path


def test_group_photos_load_and_scale(group_folder):
    photos = groups.load_groups(group_folder)
    assert [len(p.faces) for p in photos] == [4, 1]
    rgb, faces = photos[0].at_height(720)
    assert rgb.shape == (720, 960, 3) and faces[0].w == round(photos[0].faces[0].w * 1.5)
    with pytest.raises(ValueError, match="no such file"):
        groups.load_groups(group_folder / "missing")


def test_match_counts_each_face_once_and_the_rest_as_false():
    truth = [Box(0, 0, 50, 50), Box(100, 0, 50, 50)]
    assert groups.match([Box(2, 2, 50, 50), Box(0, 0, 48, 48), Box(300, 300, 40, 40)], truth) == (1, 2)
    assert groups.match([], truth) == (0, 0)


def test_classroom_frame_holds_the_faces_it_reports(group_folder):
    frame, boxes = groups.classroom_frame(groups.load_groups(group_folder), faces=30)
    assert frame.shape == (720, 1280, 3) and len(boxes) == 30
    assert all(inside(box, 1280, 720) for box in boxes)
    assert len({(box.x, box.y) for box in boxes}) == 30  # one cell each


def test_groups_lead_the_table_with_faces_found(group_folder, tmp_path, capsys):
    out = tmp_path / "g.json"
    assert entry_point.main(["--quick", "--runs", "2", "--groups", str(group_folder), "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert set(results["groups"]) == set(DETECTORS)
    for cases in results["groups"].values():
        scenes = ("720p", "native", "classroom")
        assert set(cases) == {f"{scene}{steady}" for scene in scenes for steady in ("", "_steady")}
        for figure in cases.values():
            assert 0 < figure["p50_ms"] <= figure["p95_ms"] and 0 <= figure["found"] <= figure["faces"]
    assert results["groups"]["mediapipe-full"]["720p"]["found"] == 5  # real faces on a plain wall: all found
    assert results["targets"][0]["name"].startswith("scene ")
    default_row = next(r for r in results["targets"] if r["name"] == "scene haar 720p, cold")
    assert default_row["result"] in ("pass", "MISS") and "found" in default_row["limit_text"]
    assert "avx" in capsys.readouterr().out.lower() or results["machine"]["cpu_flags"] == []


def test_an_unreadable_groups_folder_exits_2(tmp_path):
    assert entry_point.main(["--quick", "--runs", "1", "--groups", str(tmp_path)]) == 2
