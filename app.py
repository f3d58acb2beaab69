"""fer web app: live webcam or photo -> faces boxed and labelled with their expression.

    python app.py                       # http://127.0.0.1:7860
    python app.py --share               # also a public link for a class (or GRADIO_SHARE=1)
    python app.py --port 8000 --detector mediapipe

UI wiring only: all the work happens in the `fer` library.
"""

from __future__ import annotations

import argparse
import functools
import os

import gradio as gr
import numpy as np

from fer import Pipeline
from fer.config import DEFAULT_DETECTOR
from fer.detectors import DETECTORS

DETECTOR_CHOICES = [("Haar (OpenCV, default)", "haar"), ("MediaPipe short-range", "mediapipe"),
                    ("MediaPipe full-range (far faces)", "mediapipe-full")]
assert {value for _, value in DETECTOR_CHOICES} == set(DETECTORS)
INTRO = """# fer: live facial emotion recognition
Boxes every face and labels its **facial expression** (angry, disgust, fear, happy, sad, surprise, neutral).
Expressions are not feelings, comprehension or attention: read them as one rough signal among many.
Frames are analysed in memory on this server and never stored."""


@functools.cache
def pipeline(detector: str) -> Pipeline:
    return Pipeline(detector)


def analyze(image: np.ndarray | None, detector: str = DEFAULT_DETECTOR):
    """Annotated image, the main face's confidences, and a status line."""
    if image is None:
        raise gr.Error("No image received: upload a photo or start the webcam.")
    try:
        result = pipeline(detector).process(image)
    except ValueError as err:
        raise gr.Error(f"Cannot read this image: {err}") from None
    if not result.faces:
        return result.annotated, None, "No face found: face the camera, with light on your face."
    main = result.main_face
    return result.annotated, main.confidences(), f"{len(result.faces)} face(s); largest: **{main.label}**"


def build_ui(default_detector: str = DEFAULT_DETECTOR) -> gr.Blocks:
    with gr.Blocks(title="fer: live facial emotion recognition") as demo:
        gr.Markdown(INTRO)
        detector = gr.Radio(DETECTOR_CHOICES, value=default_detector, label="Face detector")
        with gr.Tab("Live"):
            with gr.Row():
                webcam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
                live_frame = gr.Image(label="Annotated", interactive=False)
            with gr.Row():
                live_chart = gr.Label(num_top_classes=7, label="Largest face")
                live_status = gr.Markdown()
            webcam.stream(analyze, [webcam, detector], [live_frame, live_chart, live_status],
                          stream_every=0.1, time_limit=3600, concurrency_limit=8, api_visibility="private")
        with gr.Tab("Photo"):
            with gr.Row():
                photo = gr.Image(sources=["upload", "clipboard"], type="numpy", label="Photo")
                photo_frame = gr.Image(label="Annotated", interactive=False)
            with gr.Row():
                photo_chart = gr.Label(num_top_classes=7, label="Largest face")
                photo_status = gr.Markdown()
            photo.upload(analyze, [photo, detector], [photo_frame, photo_chart, photo_status], api_name="predict")
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
    demo.launch(server_port=args.port, share=args.share, show_error=True, prevent_thread_lock=True)
    if args.share and not demo.share_url:
        print("Could not create a share link (no internet, or the tunnel is blocked): serving locally only.")
    demo.block_thread()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
