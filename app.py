"""fer web app: live webcam, photo or recorded video -> faces boxed and labelled with their expression.

    python app.py                       # http://127.0.0.1:7860
    python app.py --share               # also a public link for a class (or GRADIO_SHARE=1)
    python app.py --port 8000 --detector mediapipe
    python app.py --aggregate-only      # only the class's expression mix ever leaves the server

UI wiring only: all the work happens in the `fer` library.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import ctypes
import ctypes.util
import functools
import gc
import io
import os
import signal
import tempfile
import threading
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.blocks import BlockFunction
from gradio.data_classes import ImageData
from gradio.queueing import Event, Queue
from gradio.utils import get_upload_folder
from PIL import Image

from fer import FrameResult, Pipeline
from fer.config import (
    AGGREGATE_MIN_FACES,
    DEFAULT_DETECTOR,
    EMOTIONS,
    FORGET_AFTER_S,
    LIVE_CONCURRENCY,
    LIVE_FPS,
    LIVE_JPEG_QUALITY,
    MALLOC_ARENAS,
    MALLOC_TRIM_EVERY_S,
    MAX_QUEUE,
    MAX_UPLOAD,
    PHOTO_CONCURRENCY,
    STATE_SESSIONS,
    SWEEP_EVERY_S,
    VIDEO_CONCURRENCY,
)
from fer.detectors import DETECTORS, detector_label
from fer.images import read_image
from fer.lecture_report import hex_color, mix_svg, write_html
from fer.live import LiveSession
from fer.markdown import summary_markdown
from fer.session import EU_NOTICE, CsvStopped, anonymous_crowd, label_shares
from fer.session.files import SessionFiles
from fer.video import VideoError, annotate_video, video_report

INTRO = """# fer: live facial emotion recognition
Boxes every face and labels its **facial expression** (angry, disgust, fear, happy, sad, surprise, neutral).
Expressions are not feelings, comprehension or attention: read them as one rough signal among many.
A light grey **?** marks a face the model is unsure about; a grey *too small*, one too small to read.

**Privacy:** live webcam frames are analysed in memory and never stored. Your uploads, results and face log
are deleted when you close this page (download what you want to keep first), after {forget_min} minutes
unused, and when the server stops.

**EU law:** """ + EU_NOTICE
NO_FACE = "No face found: a face is found when it is turned to the camera, lit, and not too small in the picture."
PHOTO_JPEG_QUALITY = 90

CHART_LABEL = "Largest face (the class mix when aggregate only)"
AGGREGATE_LABEL = "Aggregate only: show the class's expression mix, never an individual face"
TOO_FEW = (f"Aggregate only: fewer than {AGGREGATE_MIN_FACES} readable faces in view, so nothing is shown "
           "(no single person's expression can be read out).")

# Set by build_ui: this server's per-viewer folders (uploads, annotated photos and videos, CSVs), and
# whether aggregate-only mode is forced for every viewer and API call (--aggregate-only).
session_files: SessionFiles | None = None
aggregate_forced = False
# Each viewer's live session, so closing the page ends it at once: Gradio keeps a closed page's gr.State for an
# hour (SessionState.STATE_TTL_WHEN_CLOSED) before its delete_callback runs.
live_sessions: dict[str, LiveSession] = {}


async def wait_for_next_frame(event: Event, timeout: float) -> str:
    """Waits until a stream's next frame arrives ("signal") or `timeout` seconds pass ("timeout").

    Stands in for Gradio 6.31's `Queue.wait_for_event_or_timeout` (gradio/queueing.py), which waits with two
    tasks, the frame's signal and `asyncio.sleep(timeout)`, and cancels neither. Between two frames of a stream
    the timeout is the stream's `time_limit`, an hour here, so every frame left a task asleep for an hour, and
    the task's copy of the request's context variables kept that frame's session config and outputs alive:
    about 130 KB a frame, 35 MB a minute for one live viewer, never freed while the server ran. Here the
    timeout ends with the wait.
    """
    try:
        await asyncio.wait_for(event.signal.wait(), timeout)
        result = "signal"
    except TimeoutError:
        result = "timeout"
    event.signal.clear()
    return result


async def postprocess_skipping_unchanged(blocks: gr.Blocks, block_fn: BlockFunction, predictions, state):
    """Gradio's `Blocks.postprocess_data` for the outputs that change; a skipped one (`gr.skip()`) is answered
    as skipped without passing through it.

    Gradio 6.31 answers every `gr.skip()` (a property update) by building a new instance of the output component
    and refreshing its config (blocks.py, `postprocess_data`): about a millisecond each, in the server's event loop,
    where the live stream skips its chart, status, timeline and summary on most frames (3-4 ms of CPU a frame,
    measured). Each new instance was also stored in the viewer's session under a new ID, so the next real value
    for that output was filed twice (`_update_value_in_config`): a copy of the timeline per skip, kept until an
    hour after the page closed.
    """
    if not isinstance(predictions, list | tuple) or len(predictions) != len(block_fn.outputs):
        return await postprocess_data(blocks, block_fn, predictions, state)
    changed = [i for i, value in enumerate(predictions) if not (isinstance(value, dict) and value == SKIPPED)]
    if len(changed) == len(predictions):
        return await postprocess_data(blocks, block_fn, predictions, state)
    subset = copy.copy(block_fn)
    subset.outputs = [block_fn.outputs[i] for i in changed]
    answers = await postprocess_data(blocks, subset, [predictions[i] for i in changed], state) if changed else []
    merged = [dict(SKIPPED) for _ in predictions]
    for i, answer in zip(changed, answers, strict=True):
        merged[i] = answer
    return merged


Queue.wait_for_event_or_timeout = staticmethod(wait_for_next_frame)
SKIPPED = gr.skip()
postprocess_data = gr.Blocks.postprocess_data
gr.Blocks.postprocess_data = postprocess_skipping_unchanged


class ViewerLeft(Exception):
    """The viewer's session ended while their video was being annotated."""


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has malloc_trim), else None: macOS and musl need none of this."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


