"""A 720p photo's full search against the peer `fer` (PyPI's fer, Haar by default), same photos, same run.

    pip download fer --no-deps -d /tmp/peer && pip install --no-deps --target /tmp/peer/site /tmp/peer/fer-*.whl
    python -m devtools.peer_benchmark --peer-site /tmp/peer/site --groups ../shared/data/groups

The peer's import name is also `fer`, so each side runs in its own process: ours from this checkout, the peer from
its folder (it needs TensorFlow, which the dev requirements bring, and requests). Both answer every photo once to
warm up, then ROUNDS times each, the two sides taking turns so a busy machine slows both alike. A photo's time is
everything from pixels to labelled faces: `Pipeline.process` here, `FER.detect_emotions` there.

Our sides also stream each photo at 30 frames/s through a tracker, searches in line as a recorded video runs them,
each frame with a webcam's sensor noise (CAMERA_NOISE gray levels): once the tracker has settled (SETTLING_FRAMES,
untimed), the mean time of STEADY_FRAMES frames, search frames included, against the peer's, which detects afresh
every frame (its photo time). A still scene: people who move make the stream search where they moved.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from devtools.benchmark import machine_info, save_json
from devtools.groups import load_groups

log = logging.getLogger("devtools.peer_benchmark")

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 720
ROUNDS = 3  # turns per side
REPEATS = 5  # answers per photo per turn
DETECTORS = ("haar", "mediapipe-full")
TARGET_RATIO = 0.5  # our full search of a 720p photo, at most this share of the peer's time
SETTLING_FRAMES = 60  # 2 s at 30 frames/s: every Haar pass has searched the whole frame, the faces tracked
STEADY_FRAMES = 150  # then 5 s timed, each photo
STEADY_TARGET = 20.0  # a steady frame at least this many times cheaper than the peer's frame
CAMERA_NOISE = 4.0  # std of the gray levels' noise in each streamed frame (a webcam's, in ordinary light)

# Each side's timing loop: argv = [kind, repeats, settling frames, steady frames, noise, *png paths]; prints {"ms":
# [per-photo p50], "faces": [...]}, and for our sides "steady_ms": [per-photo mean of a settled streamed frame].
SIDE = """
import json, statistics, sys, time
import cv2
import numpy as np
kind, repeats, settling, steady, noise = sys.argv[1], *map(int, sys.argv[2:5]), float(sys.argv[5])
paths = sys.argv[6:]
bgr = [cv2.imread(p) for p in paths]
if kind == "peer":
    from fer.fer import FER
    peer = FER()
    answer = lambda image: len(peer.detect_emotions(image))
else:
    from fer.pipeline import Pipeline
    from fer.tracking import FaceTracker
    pipe = Pipeline(kind)
    answer = lambda image: len(pipe.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).faces)
faces = [answer(image) for image in bgr]
ms = []
for image in bgr:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        answer(image)
        times.append(1000 * (time.perf_counter() - start))
    ms.append(statistics.median(times))
figures = {"ms": ms, "faces": faces}
if kind != "peer":
    figures["steady_ms"] = []
    rng = np.random.default_rng(0)
    for image in bgr:
        rgb, tracker = cv2.cvtColor(image, cv2.COLOR_BGR2RGB), FaceTracker()
        shots = [np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 255).astype(np.uint8) for _ in range(8)]
        for i in range(settling + steady):
            if i == settling:
                start = time.perf_counter()
            pipe.process(shots[i % len(shots)], tracker=tracker, t=i / 30)
        figures["steady_ms"].append(1000 * (time.perf_counter() - start) / steady)
print(json.dumps(figures))
"""


def photos(groups: Path | None) -> dict[str, np.ndarray]:
    """RGB photos at 720p: the astronaut on a 1280x720 wall, and the group photos when given."""
    wall = np.full((HEIGHT, 1280, 3), 128, np.uint8)
    wall[:, 280:1000] = cv2.resize(data.astronaut(), (HEIGHT, HEIGHT), interpolation=cv2.INTER_AREA)
    found = {"astronaut": wall}
    for photo in load_groups(groups) if groups else []:
        found[photo.name] = photo.at_height(HEIGHT)[0]
    return found


def run_side(kind: str, paths: list[str], peer_site: Path) -> dict:
    """One side's figures, measured in a fresh process (the peer from its own folder, away from this checkout)."""
    env = dict(os.environ)
    if kind == "peer":
        env["PYTHONPATH"], cwd = str(peer_site), tempfile.gettempdir()
    else:
        env["PYTHONPATH"], cwd = str(ROOT), str(ROOT)
    counts = map(str, (REPEATS, SETTLING_FRAMES, STEADY_FRAMES, CAMERA_NOISE))
    done = subprocess.run([sys.executable, "-c", SIDE, kind, *counts, *paths], cwd=cwd, env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-site", type=Path, required=True, help="folder the peer `fer` is installed in")
    parser.add_argument("--groups", type=Path, help="real group photos with face boxes (dlib imglab XML)")
    parser.add_argument("--json", type=Path, help="write every figure and the machine here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (args.peer_site / "fer" / "fer.py").is_file():
        log.error("error: %s holds no peer fer (see the install line in --help)", args.peer_site)
        return 2
    shots = photos(args.groups)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, rgb in enumerate(shots.values()):
            paths.append(str(Path(folder) / f"{number}.png"))
            cv2.imwrite(paths[-1], cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        turns: dict[str, list[dict]] = {}
        for _ in range(ROUNDS):
            for kind in ("peer", *DETECTORS):
                turns.setdefault(kind, []).append(run_side(kind, paths, args.peer_site))
    results: dict = {"machine": machine_info(), "photos": list(shots), "sides": {}}
    for kind, runs in turns.items():
        per_photo = [statistics.median(run["ms"][i] for run in runs) for i in range(len(shots))]
        results["sides"][kind] = {"ms_per_photo": [round(ms, 1) for ms in per_photo],
                                  "ms_mean": round(statistics.fmean(per_photo), 1), "faces": runs[0]["faces"]}
        if "steady_ms" in runs[0]:
            steady = [statistics.median(run["steady_ms"][i] for run in runs) for i in range(len(shots))]
            results["sides"][kind]["steady_ms_per_photo"] = [round(ms, 2) for ms in steady]
            results["sides"][kind]["steady_ms_mean"] = round(statistics.fmean(steady), 2)
    peer = results["sides"]["peer"]["ms_mean"]
    log.info("%s, %s cores; %d photos at %dp (%s)", results["machine"]["cpu"], results["machine"]["cores"],
             len(shots), HEIGHT, ", ".join(shots))
    for kind, side in results["sides"].items():
        side["ratio_to_peer"] = round(side["ms_mean"] / peer, 2)
        log.info("%-15s %7.1f ms a photo  x%.2f the peer  faces %s", kind, side["ms_mean"], side["ratio_to_peer"],
                 side["faces"])
        if "steady_ms_mean" in side:
            side["steady_times_cheaper_than_peer"] = round(peer / side["steady_ms_mean"], 1)
            log.info("%-15s %7.2f ms a settled streamed frame, searches included: %.1fx cheaper than the peer's", "",
                     side["steady_ms_mean"], side["steady_times_cheaper_than_peer"])
    log.info("targets: our default's photo at most x%.1f the peer's time; its streamed frame at least %gx cheaper",
             TARGET_RATIO, STEADY_TARGET)
    save_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
