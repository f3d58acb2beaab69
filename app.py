"""fer web app: live webcam, photo or recorded video -> faces boxed and labelled with their expression.

    python app.py                       # http://127.0.0.1:7860
    python app.py --share               # also a public link for a class (or GRADIO_SHARE=1)
    python app.py --port 8000 --detector mediapipe

UI wiring only: all the work happens in the `fer` library.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.data_classes import ImageData
from PIL import Image

from fer import FrameResult, Pipeline
from fer.config import DEFAULT_DETECTOR, EMOTION_COLORS, LIVE_FPS, LIVE_JPEG_QUALITY, MAX_QUEUE, MAX_UPLOAD
from fer.detectors import DETECTORS, detector_label
from fer.images import read_image
from fer.live import LiveSession
from fer.markdown import summary_markdown
from fer.video import VideoError, annotate_video

INTRO = """# fer: live facial emotion recognition
Boxes every face and labels its **facial expression** (angry, disgust, fear, happy, sad, surprise, neutral).
Expressions are not feelings, comprehension or attention: read them as one rough signal among many.

**Privacy:** live webcam frames are analysed in memory and never stored; a session's face log is deleted
when you close the page, unless you download it. Uploaded photos and videos are deleted within about an hour.

**EU law:** since 2 February 2025 the EU AI Act (Article 5(1)(f)) prohibits inferring the emotions of people
in workplaces and education institutions (medical and safety uses excepted): in the EU, do not use this on
students or employees. Practising your own expressions, or consenting research participants outside those
settings, remain possible. A notice, not legal advice."""
EXIF_IMAGE_UNIQUE_ID = 0xA420  # the EXIF tag made for this: a unique ID per image
NO_FACE = "No face found: face the camera, with light on your face."


@functools.cache
def pipeline(detector: str) -> Pipeline:
    return Pipeline(detector)


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


def uniquely_tagged(rgb: np.ndarray) -> Image.Image:
    """The frame as an image carrying a unique ID in its EXIF, so its JPEG bytes differ from every other answer's.

    Gradio stores an output under a name made from its bytes and rewrites that file in place, so identical
    answers to concurrent requests shared one file that was being rewritten while another client was
    downloading it ("Too little data for declared Content-Length": 14 of 480 calls failed with 16 clients).
    """
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[EXIF_IMAGE_UNIQUE_ID] = uuid.uuid4().hex
    image.info["exif"] = exif.tobytes()
    return image


def describe(result: FrameResult):
    """Annotated frame, the largest readable face's confidences, and a status line."""
    annotated = result.annotated
    if not result.faces:
        return annotated, None, NO_FACE
    main, small = result.main_face, sum(not face.readable for face in result.faces)
    count = f"{len(result.faces)} face(s)" + (f", {small} too small to read" if small else "")
    if main is None:
        return annotated, None, f"{count}: move closer, or use a higher camera resolution."
    return annotated, main.confidences(), f"{count}; largest: **{main.label}**"


def analyze(upload: dict | None, detector: str = DEFAULT_DETECTOR):
    """One photo: annotated image, the largest face's confidences, status (also the /predict API).

    `upload` is Gradio's file record, not yet decoded (the event has preprocess=False): fer.images reads it
    safely, so an empty, damaged, huge or non-image file gets our one-line message, never Gradio's
    internal one with the server's path in it.
    """
    if not upload or not upload.get("path"):
        raise gr.Error("No image received: upload a photo.")
    name = Path(upload.get("orig_name") or "the upload").name
    try:
        rgb = read_image(upload["path"], name=name)
        annotated, *panels = describe(pipeline(detector).process(rgb))
        return uniquely_tagged(annotated), *panels  # a file answer: its own cache file, see uniquely_tagged
    except ValueError as err:  # ImageError, or a frame the pipeline refuses
        raise gr.Error(f"Cannot read this image: {err}", print_exception=False) from None


def stream(frame: np.ndarray | None, detector: str, session: LiveSession | None):
    """One webcam frame of a live session; the timeline and summary refresh about once a second."""
    if frame is None:
        return gr.skip()
    session = session or LiveSession()
    outputs = describe(session.process(pipeline(detector), frame))
    if not session.refresh_due():
        return *outputs, gr.skip(), gr.skip(), session
    return *outputs, session.log.timeline.to_frame(), summary_markdown(session.log.stats.summary()), session


def session_csv(session: LiveSession | None) -> str | None:
    """The live session's CSV so far, for download; None before any face was recorded."""
    path = session.log.csv.path if session is not None else None
    return str(path) if path is not None else None


def end_session(session: LiveSession | None) -> None:
    if session is not None:
        session.close()


def new_session(session: LiveSession | None):
    if session is not None:
        session.restart()
    return None, None, "", None


