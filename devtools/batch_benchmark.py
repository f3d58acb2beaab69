"""Measures fer.batch on this machine: throughput with 1 and 2 Dask workers, each worker's peak memory, and resuming.

    python -m devtools.batch_benchmark                                 # 8 generated 20 s lectures, 1 then 2 workers
    python -m devtools.batch_benchmark --json runs/batch_benchmark.json --resume
    python -m devtools.batch_benchmark --videos 4 --seconds 4          # a quick smoke run

The lectures are 640x480 H.264 at LECTURE_FPS with 1 to 4 copies of a real face (skimage's astronaut) drifting
in a row, on a plain wall or, every other lecture, on a photo; they are written once to runs/batch_benchmark/.
Each worker count gets a fresh LocalCluster (as `python -m fer.batch` starts it) whose workers load the model
before the clock starts, so the figures are throughput, not start-up. "Cores busy" is the share of all cores'
time in use meanwhile, by any process: a speed-up cannot exceed 1 / (that share with one worker). Peak memory
is each worker process's VmHWM; the ffmpeg encoder it runs per video is a separate process, reported apart.
The face CSVs of the runs are compared byte for byte and as sorted rows (see `sorted_rows`).

With --resume, `python -m fer.batch` is killed (its whole process group, SIGKILL) once half the videos are
done and started again: the second run must skip exactly the finished videos and leave no partial file.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
from distributed import Client, LocalCluster

from devtools.benchmark import machine_info, save_json
from devtools.frames import background, face_crop, paste_face
from devtools.server import peak_rss_mb
from fer.batch import INDEX_NAME, annotate_batch, plan
from fer.config import DEFAULT_DETECTOR, RUNS_DIR
from fer.video import Mp4Writer

log = logging.getLogger("fer.batch_benchmark")

# Benchmark settings.
VIDEOS = 8  # generated lectures
LECTURE_S = 20.0  # seconds each
LECTURE_FPS = 25
LECTURE_SIZE = (640, 480)  # (width, height)
MAX_FACE_PX = 200  # face height with one or two faces; narrower slots get smaller faces
WORKER_COUNTS = (1, 2)
WORK_DIR = RUNS_DIR / "batch_benchmark"  # lectures and outputs (git-ignored)

# Targets.
SPEEDUP_TARGET = 1.7  # 2 workers' videos per second over 1 worker's, at least
WORKER_PEAK_MB_TARGET = 400.0  # VmHWM of each worker process, in MB (10^6 bytes), at most


def lecture_frames(index: int, seconds: float) -> Iterator[np.ndarray]:
    """RGB uint8 (480, 640, 3) frames of lecture `index`: index % 4 + 1 faces in a row, each drifting on its
    own phase; a photo behind them for odd indices."""
    width, height = LECTURE_SIZE
    faces = index % 4 + 1
    slot = width / faces
    face_h = min(MAX_FACE_PX, int(0.7 * slot * face_crop().shape[0] / face_crop().shape[1]))
    wall = background(width, height, scene=index % 2 == 1)
    for i in range(round(seconds * LECTURE_FPS)):
        t = i / LECTURE_FPS
        frame = wall.copy()
        for k in range(faces):
            phase = 2 * np.pi * (t / 4 + k / faces)
            cx, cy = round((k + 0.5) * slot + 15 * np.sin(phase)), height // 2 + round(10 * np.cos(phase))
            paste_face(frame, face_h, cx, cy)
        yield frame


def make_lectures(folder: Path, count: int, seconds: float) -> list[Path]:
    """Writes the lectures that are not there yet; returns all `count` paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"lecture{index}_{index % 4 + 1}faces_{seconds:g}s.mp4"
        if not path.exists():
            partial = path.with_name(f".{path.name}.partial.mp4")
            writer = Mp4Writer(partial, LECTURE_FPS, LECTURE_SIZE)
            for frame in lecture_frames(index, seconds):
                writer.write(frame)
            writer.close()
            os.replace(partial, path)
        paths.append(path)
    return paths


def load_models(detector: str) -> None:
    """On a worker: builds the detector and the classifier, which stay cached for its tasks."""
    from fer.pipeline import Pipeline

    Pipeline(detector)


