"""The benchmark (devtools/benchmark.py, run as `python -m fer.benchmark`): the --quick run writes every
figure as positive numbers (no timing asserts), and the app launcher leaves nothing running."""

from __future__ import annotations

import json

import numpy as np
import pytest

from devtools import benchmark, frames, server
from fer import benchmark as entry_point
from fer.detectors import DETECTORS
from tests.helpers import inside


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

    targeted = [row for row in results["targets"] if row["limit"] is not None]
    assert targeted and all(row["result"] in ("pass", "MISS") for row in targeted)
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
