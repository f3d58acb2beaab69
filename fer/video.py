"""Annotates a recorded video: every frame boxed and labelled, a CSV row per face, and the class's mood.

    python -m fer.video lesson.mp4 --out annotated.mp4 --csv faces.csv
    python -m fer.video lesson.mp4 --detector mediapipe-full --every 3   # analyse every 3rd frame
    python -m fer.video lesson.mp4 --out a.mp4 --csv f.csv --report r.html  # and a report that opens offline
    python -m fer.video lesson.mp4 --aggregate-only --report r.html      # only the class mix: the report alone

Frames are streamed, so memory stays flat for any length. Timestamps come from the video itself.
The output is H.264 MP4 (yuv420p, faststart), which every browser plays. It is encoded by the ffmpeg
binary that the imageio-ffmpeg wheel ships: OpenCV's pip wheels have no H.264 encoder, and the VP9
they can put in an .mp4 is not played everywhere (Gradio does not count it as playable).
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import cv2
import imageio_ffmpeg
import numpy as np
import pandas as pd
from tqdm import tqdm

from fer.config import DEFAULT_DETECTOR, MAX_VIDEO_S, VIDEO_CRF, VIDEO_DEFAULT_FPS, VIDEO_PRESET
from fer.detectors import DETECTORS, detector_name
from fer.draw import annotate
from fer.lecture_report import Recording, lecture_html, write_html
from fer.pipeline import Pipeline
from fer.session import SessionLog, long_form
from fer.tracking import FaceTracker
from fer.types import Face, FaceDetector

log = logging.getLogger("fer.video")

Progress = Callable[[int, int | None], None]  # (frames done, total frames or None when unknown)


class VideoError(ValueError):
    """A file that cannot be read as a video; the message is one line naming the file and the problem."""


def duration(seconds: float) -> str:
    """"95 s" or "20 min", as people say a video's length."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _looks_like_text(head: bytes) -> bool:
    """True for text (FFmpeg would render a .txt as ANSI art); video containers are binary."""
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 3  # only a multi-byte character cut off at the end
    return True