def worker_memory() -> dict[str, float]:
    """On a worker: its own peak RSS, and the largest of the ffmpeg encoders it ran, in MB."""
    return {"worker_mb": peak_rss_mb(os.getpid()),
            "ffmpeg_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6}


def timed_batch(videos: list[Path], out_dir: Path, workers: int, detector: str) -> dict:
    """One batch on a fresh LocalCluster of `workers`, models loaded before the clock starts."""
    shutil.rmtree(out_dir, ignore_errors=True)
    jobs = plan(videos, out_dir)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
        client.run(load_models, detector)
        load = os.getloadavg()[0]
        psutil.cpu_percent()  # starts the count of busy CPU time
        started = time.perf_counter()
        rows = annotate_batch(jobs, out_dir, client, detector)
        wall_s = time.perf_counter() - started
        busy = psutil.cpu_percent() / 100  # share of all cores busy meanwhile (any process)
        memory = list(client.run(worker_memory).values())
    frames = sum(row.get("frames", 0) for row in rows)
    return {
        "workers": workers, "wall_s": wall_s, "videos": len(rows), "frames": frames,
        "failed": sum(row["status"] != "done" for row in rows),
        "videos_per_min": 60 * len(rows) / wall_s, "frames_per_s": frames / wall_s, "cores_busy": busy,
        "worker_peak_mb": [m["worker_mb"] for m in memory], "ffmpeg_peak_mb": max(m["ffmpeg_mb"] for m in memory),
        "load_avg_1m_before": load, "load_avg_1m_after": os.getloadavg()[0],
        "csvs": {job.name: job.outputs()["csv"].read_bytes() for job in jobs},
    }


def sorted_rows(csvs: dict[str, bytes]) -> dict[str, list[bytes]]:
    """Each CSV's lines sorted. Faces of equal box area can swap places within a frame between runs, and
    swap IDs when they appear in the same frame: the pipeline orders faces by area alone, and Haar's order
    among equals can follow OpenCV's threads."""
    return {name: sorted(text.splitlines()) for name, text in csvs.items()}


def index_statuses(out_dir: Path) -> list[str]:
    """The status column of out_dir's index.csv ([] before it exists)."""
    path = out_dir / INDEX_NAME
    if not path.exists():
        return []
    return [line.split(",")[2] for line in path.read_text().splitlines()[1:]]


def resume_check(videos: list[Path], out_dir: Path, workers: int) -> dict:
    """Kills `python -m fer.batch` (SIGKILL, its process group) once half the videos are done, runs it again,
    and counts what the second run did."""
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [sys.executable, "-m", "fer.batch", *map(str, videos), "--out", str(out_dir), "--workers", str(workers)]
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while index_statuses(out_dir).count("done") < len(videos) // 2 and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = index_statuses(out_dir).count("done")
    partials_after_kill = len(list(out_dir.rglob("*.partial*")))
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    statuses = index_statuses(out_dir)
    return {"done_when_killed": done_before, "partials_after_kill": partials_after_kill,
            "skipped_on_rerun": statuses.count("skipped"), "done_on_rerun": statuses.count("done"),
            "partials_after_rerun": len(list(out_dir.rglob("*.partial*"))),
            "ok": statuses.count("skipped") == done_before and statuses.count("done") == len(videos) - done_before
            and not list(out_dir.rglob("*.partial*"))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=VIDEOS, help=f"lectures (default {VIDEOS})")
    parser.add_argument("--seconds", type=float, default=LECTURE_S, help=f"seconds each (default {LECTURE_S:g})")
    parser.add_argument("--detector", default=DEFAULT_DETECTOR)
    parser.add_argument("--resume", action="store_true", help="also kill a batch halfway and resume it")
    parser.add_argument("--json", type=Path, help="write every figure and the machine here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(format="%(message)s")
    log.setLevel(logging.INFO)
    machine = machine_info()
    videos = make_lectures(WORK_DIR / "lectures", args.videos, args.seconds)
    runs = [timed_batch(videos, WORK_DIR / f"out_{n}", n, args.detector) for n in WORKER_COUNTS]
    speedup = runs[-1]["videos_per_min"] / runs[0]["videos_per_min"]
    peak = max(mb for run in runs for mb in run["worker_peak_mb"])
    identical = all(run["csvs"] == runs[0]["csvs"] for run in runs)
    same_rows = all(sorted_rows(run["csvs"]) == sorted_rows(runs[0]["csvs"]) for run in runs)
    flags = ", ".join(machine["cpu_flags"]) or "no AVX2"
    print(f"{machine['cpu']} ({flags}), {machine['cores']} cores; {len(videos)} lectures of {args.seconds:g} s, "
          f"{LECTURE_SIZE[0]}x{LECTURE_SIZE[1]} at {LECTURE_FPS} fps, detector {args.detector}")
    for run in runs:
        print(f"{run['workers']} worker(s): {run['wall_s']:.1f} s, {run['videos_per_min']:.1f} videos/min, "
              f"{run['frames_per_s']:.0f} frames/s, cores {100 * run['cores_busy']:.0f}% busy, "
              f"worker peak {max(run['worker_peak_mb']):.0f} MB "
              f"(ffmpeg {run['ffmpeg_peak_mb']:.0f} MB), {run['failed']} failed, "
              f"load {run['load_avg_1m_before']:.1f} -> {run['load_avg_1m_after']:.1f}")
    print(f"speed-up {speedup:.2f}x (target >= {SPEEDUP_TARGET}): {'pass' if speedup >= SPEEDUP_TARGET else 'MISS'}")
    print(f"worker peak {peak:.0f} MB (target <= {WORKER_PEAK_MB_TARGET:.0f}): "
          f"{'pass' if peak <= WORKER_PEAK_MB_TARGET else 'MISS'}")
    print(f"face CSVs identical across worker counts: {identical}; the same rows, in any order: {same_rows}")
    resume = resume_check(videos, WORK_DIR / "out_resume", max(WORKER_COUNTS)) if args.resume else None
    if resume is not None:
        print(f"resume: killed with {resume['done_when_killed']} of {len(videos)} done; the rerun skipped "
              f"{resume['skipped_on_rerun']} and did {resume['done_on_rerun']}; partial files left: "
              f"{resume['partials_after_rerun']}: {'pass' if resume['ok'] else 'MISS'}")
    if args.json:
        for run in runs:
            del run["csvs"]
        results = {"machine": machine, "videos": len(videos), "seconds": args.seconds, "runs": runs,
                   "speedup": speedup, "worker_peak_mb": peak, "csvs_identical": identical,
                   "csv_rows_identical": same_rows, "resume": resume}
        save_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
