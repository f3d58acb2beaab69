"""Soak: N live sessions of the app for M minutes; the app's memory and each session's frame rate every interval,
then the memory after the pages close.

    python -m devtools.soak --sessions 1 --minutes 60 --json soak-1x60.json
    python -m devtools.soak --sessions 4 --minutes 15 --viewers protocol --json soak-4x15-protocol.json
    python -m devtools.soak --sessions 1 --minutes 3 --app-env MALLOC_ARENA_MAX=8   # try an allocator setting

Each session is a page of its own (its own Gradio session and LiveSession) whose fake webcam plays the stamped
astronaut (one face, 640x480, unless --faces/--width/--height say otherwise): by default pages in one headless
Chromium; with `--viewers protocol`, viewers that speak the page's protocol without a browser
(devtools/stream_client.py), so that several sessions on a 2-core machine measure the server, not Chromium.
The app runs as `python app.py` in a process group of its own; "RSS" is that process's resident memory plus its
children's. Prints a line per sample and writes everything, with the machine, to --json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import psutil

from devtools.benchmark import machine_info
from devtools.browser import CAMERA_FPS, CAMERA_FRAMES, COUNT_FRAMES, chromium_with_camera, start_live
from devtools.frames import stamped_faces_frames, write_y4m
from devtools.server import running_app
from devtools.stream_client import Viewers


def app_rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (ffmpeg, workers), in MB (10^6 bytes)."""
    proc = psutil.Process(pid)
    total = 0
    for each in [proc, *proc.children(recursive=True)]:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1, help="live pages at once (default %(default)s)")
    parser.add_argument("--minutes", type=float, default=60.0, help="how long they stream (default %(default)s)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples (default %(default)s)")
    parser.add_argument("--after-close", type=float, default=60.0,
                        help="seconds to keep sampling once the pages are closed (default %(default)s)")
    parser.add_argument("--viewers", choices=("chromium", "protocol"), default="chromium",
                        help="pages in Chromium, or browserless viewers of the same protocol (default %(default)s)")
    parser.add_argument("--faces", type=int, default=1)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--app-env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable for the app (repeatable)")
    parser.add_argument("--json", type=Path, help="write the samples and the machine here")
    parser.add_argument("app_args", nargs="*", help="arguments for app.py (after --)")
    return parser.parse_args(argv)


def summarise(samples: list[dict], closed: list[dict], baseline_mb: float, minutes: float) -> dict:
    """The figures issue #19 targets: growth after the first minute, frame rate last 5 minutes / first 5,
    slowest / fastest session, and memory after the pages closed against the level before any session."""
    after_first = [s for s in samples if s["t_s"] >= 60] or samples
    window = min(5.0, minutes / 3) * 60
    first = [s for s in samples if s["t_s"] <= window]
    last = [s for s in samples if s["t_s"] > minutes * 60 - window]

    def mean_total(rows: list[dict]) -> float:
        return sum(sum(row["fps"]) for row in rows) / max(1, len(rows))

    per_session = [sum(row["fps"][k] for row in samples) / len(samples) for k in range(len(samples[0]["fps"]))]
    return {
        "rss_first_minute_mb": after_first[0]["rss_mb"],
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_growth_after_first_minute_mb": samples[-1]["rss_mb"] - after_first[0]["rss_mb"],
        "rss_before_sessions_mb": baseline_mb,
        "rss_after_close_mb": closed[-1]["rss_mb"] if closed else None,
        "fps_total_mean": sum(per_session),
        "fps_per_session_mean": per_session,
        "fps_slowest_over_fastest": min(per_session) / max(per_session) if max(per_session) else 0.0,
        "fps_last_over_first": mean_total(last) / mean_total(first) if mean_total(first) else 0.0,
        "window_s": window,
    }


@contextlib.contextmanager
def live_viewers(kind: str, url: str, frames: list[np.ndarray], sessions: int, folder: Path) -> Iterator[Callable]:
    """`sessions` live viewers of the app at `url` (Chromium pages, or protocol viewers), streaming `frames`
    until the block ends, when their pages close. Yields a function giving each one's annotated frames so far."""
    if kind == "protocol":
        viewers = Viewers(url, frames, sessions)
        try:
            yield viewers.annotated
        finally:
            if errors := viewers.close():
                print("viewers' errors:", *errors[:5], sep="\n  ", flush=True)
        return
    from playwright.sync_api import sync_playwright

    y4m = write_y4m(folder / "camera.y4m", frames, CAMERA_FPS)
    with sync_playwright() as playwright, chromium_with_camera(playwright, y4m) as browser:
        pages = [start_live(browser, url) for _ in range(sessions)]
        for page in pages:
            assert page.evaluate(COUNT_FRAMES, "Annotated"), "no annotated image on the page"
        try:
            yield lambda: [page.evaluate("window.__frames") for page in pages]
        finally:
            for page in pages:
                page.close()


def soak(args: argparse.Namespace) -> dict:
    env = dict(pair.split("=", 1) for pair in args.app_env)
    with tempfile.TemporaryDirectory(prefix="fer-soak-") as tmp:
        tmp_path = Path(tmp)
        frames = stamped_faces_frames(CAMERA_FRAMES, args.width, args.height, args.faces)
        samples, closed = [], []
        with running_app(tmp_path / "app.log", *args.app_args, env=env) as app:
            time.sleep(2)
            baseline = app_rss_mb(app.proc.pid)
            print(f"app RSS before any session: {baseline:.0f} MB", flush=True)
            with live_viewers(args.viewers, app.url, frames, args.sessions, tmp_path) as annotated:
                start = last_t = time.monotonic()
                counts = [0] * args.sessions
                while (now := time.monotonic()) - start < args.minutes * 60:
                    time.sleep(max(0.0, min(args.interval, start + args.minutes * 60 - now)))
                    now = time.monotonic()
                    new_counts = annotated()
                    fps = [(new - old) / (now - last_t) for new, old in zip(new_counts, counts, strict=True)]
                    counts, last_t = new_counts, now
                    sample = {"t_s": round(now - start, 1), "rss_mb": round(app_rss_mb(app.proc.pid), 1),
                              "fps": [round(rate, 2) for rate in fps]}
                    samples.append(sample)
                    print(f"{sample['t_s']:7.0f} s  RSS {sample['rss_mb']:7.1f} MB  frames/s "
                          + " ".join(f"{rate:5.1f}" for rate in fps), flush=True)
            closed_at = time.monotonic()
            while (now := time.monotonic()) - closed_at < args.after_close:
                time.sleep(min(10.0, args.after_close))
                closed.append({"t_s": round(time.monotonic() - closed_at, 1),
                               "rss_mb": round(app_rss_mb(app.proc.pid), 1)})
                print(f"pages closed {closed[-1]['t_s']:4.0f} s  RSS {closed[-1]['rss_mb']:7.1f} MB", flush=True)
    summary = summarise(samples, closed, baseline, args.minutes)
    return {"machine": machine_info(), "settings": {k: str(v) for k, v in vars(args).items()},
            "samples": samples, "after_close": closed, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = soak(args)
    print(json.dumps(result["summary"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