def annotate_upload(video: str | None, detector: str, every: int, workdir: str | None,
                    progress=gr.Progress()):  # noqa: B008 (Gradio injects progress through this default)
    """A recorded video: annotated MP4, face CSV, timeline, summary, and the session's work folder."""
    if not video:
        raise gr.Error("No video received: upload one first.")
    workdir = workdir or tempfile.mkdtemp(prefix="fer-video-")
    out = Path(tempfile.mkdtemp(dir=workdir))
    try:
        result = annotate_video(video, out / "annotated.mp4", out / "faces.csv", detector, int(every),
                                progress=lambda done, total: progress((done, total), unit="frames"))
    except VideoError as err:  # name the file as the user knows it, not by its upload path
        raise gr.Error(f"Cannot read this video: {str(err).replace(video, Path(video).name)}") from None
    return str(result.video), str(result.csv), result.timeline, summary_markdown(result.summary), workdir


def remove_workdir(workdir: str | None) -> None:
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def timeline_plot() -> gr.LinePlot:
    """The class expression mix over time, each emotion in its boxes' colour."""
    colors = {emotion: "#{:02x}{:02x}{:02x}".format(*rgb) for emotion, rgb in EMOTION_COLORS.items()}
    return gr.LinePlot(x="time_s", y="share", color="emotion", color_map=colors, y_lim=[0, 1.05], x_title="seconds",
                       y_title="share of faces", label="Class expression mix")


def live_tab(detector: gr.Radio) -> None:
    """Webcam in, annotated frames out, plus the session's chart, timeline, summary and CSV."""
    session = gr.State(None, delete_callback=end_session)  # per browser session
    with gr.Row():
        webcam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
        live_frame = inline_image(label="Annotated", interactive=False, format="jpeg")
    with gr.Row():
        live_chart = gr.Label(num_top_classes=7, label="Largest face")
        live_status = gr.Markdown()
    live_timeline = timeline_plot()
    live_summary = gr.Markdown()
    with gr.Row():
        export = gr.Button("Download this session's CSV")
        reset = gr.Button("Start a new session")
    live_csv = gr.File(label="Session CSV (one row per face per frame)")
    webcam.stream(stream, [webcam, detector, session],
                  [live_frame, live_chart, live_status, live_timeline, live_summary, session],
                  stream_every=1 / LIVE_FPS, time_limit=3600, concurrency_limit=8, api_visibility="private",
                  show_progress="hidden")  # a stream never ends: no timers, no faded outputs
    export.click(session_csv, session, live_csv, api_visibility="private")
    reset.click(new_session, session, [live_timeline, live_chart, live_summary, live_csv], api_visibility="private")


def photo_tab(detector: gr.Radio) -> None:
    """One photo in, annotated photo and chart out; also the /predict API."""
    with gr.Row():
        photo = gr.Image(sources=["upload", "clipboard"], type="numpy", label="Photo")
        photo_frame = gr.Image(label="Annotated", interactive=False, format="jpeg")
    with gr.Row():
        photo_chart = gr.Label(num_top_classes=7, label="Largest face")
        photo_status = gr.Markdown()
    photo.upload(analyze, [photo, detector], [photo_frame, photo_chart, photo_status], api_name="predict",
                 preprocess=False)  # analyze decodes the file itself, safely


def video_tab(detector: gr.Radio) -> None:
    """A recorded video in; annotated video, CSV, timeline and summary out; also /annotate_video."""
    workdir = gr.State(None, delete_callback=remove_workdir)  # this session's outputs
    gr.Markdown("Any video format FFmpeg reads works, even one your browser cannot preview.")
    with gr.Row():
        video_in = gr.Video(sources=["upload"], label="Recorded video")
        video_out = gr.Video(label="Annotated", interactive=False)
    every = gr.Slider(1, 10, value=1, step=1, label="Analyse every Nth frame (higher is faster)")
    run = gr.Button("Annotate video", variant="primary")
    video_csv = gr.File(label="Faces CSV (time_s from the video's timestamps)")
    video_timeline = timeline_plot()
    video_summary = gr.Markdown()
    run.click(annotate_upload, [video_in, detector, every, workdir],
              [video_out, video_csv, video_timeline, video_summary, workdir], api_name="annotate_video")


def build_ui(default_detector: str = DEFAULT_DETECTOR) -> gr.Blocks:
    with gr.Blocks(title="fer: live facial emotion recognition", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        choices = [(detector_label(name), name) for name in DETECTORS]  # read now: the registry may have grown
        detector = gr.Radio(choices, value=default_detector, label="Face detector")
        with gr.Tab("Live"):
            live_tab(detector)
        with gr.Tab("Photo"):
            photo_tab(detector)
        with gr.Tab("Video"):
            video_tab(detector)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--share", action="store_true", default=os.getenv("GRADIO_SHARE", "").lower() in ("1", "true"),
                        help="create a public share link (also GRADIO_SHARE=1)")
    parser.add_argument("--port", type=int, default=int(os.getenv("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--detector", choices=list(DETECTORS), default=DEFAULT_DETECTOR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    demo = build_ui(args.detector)
    demo.queue(max_size=MAX_QUEUE)
    demo.launch(server_port=args.port, share=args.share, show_error=True, prevent_thread_lock=True,
                max_file_size=MAX_UPLOAD)
    if args.share and not demo.share_url:
        print("Could not create a share link (no internet, or the tunnel is blocked): serving locally only.")
    demo.block_thread()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