LIBC = glibc()
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def limit_malloc_arenas() -> None:
    """At most MALLOC_ARENAS glibc arenas for this server's threads (see fer.config)."""
    if LIBC is not None:
        LIBC.mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def release_freed_memory() -> None:
    """Hands memory a closed session freed back to the system: glibc keeps freed blocks in its arenas, so a
    closed 720p page's frames would otherwise stay resident (docs/benchmarks.md, "An hour-long class")."""
    gc.collect()
    if LIBC is not None:
        LIBC.malloc_trim(0)


TRIM_STOP = threading.Event()  # set by close_ui: trim_heap_every's thread ends before the interpreter does


def trim_heap_every(every_s: float) -> None:
    """Hands freed heap pages back to the system every `every_s` seconds, in a thread, until close_ui: a live
    stream's frames free blocks all over glibc's heap, which keeps them resident otherwise (docs/benchmarks.md)."""
    def loop() -> None:
        while not TRIM_STOP.wait(every_s):
            LIBC.malloc_trim(0)

    if LIBC is not None:
        TRIM_STOP.clear()
        threading.Thread(target=loop, name="fer-malloc-trim", daemon=True).start()


def viewer(request: gr.Request | None) -> str:
    """The session a request belongs to (a browser tab, or one gradio_client Client)."""
    return (request.session_hash if request is not None else None) or "anonymous"


@functools.cache
def pipeline(detector: str) -> Pipeline:
    return Pipeline(detector)


def checked_detector(name: object) -> str:
    """`name` if it is a registered detector; otherwise the app's one-line message naming the choices (an API
    client may send anything: None, a number, an unknown name)."""
    if isinstance(name, str) and name in DETECTORS:
        return name
    raise gr.Error(f"Unknown face detector {name!r}: choose one of {', '.join(DETECTORS)}.", print_exception=False)


def inline_jpeg(value: np.ndarray | Image.Image | None) -> ImageData | None:
    """An output image as a JPEG data URL, sent inside the answer: see `inline_image`."""
    if value is None:
        return None
    image = value if isinstance(value, Image.Image) else Image.fromarray(value)
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=LIVE_JPEG_QUALITY)
    return ImageData(url="data:image/jpeg;base64," + base64.b64encode(jpeg.getvalue()).decode("ascii"))


def inline_image(**kwargs) -> gr.Image:
    """An output gr.Image whose frames travel inside the answer, so the live tab's frames never touch the
    server's disk: Gradio writes every other output image to its cache folder (about 28 files a second in
    a live session), and the browser then fetches each in a second request.

    The instance's postprocess is replaced rather than subclassed: subclassing a Gradio component makes
    Gradio write a .pyi stub beside this file.
    """
    image = gr.Image(**kwargs)
    image.postprocess = inline_jpeg
    return image