class VideoReader:
    """Streams a video's frames without loading it whole; validates the file when opened.

    Attributes:
        fps: the container's frame rate, or VIDEO_DEFAULT_FPS when it has none.
        frame_count: frames the container claims (may be approximate); None when unknown.
        width, height: frame size in pixels.
    Raises:
        VideoError: missing, unreadable, empty, text, or not decodable as video, no frames, or longer
            than `max_seconds` (by its header; MAX_VIDEO_S by default).
    """

    def __init__(self, path: str | Path, max_seconds: float = MAX_VIDEO_S):
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                head = f.read(4096)
        except OSError as err:
            raise VideoError(f"{self.path}: cannot read ({err.strerror or err})") from None
        if not head:
            raise VideoError(f"{self.path}: empty file")
        if _looks_like_text(head):
            raise VideoError(f"{self.path}: a text file, not a video")
        self._capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        ok, bgr = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok:
            self._capture.release()
            raise VideoError(f"{self.path}: not a video that FFmpeg can decode (or it has no frames)")
        self._first = bgr
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else VIDEO_DEFAULT_FPS
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)  # FFmpeg's "no value" shows up as -9.2e18
        self.frame_count = int(count) if math.isfinite(count) and 0 < count < 1e9 else None
        self.height, self.width = bgr.shape[:2]
        if self.frame_count is not None and self.frame_count / self.fps > max_seconds:
            self._capture.release()
            raise VideoError(f"{self.path}: {duration(self.frame_count / self.fps)} long, over the "
                             f"{duration(max_seconds)} limit: cut it into parts first")

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """Yields (frame index, time in seconds, RGB uint8 (H, W, 3)); the time is the frame's own
        timestamp, or index / fps where the container has none. Iterate once."""
        index, bgr = 0, self._first
        while bgr is not None:
            msec = self._capture.get(cv2.CAP_PROP_POS_MSEC)  # timestamp of the frame just read
            time_s = msec / 1000 if math.isfinite(msec) and msec > 0 else index / self.fps
            yield index, time_s, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            ok, bgr = self._capture.read()
            bgr = bgr if ok else None
            index += 1

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Mp4Writer:
    """Writes RGB uint8 (H, W, 3) frames to a browser-playable H.264 .mp4 through imageio-ffmpeg.

    Args:
        path: output file; must end in .mp4.
        fps: frame rate stored in the file.
        size: (width, height) of every frame; odd sizes are padded by one pixel (yuv420p needs even).
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]):
        self.size = size
        self._frames = imageio_ffmpeg.write_frames(
            str(path), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            quality=None, macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-crf", str(VIDEO_CRF), "-preset", VIDEO_PRESET, "-movflags", "+faststart",
                           "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"],
        )
        self._frames.send(None)  # starts ffmpeg

    def write(self, rgb: np.ndarray) -> None:
        if (rgb.shape[1], rgb.shape[0]) != self.size:  # a stream whose frame size changes midway
            rgb = cv2.resize(rgb, self.size)
        self._frames.send(np.ascontiguousarray(rgb))

    def close(self) -> None:
        """Finishes the file (waits for ffmpeg)."""
        self._frames.close()


@dataclass(frozen=True)
class VideoResult:
    """What annotate_video produced, and what an app shows for it."""

    video: Path | None  # the annotated H.264 .mp4, as many frames as the source; None if none was asked for
    csv: Path | None  # one row per face per analysed frame (fer.session.CSV_COLUMNS); None if none was asked for
    frames: int  # frames read and written
    analysed: int  # frames run through the detector and classifier
    fps: float  # the source's frame rate, kept in the output
    seconds: float  # wall-clock processing time
    points: pd.DataFrame  # Timeline.points(): the mix and the faces in view over time
    summary: dict  # SessionStats.summary(); fer.markdown.summary_markdown renders it
    source: Path
    date: str | None  # when the source was recorded, if it says (recording_date)
    detector: str  # its registered name, or the class name of a detector object
    every: int
    aggregate_only: bool

    @property
    def timeline(self) -> pd.DataFrame:
        """The mix over time in long form (Timeline.to_frame()): time_s, emotion, share."""
        return long_form(self.points)


def annotate_video(src: str | Path, out_video: str | Path | None, out_csv: str | Path | None,
                   detector: str | FaceDetector = DEFAULT_DETECTOR, every: int = 1,
                   progress: Progress | None = None, aggregate_only: bool = False) -> VideoResult:
    """Tracks and classifies the faces of a video and writes the annotated copy and the face CSV.

    Args:
        src: any video FFmpeg reads.
        out_video: the annotated .mp4 (H.264); its folder is created if needed. None: not written.
        out_csv: the face rows (see fer.session.CSV_COLUMNS); its folder is created if needed. None: not written.
        detector: a registered detector name, or an object with `detect(frame) -> list[Box]`.
        every: analyse every Nth frame; frames between reuse the last analysed boxes and labels,
            so every output frame is annotated. Tracking runs on the video's own timestamps, so
            smoothing and ID memory last as many seconds for any N.
        progress: called after each frame with (frames done, total frames or None); an exception
            it raises stops the run (e.g. a viewer who left) and propagates.
        aggregate_only: only the class mix over time (timeline and summary, see fer.session.SessionLog);
            out_video and out_csv must then be None.
    Returns:
        VideoResult with the paths, counts, timeline and summary.
    Raises:
        VideoError: `src` is not a readable video.
        ValueError: `every` < 1, an output name not ending in .mp4, or one that is the input; per-face
            outputs asked for with aggregate_only.
    A run that raises deletes the partial annotated video and CSV.
    """
    src = Path(src)
    outputs = [Path(path) for path in (out_video, out_csv) if path is not None]
    out_video, out_csv = (None if path is None else Path(path) for path in (out_video, out_csv))
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    if aggregate_only and outputs:
        raise ValueError("aggregate_only writes no per-face output: pass out_video=None and out_csv=None")
    if out_video is not None and out_video.suffix.lower() != ".mp4":
        raise ValueError(f"{out_video}: the annotated video is H.264 MP4, so its name must end in .mp4")
    if any(path.resolve() == src.resolve() for path in outputs):
        raise ValueError(f"{src}: an output would overwrite the input video")
    pipe = Pipeline(detector)
    started = time.perf_counter()
    with VideoReader(src) as reader:
        for path in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
        tracker = FaceTracker()
        session_log = SessionLog(out_csv, aggregate_only=aggregate_only)
        writer = None if out_video is None else Mp4Writer(out_video, reader.fps, (reader.width, reader.height))
        faces: list[Face] = []
        frames = 0
        finished = False
        try:
            for index, time_s, rgb in reader:
                if index % every == 0:
                    result = pipe.process(rgb, tracker=tracker, t=time_s)
                    faces = result.faces
                    session_log.record(faces, time_s=time_s, frame=index)
                    if writer is not None:
                        writer.write(result.annotated)
                elif writer is not None:
                    writer.write(annotate(rgb, faces))
                frames = index + 1
                if progress is not None:
                    progress(frames, reader.frame_count)
            finished = True
        finally:
            if writer is not None:
                writer.close()
            if not finished:  # failed, or stopped by an exception from `progress`: no partial output is left
                for path in outputs:
                    path.unlink(missing_ok=True)
    return VideoResult(
        video=out_video, csv=out_csv, frames=frames, analysed=session_log.stats.frames, fps=reader.fps,
        seconds=time.perf_counter() - started, points=session_log.timeline.points(),
        summary=session_log.stats.summary(), source=src, date=recording_date(src), detector=detector_name(detector),
        every=every,
        aggregate_only=aggregate_only,
    )


def recording_date(path: str | Path) -> str | None:
    """When a video was recorded, from its container's creation_time tag (cameras and phones set it), as
    "YYYY-MM-DD HH:MM UTC"; None when it has none. File dates are not used: a copy or an upload resets them."""
    try:
        probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                               capture_output=True, text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"creation_time\s*:\s*(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", probe.stderr)
    return None if found is None or found[1].startswith("1970") else f"{found[1]} {found[2]} UTC"


def frame_at(path: Path, time_s: float) -> np.ndarray | None:
    """The RGB frame of a video at `time_s` seconds, or None if it cannot be read there."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        capture.set(cv2.CAP_PROP_POS_MSEC, time_s * 1000)
        ok, bgr = capture.read()
    finally:
        capture.release()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else None


