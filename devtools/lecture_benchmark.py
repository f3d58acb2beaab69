"""Checks lecture reports on a generated term: real faces whose expressions change mid-lecture, through fer.batch.

    python -m devtools.lecture_benchmark --data ../shared/data/fer2013.npz
    python -m devtools.lecture_benchmark --data ../shared/data/fer2013.npz --hour --json runs/lecture_benchmark.json

Each lecture is a 1280x720 H.264 video of SEATS FER-2013 PrivateTest faces (real faces, shown 150 px tall on a wall,
drifting a little). At its change time most seats switch from one expression to another (other faces, same seats);
the faces are ones the shipped model reads right, so the change is in what the model sees. `python -m fer.batch`
runs on the term as a user runs it; the figures are how far each report's moments land from the true changes,
whether index.html keeps the lectures in the order given, and what the report costs next to the annotation
(`report_s` against `wall_s` in each summary.json). --hour also annotates a 1-hour lecture at 1 frame/s, whose
report reads the same 500 timeline points and seeks the same few stills as a 25 frames/s hour would.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devtools.benchmark import machine_info, save_json
from fer import batch
from fer.config import EMOTIONS, RUNS_DIR
from fer.pipeline import default_classifier
from fer.video import Mp4Writer

log = logging.getLogger("devtools.lecture_benchmark")

SEATS = 8  # faces per lecture, two rows of four
CHANGING_SEATS = 6  # of which switch expression at the change; the rest stay neutral
FACE_PX = 150
SIZE = (1280, 720)
FPS = 10
WALL = 150  # grey level behind the faces
MIN_CONFIDENCE = 0.6  # a face is used only if the model reads its label with at least this probability
WORK_DIR = RUNS_DIR / "lecture_benchmark"
MOMENT_TOLERANCE_S = 3.0  # target: every true change has a moment this close, and no moment is far from one


@dataclass(frozen=True)
class Lecture:
    name: str
    seconds: float
    change_s: float
    before: str
    after: str


TERM = (Lecture("1-monday", 60, 20, "neutral", "happy"),
        Lecture("2-wednesday", 60, 35, "happy", "surprise"),
        Lecture("3-friday", 60, 45, "neutral", "sad"))
HOUR = Lecture("hour", 3600, 1500, "neutral", "happy")


def faces_read_right(data: Path) -> dict[str, np.ndarray]:
    """PrivateTest faces per emotion that the shipped model reads as their label, confidently: (n, 48, 48) uint8."""
    with np.load(data) as npz:
        images, labels = npz["x_test"], npz["y_test"]
    probs = default_classifier().predict_proba(images)
    right = (probs.argmax(1) == labels) & (probs.max(1) >= MIN_CONFIDENCE)
    return {emotion: images[right & (labels == i)] for i, emotion in enumerate(EMOTIONS)}


def seat_centre(seat: int) -> tuple[int, int]:
    row, col = divmod(seat, 4)
    return 190 + col * 300, 200 + row * 330


def lecture_frames(lecture: Lecture, faces: dict[str, np.ndarray], fps: float, seed: int):
    """Yields the lecture's RGB frames: each seat's face from a fixed pick per phase, drifting a few pixels."""
    rng = np.random.default_rng(seed)
    picks = {emotion: rng.choice(len(faces[emotion]), SEATS, replace=False)
             for emotion in {lecture.before, lecture.after, "neutral"}}
    scaled = {(emotion, seat): cv2.resize(faces[emotion][picks[emotion][seat]], (FACE_PX, FACE_PX),
                                          interpolation=cv2.INTER_CUBIC)
              for emotion in picks for seat in range(SEATS)}
    phase = rng.uniform(0, 2 * np.pi, SEATS)
    for index in range(int(lecture.seconds * fps)):
        time_s = index / fps
        frame = np.full((SIZE[1], SIZE[0], 3), WALL, np.uint8)
        for seat in range(SEATS):
            emotion = "neutral" if seat >= CHANGING_SEATS else (
                lecture.before if time_s < lecture.change_s else lecture.after)
            cx, cy = seat_centre(seat)
            cx += int(4 * np.sin(time_s / 3 + phase[seat]))
            x, y = cx - FACE_PX // 2, cy - FACE_PX // 2
            frame[y:y + FACE_PX, x:x + FACE_PX] = scaled[emotion, seat][..., None]
        yield frame


def write_lecture(path: Path, lecture: Lecture, faces: dict[str, np.ndarray], fps: float, seed: int) -> Path:
    writer = Mp4Writer(path, fps, SIZE)
    try:
        for frame in lecture_frames(lecture, faces, fps, seed):
            writer.write(frame)
    finally:
        writer.close()
    return path


def check(lecture: Lecture, summary: dict) -> dict:
    """How the report's moments for one lecture sit against its true change."""
    found = [m["time_s"] for m in summary["moments"]]
    nearest = min((abs(t - lecture.change_s) for t in found), default=None)
    return {"lecture": lecture.name, "change_s": lecture.change_s, "moments_s": found,
            "nearest_moment_off_s": nearest, "stray_moments": sum(abs(t - lecture.change_s) > MOMENT_TOLERANCE_S
                                                                  for t in found),
            "annotate_s": round(summary["wall_s"], 2), "report_s": round(summary["report_s"], 3),
            "report_share": round(summary["report_s"] / summary["wall_s"], 4),
            "mix": {k: round(v, 3) for k, v in summary["session"]["expression_share"].items() if v >= 0.01}}


def run_term(lectures: tuple[Lecture, ...], faces: dict[str, np.ndarray], fps: float, folder: Path) -> dict:
    """Writes the lectures, runs `fer.batch` on them with one worker, and checks every report and the index."""
    videos, out = folder / "lectures", folder / "out"
    videos.mkdir(parents=True, exist_ok=True)
    for seed, lecture in enumerate(lectures):
        write_lecture(videos / f"{lecture.name}.mp4", lecture, faces, fps, seed)
    started = time.perf_counter()
    if batch.main([str(videos), "--out", str(out), "--workers", "1", "--force"]) != 0:
        raise SystemExit("fer.batch failed: see its log above")
    rows = [check(lecture, json.loads((out / f"lectures/{lecture.name}.summary.json").read_text()))
            for lecture in lectures]
    index = (out / batch.INDEX_PAGE).read_text()
    shown = re.findall(r'href="lectures/([^"]+)\.report\.html"', index)
    log.info("index: %s", out / batch.INDEX_PAGE)
    return {"lectures": rows, "batch_wall_s": round(time.perf_counter() - started, 1),
            "index_order_as_given": shown == [lecture.name for lecture in lectures]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 as .npz (fer.training.data's format)")
    parser.add_argument("--hour", action="store_true", help="also a 1-hour lecture at 1 frame/s (report cost)")
    parser.add_argument("--json", type=Path, help="write every figure and the machine here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    faces = faces_read_right(args.data)
    results = {"machine": machine_info(), "term": run_term(TERM, faces, FPS, WORK_DIR / "term")}
    if args.hour:
        results["hour"] = run_term((HOUR,), faces, 1, WORK_DIR / "hour")
    for part in ("term", "hour"):
        for row in results.get(part, {}).get("lectures", []):
            log.info("%-12s change %5.0f s  moments %s  nearest %s s  annotate %.1f s  report %.2f s (%.2f%%)",
                     row["lecture"], row["change_s"], row["moments_s"], row["nearest_moment_off_s"],
                     row["annotate_s"], row["report_s"], 100 * row["report_share"])
    log.info("index keeps the lectures in the order given: %s", results["term"]["index_order_as_given"])
    save_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