@contextlib.contextmanager
def server_writes():
    """A file the server cannot write (a full disk) becomes one line for the viewer, without the server's paths
    that OSError's own message names."""
    try:
        yield
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise gr.Error(f"The server could not save this answer ({reason}). Try again later.",
                       print_exception=False) from None


def save_answer(rgb: np.ndarray, session: str) -> str:
    """The annotated photo as a JPEG of its own in the viewer's folder, which Gradio serves without copying.

    Its own file per answer: Gradio names the files it writes by their bytes and rewrites them in place, so
    identical answers to concurrent requests once shared a file that was rewritten while another client
    downloaded it ("Too little data for declared Content-Length": 14 of 480 calls failed with 16 clients).
    """
    path = session_files.new_file(session, ".jpg")
    with server_writes():
        Image.fromarray(rgb).save(path, "JPEG", quality=PHOTO_JPEG_QUALITY)
    return str(path)


def warm_up(detector: str) -> None:
    """Loads the model and the detector and runs each once, so the first viewer's first frame waits for neither."""
    pipe = pipeline(detector)
    pipe.process(np.full((480, 640, 3), 128, np.uint8))
    pipe.classifier.predict_proba(np.full((1, 48, 48), 128, np.uint8))


def describe(result: FrameResult):
    """Annotated frame, the largest readable face's confidences, and a status line."""
    annotated = result.annotated
    if not result.faces:
        return annotated, None, NO_FACE
    main, small = result.main_face, sum(not face.readable for face in result.faces)
    count = f"{len(result.faces)} face(s)" + (f", {small} too small to read" if small else "")
    if main is None:
        return annotated, None, f"{count}: move closer, or use a higher camera resolution."
    label = f"? (unsure, top guess {main.label} {main.confidence:.0%})" if main.unsure else main.label
    return annotated, main.confidences(), f"{count}; largest: **{label}**"


def describe_crowd(result: FrameResult):
    """Aggregate-only answer: no frame, the readable faces' class mix (when there are enough), a status line."""
    crowd = anonymous_crowd(result.faces)
    if not crowd:
        return None, None, TOO_FEW
    mix = dict(zip(EMOTIONS, map(float, label_shares(crowd)), strict=True))
    return None, mix, f"Class mix of {len(crowd)} readable faces (aggregate only: no individual is shown)"


def csv_stopped_note(stopped: CsvStopped) -> str:
    """What the viewer is told once their face log could not be written: the stream itself goes on."""
    minutes, seconds = divmod(round(stopped.time_s), 60)
    return (f"The face log stopped at {minutes}:{seconds:02d} ({stopped.reason}). The chart, timeline and summary "
            "go on; the CSV download has the rows before then.")


def aggregate_mode(requested: bool | None) -> bool:
    """Aggregate-only for this call: the viewer's toggle, or always when the server was started with it."""
    return aggregate_forced or bool(requested)


def analyze(upload: dict | None, detector: str = DEFAULT_DETECTOR, aggregate: bool = False,
            request: gr.Request = None):
    """One photo: annotated image, the largest face's confidences, status (also the /predict API).

    `upload` is Gradio's file record, not yet decoded (the event has preprocess=False): fer.images reads it
    safely, so an empty, damaged, huge or non-image file gets our one-line message, never Gradio's
    internal one with the server's path in it. The upload and the answer go with the viewer's session.
    """
    if not upload or not upload.get("path"):
        raise gr.Error("No image received: upload a photo.", print_exception=False)
    detector = checked_detector(detector)  # this event takes its inputs raw (preprocess=False)
    session = viewer(request)
    session_files.adopt(session, upload["path"])  # Gradio checked it is one of its uploads
    name = Path(upload.get("orig_name") or "the upload").name
    try:
        rgb = read_image(upload["path"], name=name)
        result = pipeline(detector).process(rgb)
        if aggregate_mode(aggregate):
            return describe_crowd(result)
        annotated, *panels = describe(result)
        return save_answer(annotated, session), *panels
    except ValueError as err:  # ImageError, or a frame the pipeline refuses
        raise gr.Error(f"Cannot read this image: {err}", print_exception=False) from None


def reanalyze(upload: dict | None, detector: str, aggregate: bool, request: gr.Request = None):
    """The photo shown, analysed again with the detector or aggregate-only mode just chosen; nothing without one."""
    if not upload or not upload.get("path"):
        return gr.skip(), gr.skip(), gr.skip()
    return analyze(upload, detector, aggregate, request)


