"""The live tab against Gradio's identity ceiling, with viewers that speak the page's protocol instead of Chromium.

    python -m devtools.live_ceiling --json live-ceiling.json

The stamped-frame harness (tests/test_browser*.py) runs Chromium on the server's own cores, where it takes 1.2-1.4
of the 2: it measures what one machine can be both server and viewer for. Deployed, the viewer's browser runs on
the viewer's computer. Here each side, the app (`app.py`) and the ceiling (`tests/identity_app.py`, the same
output image with an identity handler), gets one viewer of devtools/stream_client.py, which costs the client a few
ms a frame, posting the stamped webcam's frames every 1/LIVE_FPS s as the page does. For each webcam: annotated
frames a second over WINDOW_S (after WARMUP_S) and the server's CPU a delivered frame, the sides taking turns,
ROUNDS times. The webcam sends LIVE_FPS frames a second, so neither side can deliver more.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from devtools.benchmark import machine_info, save_json
from devtools.browser import CAMERA_FRAMES, cpu_seconds, process_tree
from devtools.frames import stamped_faces_frames
from devtools.server import ROOT, running_app
from devtools.stream_client import Viewers
from fer.config import LIVE_FPS

WARMUP_S = 4.0  # the first searches and the model's first batch
WINDOW_S = 15.0
ROUNDS = 2
CAMERAS = {"one face, 640x480": (640, 480, 1), "seven faces, 1280x720": (1280, 720, 7)}
SIDES = {"app": ROOT / "app.py", "ceiling": ROOT / "tests" / "identity_app.py"}


def measure(script: Path, frames: list, log: Path) -> dict:
    """Frames a second one protocol viewer gets back from `script`'s server, and that server's CPU a frame."""
    with running_app(log, script=script) as app:
        viewers = Viewers(app.url, frames, 1)
        try:
            time.sleep(WARMUP_S)
            server = process_tree(app.proc.pid)
            frames_before, cpu_before, start = viewers.annotated()[0], cpu_seconds(server), time.monotonic()
            time.sleep(WINDOW_S)
            delivered, cpu = viewers.annotated()[0] - frames_before, cpu_seconds(server) - cpu_before
            elapsed = time.monotonic() - start
        finally:
            errors = viewers.close()
    if errors:
        raise RuntimeError(f"{script.name}'s viewer failed: {errors[0]}")
    return {"frames_per_s": delivered / elapsed, "server_cores": cpu / elapsed,
            "server_cpu_ms_a_frame": 1000 * cpu / max(1, delivered)}


def run(rounds: int = ROUNDS) -> dict:
    """{camera: [{"app": figures, "ceiling": figures, "ratio": app / ceiling frames a second}, one per round]}."""
    results: dict[str, list] = {camera: [] for camera in CAMERAS}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for camera, (width, height, faces) in CAMERAS.items():
                frames = stamped_faces_frames(CAMERA_FRAMES, width, height, faces=faces)
                figures = {side: measure(script, frames, Path(folder) / f"{side}.log")
                           for side, script in SIDES.items()}
                figures["ratio"] = figures["app"]["frames_per_s"] / figures["ceiling"]["frames_per_s"]
                results[camera].append(figures)
                print(f"{camera}: app {figures['app']['frames_per_s']:.1f} frames/s "
                      f"({figures['app']['server_cpu_ms_a_frame']:.1f} ms of server CPU a frame), ceiling "
                      f"{figures['ceiling']['frames_per_s']:.1f} ({figures['ceiling']['server_cpu_ms_a_frame']:.1f} ms)"
                      f": {figures['ratio']:.2f} of the ceiling; the webcam sends {LIVE_FPS}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--json", type=Path, help="write the figures and the machine here")
    args = parser.parse_args(argv)
    save_json(args.json, {"machine": machine_info(), "live_fps": LIVE_FPS, "cameras": run(args.rounds)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