def video_report(result: VideoResult) -> str:
    """The report of an annotated video (fer.lecture_report): its moments show stills of the annotated video
    when there is one, never in aggregate-only mode."""
    every = "every frame" if result.every == 1 else f"1 frame in {result.every}"
    settings = {"detector": result.detector, "analysed": every}
    if result.aggregate_only:
        settings["mode"] = "aggregate only"
    video = result.video
    return lecture_html(Recording(
        title=result.source.name, points=result.points, summary=result.summary, settings=settings,
        date=result.date, aggregate_only=result.aggregate_only,
        still=None if video is None else (lambda t: frame_at(video, t)),
        extra={"faces in view at most": str(result.summary["max_faces_in_frame"])} if result.aggregate_only else {},
    ))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, help="input video (any format FFmpeg reads)")
    parser.add_argument("--out", type=Path, help="annotated H.264 .mp4 (default: VIDEO-annotated.mp4 beside it)")
    parser.add_argument("--csv", type=Path, help="face rows (default: VIDEO-faces.csv beside it)")
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list(DETECTORS))
    parser.add_argument("--every", type=int, default=1, help="analyse every Nth frame (default 1: all)")
    parser.add_argument("--report", type=Path, help="also write a report that opens offline in any browser (.html)")
    parser.add_argument("--aggregate-only", action="store_true",
                        help="only the class's expression mix: no annotated video, no face CSV, nothing per face "
                             "in the report (use with --report)")
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error("--every must be at least 1")
    if args.aggregate_only:
        if args.out or args.csv:
            parser.error("--aggregate-only writes nothing per face: drop --out and --csv")
        if not args.report:
            parser.error("--aggregate-only writes only the report: give --report FILE.html")
        return args
    args.out = args.out or args.video.with_name(f"{args.video.stem}-annotated.mp4")
    args.csv = args.csv or args.video.with_name(f"{args.video.stem}-faces.csv")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bar: tqdm | None = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:  # opened only once the video has proved readable
            bar = tqdm(total=total, unit="frame", desc=args.video.name)
        bar.update(done - bar.n)

    try:
        result = annotate_video(args.video, args.out, args.csv, args.detector, args.every, progress,
                                args.aggregate_only)
        if args.report:
            write_html(args.report, video_report(result))
    except ValueError as err:  # VideoError, or an output name that is not .mp4: the user's input, not a bug
        log.error("error: %s", err)
        return 2
    finally:
        if bar is not None:
            bar.close()
    log.info("%s: %d frames (%d analysed) in %.1f s, %.1f frames/s; %d face IDs; %d rows in %s",
             result.video, result.frames, result.analysed, result.seconds, result.frames / result.seconds,
             result.summary["faces_seen"], result.summary["rows"], result.csv)
    if args.report:
        log.info("report: %s", args.report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