def stream(frame: np.ndarray | None, detector: str, aggregate: bool, session: LiveSession | None,
           request: gr.Request = None):
    """One webcam frame of a live session; the timeline and summary refresh about once a second.

    Turning aggregate-only on or off starts a new session, so a log never mixes the two.
    """
    if frame is None or (session is not None and session.closed):  # closed: the page left as this frame came
        return gr.skip()
    aggregate, viewer_id = aggregate_mode(aggregate), viewer(request)
    # Every frame is a use, so the sweep never forgets a viewer while they stream. False: their files are gone
    # (the stream stopped for FORGET_AFTER_S), so the session starts over rather than log into a deleted folder.
    files_kept = session_files.touch(viewer_id)
    if session is None or session.aggregate_only != aggregate or not files_kept:
        end_session(session)
        session = LiveSession(csv_dir=session_files.folder(viewer_id), aggregate_only=aggregate)
        live_sessions[viewer_id] = session
    result = session.process(pipeline(detector), frame)
    annotated, chart, status = describe_crowd(result) if aggregate else describe(result)
    if session.log.csv_stopped is not None:
        status = f"{status}\n\n{csv_stopped_note(session.log.csv_stopped)}"
    outputs = (annotated, chart, status) if session.chart_due() else (annotated, gr.skip(), gr.skip())
    if not session.refresh_due():
        return *outputs, gr.skip(), gr.skip(), session
    return *outputs, mix_svg(session.log.timeline.points()), summary_markdown(session.log.stats.summary()), session


def session_files_for_download(session: LiveSession | None, detector: str, request: gr.Request = None):
    """The live session so far, for download: its CSV (None before any face was recorded) and its report. In
    aggregate-only mode the CSV is the class-mix timeline instead (one row per point, a column per expression)."""
    if session is None:
        return None, None
    out = session_files.new_file(viewer(request), "")  # a folder of its own: the files keep readable names
    with server_writes():
        report = write_html(out / "fer-session-report.html", session.report(checked_detector(detector)))
        if session.aggregate_only:
            path = out / "fer-session-class-mix.csv"
            points = session.log.timeline.points()
            points[points["read_frames"] > 0].set_index("time_s")[list(EMOTIONS)].to_csv(path, float_format="%.4f")
            return str(path), str(report)
    path = session.log.csv.path
    return (str(path) if path is not None else None), str(report)


def end_session(session: LiveSession | None) -> None:
    if session is not None:
        session.close()


def viewer_left(request: gr.Request = None) -> None:
    """The page was closed: the viewer's live session ends, and their uploads, results and face log are deleted."""
    end_session(live_sessions.pop(viewer(request), None))
    session_files.end(viewer(request))
    release_freed_memory()


def new_session(session: LiveSession | None):
    if session is not None:
        session.restart()
    return None, None, "", None, None


def annotate_upload(video: str | None, detector: str, every: int, aggregate: bool = False,
                    request: gr.Request = None,
                    progress=gr.Progress()):  # noqa: B008 (Gradio injects progress through this default)
    """A recorded video: annotated MP4, face CSV, timeline, summary and report, in the viewer's folder; in
    aggregate-only mode only the timeline, summary and report, and nothing per face is written at all.

    Stops, leaving no partial output, if the viewer leaves before it is done.
    """
    if not video:
        raise gr.Error("No video received: upload one first.", print_exception=False)
    if every != int(every):  # the slider steps by 1, but an API client can send any number
        raise gr.Error(f"Analyse every Nth frame takes a whole number of frames, not {every:g}.", print_exception=False)
    session = viewer(request)
    session_files.adopt(session, video)
    out = session_files.new_file(session, "")  # a folder of its own: the files keep readable names

    def on_progress(done: int, total: int | None) -> None:
        if not session_files.touch(session):
            raise ViewerLeft
        progress((done, total), unit="frames")

    aggregate = aggregate_mode(aggregate)
    outputs = (None, None) if aggregate else (out / "annotated.mp4", out / "faces.csv")
    try:
        with server_writes():
            result = annotate_video(video, *outputs, detector, int(every), on_progress, aggregate_only=aggregate)
            report = write_html(out / "report.html", video_report(result))
    except VideoError as err:  # name the file as the user knows it, not by its upload path
        raise gr.Error(f"Cannot read this video: {str(err).replace(video, Path(video).name)}",
                       print_exception=False) from None
    except ViewerLeft:
        return gr.skip()
    files = [None if path is None else str(path) for path in (result.video, result.csv)]
    return *files, result.timeline, summary_markdown(result.summary), str(report)


