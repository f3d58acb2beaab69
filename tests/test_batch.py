"""Batch annotation on Dask: outputs and index, failures, resuming, a dying worker, output names, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from distributed import Client, LocalCluster

from devtools.frames import moving_face_frames
from fer.batch import INDEX_COLUMNS, INDEX_NAME, INDEX_PAGE, annotate_batch, main, output_names, plan
from fer.detectors import get_detector
from fer.pipeline import default_classifier
from fer.session import CSV_COLUMNS
from fer.types import Box, Frame
from fer.video import annotate_video
from tests.helpers import read_rows, write_video

FPS = 10
CLIPS = {"a/lecture.mp4": 12, "b/lecture.mp4": 9}  # relative path: frames; the same name in two folders


def frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def partial_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if ".partial" in path.name]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """lectures/a/lecture.mp4 and lectures/b/lecture.mp4 (a real face sliding across 320x240) and
    lectures/b/broken.mp4 (random bytes)."""
    root = tmp_path_factory.mktemp("videos") / "lectures"
    for name, frames in CLIPS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_video(root / name, moving_face_frames(frames), FPS)
    (root / "b/broken.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return root


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes, as `python -m fer.batch --workers 2` starts."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def sequential(videos, tmp_path_factory) -> dict[str, Path]:
    """Each good clip annotated in this process by fer.video: the reference; {clip: output folder}."""
    outputs = {}
    for name in CLIPS:
        folder = tmp_path_factory.mktemp("sequential")
        annotate_video(videos / name, folder / "annotated.mp4", folder / "faces.csv")
        outputs[name] = folder
    return outputs


def classifier_loads() -> int:
    """On a worker: how many times it has loaded the emotion model."""
    return default_classifier.cache_info().misses


def assert_same_as_sequential(out_dir: Path, sequential: dict[str, Path]) -> None:
    """The batch's CSVs equal fer.video's row for row, and its annotated videos have every frame."""
    for name, frames in CLIPS.items():
        stem = out_dir / "lectures" / Path(name).with_suffix("")
        assert (stem.parent / f"{stem.name}.faces.csv").read_text() == (sequential[name] / "faces.csv").read_text()
        assert frame_count(stem.parent / f"{stem.name}.annotated.mp4") == frames


def test_a_batch_does_the_good_videos_reports_the_broken_one_and_resumes(videos, client, sequential, tmp_path):
    out = tmp_path / "out"
    jobs = plan([videos], out)
    rows = annotate_batch(jobs, out, client)

    assert [(row["output"], row["status"]) for row in rows] == [
        ("lectures/a/lecture", "done"), ("lectures/b/broken", "failed"), ("lectures/b/lecture", "done")]
    assert rows[1]["error"] == "not a video that FFmpeg can decode (or it has no frames)"
    index = read_rows(out / INDEX_NAME)
    assert list(index[0]) == list(INDEX_COLUMNS)
    assert [row["status"] for row in index] == ["done", "failed", "done"]
    assert int(index[0]["frames"]) == 12 and int(index[0]["faces"]) == 1 and float(index[0]["happy"]) > 0
    summary = json.loads((out / "lectures/a/lecture.summary.json").read_text())
    assert (summary["frames"], summary["session"]["frames"], summary["session"]["faces_seen"]) == (12, 12, 1)
    assert summary["duration_s"] == pytest.approx(1.2)
    assert list(read_rows(out / "lectures/a/lecture.faces.csv")[0]) == list(CSV_COLUMNS)
    assert_same_as_sequential(out, sequential)
    assert not (out / "lectures/b/broken.annotated.mp4").exists() and not partial_files(out)
    assert set(client.run(classifier_loads).values()) <= {0, 1}  # once per worker, not once per video
    report = (out / "lectures/a/lecture.report.html").read_text()
    assert "Most shown expression: <b>happy</b>" in report and "Face by face" in report
    assert not (out / "lectures/b/broken.report.html").exists()
    page = (out / INDEX_PAGE).read_text()  # the term at a glance: rows in the order given, linked, failures why
    links = ['href="lectures/a/lecture.report.html"', ">lectures/b/broken<", 'href="lectures/b/lecture.report.html"']
    assert all(link in page for link in links)
    assert sorted(links, key=page.index) == links
    assert "failed: not a video that FFmpeg can decode" in page

    done = {path: path.stat().st_mtime_ns for path in out.rglob("*")
            if path.is_file() and path.name not in (INDEX_NAME, INDEX_PAGE)}
    rows = annotate_batch(jobs, out, client)  # a rerun: the done videos are kept, the broken one is tried again
    assert [row["status"] for row in rows] == ["skipped", "failed", "skipped"]
    assert rows[0]["frames"] == 12 and rows[0]["faces"] == 1  # figures from the summary
    assert {path: path.stat().st_mtime_ns for path in done} == done

    # Killed mid-video: its video and CSV in place, no summary yet, and an attempt's partial file left.
    (out / "lectures/b/lecture.summary.json").unlink()
    (out / "lectures/b/.lecture.faces.csv.0123.partial.csv").write_text("half a")
    rows = annotate_batch(jobs, out, client)
    assert [row["status"] for row in rows] == ["skipped", "failed", "done"]
    assert not partial_files(out)
    assert_same_as_sequential(out, sequential)

    rows = annotate_batch(jobs, out, client, every=2)  # other settings: the old outputs do not count
    assert [row["status"] for row in rows] == ["done", "failed", "done"]
    assert rows[0]["analysed"] == 6
    rows = annotate_batch(jobs, out, client, every=2, force=True)
    assert [row["status"] for row in rows] == ["done", "failed", "done"]


def test_aggregate_only_batch_writes_reports_without_faces_and_keeps_them_on_a_rerun(videos, client, tmp_path):
    out = tmp_path / "out"
    jobs = plan([videos], out)
    rows = annotate_batch(jobs, out, client, aggregate_only=True)
    assert [row["status"] for row in rows] == ["done", "failed", "done"]
    written = sorted(path.name for path in (out / "lectures/a").iterdir())
    assert written == ["lecture.report.html", "lecture.summary.json"]  # no annotated video, no face CSV
    report = (out / "lectures/a/lecture.report.html").read_text()
    assert "data:image/jpeg" not in report and "Face by face" not in report and "#0" not in report
    assert "Aggregate only" in report
    assert [row["status"] for row in annotate_batch(jobs, out, client, aggregate_only=True)] == [
        "skipped", "failed", "skipped"]
    assert [row["status"] for row in annotate_batch(jobs, out, client)] == ["done", "failed", "done"]  # other mode


class DiesOnce:
    """Haar, except that the first call in any process ends that process (a worker killed mid-video)."""

    def __init__(self, marker: Path):
        self.marker = marker
        haar = get_detector("haar")
        self.parts, self.regional = haar.parts, haar.regional  # searched in the same turns and regions as Haar

    def detect(self, frame: Frame, **search: object) -> list[Box]:
        try:
            self.marker.open("x").close()
        except FileExistsError:
            return get_detector("haar").detect(frame, **search)
        os._exit(1)


def test_a_worker_that_dies_mid_video_costs_only_that_videos_retry(videos, client, sequential, tmp_path):
    out, marker = tmp_path / "out", tmp_path / "died"
    rows = annotate_batch(plan([videos / name for name in CLIPS], out), out, client, DiesOnce(marker))
    assert marker.exists()  # a worker did die
    assert [row["status"] for row in rows] == ["done", "done"]
    outputs = {name: out / name.replace(".mp4", "") for name in CLIPS}  # "a/lecture", "b/lecture": two names
    for name, stem in outputs.items():
        assert stem.with_name("lecture.faces.csv").read_text() == (sequential[name] / "faces.csv").read_text()
        assert frame_count(stem.with_name("lecture.annotated.mp4")) == CLIPS[name]
    assert not partial_files(out)


def test_the_cli_with_one_worker_and_with_a_list_on_a_running_cluster_agree(videos, client, sequential, tmp_path):
    assert main([str(videos), "--out", str(tmp_path / "one"), "--workers", "1"]) == 1  # the broken video failed
    assert_same_as_sequential(tmp_path / "one", sequential)

    listing = tmp_path / "list.txt"
    relative = os.path.relpath(videos / "b/lecture.mp4", tmp_path)
    listing.write_text(f"# the good ones\n\n{videos}/a/lecture.mp4\n  {relative}\n")
    scheduler = client.scheduler.address
    assert main([str(listing), "--out", str(tmp_path / "listed"), "--scheduler", scheduler]) == 0
    index = read_rows(tmp_path / "listed" / INDEX_NAME)
    assert [(row["output"], row["status"]) for row in index] == [("a/lecture", "done"), ("b/lecture", "done")]
    reference = sequential["a/lecture.mp4"] / "faces.csv"
    assert (tmp_path / "listed/a/lecture.faces.csv").read_text() == reference.read_text()


def test_cli_refuses_inputs_without_videos(tmp_path, caplog):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.md").write_text("no video here")
    assert main([str(tmp_path / "notes"), "--out", str(tmp_path / "out")]) == 2
    assert "no videos found" in caplog.text
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--out", str(tmp_path / "out"), "--every", "0"])


def touch(root: Path, *names: str) -> list[Path]:
    paths = [root / name for name in names]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return paths


def names(jobs) -> list[str]:
    return [job.name for job in jobs]


def test_outputs_are_named_by_the_folder_given_and_the_path_inside_it(tmp_path):
    touch(tmp_path, "course/week1/intro.mp4", "course/week1/notes.txt", "course/week2/Intro.MOV", "solo/talk.mkv")
    jobs = plan([tmp_path / "course", tmp_path / "solo/talk.mkv"], tmp_path / "out")
    assert names(jobs) == ["course/week1/intro", "course/week2/Intro", "talk"]  # folders: videos only
    assert jobs[0].outputs() == {"video": tmp_path / "out/course/week1/intro.annotated.mp4",
                                 "csv": tmp_path / "out/course/week1/intro.faces.csv",
                                 "report": tmp_path / "out/course/week1/intro.report.html",
                                 "summary": tmp_path / "out/course/week1/intro.summary.json"}


def test_two_videos_never_share_outputs(tmp_path):
    touch(tmp_path, "a/x/lecture.mp4", "b/x/lecture.mp4", "c/lectures/talk.mp4", "d/lectures/talk.mp4",
          "e/talk.mp4", "e/talk.avi")
    given_alone = plan([tmp_path / "a/x/lecture.mp4", tmp_path / "b/x/lecture.mp4"], tmp_path / "out")
    assert names(given_alone) == ["a/x/lecture", "b/x/lecture"]
    same_folder_name = plan([tmp_path / "c/lectures", tmp_path / "d/lectures"], tmp_path / "out")
    assert names(same_folder_name) == ["c/lectures/talk", "d/lectures/talk"]
    assert names(plan([tmp_path / "e"], tmp_path / "out")) == ["e/talk.avi", "e/talk.mp4"]  # one stem, two suffixes
    everything = plan([tmp_path], tmp_path / "out")
    assert len(set(names(everything))) == len(everything) == 6


def test_names_grow_only_as_far_as_needed_and_never_clash():
    videos = [(Path("/r/a/b/x.mp4"), 1), (Path("/r/c/b/x.mp4"), 1), (Path("/r/b/x.mp4"), 1), (Path("/x.mp4"), 1),
              (Path("/q/y.mp4"), 1)]
    assert [name.as_posix() for name in output_names(videos)] == ["a/b/x", "c/b/x", "r/b/x", "x", "y"]
    with pytest.raises(ValueError, match="twice"):
        output_names([(Path("/a/x.mp4"), 1), (Path("/a/x.mp4"), 1)])


def test_a_list_names_videos_and_folders_relative_to_itself(tmp_path):
    touch(tmp_path, "talks/one.mp4", "talks/two.webm", "more/three.avi")
    listing = tmp_path / "lists" / "todo.txt"
    listing.parent.mkdir()
    listing.write_text("# this term\n../talks/one.mp4\n\n  ../more  \n../talks/one.mp4\n")
    jobs = plan([listing, tmp_path / "talks"], tmp_path / "out")
    assert names(jobs) == ["one", "more/three", "talks/two"]  # one.mp4 is listed first, so taken once, as a file
    assert jobs[0].source == tmp_path / "talks/one.mp4"


def test_the_output_folder_inside_an_input_folder_is_not_searched(tmp_path):
    touch(tmp_path, "talks/one.mp4", "talks/annotated/talks/one.annotated.mp4")
    assert names(plan([tmp_path / "talks"], tmp_path / "talks/annotated")) == ["talks/one"]
