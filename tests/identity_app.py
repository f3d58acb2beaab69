"""The ceiling for the live tab: Gradio streaming a webcam back unchanged, with the live tab's own components
(the same inline output image).

    python tests/identity_app.py --port N

What the browser gets from it, measured in the same run, is the most the live tab could deliver here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gradio as gr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the checkout
from app import inline_image  # noqa: E402
from fer.config import LIVE_FPS  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    with gr.Blocks(analytics_enabled=False) as demo:
        with gr.Tab("Live"):
            webcam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
            annotated = inline_image(label="Annotated", interactive=False, format="jpeg")
            webcam.stream(lambda frame: frame, webcam, annotated, stream_every=1 / LIVE_FPS, time_limit=3600,
                          show_progress="hidden")
    demo.launch(server_port=port)