def timeline_plot() -> gr.LinePlot:
    """The class expression mix over time, each emotion in its boxes' colour."""
    colors = {emotion: hex_color(emotion) for emotion in EMOTIONS}
    return gr.LinePlot(x="time_s", y="share", color="emotion", color_map=colors, y_lim=[0, 1.05], x_title="seconds",
                       y_title="share of faces", label="Class expression mix")


def live_tab(detector: gr.Radio, aggregate: gr.Checkbox) -> None:
    """Webcam in, annotated frames out, plus the session's chart, timeline, summary and CSV."""
    session = gr.State(None, delete_callback=end_session)  # per browser session
    with gr.Row():
        webcam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
        live_frame = inline_image(label="Annotated", interactive=False, format="jpeg")
    with gr.Row():
        live_chart = gr.Label(num_top_classes=7, label=CHART_LABEL)
        live_status = gr.Markdown()
    live_timeline = gr.HTML(label="Class expression mix", show_label=True, container=True)
    live_summary = gr.Markdown()
    with gr.Row():
        export = gr.Button("Download this session's CSV and report")
        reset = gr.Button("Start a new session")
    with gr.Row():
        live_csv = gr.File(label="Session CSV (one row per face per frame)")
        live_report = gr.File(label="Session report (HTML: opens offline in any browser)")
    webcam.stream(stream, [webcam, detector, aggregate, session],
                  [live_frame, live_chart, live_status, live_timeline, live_summary, session],
                  stream_every=1 / LIVE_FPS, time_limit=3600, concurrency_limit=LIVE_CONCURRENCY,
                  api_visibility="private",
                  show_progress="hidden")  # a stream never ends: no timers, no faded outputs
    export.click(session_files_for_download, [session, detector], [live_csv, live_report], api_visibility="private")
    cleared = [live_timeline, live_chart, live_summary, live_csv, live_report]
    aggregate.change(new_session, session, cleared, api_visibility="private")
    reset.click(new_session, session, cleared, api_visibility="private")


def photo_tab(detector: gr.Radio, aggregate: gr.Checkbox) -> None:
    """One photo in, annotated photo and chart out; also the /predict API."""
    with gr.Row():
        photo = gr.Image(sources=["upload", "clipboard"], type="numpy", label="Photo")
        photo_frame = gr.Image(label="Annotated", interactive=False, format="jpeg")
    with gr.Row():
        photo_chart = gr.Label(num_top_classes=7, label=CHART_LABEL)
        photo_status = gr.Markdown()
    photo.upload(analyze, [photo, detector, aggregate], [photo_frame, photo_chart, photo_status], api_name="predict",
                 preprocess=False, concurrency_limit=PHOTO_CONCURRENCY)  # analyze decodes the file itself, safely
    for choice in (detector, aggregate):  # the photo shown, again, as the viewer chose
        choice.change(reanalyze, [photo, detector, aggregate], [photo_frame, photo_chart, photo_status],
                      preprocess=False, concurrency_limit=PHOTO_CONCURRENCY, api_visibility="private")


def video_tab(detector: gr.Radio, aggregate: gr.Checkbox) -> None:
    """A recorded video in; annotated video, CSV, timeline, summary and report out; also /annotate_video."""
    gr.Markdown("Any video format FFmpeg reads works, even one your browser cannot preview.")
    with gr.Row():
        video_in = gr.Video(sources=["upload"], label="Recorded video")
        video_out = gr.Video(label="Annotated", interactive=False)
    every = gr.Slider(1, 10, value=1, step=1, label="Analyse every Nth frame (higher is faster)")
    run = gr.Button("Annotate video", variant="primary")
    with gr.Row():
        video_csv = gr.File(label="Faces CSV (time_s from the video's timestamps)")
        video_report_file = gr.File(label="Report (HTML: opens offline in any browser)")
    video_timeline = timeline_plot()
    video_summary = gr.Markdown()
    run.click(annotate_upload, [video_in, detector, every, aggregate],
              [video_out, video_csv, video_timeline, video_summary, video_report_file], api_name="annotate_video",
              concurrency_limit=VIDEO_CONCURRENCY)


