"""Test frames built from a real face photo, plus a running app server shared by the app and browser tests.

Frames are RGB uint8 (H, W, 3), like everything inside `fer/`. Each face helper returns the frame and
the pasted face regions as `Box`es, so a test can check that a detection lands on the face.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from fer import Box
from fer.benchmark import face_crop, free_port, paste_centered, resize_to_height, stop  # the benchmark's helpers

ROOT = Path(__file__).resolve().parent.parent
BACKGROUND = (200, 200, 200)  # plain light grey, RGB
SERVER_TIMEOUT = 90  # seconds the app may take to start answering


def paste(frame: np.ndarray, face_h: int, cx: int, cy: int) -> Box:
    """Pastes the face, scaled to `face_h` pixels tall, centred on (cx, cy); returns where it went."""
    face = resize_to_height(face_crop(), face_h)
    paste_centered(frame, face, cx, cy)
    h, w = face.shape[:2]
    return Box(cx - w // 2, cy - h // 2, w, h)


def face_frame(width: int = 640, height: int = 480) -> tuple[np.ndarray, Box]:
    """One face, half the frame's height, centred on a plain background (240 px at 640x480, 360 at 1280x720)."""
    frame = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    return frame, paste(frame, height // 2, width // 2, height // 2)


def tiled_frame(tile: int = 200) -> tuple[np.ndarray, list[Box]]:
    """Four faces, the crop 2x2 tiled with each tile `tile` px tall: (2 tile, 2 tile * 220/240, 3)."""
    crop = resize_to_height(face_crop(), tile)
    frame = np.ascontiguousarray(np.tile(crop, (2, 2, 1)))
    h, w = crop.shape[:2]
    return frame, [Box(col * w, row * h, w, h) for row in (0, 1) for col in (0, 1)]


def blank_frame(width: int = 640, height: int = 480) -> np.ndarray:
    return np.zeros((height, width, 3), dtype=np.uint8)


def noise_frame(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """Uniform RGB noise, reproducible per seed."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def overlap(a: Box, b: Box) -> float:
    """Intersection area over the smaller box's area: 1.0 when one box lies inside the other."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(0, w) * max(0, h) / min(a.area, b.area)


def inside(box: Box, width: int, height: int) -> bool:
    """Whether a non-empty box lies wholly inside a width x height frame."""
    return box.w > 0 and box.h > 0 and box.x >= 0 and box.y >= 0 and box.x + box.w <= width and box.y + box.h <= height


def write_png(path: Path, rgb: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


def drifting_face_frames(count: int = 30, width: int = 640, height: int = 480) -> list[np.ndarray]:
    """One face, half the frame tall, drifting a few pixels left and right: every frame differs."""
    frames = []
    for i in range(count):
        frame = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        paste(frame, height // 2, width // 2 + round(12 * np.sin(2 * np.pi * i / count)), height // 2)
        frames.append(frame)
    return frames


def moving_face_frames(count: int = 30, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """One face, half the frame tall, sliding from the left edge to the right: a short recorded clip."""
    face_w = round(height // 2 * face_crop().shape[1] / face_crop().shape[0])
    left, right = face_w // 2 + 10, width - face_w // 2 - 10  # centre positions, 10 px from each edge
    frames = []
    for i in range(count):
        frame = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
        paste(frame, height // 2, left + round((right - left) * i / max(1, count - 1)), height // 2)
        frames.append(frame)
    return frames


VIDEO_FOURCC = {".avi": "MJPG", ".mp4": "mp4v"}  # codecs every OpenCV wheel can write


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15) -> Path:
    """RGB frames as a video OpenCV writes without extra encoders: MJPG .avi or MPEG-4 Part 2 .mp4.

    Neither is H.264, so a browser may not preview it; FFmpeg (and so the app) reads both.
    """
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC[path.suffix]), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"could not write {path}")
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """RGB frames as a YUV4MPEG2 (I420) video: what Chromium's fake webcam plays, in a loop."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:  # I420: the Y plane, then U and V at quarter size
            f.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@contextlib.contextmanager
def running_app(log_path: Path, *args: str) -> Iterator[str]:
    """Runs `python app.py --port <free port> *args` until the block ends; yields the app's URL.

    Raises:
        RuntimeError: the app exited or did not answer within SERVER_TIMEOUT (the message quotes its log).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    env.pop("GRADIO_SHARE", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *args], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(proc, url)
        except RuntimeError as err:
            stop(proc)
            raise RuntimeError(f"{err}; app.py's output:\n{log_path.read_text(errors='replace')[-3000:]}") from None
        try:
            yield url
        finally:
            stop(proc)


def wait_until_up(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer within {SERVER_TIMEOUT} s")
