"""Compares our FaceTracker with supervision's ByteTrack and norfair on the same sequences and detections.

    python -m devtools.tracker_benchmark                         # table of ID stability and cost
    python -m devtools.tracker_benchmark --json runs/trackers.json
    python -m devtools.tracker_benchmark --groups DIR            # photos elsewhere than ../shared/data/groups

Association only: each tracker gets the same boxes (perfect boxes with noise, dropouts and false
boxes, or the real Haar detector's) on the same sequences (devtools/track_sequences.py: a generated
scene, and the real group photos in --groups under a panning camera), in two regimes: a detection every
frame at 30 fps, and one every SEARCH_EVERY_S (5 Hz), which is what our pipeline's searches give.
Per tracker: ID switches (a face's ID changes while it is tracked), missing (face-frames in view with
no ID, and how often an ID'd face lost it), latency (seconds from a face first in view to its first ID),
false tracks (IDs only ever on false boxes) and microseconds per update.

End to end: `Pipeline.process(frame, tracker=FaceTracker(), t=t)` with Haar on the same frames, every
frame scored, for context: between searches it follows faces by template matching, which neither
library does (they only predict boxes with a Kalman filter), so it has no equivalent row for them.

The libraries are optional (without them only our rows run, and INSTALL_HINT is printed). Install them
without their dependencies: supervision asks for opencv-python, which would replace the
opencv-contrib-python whose cv2 has the Haar cascade.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from devtools.benchmark import machine_info
from devtools.groups import load_groups
from devtools.track_sequences import (
    Detections,
    Sequence,
    haar_detections,
    label,
    noisy_detections,
    pan_sequence,
    walking_scene,
)
from fer.config import NUM_CLASSES, SEARCH_EVERY_S, TRACK_MEMORY_S
from fer.pipeline import Pipeline, default_classifier
from fer.tracking import TIME_TOLERANCE_S, FaceTracker
from fer.types import Box, Face

log = logging.getLogger("fer.tracker_benchmark")

INSTALL_HINT = ".venv/bin/pip install --no-deps 'supervision==0.29.1' 'norfair==2.3.0' 'pydeprecate<0.10' " \
               "filterpy defusedxml"  # the last ByteTrack in supervision is 0.29 (removed in 0.30)
GROUPS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "groups"  # the photos, beside the checkout
REGIMES = {"30fps": 0.0, "5Hz": SEARCH_EVERY_S}  # seconds between detections: every frame, or our search rate
BYTETRACK_FPS = 30  # ByteTrack counts its lost-track buffer in frames of a 30 fps video
NORFAIR_IOU_DISTANCE = 0.7  # norfair's "iou" distance is 1 - IoU; its box demos match below 0.7 (IoU > 0.3)
UNIFORM = np.full(NUM_CLASSES, 1 / NUM_CLASSES, dtype=np.float32)  # dummy probabilities: association only


# --- The trackers, each behind one call: this frame's boxes (None: no detection this frame) -> an ID each ----

class Associator(Protocol):
    """Built as make(frame_fps, detection_fps): the sequence's frame rate and the detections' rate."""

    def step(self, boxes: list[Box] | None, t: float, frames: int) -> list[int | None]:
        """IDs for the boxes (None: no ID yet); `frames` since the previous detection (norfair's period)."""


class Ours:
    """FaceTracker's identify + update, as Pipeline.process calls them after a search."""

    def __init__(self, frame_fps: float, detection_fps: float):
        self.tracker = FaceTracker()  # in seconds: needs neither rate

    def step(self, boxes: list[Box] | None, t: float, frames: int) -> list[int | None]:
        if boxes is None:
            return []
        faces = self.tracker.identify([Face(box, UNIFORM) for box in boxes], t)
        return [face.track_id for face in self.tracker.update(faces, t)]


class ByteTrack:
    """supervision's ByteTrack: frame_rate is the detections' rate, so its buffer lasts TRACK_MEMORY_S."""

    def __init__(self, frame_fps: float, detection_fps: float):
        import supervision as sv

        self.sv = sv
        with warnings.catch_warnings():  # deprecated in supervision 0.28 for the `trackers` package
            warnings.simplefilter("ignore")
            self.tracker = sv.ByteTrack(lost_track_buffer=round(TRACK_MEMORY_S * BYTETRACK_FPS),
                                        frame_rate=detection_fps)

    def step(self, boxes: list[Box] | None, t: float, frames: int) -> list[int | None]:
        if boxes is None:
            return []
        xyxy = np.array([(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes], dtype=np.float32).reshape(-1, 4)
        detections = self.sv.Detections(xyxy=xyxy, confidence=np.array([b.score for b in boxes], dtype=np.float32),
                                        class_id=np.zeros(len(boxes), dtype=int), data={"index": np.arange(len(boxes))})
        tracked = self.tracker.update_with_detections(detections)
        ids: list[int | None] = [None] * len(boxes)
        for i, track_id in zip(tracked.data.get("index", []), tracked.tracker_id, strict=True):
            ids[int(i)] = int(track_id)
        return ids


class Norfair:
    """norfair's Tracker on boxes with its "iou" distance; updated every frame as its docs ask when
    detections skip frames (`period` = frames since the last ones), its memory TRACK_MEMORY_S of frames."""

    def __init__(self, frame_fps: float, detection_fps: float):
        from norfair import Detection, Tracker

        self.detection = Detection
        self.tracker = Tracker(distance_function="iou", distance_threshold=NORFAIR_IOU_DISTANCE,
                               hit_counter_max=round(TRACK_MEMORY_S * frame_fps))

    def step(self, boxes: list[Box] | None, t: float, frames: int) -> list[int | None]:
        if boxes is None:
            self.tracker.update()  # advances its Kalman filters and hit counters
            return []
        detections = [self.detection(np.array([[b.x, b.y], [b.x + b.w, b.y + b.h]], dtype=np.float64),
                                     scores=np.array([b.score, b.score]), data=i) for i, b in enumerate(boxes)]
        ids: list[int | None] = [None] * len(boxes)
        for obj in self.tracker.update(detections, period=frames):
            if any(obj.last_detection is d for d in detections):  # matched in this frame, not only predicted
                ids[obj.last_detection.data] = obj.id
        return ids


TRACKERS: dict[str, Callable[[float, float], Associator]] = {"ours": Ours, "bytetrack": ByteTrack, "norfair": Norfair}


def available() -> dict[str, Callable[[float, float], Associator]]:
    """The trackers whose library imports; logs the install command once when one does not."""
    found = {"ours": Ours}
    for name, module in (("bytetrack", "supervision"), ("norfair", "norfair")):
        try:
            __import__(module)
            found[name] = TRACKERS[name]
        except ImportError:
            log.warning("%s not installed (%s skipped): %s", module, name, INSTALL_HINT)
    return found


# --- Running and scoring ----------------------------------------------------------------------------------

def associate(make: Callable[[float, float], Associator], seq: Sequence, detections: Detections,
              every_s: float) -> tuple[list[tuple[int, dict[int, int]]], int, list[float]]:
    """Feeds the detections of the frames due every `every_s` seconds (0: all) through a new tracker.

    Returns:
        per detection frame (index, {face id: track ID}), how many IDs were only ever given to false boxes,
        and the seconds each detection frame cost (with the calls on the frames since the previous one).
    """
    fps = (len(seq.times) - 1) / (seq.times[-1] - seq.times[0])
    tracker = make(fps, fps if every_s == 0 else 1 / every_s)
    shown, false_ids, true_ids, costs = [], set(), set(), []
    last, cost = -np.inf, 0.0
    for i, t in enumerate(seq.times):
        due = t - last >= every_s - TIME_TOLERANCE_S
        boxes = [box for box, _ in detections[i]] if due else None
        frames = round((t - last) * fps) if np.isfinite(last) else 1
        start = time.perf_counter()
        ids = tracker.step(boxes, float(t), frames)
        cost += time.perf_counter() - start
        if not due:
            continue
        last = t
        costs.append(cost)
        cost = 0.0
        faces = {}
        for (_, face), track_id in zip(detections[i], ids, strict=True):
            if track_id is not None:
                (false_ids if face is None else true_ids).add(track_id)
                if face is not None:
                    faces[face] = track_id
        shown.append((i, faces))
    return shown, len(false_ids - true_ids), costs


def id_switches(ids: list[int | None]) -> int:
    """How often the ID changes along a face's frames (frames without an ID skipped)."""
    seen = [i for i in ids if i is not None]
    return sum(a != b for a, b in itertools.pairwise(seen))


def fragments(ids: list[int | None]) -> int:
    """How often a face that had an ID is shown without one while in view."""
    return sum(a is not None and b is None for a, b in itertools.pairwise(ids))


def score(seq: Sequence, shown: list[tuple[int, dict[int, int]]], false_tracks: int, costs: list[float]) -> dict:
    """Switches, missing face-frames, fragments, latencies and cost of one run (see the module docstring)."""
    faces = sorted({k for truth in seq.truth for k in truth})
    per_face = {k: [ids.get(k) for i, ids in shown if k in seq.truth[i]] for k in faces}
    first_seen = {k: next(seq.times[i] for i, truth in enumerate(seq.truth) if k in truth) for k in faces}
    first_id = {k: next((seq.times[i] for i, ids in shown if k in ids), None) for k in faces}
    return {"switches": sum(id_switches(ids) for ids in per_face.values()),
            "missing": sum(ids.count(None) for ids in per_face.values()),
            "in_view": sum(len(ids) for ids in per_face.values()),
            "fragments": sum(fragments(ids) for ids in per_face.values()),
            "latency_s": [float(first_id[k] - first_seen[k]) for k in faces if first_id[k] is not None],
            "never": sum(first_id[k] is None for k in faces),
            "false_tracks": false_tracks, "cost_s": costs}


def end_to_end(seq: Sequence, pipe: Pipeline) -> dict:
    """The whole stream path with Haar, every frame scored as shown (searched or followed faces)."""
    tracker, shown, false_ids, true_ids, costs = FaceTracker(), [], set(), set(), []
    for i, t in enumerate(seq.times):
        rgb = seq.frame(i)
        start = time.perf_counter()
        faces = pipe.process(rgb, tracker=tracker, t=float(t)).faces
        costs.append(time.perf_counter() - start)
        ids = {}
        for (_, face), found in zip(label([f.box for f in faces], seq.truth[i]), faces, strict=True):
            (false_ids if face is None else true_ids).add(found.track_id)
            if face is not None:
                ids[face] = found.track_id
        shown.append((i, ids))
    return score(seq, shown, len(false_ids - true_ids), costs)


def merge(runs: list[dict]) -> dict:
    """One sequence set's runs added up (lists joined)."""
    return {key: sum((run[key] for run in runs), [] if isinstance(runs[0][key], list) else 0) for key in runs[0]}


def summary(run: dict, unit: float) -> dict:
    """The table's figures of a merged run; cost in `unit` seconds (1e-6: µs, 1e-3: ms)."""
    p50, p95 = np.percentile(np.array(run["cost_s"]) / unit, [50, 95])
    latency = run["latency_s"]
    return {"switches": run["switches"], "missing_pct": 100 * run["missing"] / max(1, run["in_view"]),
            "fragments": run["fragments"], "latency_mean_s": float(np.mean(latency)) if latency else None,
            "latency_max_s": max(latency, default=None), "never": run["never"], "false_tracks": run["false_tracks"],
            "p50": float(p50), "p95": float(p95)}


def run(groups: Path | None) -> dict:
    """Every figure: {"association": [row], "end_to_end": [row]}, rows as `summary` plus their keys."""
    sets = {"scene": [walking_scene()]}
    if groups is not None and (groups / "training.xml").is_file():
        sets["photos"] = [pan_sequence(photo, seed=k) for k, photo in enumerate(load_groups(groups))]
    else:
        log.warning("no group photos at %s: the generated scene only", groups)
    trackers = available()
    association, e2e = [], []
    pipe = Pipeline("haar", default_classifier())  # the classifier loaded before any frame is timed
    for set_name, seqs in sets.items():
        log.info("%s: %d sequences, Haar on every frame ...", set_name, len(seqs))
        sources = {"noisy": [noisy_detections(seq, seed=k) for k, seq in enumerate(seqs)],
                   "haar": [haar_detections(seq) for seq in seqs]}
        for (source, dets), (regime, every_s), (name, make) in itertools.product(
                sources.items(), REGIMES.items(), trackers.items()):
            runs = [score(seq, *associate(make, seq, d, every_s)) for seq, d in zip(seqs, dets, strict=True)]
            association.append({"sequences": set_name, "detections": source, "regime": regime, "tracker": name,
                                **summary(merge(runs), 1e-6), "per_sequence": {s.name: summary(r, 1e-6) for s, r
                                                                                in zip(seqs, runs, strict=True)}})
        runs = [end_to_end(seq, pipe) for seq in seqs]
        e2e.append({"sequences": set_name, **summary(merge(runs), 1e-3)})
    return {"association": association, "end_to_end": e2e}


# --- Report ---------------------------------------------------------------------------------------------------

def format_table(rows: list[dict], keys: tuple[str, ...], unit: str) -> str:
    """Plain-text table of the rows' `keys`, then the figures, columns aligned."""
    def cell(value: object) -> str:
        if value is None:
            return "-"
        return f"{value:.2f}" if isinstance(value, float) and value < 100 else \
            f"{value:.0f}" if isinstance(value, float) else str(value)

    header = (*keys, "switches", "missing %", "frags", "latency s mean/max", "never", "false tracks",
              f"{unit} p50", f"{unit} p95")
    lines = [header] + [(*(row[k] for k in keys), cell(row["switches"]), cell(row["missing_pct"]),
                         cell(row["fragments"]), f"{cell(row['latency_mean_s'])}/{cell(row['latency_max_s'])}",
                         cell(row["never"]), cell(row["false_tracks"]), cell(row["p50"]), cell(row["p95"]))
                        for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) if i < len(keys) else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                            strict=True))).rstrip()
           for line in lines]
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def versions() -> dict[str, str]:
    found = {}
    for package in ("supervision", "norfair", "filterpy", "scipy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.tracker_benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write every figure, per sequence, and the machine here")
    parser.add_argument("--groups", type=Path, default=GROUPS, help=f"group photos with face boxes (default {GROUPS})")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(message)s")
    log.setLevel(logging.INFO)
    machine = {**machine_info(), "trackers": versions()}
    results = run(args.groups)
    load = "" if machine["load_avg_1m"] is None else f", load {machine['load_avg_1m']:.1f}"
    print(f"{machine['cpu']} ({', '.join(machine['cpu_flags']) or 'no AVX2'}), {machine['cores']} cores{load}; "
          f"{machine['trackers']}")
    print("Association only (same boxes for every tracker); cost per detection update:")
    print(format_table(results["association"], ("sequences", "detections", "regime", "tracker"), "µs"))
    print("\nEnd to end: Pipeline.process with Haar and FaceTracker (search 5 Hz, follow between), every frame:")
    print(format_table(results["end_to_end"], ("sequences",), "ms"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, **results}, indent=2))
        print(f"JSON in {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