def build_ui(default_detector: str = DEFAULT_DETECTOR, forget_after_s: float = FORGET_AFTER_S,
             aggregate_only: bool = False) -> gr.Blocks:
    """The app; its viewers' files live in a new folder inside Gradio's cache until they leave, go
    `forget_after_s` unused, or the server stops (`close_ui`). `aggregate_only` forces that mode on
    every viewer and API call."""
    global session_files, aggregate_forced
    aggregate_forced = aggregate_only
    cache = Path(get_upload_folder())
    cache.mkdir(parents=True, exist_ok=True)
    session_files = SessionFiles(tempfile.mkdtemp(prefix="fer-", dir=cache), forget_after_s)
    sweep_s = min(SWEEP_EVERY_S, forget_after_s)
    session_files.sweep_every(sweep_s)
    gradio_sweep = (max(1, int(sweep_s)), max(1, int(forget_after_s)))  # Gradio's own cache files (uploads)
    # analytics off: Gradio's telemetry and version check would send out what a private, offline app must not
    with gr.Blocks(title="fer: live facial emotion recognition", delete_cache=gradio_sweep,
                   analytics_enabled=False) as demo:
        gr.Markdown(INTRO.format(forget_min=f"{forget_after_s / 60:g}"))
        choices = [(detector_label(name), name) for name in DETECTORS]  # read now: the registry may have grown
        detector = gr.Radio(choices, value=default_detector, label="Face detector")
        detector.preprocess = checked_detector  # the app's message, not Gradio's, for a value API clients send
        aggregate = gr.Checkbox(aggregate_only, label=AGGREGATE_LABEL, interactive=not aggregate_only,
                                info="Set by the server for everyone" if aggregate_only else
                                "Turning it on or off starts a new live session, so a log never mixes the two")
        with gr.Tab("Live"):
            live_tab(detector, aggregate)
        with gr.Tab("Photo"):
            photo_tab(detector, aggregate)
        with gr.Tab("Video"):
            video_tab(detector, aggregate)
        demo.unload(viewer_left)
    return demo


def close_ui() -> None:
    """Ends every live session, stops the heap trims and deletes every viewer's files (Gradio deletes its own cache
    files as it stops)."""
    TRIM_STOP.set()
    while live_sessions:
        end_session(live_sessions.popitem()[1])
    if session_files is not None:
        session_files.close()


def stop_on_ctrl_c_and_sigterm() -> None:
    """Makes Ctrl-C (SIGINT) and SIGTERM (docker stop, systemd, a Space restarting) stop the app, cleanup included.
    SIGINT is set too because a shell script that starts the app in the background (`python app.py &`) hands it
    SIGINT ignored, and Python then leaves it ignored: `kill -INT` would do nothing."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--share", action="store_true", default=os.getenv("GRADIO_SHARE", "").lower() in ("1", "true"),
                        help="create a public share link (also GRADIO_SHARE=1)")
    parser.add_argument("--port", type=int, default=int(os.getenv("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--detector", choices=list(DETECTORS), default=DEFAULT_DETECTOR)
    parser.add_argument("--aggregate-only", action="store_true",
                        help="only the class's expression mix leaves the server: no boxes, IDs or per-face rows, "
                             f"and nothing while fewer than {AGGREGATE_MIN_FACES} faces are readable")
    parser.add_argument("--forget-after", type=float, default=FORGET_AFTER_S, metavar="SECONDS",
                        help="delete a session's uploads and results after this long unused (default %(default)g; "
                             "they also go when the page closes and when the server stops)")
    args = parser.parse_args(argv)
    if args.forget_after <= 0:
        parser.error("--forget-after must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit_malloc_arenas()
    trim_heap_every(MALLOC_TRIM_EVERY_S)
    stop_on_ctrl_c_and_sigterm()
    try:
        demo = build_ui(args.detector, args.forget_after, args.aggregate_only)
        warm_up(args.detector)
        demo.queue(max_size=MAX_QUEUE)
        demo.launch(server_port=args.port, share=args.share, show_error=True, prevent_thread_lock=True,
                    max_file_size=MAX_UPLOAD, state_session_capacity=STATE_SESSIONS)
        if args.share and not demo.share_url:
            print("Could not create a share link (no internet, or the tunnel is blocked): serving locally only.")
        demo.block_thread()  # returns on Ctrl-C or SIGTERM, after closing the server
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) while the app was still starting: stop as quietly
        pass
    finally:
        close_ui()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
